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

from worker.errors import StoreUnavailable
from worker.state import nearindex
from worker.state.base import TIMELINE_KEEP_MINUTES, DeadLetter
from worker.state.nearindex import NearKey
from worker.state.slots import hold_tokens, reserve, reserve_after

# Upserts rather than INSERT OR REPLACE: REPLACE deletes the row and inserts it
# again (index updates twice), an upsert updates it in place; every poll writes
# both rows, and the upserts take a third less CPU.
_PUT_FEED = (
    "INSERT INTO feeds (url, state) VALUES (?, ?) ON CONFLICT (url) DO UPDATE SET state = excluded.state"
)
_PUT_DUE = (
    "INSERT INTO due (url, next_at) VALUES (?, ?) ON CONFLICT (url) DO UPDATE SET next_at = excluded.next_at"
)


class SQLiteStore:
    """
    State in one SQLite file.

    Each process (and thread) opens its own connection lazily, because a
    connection must not cross a fork; `BEGIN IMMEDIATE` makes every
    check-and-set atomic across processes.
    """

    def __init__(self, path: Path | str, *, nd_threshold: float = nearindex.DEFAULT_THRESHOLD) -> None:
        self.path = Path(path)
        self.nd_threshold = nd_threshold
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            self._conn().executescript(
                resources.files("worker.state").joinpath("sqlite.sql").read_text("utf-8")
            )
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"cannot create state store {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=60000")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open state store {self.path}: {exc}") from exc
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
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
            # The oldest article keeps a band, as HSETNX does in the Redis store.
            db.execute("DELETE FROM nd_band WHERE expires <= ?", (now,))
            db.executemany(
                "INSERT OR IGNORE INTO nd_band (band, id, expires) VALUES (?, ?, ?)",
                [(b, article_id, now + ttl_s) for b in bands],
            )
            db.execute(
                "INSERT OR REPLACE INTO nd_sketch (id, sketch, expires) VALUES (?, ?, ?)",
                (article_id, mine, now + ttl_s),
            )
        return None

    # -- feeds ------------------------------------------------------------
    def add_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        fresh: list[str] = []
        with self._tx() as db:
            for key in dict.fromkeys(entry_keys):
                cur = db.execute("INSERT OR IGNORE INTO entries (feed, key) VALUES (?, ?)", (feed_key, key))
                if cur.rowcount:
                    fresh.append(key)
        return fresh

    def unseen_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        keys = list(dict.fromkeys(entry_keys))
        seen: set[str] = set()
        db = self._conn()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key FROM entries WHERE feed = ? AND key IN ({marks})",  # noqa: S608
                (feed_key, *chunk),
            ).fetchall()
            seen.update(str(r[0]) for r in rows)
        return [k for k in keys if k not in seen]

    def get_feed(self, url: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT state FROM feeds WHERE url = ?", (url,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        found = {url: self.get_feed(url) for url in urls}
        return {url: state for url, state in found.items() if state is not None}

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        with self._tx() as db:
            db.execute(_PUT_FEED, (url, json.dumps(state)))
            if next_at is not None:
                db.execute(_PUT_DUE, (url, next_at))

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        with self._tx() as db:
            db.executemany(_PUT_FEED, [(url, json.dumps(state)) for url, state, _ in items])
            db.executemany(_PUT_DUE, [(url, at) for url, _, at in items if at is not None])

    def delete_feed(self, url: str) -> bool:
        with self._tx() as db:
            existed = db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount > 0
            db.execute("DELETE FROM due WHERE url = ?", (url,))
            db.execute("DELETE FROM entries WHERE feed = ?", (url,))
        return existed

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM feeds WHERE url = ?", (old,))
            db.execute("INSERT OR REPLACE INTO feeds (url, state) VALUES (?, ?)", (new, json.dumps(state)))
            db.execute("UPDATE OR REPLACE due SET url = ? WHERE url = ?", (new, old))
            db.execute("UPDATE OR IGNORE entries SET feed = ? WHERE feed = ?", (new, old))
            db.execute("DELETE FROM entries WHERE feed = ?", (old,))

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "DELETE FROM entries WHERE feed = ? AND key = ?", [(feed_key, k) for k in entry_keys]
            )

    def feed_urls(self) -> list[str]:
        return [str(r[0]) for r in self._conn().execute("SELECT url FROM feeds ORDER BY url").fetchall()]

    # -- archives ---------------------------------------------------------
    def disabled_count(self) -> int:
        row = (
            self._conn()
            .execute("SELECT COUNT(*) FROM feeds WHERE json_extract(state, '$.disabled') IS NOT NULL")
            .fetchone()
        )
        return int(row[0])

    def get_checkpoint(self, key: str) -> str | None:
        row = self._conn().execute("SELECT position FROM checkpoints WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_checkpoint(self, key: str, position: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO checkpoints (key, position) VALUES (?, ?)", (key, position))

    # -- learned chrome ---------------------------------------------------
    def learn_chrome(self, source: str, fingerprints: list[str], min_count: int) -> frozenset[str]:
        learned: set[str] = set()
        with self._tx() as db:
            for fp in dict.fromkeys(fingerprints):
                db.execute(
                    "INSERT INTO chrome (source, fp, n) VALUES (?, ?, 1) "
                    "ON CONFLICT (source, fp) DO UPDATE SET n = n + 1",
                    (source, fp),
                )
                (n,) = db.execute("SELECT n FROM chrome WHERE source = ? AND fp = ?", (source, fp)).fetchone()
                if n >= min_count:
                    learned.add(fp)
        return frozenset(learned)

    # -- scheduler --------------------------------------------------------
    def schedule(self, url: str, next_at: float) -> None:
        with self._tx() as db:
            db.execute(_PUT_DUE, (url, next_at))

    def unschedule(self, url: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM due WHERE url = ?", (url,))

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        with self._tx() as db:
            urls = [
                str(r[0])
                for r in db.execute(
                    "SELECT url FROM due WHERE next_at <= ? ORDER BY next_at LIMIT ?", (now, limit)
                ).fetchall()
            ]
            db.executemany("UPDATE due SET next_at = ? WHERE url = ?", [(now + lease_s, u) for u in urls])
        return urls

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        urls = self.claim_due(now, limit, lease_s)
        states = self.get_feeds(urls)
        return [(url, states.get(url, {})) for url in urls]

    def scheduled(self) -> dict[str, float]:
        return {str(u): float(t) for u, t in self._conn().execute("SELECT url, next_at FROM due").fetchall()}

    # -- politeness -------------------------------------------------------
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
            db.execute(
                "INSERT OR REPLACE INTO buckets (name, tokens, ts) VALUES (?, ?, ?)", (bucket, tokens, now)
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
            db.execute(
                "INSERT OR REPLACE INTO buckets (name, tokens, ts) VALUES (?, ?, ?)", (bucket, tokens, now)
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
        with self._tx() as db:
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
        with self._tx() as db:
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
        with self._tx() as db:
            return {
                str(r[0]): str(r[1])
                for i in task_ids
                for r in db.execute("SELECT id, message FROM ledger WHERE id = ?", (i,)).fetchall()
            }

    def ledger_count(self, queue: str) -> int:
        with self._tx() as db:
            return int(db.execute("SELECT COUNT(*) FROM ledger WHERE queue = ?", (queue,)).fetchone()[0])
