"""Append records to one JSONL file per UTC day, each record exactly once, only whole lines."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from worker.errors import StoreUnavailable

log = structlog.get_logger(__name__)

# How much of a file's end is re-read after a crash to find lines that were
# written but not yet indexed: only the last batch of a writer can be in that state.
_REPAIR_TAIL_BYTES = 4 * 1024 * 1024
# Index rows of files past the kept days deleted per write, so no write waits long behind a prune.
_PRUNE_BATCH = 5000


class SinkFull(StoreUnavailable):
    """
    The disk is full: nothing was written.

    A `StoreUnavailable`, so the task is retried with backoff (and lands on
    the dead-letter stream only if space never returns).
    """


# Out of space, over quota, or over the process's file-size limit (RLIMIT_FSIZE): all "no room".
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class JsonlSink:
    """
    JSONL files `articles-YYYY-MM-DD.jsonl` under `out_dir`.

    A lock file serialises writers across processes; each batch is written
    with one `write` of whole lines and fsynced before its ids go into a small
    SQLite index.  A crash between the two leaves lines the index lacks; the
    next writer finds them in the tails of every file a crash may have
    touched (`_repair`: today's, yesterday's, and the file written last, which
    the index names before each write) before writing, so a retried record
    is never written twice, across midnight too.  A failed write is cut back
    to the file's previous length, so no partial line survives.

    The index keeps the ids of the files of the last `index_days` days
    (today's included) and forgets older ones as the days pass, a batch a write.
    """

    name = "jsonl"

    def __init__(self, out_dir: Path | str, *, index_days: int = 30) -> None:
        self.dir = Path(out_dir)
        self.index_days = max(2, index_days)
        self._pruned_before = ""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.dir / ".jsonl.lock"
        self._index_path = self.dir / ".jsonl-index.sqlite3"
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def _index(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            db = sqlite3.connect(self._index_path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS written (id TEXT PRIMARY KEY, file TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (file TEXT PRIMARY KEY, indexed_to INTEGER NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS written_file ON written (file)")
            self._db, self._pid = db, os.getpid()
        return self._db

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def path_for(self, day: datetime) -> Path:
        """Return the file records emitted on `day` (UTC) go to."""
        return self.dir / f"articles-{day.astimezone(UTC):%Y-%m-%d}.jsonl"

    def write(self, records: list[dict[str, Any]], *, now: datetime | None = None) -> int:
        if not records:
            return 0
        day = now or datetime.now(UTC)
        path = self.path_for(day)
        try:
            with self._locked():
                db = self._index()
                for touched in self._touched(db, day):
                    self._repair(db, touched)
                self._prune(db, day)
                fresh = self._unwritten(db, records)
                if not fresh:
                    return 0
                data = b"".join(
                    json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                    for r in fresh
                )
                # Named before the append: a crash after it leaves the file to repair known.
                size = path.stat().st_size if path.exists() else 0
                db.execute("INSERT OR IGNORE INTO files (file, indexed_to) VALUES (?, ?)", (path.name, size))
                end = self._append(path, data)
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT OR IGNORE INTO written (id, file) VALUES (?, ?)",
                    [(r["id"], path.name) for r in fresh],
                )
                db.execute("INSERT OR REPLACE INTO files (file, indexed_to) VALUES (?, ?)", (path.name, end))
                db.execute("COMMIT")
                return len(fresh)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"jsonl index unavailable: {exc}") from exc

    def _touched(self, db: sqlite3.Connection, day: datetime) -> list[Path]:
        """Return the files a dead writer may have left lines in: today's, yesterday's, the last written."""
        names = {self.path_for(day).name, self.path_for(day - timedelta(days=1)).name}
        last = db.execute("SELECT file FROM files ORDER BY file DESC LIMIT 1").fetchone()
        if last is not None:
            names.add(str(last[0]))
        return [self.dir / name for name in sorted(names)]

    def _prune(self, db: sqlite3.Connection, day: datetime) -> None:
        """Forget the ids of files older than the kept days, `_PRUNE_BATCH` a call until none is left."""
        oldest = self.path_for(day - timedelta(days=self.index_days - 1)).name
        if oldest <= self._pruned_before:
            return
        db.execute("BEGIN IMMEDIATE")
        n = db.execute(
            "DELETE FROM written WHERE rowid IN (SELECT rowid FROM written WHERE file < ? LIMIT ?)",
            (oldest, _PRUNE_BATCH),
        ).rowcount
        if n < _PRUNE_BATCH:
            db.execute("DELETE FROM files WHERE file < ?", (oldest,))
            self._pruned_before = oldest
        db.execute("COMMIT")
        if n:
            log.info("sink_index_pruned", sink="jsonl", records=n, before=oldest)

    def _unwritten(self, db: sqlite3.Connection, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        fresh = []
        for r in records:
            rid = r["id"]
            if rid in seen:
                continue
            seen.add(rid)
            if db.execute("SELECT 1 FROM written WHERE id = ?", (rid,)).fetchone() is None:
                fresh.append(r)
        return fresh

    def _append(self, path: Path, data: bytes) -> int:
        """Append whole lines or nothing; return the new end offset."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:
                # Truncating frees space, so it works on a full disk: no partial line survives.
                os.ftruncate(fd, start)
                full = exc.errno in _NO_ROOM
                log.error(
                    "sink_write_failed",
                    sink="jsonl",
                    file=str(path),
                    reason="disk_full" if full else "io_error",
                    error=str(exc),
                    errno=exc.errno,
                    records_kept_for_retry=data.count(b"\n"),
                )
                if full:
                    raise SinkFull(f"no space left for {path}") from exc
                raise StoreUnavailable(f"cannot write {path}: {exc}") from exc
            return start + len(data)
        finally:
            os.close(fd)

    def _repair(self, db: sqlite3.Connection, path: Path) -> None:
        """Index lines past the recorded end of the file (a writer died after writing)."""
        if not path.exists():
            return
        size = path.stat().st_size
        row = db.execute("SELECT indexed_to FROM files WHERE file = ?", (path.name,)).fetchone()
        indexed_to = int(row[0]) if row else 0
        if size <= indexed_to:
            return
        start = max(indexed_to, size - _REPAIR_TAIL_BYTES) if row else 0
        ids: list[str] = []
        with open(path, "rb") as f:
            f.seek(start)
            chunk = f.read()
        lines = chunk.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        for line in complete:
            try:
                ids.append(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
        end = size - len(tail)
        if tail:
            # A partial last line can only come from a crash mid-write: cut it.
            with open(path, "r+b") as f:
                f.truncate(end)
            log.warning("sink_partial_line_removed", sink="jsonl", file=str(path), bytes=len(tail))
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT OR IGNORE INTO written (id, file) VALUES (?, ?)", [(i, path.name) for i in ids]
        )
        db.execute("INSERT OR REPLACE INTO files (file, indexed_to) VALUES (?, ?)", (path.name, end))
        db.execute("COMMIT")
        if ids:
            log.info("sink_index_repaired", sink="jsonl", file=str(path), records=len(ids))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
