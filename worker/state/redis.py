"""
The Redis state store: every check-and-set is one Lua script, so it is atomic.

Feeds are stored compactly for the million-feed goal: a feed's id is a
12-character hash of its URL (`codec.feed_id`); the due-set holds ids, and the
state lives in 65,536 small hashes (`feed:<first 4 hex digits>`), each
small enough for Redis's listpack encoding, packed by `codec.pack_state`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.retry import Retry

from worker import neardup
from worker.errors import StoreUnavailable
from worker.neardup import Signature
from worker.slots import RESERVE_LUA
from worker.state.base import DeadLetter
from worker.state.codec import feed_id, pack_state, unpack_state

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

# KEYS[1] due zset; ARGV now, limit, lease, feed-hash prefix.  Returns the packed states.
# The bucket keys are derived from the ids inside the script (single-node Redis only).
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
local out = {}
for i, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', until_, id)
  out[#out + 1] = redis.call('HGET', ARGV[4] .. string.sub(id, 1, 4), id) or ''
end
return out
"""

# KEYS[1] bucket, KEYS[2] due zset; ARGV id, packed state, next_at or ''.
_PUT_SCHEDULE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
"""

# KEYS old bucket, new bucket, due, old entries, new entries; ARGV old id, new id, packed new state.
_MOVE_FEED = """
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if score then redis.call('ZADD', KEYS[3], score, ARGV[2]) end
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('SUNIONSTORE', KEYS[5], KEYS[5], KEYS[4])
  redis.call('DEL', KEYS[4])
end
return 1
"""

# KEYS[1] bucket hash; ARGV rate per second, burst.  Returns the wait in seconds ('0' = token taken).
# The clock is Redis's own, so workers on hosts with skewed clocks share one bucket fairly.
_RATE_LIMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- A full bucket carries no information: let idle hosts' keys expire.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
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
        self._put_schedule = self.r.register_script(_PUT_SCHEDULE)
        self._move_feed = self.r.register_script(_MOVE_FEED)
        self._take_token = self.r.register_script(_RATE_LIMIT)

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

    def _bucket(self, fid: str) -> str:
        return f"{self.p}feed:{fid[:4]}"

    def get_feed(self, url: str) -> dict[str, Any] | None:
        fid = feed_id(url)
        raw = self._do(lambda: self.r.hget(self._bucket(fid), fid))
        return None if raw is None else unpack_state(raw)[1]

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.r.pipeline(transaction=False)
        for url in urls:
            fid = feed_id(url)
            pipe.hget(self._bucket(fid), fid)
        raws = self._do(pipe.execute)
        return {url: unpack_state(raw)[1] for url, raw in zip(urls, raws, strict=True) if raw is not None}

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        fid = feed_id(url)
        self._do(
            lambda: self._put_schedule(
                keys=[self._bucket(fid), f"{self.p}due"],
                args=[fid, pack_state(url, state), "" if next_at is None else repr(next_at)],
            )
        )

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        buckets: dict[str, dict[str | bytes, bytes | float | int | str]] = {}
        due: dict[str | bytes, bytes | float | int | str] = {}
        for url, state, next_at in items:
            fid = feed_id(url)
            buckets.setdefault(self._bucket(fid), {})[fid] = pack_state(url, state)
            if next_at is not None:
                due[fid] = next_at
        pipe = self.r.pipeline(transaction=False)
        for key, fields in buckets.items():
            pipe.hset(key, mapping=fields)
        if due:
            pipe.zadd(f"{self.p}due", due)
        self._do(pipe.execute)

    def delete_feed(self, url: str) -> bool:
        fid = feed_id(url)
        pipe = self.r.pipeline(transaction=True)
        pipe.hdel(self._bucket(fid), fid)
        pipe.zrem(f"{self.p}due", fid)
        pipe.delete(f"{self.p}entries:{url}")
        return bool(self._do(pipe.execute)[0])

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        old_id, new_id = feed_id(old), feed_id(new)
        keys = [
            self._bucket(old_id),
            self._bucket(new_id),
            f"{self.p}due",
            f"{self.p}entries:{old}",
            f"{self.p}entries:{new}",
        ]
        self._do(lambda: self._move_feed(keys=keys, args=[old_id, new_id, pack_state(new, state)]))

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        if entry_keys:
            self._do(lambda: self.r.srem(f"{self.p}entries:{feed_key}", *entry_keys))

    def _all_feeds(self) -> dict[str, str]:
        """Return id -> URL of every stored feed (a SCAN: for admin commands, not the hot path)."""
        out: dict[str, str] = {}
        keys = self._do(lambda: list(self.r.scan_iter(match=f"{self.p}feed:*", count=1000)))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for bucket in self._do(pipe.execute):
            for fid, raw in bucket.items():
                out[str(fid)] = unpack_state(raw)[0]
        return out

    def feed_urls(self) -> list[str]:
        return sorted(self._all_feeds().values())

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
        fid = feed_id(url)
        # A source scheduled without state still needs its URL stored, or its id could not be read back.
        pipe = self.r.pipeline(transaction=True)
        pipe.hsetnx(self._bucket(fid), fid, pack_state(url, {}))
        pipe.zadd(f"{self.p}due", {fid: next_at})
        self._do(pipe.execute)

    def unschedule(self, url: str) -> None:
        self._do(lambda: self.r.zrem(f"{self.p}due", feed_id(url)))

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        return [url for url, _ in self.claim_due_feeds(now, limit, lease_s)]

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        raws = self._do(
            lambda: self._claim_due(keys=[f"{self.p}due"], args=[now, limit, lease_s, f"{self.p}feed:"])
        )
        return [unpack_state(str(raw)) for raw in raws if raw]

    def scheduled(self) -> dict[str, float]:
        pairs = self._do(lambda: self.r.zrange(f"{self.p}due", 0, -1, withscores=True))
        urls = self._all_feeds()
        return {urls[str(i)]: float(s) for i, s in pairs if str(i) in urls}

    # -- politeness -------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        raw = self._do(lambda: self.r.get(f"{self.p}cache:{key}"))
        return None if raw is None else str(raw)

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        self._do(lambda: self.r.set(f"{self.p}cache:{key}", value, ex=max(1, int(ttl_s))))

    def take_token(self, bucket: str, rate_per_s: float, burst: float) -> float:
        wait = self._do(lambda: self._take_token(keys=[f"{self.p}bucket:{bucket}"], args=[rate_per_s, burst]))
        return float(wait)

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

    # -- reserved slots and parked fetches ---------------------------------
    # Parked fetches: a zset of ids scored by when they are due (or by their lease's end
    # once claimed) and a hash of id -> {"at": slot time, "p": payload}.
    def _deferral_script(self, lua: str) -> Script:
        # Registered on first use, so the constructor is left as it is.
        scripts: dict[str, Script] = self.__dict__.setdefault("_deferral_scripts", {})
        if lua not in scripts:
            scripts[lua] = self.r.register_script(lua)
        return scripts[lua]

    def reserve_slot(
        self, bucket: str, rate_per_s: float, burst: float, max_wait_s: float | None = None
    ) -> float:
        script = self._deferral_script(RESERVE_LUA)
        limit = "" if max_wait_s is None else repr(float(max_wait_s))
        wait = self._do(lambda: script(keys=[f"{self.p}slot:{bucket}"], args=[rate_per_s, burst, limit]))
        return float(wait)

    def park(self, item_id: str, payload: dict[str, Any], at: float) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(f"{self.p}parked:items", item_id, json.dumps({"at": at, "p": payload}))
        pipe.zadd(f"{self.p}parked", {item_id: at})
        self._do(pipe.execute)

    def claim_parked(
        self, now: float, limit: int, lease_s: float, *, ahead_s: float = 0.0
    ) -> list[tuple[str, dict[str, Any], float]]:
        script = self._deferral_script(_CLAIM_PARKED)
        keys = [f"{self.p}parked", f"{self.p}parked:items"]
        flat = self._do(lambda: script(keys=keys, args=[repr(now + ahead_s), limit, repr(now + lease_s)]))
        out: list[tuple[str, dict[str, Any], float]] = []
        for item_id, raw in zip(flat[::2], flat[1::2], strict=True):
            if raw:
                doc = json.loads(raw)
                out.append((str(item_id), doc["p"], float(doc["at"])))
        return out

    def unpark(self, items: list[tuple[str, float]]) -> None:
        if not items:
            return
        script = self._deferral_script(_UNPARK)
        args = [x for item_id, at in items for x in (item_id, repr(at))]
        self._do(lambda: script(keys=[f"{self.p}parked", f"{self.p}parked:items"], args=args))

    def parked_count(self) -> int:
        return int(self._do(lambda: self.r.zcard(f"{self.p}parked")))


# KEYS[1] parked zset, KEYS[2] parked payloads; ARGV id, at, id, at, ...
# Deletes an id only while it still holds that `at`: one parked again since its claim stays.
_UNPARK = """
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[2], ARGV[i])
  if raw and cjson.decode(raw)['at'] == tonumber(ARGV[i + 1]) then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 1
"""

# KEYS[1] parked zset, KEYS[2] parked payloads; ARGV due by, limit, lease end.
# Returns id, payload, id, payload, ...; an id without a payload (a torn write) is dropped.
_CLAIM_PARKED = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for i, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = raw
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""
