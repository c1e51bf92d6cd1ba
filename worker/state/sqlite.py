"""The embedded state store: one SQLite file in WAL mode, shared by worker processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import structlog

from worker.errors import StoreUnavailable
from worker.state import nearindex, sqlite_purge
from worker.state.base import TIMELINE_KEEP_MINUTES, DeadLetter
from worker.state.nearindex import NearKey
from worker.state.slots import hold_tokens, reserve, reserve_after
from worker.state.sqlite_feeds import FeedTables
from worker.state.sqlite_overview import OverviewTables

log = structlog.get_logger(__name__)

# Columns added since a table was first made: (table, column, definition, value of existing rows);
# None leaves the definition's default, which makes those rows due for the next purge.
_ADDED_COLUMNS = (
    ("checkpoints", "expires", "REAL NOT NULL DEFAULT 0", "entry_ttl_s"),
    ("chrome", "expires", "REAL NOT NULL DEFAULT 0", "retention_s"),
    ("buckets", "expires", "REAL NOT NULL DEFAULT 0", None),
)


# How long a new connection waits for another one to finish switching the file to WAL.
WAL_SWITCH_WAIT_S = 60.0


def _use_wal(conn: sqlite3.Connection) -> None:
    """
    Put the file in WAL mode (once per file; a no-op after).

    Two connections switching a new file at once would deadlock, so SQLite
    answers one of them "database is locked" at once, without its busy
    timeout: that one waits for the other and tries again, up to
    `WAL_SWITCH_WAIT_S`.
    """
    deadline = time.monotonic() + WAL_SWITCH_WAIT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class SQLiteStore(FeedTables, OverviewTables):
    """
    State in one SQLite file.

    Each process (and thread) opens its own connection lazily, because a
    connection must not cross a fork; `BEGIN IMMEDIATE` makes every
    check-and-set atomic across processes.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        nd_threshold: float = nearindex.DEFAULT_THRESHOLD,
        retention_s: int = 30 * 86400,
        entry_memory: int = 1000,
        entry_ttl_s: int = 60 * 86400,
        dead_max: int = 100_000,
    ) -> None:
        self.path = Path(path)
        self.nd_threshold = nd_threshold
        self.retention_s = retention_s
        self.entry_memory = entry_memory
        self.entry_ttl_s = entry_ttl_s
        self.dead_max = dead_max
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Processes creating a new file's tables at once can see the schema change under a
        # statement ("database schema has changed"): the statements are idempotent, so the
        # one that sees it waits a moment and runs them again, up to `WAL_SWITCH_WAIT_S`.
        deadline = time.monotonic() + WAL_SWITCH_WAIT_S
        while True:
            try:
                self._create_tables()
                return
            except sqlite3.OperationalError as exc:
                if "schema has changed" not in str(exc) or time.monotonic() >= deadline:
                    raise StoreUnavailable(f"cannot create state store {self.path}: {exc}") from exc
                time.sleep(0.05)

    def _create_tables(self) -> None:
        """Create or upgrade the tables and indexes (every statement may run again)."""
        self._add_columns()
        self._conn().executescript(resources.files("worker.state").joinpath("sqlite.sql").read_text("utf-8"))
        self._old_entries = (
            self._conn()
            .execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'")
            .fetchone()
            is not None
        )

    @staticmethod
    def _absent_columns(db: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
        """Return the columns added since an earlier version that tables lack (a missing table lacks none)."""
        absent = []
        for table, column, definition, ttl in _ADDED_COLUMNS:
            have = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
            if have and column not in have:
                absent.append((table, column, definition, ttl))
        return absent

    def _add_columns(self) -> None:
        """
        Give tables made by an earlier version the columns added since (before the indexes on them).

        The write lock is taken only when a column is missing: opening an up-to-date store must not
        wait for a writer, which may hold the lock for as long as it is stopped (SIGSTOP, a debugger).
        """
        if not self._absent_columns(self._conn()):
            return
        with self._tx() as db:
            # Read again under the lock: another process may have added them meanwhile.
            for table, column, definition, ttl in self._absent_columns(db):
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                if ttl is not None:
                    db.execute(f"UPDATE {table} SET {column} = ?", (time.time() + getattr(self, ttl),))  # noqa: S608

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                _use_wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=60000")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open state store {self.path}: {exc}") from exc
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """
        Yield the connection for reads of their own, outside the write lock (WAL).

        A writer holding the lock, even one that is stopped, does not delay them; a store
        that cannot answer raises `StoreUnavailable`, as a transaction does.
        """
        try:
            yield self._conn()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"state store busy or unavailable: {exc}") from exc

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except (sqlite3.Error, StoreUnavailable):
            return False
        return True

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- dedupe -----------------------------------------------------------
    def is_done(self, article_id: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM done WHERE id = ? AND expires > ?", (article_id, time.time()))
            .fetchone()
        )
        return row is not None

    def mark_done(self, article_id: str, ttl_s: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO done (id, expires) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET expires = excluded.expires",
                (article_id, time.time() + ttl_s),
            )

    def claim_content(self, content_hash: str, article_id: str, ttl_s: int) -> str | None:
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM content WHERE hash = ? AND expires > ?", (content_hash, now)
            ).fetchone()
            if row is not None and row[0] != article_id:
                return str(row[0])
            db.execute(
                "INSERT OR REPLACE INTO content (hash, id, expires) VALUES (?, ?, ?)",
                (content_hash, article_id, now + ttl_s),
            )
        return None

    def near_claim(self, article_id: str, key: NearKey, ttl_s: int) -> str | None:
        bands = list(key.bands)
        if not bands:
            return None
        now = time.time()
        mine = key.sketch
        need = nearindex.match_threshold(self.nd_threshold)
        marks = ",".join("?" * len(bands))
        with self._tx() as db:
            rows = db.execute(
                "SELECT DISTINCT s.id, s.sketch FROM nd_band b JOIN nd_sketch s ON s.id = b.id "  # noqa: S608
                f"WHERE b.band IN ({marks}) AND b.expires > ? AND s.expires > ?",
                (*bands, now, now),
            ).fetchall()
            best = max(rows, key=lambda r: nearindex.sketch_matches(mine, bytes(r[1])), default=None)
            if best is not None and nearindex.sketch_matches(mine, bytes(best[1])) >= need:
                return None if best[0] == article_id else str(best[0])
            # The oldest live article keeps a band, as HSETNX does in the Redis store; an expired
            # row (not purged yet) is taken over.
            db.executemany(
                "INSERT INTO nd_band (band, id, expires) VALUES (?, ?, ?) ON CONFLICT (band) "
                "DO UPDATE SET id = excluded.id, expires = excluded.expires WHERE nd_band.expires <= ?",
                [(b, article_id, now + ttl_s, now) for b in bands],
            )
            db.execute(
                "INSERT OR REPLACE INTO nd_sketch (id, sketch, expires) VALUES (?, ?, ?)",
                (article_id, mine, now + ttl_s),
            )
        return None

    # -- feeds ------------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT value FROM cache WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
                (key, value, time.time() + ttl_s),
            )

    def cache_add(self, key: str, value: str, ttl_s: int) -> bool:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE cache.expires <= ?",
                (key, value, now + ttl_s, now),
            )
            return cur.rowcount > 0

    def take_token(self, bucket: str, rate_per_s: float, burst: float) -> float:
        # BEGIN IMMEDIATE serialises the read-modify-write across every process on this file.
        with self._tx() as db:
            now = time.time()
            row = db.execute("SELECT tokens, ts FROM buckets WHERE name = ?", (bucket,)).fetchone()
            tokens, ts = (float(row[0]), float(row[1])) if row else (burst, now)
            tokens = min(burst, tokens + max(0.0, now - ts) * rate_per_s)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate_per_s
            # Full again (the same as no row) after burst / rate: as the Redis key's PEXPIRE.
            db.execute(
                "INSERT OR REPLACE INTO buckets (name, tokens, ts, expires) VALUES (?, ?, ?, ?)",
                (bucket, tokens, now, now + burst / rate_per_s + 1),
            )
        return wait

    # -- dead letters and counters ---------------------------------------
    def dead_letter(self, reason: str, stage: str, source: str, payload: dict[str, Any]) -> str:
        dead_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._tx() as db:
            db.execute(
                "INSERT INTO dead (id, at, reason, stage, source, payload) VALUES (?, ?, ?, ?, ?, ?)",
                (dead_id, at, reason, stage, source, json.dumps(payload)),
            )
        return dead_id

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = (
            self._conn()
            .execute("SELECT id, reason, stage, source, payload, at FROM dead ORDER BY id LIMIT ?", (limit,))
            .fetchall()
        )
        return [DeadLetter(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

    def remove_dead(self, dead_id: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM dead WHERE id = ?", (dead_id,)).rowcount > 0

    def incr(self, counter: str, by: int = 1) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + ?",
                (counter, by, by),
            )

    def counters(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self._conn().execute("SELECT name, n FROM counters").fetchall()}

    # -- timelines ---------------------------------------------------------
    def record(self, name: str, minute: int, by: int = 1) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO timeline (name, minute, n) VALUES (?, ?, ?) "
                "ON CONFLICT (name, minute) DO UPDATE SET n = n + excluded.n",
                (name, minute, by),
            )
            # A range of the primary key: nothing to delete most of the time, and cheap then.
            db.execute(
                "DELETE FROM timeline WHERE name = ? AND minute < ?", (name, minute - TIMELINE_KEEP_MINUTES)
            )

    def timeline(self, name: str, since_minute: int) -> dict[int, int]:
        rows = (
            self._conn()
            .execute(
                "SELECT minute, n FROM timeline WHERE name = ? AND minute >= ? AND n != 0 ORDER BY minute",
                (name, since_minute),
            )
            .fetchall()
        )
        return {int(m): int(n) for m, n in rows}

    # -- maintenance --------------------------------------------------------
    def purge(self, now: float, limit: int) -> int:
        deleted = sqlite_purge.expired(self._tx, now, limit)
        deleted += self._move_old_entry_tables(limit - deleted)
        return deleted + sqlite_purge.cap_dead(self._tx, self.dead_max, limit - deleted)

    def _move_old_entry_tables(self, limit: int) -> int:
        """Move the entries of the previous layout over, 20 feeds a batch, so abandoned ones expire too."""
        moved = 0
        while self._old_entries and moved < limit:
            with self._tx() as db:
                feeds = [str(r[0]) for r in db.execute("SELECT DISTINCT feed FROM entries LIMIT 20")]
                for feed in feeds:
                    fid, seq = self._entry_feed(db, feed)
                    last = self._move_old_entries(db, feed, fid, seq, recent=[])
                    self._trim_entries(db, fid, last, self.entry_memory)
                    moved += last - seq
            if not feeds:
                self._old_entries = False
        return moved

    # -- reserved slots and parked fetches ---------------------------------
    def reserve_slot(
        self, bucket: str, rate_per_s: float, burst: float, max_wait_s: float | None = None
    ) -> float:
        # BEGIN IMMEDIATE serialises the read-modify-write across every process on this file.
        with self._tx() as db:
            now = time.time()
            row = db.execute("SELECT tat FROM slots WHERE name = ?", (bucket,)).fetchone()
            wait, tat = reserve(None if row is None else float(row[0]), now, rate_per_s, burst)
            if max_wait_s is None or wait <= max_wait_s:
                db.execute("INSERT OR REPLACE INTO slots (name, tat) VALUES (?, ?)", (bucket, tat))
        return wait

    def hold_host(self, bucket: str, rate_per_s: float, burst: float, delay_s: float) -> float:
        with self._tx() as db:
            now = time.time()
            row = db.execute("SELECT tat FROM slots WHERE name = ?", (bucket,)).fetchone()
            wait, tat = reserve_after(None if row is None else float(row[0]), now, rate_per_s, burst, delay_s)
            db.execute("INSERT OR REPLACE INTO slots (name, tat) VALUES (?, ?)", (bucket, tat))
            row = db.execute("SELECT tokens, ts FROM buckets WHERE name = ?", (bucket,)).fetchone()
            held = None if row is None else (float(row[0]), float(row[1]))
            tokens = hold_tokens(held, now, rate_per_s, burst, delay_s)
            # Kept while the hold lasts, then until the bucket is full again (as `take_token` keeps it).
            db.execute(
                "INSERT OR REPLACE INTO buckets (name, tokens, ts, expires) VALUES (?, ?, ?, ?)",
                (bucket, tokens, now, now + max(0.0, delay_s) + burst / rate_per_s + 1),
            )
        return wait

    def park(self, item_id: str, payload: dict[str, Any], at: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO parked (id, due, at, payload) VALUES (?, ?, ?, ?)",
                (item_id, at, at, json.dumps(payload)),
            )

    def claim_parked(
        self, now: float, limit: int, lease_s: float, *, ahead_s: float = 0.0
    ) -> list[tuple[str, dict[str, Any], float]]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT id, payload, at FROM parked WHERE due <= ? ORDER BY due LIMIT ?",
                (now + ahead_s, limit),
            ).fetchall()
            db.executemany("UPDATE parked SET due = ? WHERE id = ?", [(now + lease_s, r[0]) for r in rows])
        return [(str(r[0]), dict(json.loads(r[1])), float(r[2])) for r in rows]

    def unpark(self, items: list[tuple[str, float]]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM parked WHERE id = ? AND at = ?", items)

    def parked_count(self) -> int:
        with self._read() as db:
            return int(db.execute("SELECT COUNT(*) FROM parked").fetchone()[0])

    # -- the ledger of sent tasks (worker.app.ledger) ------------------------------
    def ledger_put(self, queue: str, task_id: str, at: float, message: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO ledger (id, queue, at, message, suspect) VALUES (?, ?, ?, ?, NULL)",
                (task_id, queue, at, message),
            )

    def ledger_touch(self, queue: str, task_id: str, at: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE ledger SET at = ?, suspect = NULL WHERE id = ? AND queue = ?", (at, task_id, queue)
            )

    def ledger_done(self, queue: str, task_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM ledger WHERE id = ? AND queue = ?", (task_id, queue))

    def ledger_stale(self, queue: str, before: float, limit: int) -> list[tuple[str, float]]:
        with self._read() as db:
            rows = db.execute(
                "SELECT id, at FROM ledger WHERE queue = ? AND at < ? ORDER BY at, id LIMIT ?",
                (queue, before, limit),
            ).fetchall()
        return [(str(r[0]), float(r[1])) for r in rows]

    def ledger_suspect(self, queue: str, task_ids: list[str], now: float, confirm_s: float) -> list[str]:
        listed = set(task_ids)
        with self._tx() as db:
            known = dict(
                db.execute("SELECT id, suspect FROM ledger WHERE queue = ? AND suspect IS NOT NULL", (queue,))
            )
            cleared = [(i,) for i in known if i not in listed]
            confirmed = [i for i in task_ids if i in known and now - known[i] >= confirm_s]
            fresh = [(now, i, queue) for i in task_ids if i not in known]
            cleared += [(i,) for i in confirmed]
            db.executemany("UPDATE ledger SET suspect = NULL WHERE id = ?", cleared)
            db.executemany("UPDATE ledger SET suspect = ? WHERE id = ? AND queue = ?", fresh)
        return confirmed

    def ledger_messages(self, task_ids: list[str]) -> dict[str, str]:
        with self._read() as db:
            return {
                str(r[0]): str(r[1])
                for i in task_ids
                for r in db.execute("SELECT id, message FROM ledger WHERE id = ?", (i,)).fetchall()
            }

    def ledger_count(self, queue: str) -> int:
        with self._read() as db:
            return int(db.execute("SELECT COUNT(*) FROM ledger WHERE queue = ?", (queue,)).fetchone()[0])
