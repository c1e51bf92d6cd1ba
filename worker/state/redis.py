"""The Redis state store: every check-and-set is one Lua script, so it is atomic."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from worker import neardup
from worker.errors import StoreUnavailable
from worker.neardup import Signature
from worker.state.base import DeadLetter

T = TypeVar("T")

# KEYS[1] content key; ARGV: article id, ttl.  Returns the owner when it is another article.
_CLAIM_CONTENT = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""

# KEYS[1] entry set; ARGV entry keys.  Returns the keys that were not members.
_ADD_ENTRIES = """
local fresh = {}
for i, k in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], k) == 1 then fresh[#fresh + 1] = k end
end
return fresh
"""

# KEYS[1] chrome hash; ARGV[1] min count, ARGV[2..] fingerprints.
_LEARN_CHROME = """
local learned = {}
local min = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], 1) >= min then learned[#learned + 1] = ARGV[i] end
end
return learned
"""

# KEYS[1] due zset; ARGV now, limit, lease.
_CLAIM_DUE = """
local urls = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
for i, u in ipairs(urls) do redis.call('ZADD', KEYS[1], 'XX', until_, u) end
return urls
"""


def connect(url: str) -> redis.Redis[str]:
    """Open a client that retries connection errors with backoff (Redis restarts)."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
        socket_connect_timeout=5,
        socket_timeout=30,
    )


class RedisStore:
    """State in Redis under one key prefix."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ingest:",
        dead_stream: str = "articles:dead",
        nd_articles_per_generation: int = 200_000,
        nd_threshold: float = neardup.DEFAULT_THRESHOLD,
    ) -> None:
        self.r = connect(url)
        self.p = prefix
        self.dead_stream = dead_stream
        self._claim_content = self.r.register_script(_CLAIM_CONTENT)
        # Layout and script in worker.neardup: ~250 bytes per remembered article.
        self._near_claim = self.r.register_script(neardup.CHECK_AND_INSERT_LUA)
        self.nd_shard_bits = neardup.shard_bits(nd_articles_per_generation)
        self.nd_threshold = nd_threshold
        self._add_entries = self.r.register_script(_ADD_ENTRIES)
        self._learn_chrome = self.r.register_script(_LEARN_CHROME)
        self._claim_due = self.r.register_script(_CLAIM_DUE)

    def _do(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self.r.close()

    def is_done(self, article_id: str) -> bool:
        return bool(self._do(lambda: self.r.exists(f"{self.p}done:{article_id}")))

    def mark_done(self, article_id: str, ttl_s: int) -> None:
        self._do(lambda: self.r.set(f"{self.p}done:{article_id}", 1, ex=ttl_s))

    def claim_content(self, content_hash: str, article_id: str, ttl_s: int) -> str | None:
        owner = self._do(
            lambda: self._claim_content(keys=[f"{self.p}content:{content_hash}"], args=[article_id, ttl_s])
        )
        return str(owner) if owner else None

    def near_claim(self, article_id: str, sig: Signature, ttl_s: int) -> str | None:
        args = neardup.check_and_insert_args(
            sig,
            article_id,
            prefix=self.p,
            now_s=time.time(),
            retention_days=max(1, ttl_s // 86400),
            shard_bits=self.nd_shard_bits,
            threshold=self.nd_threshold,
        )
        if not args:
            return None
        found = self._do(lambda: self._near_claim(keys=[], args=args))
        if int(found[0]) == 1 and str(found[1]) != article_id:
            return str(found[1])
        return None

    def add_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        if not entry_keys:
            return []
        keys = list(dict.fromkeys(entry_keys))
        fresh = self._do(lambda: self._add_entries(keys=[f"{self.p}entries:{feed_key}"], args=keys))
        return [str(k) for k in fresh]

    def get_feed(self, url: str) -> dict[str, Any] | None:
        raw = self._do(lambda: self.r.hget(f"{self.p}feeds", url))
        return None if raw is None else dict(json.loads(raw))

    def put_feed(self, url: str, state: dict[str, Any]) -> None:
        self._do(lambda: self.r.hset(f"{self.p}feeds", url, json.dumps(state)))

    def feed_urls(self) -> list[str]:
        return sorted(str(k) for k in self._do(lambda: self.r.hkeys(f"{self.p}feeds")))

    def get_checkpoint(self, key: str) -> str | None:
        raw = self._do(lambda: self.r.hget(f"{self.p}checkpoints", key))
        return None if raw is None else str(raw)

    def set_checkpoint(self, key: str, position: str) -> None:
        self._do(lambda: self.r.hset(f"{self.p}checkpoints", key, position))

    def learn_chrome(self, source: str, fingerprints: list[str], min_count: int) -> frozenset[str]:
        fps = list(dict.fromkeys(fingerprints))
        if not fps:
            return frozenset()
        learned = self._do(
            lambda: self._learn_chrome(keys=[f"{self.p}chrome:{source}"], args=[min_count, *fps])
        )
        return frozenset(str(x) for x in learned)

    def schedule(self, url: str, next_at: float) -> None:
        self._do(lambda: self.r.zadd(f"{self.p}due", {url: next_at}))

    def unschedule(self, url: str) -> None:
        self._do(lambda: self.r.zrem(f"{self.p}due", url))

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        urls = self._do(lambda: self._claim_due(keys=[f"{self.p}due"], args=[now, limit, lease_s]))
        return [str(u) for u in urls]

    def scheduled(self) -> dict[str, float]:
        pairs = self._do(lambda: self.r.zrange(f"{self.p}due", 0, -1, withscores=True))
        return {str(u): float(s) for u, s in pairs}

    def dead_letter(self, reason: str, stage: str, source: str, payload: dict[str, Any]) -> str:
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {
            "reason": reason,
            "stage": stage,
            "source": source,
            "payload": json.dumps(payload),
            "at": at,
        }
        return str(self._do(lambda: self.r.xadd(self.dead_stream, fields)))

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
