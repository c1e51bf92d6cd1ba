"""
Delete what expired from the embedded store (`SQLiteStore.purge`): small batches, each its own transaction.

Every statement deletes at most `PURGE_BATCH` rows found through an index
(on `expires`, `tat`, or the dead letters' time-ordered ids), so a writer
waiting for the lock waits for one batch at most, a few milliseconds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

import structlog

log = structlog.get_logger(__name__)

Tx = Callable[[], AbstractContextManager[sqlite3.Connection]]

# Tables whose rows end at `expires`.
EXPIRING = ("done", "content", "nd_band", "nd_sketch", "cache", "checkpoints", "chrome", "buckets")
# Rows one statement deletes.
PURGE_BATCH = 500

# (statement, what it deletes); each takes (now, batch size).  A passed slot (TAT) is the same as
# no row (`worker.state.slots.reserve`); an entry memory goes with its feed's expiry, keys first.
_STATEMENTS = [
    *(
        f"DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE expires <= ?1 LIMIT ?2)"  # noqa: S608
        for t in EXPIRING
    ),
    "DELETE FROM slots WHERE rowid IN (SELECT rowid FROM slots WHERE tat < ?1 LIMIT ?2)",
    "DELETE FROM entry_keys WHERE (feed, digest) IN (SELECT k.feed, k.digest FROM entry_feeds f "
    "JOIN entry_keys k ON k.feed = f.id WHERE f.expires <= ?1 LIMIT ?2)",
    "DELETE FROM entry_feeds WHERE id IN (SELECT id FROM entry_feeds f WHERE f.expires <= ?1 "
    "AND NOT EXISTS (SELECT 1 FROM entry_keys k WHERE k.feed = f.id) LIMIT ?2)",
]


def batches(tx: Tx, sql: str, args: tuple[object, ...], limit: int) -> int:
    """Run `sql` (its last parameter the batch size) until it deletes less than a batch or `limit` in all."""
    deleted = 0
    while deleted < limit:
        size = min(PURGE_BATCH, limit - deleted)
        with tx() as db:
            n = db.execute(sql, (*args, size)).rowcount
        deleted += n
        if n < size:
            break
    return deleted


def expired(tx: Tx, now: float, limit: int) -> int:
    """Delete up to `limit` rows that expired by `now`; return how many."""
    deleted = 0
    for sql in _STATEMENTS:
        deleted += batches(tx, sql, (now,), limit - deleted)
    return deleted


def cap_dead(tx: Tx, dead_max: int, limit: int) -> int:
    """Drop the oldest dead letters past `dead_max` (at most `limit`), with a `dead_letters_dropped` event."""
    with tx() as db:
        (count,) = db.execute("SELECT COUNT(*) FROM dead").fetchone()
    over = min(int(count) - dead_max, limit)
    if over <= 0:
        return 0
    sql = "DELETE FROM dead WHERE id IN (SELECT id FROM dead ORDER BY id LIMIT ?)"
    dropped = batches(tx, sql, (), over)
    log.warning("dead_letters_dropped", dropped=dropped, kept=dead_max)
    return dropped
