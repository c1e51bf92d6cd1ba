"""Sources in the SQLite store: feed states, their entry memories, the due-set, checkpoints, chrome."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import AbstractContextManager
from typing import Any

from worker.state.base import CHROME_MAX_LINES
from worker.state.codec import entry_digest

# Upserts rather than INSERT OR REPLACE: REPLACE deletes the row and inserts it
# again (index updates twice), an upsert updates it in place; every poll writes
# both rows, and the upserts take a third less CPU.
_PUT_FEED = (
    "INSERT INTO feeds (url, state) VALUES (?, ?) ON CONFLICT (url) DO UPDATE SET state = excluded.state"
)
_PUT_DUE = (
    "INSERT INTO due (url, next_at) VALUES (?, ?) ON CONFLICT (url) DO UPDATE SET next_at = excluded.next_at"
)
_FEED_ID = "SELECT id FROM entry_feeds WHERE feed = ?"
# Fingerprints read back in one `IN (…)` list at most (SQLite allows 32,766 variables a statement).
_IN_CHUNK = 500


def digest_of(key: str) -> int:
    """Return an entry key's digest as the signed 64-bit integer SQLite stores in 8 bytes."""
    return int.from_bytes(entry_digest(key), "big", signed=True)


class FeedTables:
    """The `FeedStore`, `DueSet`, `Checkpoints` and `ChromeMemory` roles (see `worker.state.base`)."""

    entry_memory: int
    entry_ttl_s: int
    retention_s: int
    _old_entries: bool

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def add_entries(self, feed_key: str, entry_keys: list[str], keep: int | None = None) -> list[str]:
        if not entry_keys:
            return []
        keys = list(dict.fromkeys(entry_keys))
        fresh: list[str] = []
        with self._tx() as db:
            fid, seq = self._entry_feed(db, feed_key)
            if self._old_entries:
                seq = self._move_old_entries(db, feed_key, fid, seq, recent=keys)
            start = seq
            for key in keys:
                cur = db.execute(
                    "INSERT OR IGNORE INTO entry_keys (feed, digest, seq) VALUES (?, ?, ?)",
                    (fid, digest_of(key), seq + 1),
                )
                if cur.rowcount:
                    seq += 1
                    fresh.append(key)
            if seq != start or self._old_entries:
                self._trim_entries(db, fid, seq, max(1, keep or self.entry_memory))
        return fresh

    def unseen_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        keys = list(dict.fromkeys(entry_keys))
        db = self._conn()
        row = db.execute("SELECT id, expires FROM entry_feeds WHERE feed = ?", (feed_key,)).fetchone()
        seen: set[int] = set()
        if row is not None and row[1] > time.time():
            for start in range(0, len(keys), 500):
                chunk = [digest_of(k) for k in keys[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT digest FROM entry_keys WHERE feed = ? AND digest IN ({marks})",  # noqa: S608
                    (row[0], *chunk),
                ).fetchall()
                seen.update(int(r[0]) for r in rows)
        old: set[str] = set()
        if self._old_entries:  # keys of the previous layout, not moved yet
            for start in range(0, len(keys), 500):
                chunk_keys = keys[start : start + 500]
                marks = ",".join("?" * len(chunk_keys))
                rows = db.execute(
                    f"SELECT key FROM entries WHERE feed = ? AND key IN ({marks})",  # noqa: S608
                    (feed_key, *chunk_keys),
                ).fetchall()
                old.update(str(r[0]) for r in rows)
        return [k for k in keys if digest_of(k) not in seen and k not in old]

    def _entry_feed(self, db: sqlite3.Connection, feed_key: str) -> tuple[int, int]:
        """Return the id and last number of a feed's entry memory (made if need be), renewing its expiry."""
        now = time.time()
        row = db.execute("SELECT id, seq, expires FROM entry_feeds WHERE feed = ?", (feed_key,)).fetchone()
        if row is None:
            cur = db.execute(
                "INSERT INTO entry_feeds (feed, seq, expires) VALUES (?, 0, ?)",
                (feed_key, now + self.entry_ttl_s),
            )
            return int(cur.lastrowid or 0), 0
        if row[2] <= now:  # expired, not purged yet: forgotten all the same
            db.execute("DELETE FROM entry_keys WHERE feed = ?", (row[0],))
        db.execute("UPDATE entry_feeds SET expires = ? WHERE id = ?", (now + self.entry_ttl_s, row[0]))
        return int(row[0]), int(row[1])

    def _trim_entries(self, db: sqlite3.Connection, fid: int, seq: int, keep: int) -> None:
        db.execute("UPDATE entry_feeds SET seq = ? WHERE id = ?", (seq, fid))
        db.execute("DELETE FROM entry_keys WHERE feed = ? AND seq <= ?", (fid, seq - keep))

    def _move_old_entries(
        self, db: sqlite3.Connection, feed_key: str, fid: int, seq: int, recent: list[str]
    ) -> int:
        """
        Move a feed's keys of the previous layout (no order) into its memory; return the last number.

        The keys seen again now (`recent`) are numbered last, so a cut keeps them.
        """
        old = [str(r[0]) for r in db.execute("SELECT key FROM entries WHERE feed = ?", (feed_key,))]
        if not old:
            return seq
        now = set(recent)
        ordered = [k for k in old if k not in now] + [k for k in recent if k in set(old)]
        db.executemany(
            "INSERT OR IGNORE INTO entry_keys (feed, digest, seq) VALUES (?, ?, ?)",
            [(fid, digest_of(k), seq + i) for i, k in enumerate(ordered, 1)],
        )
        db.execute("DELETE FROM entries WHERE feed = ?", (feed_key,))
        return seq + len(ordered)

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
            db.execute(f"DELETE FROM entry_keys WHERE feed = ({_FEED_ID})", (url,))  # noqa: S608
            db.execute("DELETE FROM entry_feeds WHERE feed = ?", (url,))
            if self._old_entries:
                db.execute("DELETE FROM entries WHERE feed = ?", (url,))
        return existed

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM feeds WHERE url = ?", (old,))
            db.execute("INSERT OR REPLACE INTO feeds (url, state) VALUES (?, ?)", (new, json.dumps(state)))
            db.execute("UPDATE OR REPLACE due SET url = ? WHERE url = ?", (new, old))
            if self._old_entries:
                db.execute("UPDATE OR IGNORE entries SET feed = ? WHERE feed = ?", (new, old))
                db.execute("DELETE FROM entries WHERE feed = ?", (old,))
            row = db.execute("SELECT id, seq FROM entry_feeds WHERE feed = ?", (old,)).fetchone()
            if row is None:
                return
            fid, seq = self._entry_feed(db, new)
            db.execute("UPDATE OR IGNORE entry_keys SET feed = ? WHERE feed = ?", (fid, row[0]))
            db.execute("DELETE FROM entry_keys WHERE feed = ?", (row[0],))
            db.execute("DELETE FROM entry_feeds WHERE id = ?", (row[0],))
            db.execute("UPDATE entry_feeds SET seq = ? WHERE id = ?", (max(seq, int(row[1])), fid))

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        with self._tx() as db:
            db.executemany(
                f"DELETE FROM entry_keys WHERE feed = ({_FEED_ID}) AND digest = ?",  # noqa: S608
                [(feed_key, digest_of(k)) for k in entry_keys],
            )
            if self._old_entries:
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
        row = (
            self._conn()
            .execute("SELECT position FROM checkpoints WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return str(row[0]) if row and row[0] else None

    def set_checkpoint(self, key: str, position: str) -> None:
        with self._tx() as db:
            if not position:
                db.execute("DELETE FROM checkpoints WHERE key = ?", (key,))
                return
            db.execute(
                "INSERT OR REPLACE INTO checkpoints (key, position, expires) VALUES (?, ?, ?)",
                (key, position, time.time() + self.entry_ttl_s),
            )

    # -- learned chrome ---------------------------------------------------
    def learn_chrome(self, source: str, fingerprints: list[str], min_count: int) -> frozenset[str]:
        learned: set[str] = set()
        expires = time.time() + self.retention_s
        fps = list(dict.fromkeys(fingerprints))
        with self._tx() as db:
            # One statement for all the page's lines, then their counts read back in a few: the write
            # lock every process shares is held for a handful of statements, not two a line.
            db.executemany(
                "INSERT INTO chrome (source, fp, n, expires) VALUES (?, ?, 1, ?) "
                "ON CONFLICT (source, fp) DO UPDATE SET n = n + 1, expires = excluded.expires",
                [(source, fp, expires) for fp in fps],
            )
            for at in range(0, len(fps), _IN_CHUNK):
                chunk = fps[at : at + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))  # placeholders only: the values are bound
                rows = db.execute(
                    f"SELECT fp, n FROM chrome WHERE source = ? AND fp IN ({marks})",  # noqa: S608
                    (source, *chunk),
                )
                learned.update(str(fp) for fp, n in rows if n >= min_count)
            (count,) = db.execute("SELECT COUNT(*) FROM chrome WHERE source = ?", (source,)).fetchone()
            if count > CHROME_MAX_LINES:
                # As lua/learn_chrome.lua: forget what is not learned, or all when the learned fill half.
                (kept,) = db.execute(
                    "SELECT COUNT(*) FROM chrome WHERE source = ? AND n >= ?", (source, min_count)
                ).fetchone()
                limit = min_count if kept * 2 <= CHROME_MAX_LINES else 2**62
                db.execute("DELETE FROM chrome WHERE source = ? AND n < ?", (source, limit))
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
