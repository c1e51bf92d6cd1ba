"""
The Redis state store: every check-and-set is one Lua script (`worker/state/lua/`), so it is atomic.

Feeds and the due-set are in `feeds.py` (their compact layout is described
there); dedupe, politeness, parking, dead letters, counters and the ledger here.

Every key either expires or is bounded by something else (`BOUNDED_KEYS`
names each key without a TTL and what bounds it; the README's sizing table
gives bytes an item), so memory levels off after the retention.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis
import structlog

from worker.state import nearindex
from worker.state.base import CHROME_MAX_LINES, TIMELINE_KEEP_MINUTES, DeadLetter
from worker.state.redis.base import connect
from worker.state.redis.near import NearIndex
from worker.state.redis.overview import OverviewTables
from worker.state.redis.tasks import TaskTables

__all__ = ["BOUNDED_KEYS", "RedisStore", "connect"]

log = structlog.get_logger(__name__)

# The keys (after the prefix) written without a TTL, and what bounds each; every other key expires.
BOUNDED_KEYS = {
    "{feeds-*}:feed:*": "feed states, 65,536 bucket hashes at most: as many feeds as are registered",
    "{feeds-*}:due:*": "the due-set, 65,536 bucket zsets at most: one member a scheduled feed",
    "{feeds-*}:due-index": "one member a due bucket (65,536 at most over the 16 shards)",
    "{feeds-*}:disabled": "ids of disabled feeds, a subset of the feeds",
    "feeds-layout": "one flag: the feeds' layout (`layout.migrate`)",
    "{feeds-*}:failing": "ids of failing feeds (consecutive errors, not disabled), a subset of the feeds",
    "disabled-counted": "one flag (of the previous version)",
    "troubles-indexed": "one flag: `disabled` and `failing` hold the feeds written before them",
    "counters": "a fixed set of counter names (`health`)",
    "{nd}:seq": "one number",
    "{parked}:due": "fetches parked until their slot; each is released by the dispatch tick",
    "{parked}:items": "the payloads of `{parked}:due`",
    "{ledger}:queue:*": "tasks sent and not ended, one zset a queue",
    "{ledger}:msg": "the messages of the tasks in `{ledger}:queue:*`",
    "{ledger}:suspect:*": "tasks of `{ledger}:queue:*` that look lost",
    "legacy-ttl-scanned": "one flag: keys of the previous layouts got their TTLs (`purge`)",
}
# How many keys one `purge` call looks at when it gives keys of the previous layouts a TTL.
_LEGACY_SCAN = 1000


class RedisStore(OverviewTables, TaskTables, NearIndex):
    """State in Redis under one key prefix."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ingest:",
        dead_stream: str = "articles:dead",
        nd_articles_per_generation: int = 200_000,
        nd_threshold: float = nearindex.DEFAULT_THRESHOLD,
        retention_s: int = 30 * 86400,
        entry_memory: int = 1000,
        entry_ttl_s: int = 60 * 86400,
        dead_max: int = 100_000,
    ) -> None:
        super().__init__(url, prefix=prefix)
        self.dead_stream = dead_stream
        self.nd_shard_bits = nearindex.shard_bits(nd_articles_per_generation)
        self.nd_threshold = nd_threshold
        self.retention_s = retention_s
        self.entry_memory = entry_memory
        self.entry_ttl_s = entry_ttl_s
        self.dead_max = dead_max
        self._old_checkpoints: bool | None = None

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    def is_done(self, article_id: str) -> bool:
        return bool(self._do(lambda: self.r.exists(f"{self.p}done:{article_id}")))

    def mark_done(self, article_id: str, ttl_s: int) -> None:
        self._do(lambda: self.r.set(f"{self.p}done:{article_id}", 1, ex=ttl_s))

    def claim_content(self, content_hash: str, article_id: str, ttl_s: int) -> str | None:
        owner = self._do(
            lambda: self._script("claim_content")(
                keys=[f"{self.p}content:{content_hash}"], args=[article_id, ttl_s]
            )
        )
        return str(owner) if owner else None

    # Checkpoints are one key each (`checkpoint:<key>`), expiring `entry_ttl_s` after their last
    # write; the layout before it, one `checkpoints` hash without a TTL, is still read, and `purge`
    # moves it over.
    def _has_old_checkpoints(self) -> bool:
        if self._old_checkpoints is None:
            self._old_checkpoints = bool(self._do(lambda: self.r.exists(f"{self.p}checkpoints")))
        return self._old_checkpoints

    def get_checkpoint(self, key: str) -> str | None:
        raw = self._do(lambda: self.r.get(f"{self.p}checkpoint:{key}"))
        if raw is None and self._has_old_checkpoints():
            raw = self._do(lambda: self.r.hget(f"{self.p}checkpoints", key))
        return str(raw) if raw else None

    def set_checkpoint(self, key: str, position: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        if position:
            pipe.set(f"{self.p}checkpoint:{key}", position, ex=self.entry_ttl_s)
        else:
            pipe.delete(f"{self.p}checkpoint:{key}")
        if self._has_old_checkpoints():
            pipe.hdel(f"{self.p}checkpoints", key)
        self._do(pipe.execute)

    def learn_chrome(self, source: str, fingerprints: list[str], min_count: int) -> frozenset[str]:
        fps = list(dict.fromkeys(fingerprints))
        if not fps:
            return frozenset()
        args = [min_count, CHROME_MAX_LINES, self.retention_s, *fps]
        learned = self._do(lambda: self._script("learn_chrome")(keys=[f"{self.p}chrome:{source}"], args=args))
        return frozenset(str(x) for x in learned)

    # -- politeness -------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        raw = self._do(lambda: self.r.get(f"{self.p}cache:{key}"))
        return None if raw is None else str(raw)

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        self._do(lambda: self.r.set(f"{self.p}cache:{key}", value, ex=max(1, int(ttl_s))))

    def cache_add(self, key: str, value: str, ttl_s: int) -> bool:
        ex = max(1, int(ttl_s))
        return bool(self._do(lambda: self.r.set(f"{self.p}cache:{key}", value, ex=ex, nx=True)))

    def dead_letter(self, reason: str, stage: str, source: str, payload: dict[str, Any]) -> str:
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {
            "reason": reason,
            "stage": stage,
            "source": source,
            "payload": json.dumps(payload),
            "at": at,
        }
        pipe = self.r.pipeline(transaction=True)
        pipe.xlen(self.dead_stream)
        pipe.xadd(self.dead_stream, fields, maxlen=self.dead_max, approximate=False)
        before, dead_id = self._do(pipe.execute)
        if before >= self.dead_max:
            log.warning("dead_letters_dropped", dropped=before + 1 - self.dead_max, kept=self.dead_max)
        return str(dead_id)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self._do(lambda: self.r.xrange(self.dead_stream, count=limit))
        return [
            DeadLetter(str(i), f["reason"], f["stage"], f["source"], json.loads(f["payload"]), f["at"])
            for i, f in rows
        ]

    def remove_dead(self, dead_id: str) -> bool:
        return bool(self._do(lambda: self.r.xdel(self.dead_stream, dead_id)))

    def incr(self, counter: str, by: int = 1) -> None:
        self._do(lambda: self.r.hincrby(f"{self.p}counters", counter, by))

    def counters(self) -> dict[str, int]:
        raw = self._do(lambda: self.r.hgetall(f"{self.p}counters"))
        return {str(k): int(v) for k, v in raw.items()}

    # -- timelines: a hash per name, field = minute, value = count (timeline_record.lua).
    def record(self, name: str, minute: int, by: int = 1) -> None:
        script = self._script("timeline_record")
        # The key outlives its newest minute by the kept span, then goes by itself.
        args = [minute, by, minute - TIMELINE_KEEP_MINUTES, (TIMELINE_KEEP_MINUTES + 1) * 60]
        self._do(lambda: script(keys=[f"{self.p}timeline:{name}"], args=args))

    def timeline(self, name: str, since_minute: int) -> dict[int, int]:
        raw = self._do(lambda: self.r.hgetall(f"{self.p}timeline:{name}"))
        counts = {int(m): int(n) for m, n in raw.items()}
        return {m: n for m, n in sorted(counts.items()) if m >= since_minute and n}

    # -- maintenance --------------------------------------------------------
    def purge(self, now: float, limit: int) -> int:
        """
        Every key expires by itself or is bounded (`BOUNDED_KEYS`): move data of the previous layouts.

        Checkpoints go from the old hash to keys with a TTL, and one pass over
        the keyspace, `_LEGACY_SCAN` keys a call, gives entry sets and chrome
        hashes written before they had a TTL theirs.  Returns how many items moved or got a TTL.
        """
        moved = self._move_old_checkpoints(limit)
        return moved + self._expire_legacy(max(0, limit - moved))

    def _move_old_checkpoints(self, limit: int) -> int:
        old = f"{self.p}checkpoints"
        if limit <= 0 or not self._has_old_checkpoints():
            return 0
        _, fields = self._do(lambda: self.r.hscan(old, 0, count=min(limit, 1000)))
        pipe = self.r.pipeline(transaction=True)
        for key, position in fields.items():
            if position:
                pipe.set(f"{self.p}checkpoint:{key}", position, ex=self.entry_ttl_s, nx=True)
            pipe.hdel(old, key)
        self._do(pipe.execute)
        if not self._do(lambda: self.r.exists(old)):
            self._old_checkpoints = False
        return len(fields)

    def _expire_legacy(self, limit: int) -> int:
        done_key, cursor_key = f"{self.p}legacy-ttl-scanned", f"{self.p}legacy-ttl-cursor"
        # A cluster never held keys of those layouts (the store could not run on one before).
        if limit <= 0 or self.cluster or self._do(lambda: self.r.exists(done_key)):
            return 0
        cursor = int(self._do(lambda: self.r.get(cursor_key)) or 0)
        cursor, keys = self._do(lambda: self.r.scan(cursor, match=f"{self.p}*", count=_LEGACY_SCAN))
        ttls = {f"{self.p}entries:": self.entry_ttl_s, f"{self.p}chrome:": self.retention_s}
        keys = [k for k in keys if any(str(k).startswith(p) for p in ttls)]
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.ttl(key)
        missing = [k for k, ttl in zip(keys, self._do(pipe.execute), strict=True) if ttl == -1]
        pipe = self.r.pipeline(transaction=False)
        for key in missing:
            pipe.expire(key, next(t for p, t in ttls.items() if str(key).startswith(p)))
        if cursor == 0:
            pipe.set(done_key, 1)
            pipe.delete(cursor_key)
        else:
            pipe.set(cursor_key, cursor, ex=86400)
        self._do(pipe.execute)
        if missing:
            log.info("legacy_keys_expiring", keys=len(missing))
        return len(missing)
