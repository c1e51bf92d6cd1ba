"""
The Redis state store: every check-and-set is one Lua script, so it is atomic.

Feeds are stored compactly for the million-feed goal (<= 200 bytes a feed,
polled or not, with Redis's default config).  A feed's id is a 12-character
hash of its URL (`codec.feed_id`); its first 4 hex digits name one of 65,536
buckets `b`, the other 8 characters `m` name the feed inside its bucket:

- `feed:<b>` hash: field `<id>` holds the spec value (the URL, for a default
  spec) and field `+<m>` what polling learned (`codec.pack_feed`); ~15 feeds
  a bucket at a million, each value <= 64 bytes in the common case, so the
  hash stays listpack-encoded (up to 128 fields, 64 feeds);
- `due:<b>` zset: member `<m>` scored by its next check, in whole seconds
  rounded up (an integral score takes 6 bytes of a listpack, one with a
  fraction about 20);
  small enough to stay a listpack too (up to 128 members);
- `due-index` zset: member `<b>` scored by the earliest next check in
  `due:<b>`, kept exact by every script that writes a `due:<b>`, so a claim
  reads the due buckets from it in order.

A single due zset of a million members would be a skiplist at ~105 bytes a
member; the sharded one costs ~30.  The layout before it (one `due` zset of
ids; the whole state in the `<id>` field) is still read, and an old `due`
zset is moved into the new one, once, before the first due-set operation.
Scripts that touch several buckets derive their keys from ids (single-node
Redis only, like the claim always did).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.retry import Retry

from worker.errors import StoreUnavailable
from worker.process import neardup
from worker.process.neardup import Signature
from worker.state.base import DeadLetter
from worker.state.codec import feed_id, pack_feed, pack_state, unpack_feed
from worker.state.slots import RESERVE_LUA

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

# Every script that writes a `due:<b>` ends with fix(): the index then holds each bucket's earliest score.
_FIX = """
local function fix(due, index, b)
  local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', index, first[2], b) else redis.call('ZREM', index, b) end
end
"""

# ARGV now, limit, lease end, prefix.  Returns (spec value, poll value) pairs, flattened.
# The first `limit` buckets of the index hold the `limit` earliest due feeds (each bucket in it
# has a due feed at most as early as the bucket's score), so sorting their due feeds is exact.
# Lua's redis.call is the cost here, so each bucket is read once (its due members and the one
# after them, enough to know its new earliest score), written once and its states read once;
# the index is written in one call at the end.  That is three calls a claimed feed where one
# global zset took two: `bench/scheduler_bench.py` times it against that baseline (~2.4x).
_CLAIM_DUE = """
local now, limit, until_, p = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local index = p .. 'due-index'
local found, rest, several, scores = {}, {}, false, {}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', ARGV[1], 'LIMIT', 0, limit)) do
  -- Mostly one feed of a bucket is due: its first two members tell all (the second's score is
  -- the bucket's next earliest); read further only when both are due.
  local key = p .. 'due:' .. b
  local head = redis.call('ZRANGE', key, 0, 1, 'WITHSCORES')
  if head[4] and tonumber(head[4]) <= now then
    head = redis.call('ZRANGE', key, 0, limit, 'WITHSCORES')
    several = true
  end
  rest[b] = head
  for i = 1, #head, 2 do
    local score = tonumber(head[i + 1])
    if score > now then break end
    found[#found + 1] = {score, b, head[i]}
  end
  -- Never the case while every write keeps the index exact; if it were, the index heals here.
  if not head[1] then
    redis.call('ZREM', index, b)
  elseif tonumber(head[2]) > now then
    scores[#scores + 1] = head[2]
    scores[#scores + 1] = b
  end
end
-- With one due feed a bucket, the index's order (by each bucket's earliest score) is already theirs.
if several then
  table.sort(found, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end)
end
local order, taken = {}, {}
for i = 1, math.min(limit, #found) do
  local b = found[i][2]
  if not taken[b] then taken[b] = 0; order[#order + 1] = b end
  taken[b] = taken[b] + 1
end
local values = {}
for _, b in ipairs(order) do
  -- The claimed feeds of a bucket are its first `taken[b]` members (the sort agrees with ZRANGE).
  local head, n = rest[b], taken[b]
  local rescore, fields = {}, {}
  for j = 1, n do
    local m = head[2 * j - 1]
    rescore[2 * j - 1] = until_
    rescore[2 * j] = m
    fields[2 * j - 1] = b .. m
    fields[2 * j] = '+' .. m
  end
  redis.call('ZADD', p .. 'due:' .. b, 'XX', unpack(rescore))
  local v = redis.call('HMGET', p .. 'feed:' .. b, unpack(fields))
  for j = 1, n do values[b .. head[2 * j - 1]] = {v[2 * j - 1] or '', v[2 * j] or ''} end
  local first = until_
  if head[2 * n + 2] and tonumber(head[2 * n + 2]) < tonumber(until_) then first = head[2 * n + 2] end
  scores[#scores + 1] = first
  scores[#scores + 1] = b
end
for i = 1, #scores, 1000 do
  redis.call('ZADD', index, unpack(scores, i, math.min(i + 999, #scores)))
end
local out = {}
for i = 1, math.min(limit, #found) do
  local v = values[found[i][2] .. found[i][3]]
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
return out
"""

# ARGV prefix, then (id, spec value, poll value or '', score or '', '1' when disabled else '') per feed.
_PUT_FEEDS = (
    _FIX
    + """
local p = ARGV[1]
local touched = {}
for i = 2, #ARGV, 5 do
  local id, score = ARGV[i], ARGV[i + 3]
  if ARGV[i + 4] == '1' then
    redis.call('SADD', p .. 'disabled', id)
  else
    redis.call('SREM', p .. 'disabled', id)
  end
  local b, m = string.sub(id, 1, 4), string.sub(id, 5)
  local bucket = p .. 'feed:' .. b
  redis.call('HSET', bucket, id, ARGV[i + 1])
  if ARGV[i + 2] == '' then
    redis.call('HDEL', bucket, '+' .. m)
  else
    redis.call('HSET', bucket, '+' .. m, ARGV[i + 2])
  end
  if score ~= '' then
    redis.call('ZADD', p .. 'due:' .. b, score, m)
    touched[b] = true
  end
end
for b in pairs(touched) do fix(p .. 'due:' .. b, p .. 'due-index', b) end
return 1
"""
)

# KEYS bucket hash, due zset, index; ARGV id, spec value to keep if none is stored, score or '' (unschedule).
_SCHEDULE = (
    _FIX
    + """
local b, m = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], m)
else
  redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], m)
end
fix(KEYS[2], KEYS[3], b)
return 1
"""
)

# KEYS bucket hash, due zset, index, entries; ARGV id.  Returns 1 when the feed was stored.
_DELETE_FEED = (
    _FIX
    + """
local b, m = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], '+' .. m)
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[2], m)
fix(KEYS[2], KEYS[3], b)
redis.call('DEL', KEYS[4])
return existed
"""
)

# KEYS old bucket, new bucket, old due, new due, index, old entries, new entries, disabled set;
# ARGV old id, new id, new spec value, new poll value or '', '1' when the new state is disabled.
_MOVE_FEED = (
    _FIX
    + """
local ob, om = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
local nb, nm = string.sub(ARGV[2], 1, 4), string.sub(ARGV[2], 5)
local score = redis.call('ZSCORE', KEYS[3], om)
redis.call('HDEL', KEYS[1], ARGV[1], '+' .. om)
redis.call('ZREM', KEYS[3], om)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], '+' .. nm)
else
  redis.call('HSET', KEYS[2], '+' .. nm, ARGV[4])
end
if score then redis.call('ZADD', KEYS[4], score, nm) end
redis.call('SREM', KEYS[8], ARGV[1])
if ARGV[5] == '1' then redis.call('SADD', KEYS[8], ARGV[2]) end
fix(KEYS[3], KEYS[5], ob)
fix(KEYS[4], KEYS[5], nb)
if redis.call('EXISTS', KEYS[6]) == 1 then
  redis.call('SUNIONSTORE', KEYS[7], KEYS[7], KEYS[6])
  redis.call('DEL', KEYS[6])
end
return 1
"""
)

# KEYS[1] the old single due zset (ids); ARGV prefix, batch size.  Returns how many are left.
# A feed already in the new layout keeps its score there (NX): it was written later.
_MIGRATE_DUE = (
    _FIX
    + """
local p = ARGV[1]
local touched = {}
local old = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 1, #old, 2 do
  local id = old[i]
  local b, m = string.sub(id, 1, 4), string.sub(id, 5)
  local score = tonumber(old[i + 1])
  if score then score = math.ceil(score) else score = old[i + 1] end
  redis.call('ZADD', p .. 'due:' .. b, 'NX', score, m)
  redis.call('ZREM', KEYS[1], id)
  touched[b] = true
end
for b in pairs(touched) do fix(p .. 'due:' .. b, p .. 'due-index', b) end
return redis.call('ZCARD', KEYS[1])
"""
)

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


def _score(at: float) -> int:
    """Return a due-set score: whole seconds, rounded up so a feed is never polled before it asked."""
    return math.ceil(at)


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
        # Layout and script in worker.process.neardup: ~250 bytes per remembered article.
        self._near_claim = self.r.register_script(neardup.CHECK_AND_INSERT_LUA)
        self.nd_shard_bits = neardup.shard_bits(nd_articles_per_generation)
        self.nd_threshold = nd_threshold
        self._add_entries = self.r.register_script(_ADD_ENTRIES)
        self._learn_chrome = self.r.register_script(_LEARN_CHROME)
        self._claim_due = self.r.register_script(_CLAIM_DUE)
        self._put_feeds = self.r.register_script(_PUT_FEEDS)
        self._schedule = self.r.register_script(_SCHEDULE)
        self._delete_feed = self.r.register_script(_DELETE_FEED)
        self._move_feed = self.r.register_script(_MOVE_FEED)
        self._migrate_due = self.r.register_script(_MIGRATE_DUE)
        self._due_migrated = False
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

    def _due(self, fid: str) -> str:
        return f"{self.p}due:{fid[:4]}"

    def _ensure_due_layout(self) -> None:
        """Move an old single `due` zset into the sharded one, once per store (idempotent, batch by batch)."""
        if self._due_migrated:
            return
        old = f"{self.p}due"
        while int(self._do(lambda: self._migrate_due(keys=[old], args=[self.p, 1000]))) > 0:
            pass
        self._due_migrated = True

    def get_feed(self, url: str) -> dict[str, Any] | None:
        # One plain HMGET: a pipeline's own bookkeeping costs more than the command (every poll asks).
        fid = feed_id(url)
        spec, poll = self._do(lambda: self.r.hmget(self._bucket(fid), [fid, f"+{fid[4:]}"]))
        return None if spec is None else unpack_feed(spec, poll)[1]

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.r.pipeline(transaction=False)
        for url in urls:
            fid = feed_id(url)
            pipe.hmget(self._bucket(fid), [fid, f"+{fid[4:]}"])
        raws = self._do(pipe.execute)
        return {
            url: unpack_feed(spec, poll)[1]
            for url, (spec, poll) in zip(urls, raws, strict=True)
            if spec is not None
        }

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        self.put_feeds([(url, state, next_at)])

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        if any(next_at is not None for _, _, next_at in items):
            self._ensure_due_layout()
        # One script per batch keeps each bucket's index score exact without a round trip per feed.
        for start in range(0, len(items), 1000):
            args: list[str] = [self.p]
            for url, state, next_at in items[start : start + 1000]:
                spec, poll = pack_feed(url, state)
                score = "" if next_at is None else str(_score(next_at))
                args += [feed_id(url), spec, poll or "", score, "1" if state.get("disabled") else ""]
            self._do(partial(self._put_feeds, keys=[], args=args))

    def delete_feed(self, url: str) -> bool:
        self._ensure_due_layout()
        fid = feed_id(url)
        keys = [
            self._bucket(fid),
            self._due(fid),
            f"{self.p}due-index",
            f"{self.p}entries:{url}",
            f"{self.p}disabled",
        ]
        return bool(self._do(lambda: self._delete_feed(keys=keys, args=[fid])))

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        self._ensure_due_layout()
        old_id, new_id = feed_id(old), feed_id(new)
        keys = [
            self._bucket(old_id),
            self._bucket(new_id),
            self._due(old_id),
            self._due(new_id),
            f"{self.p}due-index",
            f"{self.p}entries:{old}",
            f"{self.p}entries:{new}",
            f"{self.p}disabled",
        ]
        spec, poll = pack_feed(new, state)
        flag = "1" if state.get("disabled") else ""
        self._do(lambda: self._move_feed(keys=keys, args=[old_id, new_id, spec, poll or "", flag]))

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
                if not str(fid).startswith("+"):
                    out[str(fid)] = unpack_feed(raw, None)[0]
        return out

    def feed_urls(self) -> list[str]:
        return sorted(self._all_feeds().values())

    def disabled_count(self) -> int:
        # Every feed write keeps the `disabled` set; data written before it had one is counted once.
        if not self._do(lambda: self.r.exists(f"{self.p}disabled-counted")):
            feeds = self._all_feeds()
            states = self.get_feeds(list(feeds.values()))
            ids = [fid for fid, url in feeds.items() if (states.get(url) or {}).get("disabled")]
            pipe = self.r.pipeline(transaction=True)
            pipe.delete(f"{self.p}disabled")
            if ids:
                pipe.sadd(f"{self.p}disabled", *ids)
            pipe.set(f"{self.p}disabled-counted", 1)
            self._do(pipe.execute)
        return int(self._do(lambda: self.r.scard(f"{self.p}disabled")))

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

    def _schedule_at(self, url: str, score: str) -> None:
        self._ensure_due_layout()
        fid = feed_id(url)
        keys = [self._bucket(fid), self._due(fid), f"{self.p}due-index"]
        # A source scheduled without state still needs its URL stored, or its id could not be read back.
        self._do(lambda: self._schedule(keys=keys, args=[fid, pack_state(url, {}), score]))

    def schedule(self, url: str, next_at: float) -> None:
        self._schedule_at(url, str(_score(next_at)))

    def unschedule(self, url: str) -> None:
        self._schedule_at(url, "")

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        return [url for url, _ in self.claim_due_feeds(now, limit, lease_s)]

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        self._ensure_due_layout()
        args = [repr(float(now)), limit, _score(now + lease_s), self.p]
        raws = [str(r) for r in self._do(lambda: self._claim_due(keys=[], args=args))]
        pairs = zip(raws[::2], raws[1::2], strict=True)
        return [unpack_feed(spec, poll or None) for spec, poll in pairs if spec]

    def scheduled(self) -> dict[str, float]:
        self._ensure_due_layout()
        keys = self._do(lambda: list(self.r.scan_iter(match=f"{self.p}due:????", count=1000)))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, 0, -1, withscores=True)
        urls = self._all_feeds()
        out: dict[str, float] = {}
        for key, pairs in zip(keys, self._do(pipe.execute), strict=True):
            bucket = str(key)[-4:]
            for member, score in pairs:
                url = urls.get(bucket + str(member))
                if url is not None:
                    out[url] = float(score)
        return out

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

    # -- the ledger of sent tasks: per queue a zset of ids by last sign of life and a hash of
    # suspects (id -> first seen lost); one hash of id -> message for all queues.
    def ledger_put(self, queue: str, task_id: str, at: float, message: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(f"{self.p}ledger-msg", task_id, message)
        pipe.zadd(f"{self.p}ledger:{queue}", {task_id: at})
        pipe.hdel(f"{self.p}ledger-suspect:{queue}", task_id)
        self._do(pipe.execute)

    def ledger_touch(self, queue: str, task_id: str, at: float) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(f"{self.p}ledger:{queue}", {task_id: at}, xx=True)
        pipe.hdel(f"{self.p}ledger-suspect:{queue}", task_id)
        self._do(pipe.execute)

    def ledger_done(self, queue: str, task_id: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.zrem(f"{self.p}ledger:{queue}", task_id)
        pipe.hdel(f"{self.p}ledger-msg", task_id)
        pipe.hdel(f"{self.p}ledger-suspect:{queue}", task_id)
        self._do(pipe.execute)

    def ledger_stale(self, queue: str, before: float, limit: int) -> list[tuple[str, float]]:
        key = f"{self.p}ledger:{queue}"
        upto = f"({before!r}"  # exclusive
        rows = self._do(lambda: self.r.zrangebyscore(key, "-inf", upto, start=0, num=limit, withscores=True))
        return [(str(task_id), float(at)) for task_id, at in rows]

    def ledger_suspect(self, queue: str, task_ids: list[str], now: float, confirm_s: float) -> list[str]:
        script = self._deferral_script(_LEDGER_SUSPECT)
        key = f"{self.p}ledger-suspect:{queue}"
        confirmed = self._do(lambda: script(keys=[key], args=[repr(now), repr(confirm_s), *task_ids]))
        return [str(x) for x in confirmed]

    def ledger_messages(self, task_ids: list[str]) -> dict[str, str]:
        if not task_ids:
            return {}
        values = self._do(lambda: self.r.hmget(f"{self.p}ledger-msg", task_ids))
        return {task_id: v for task_id, v in zip(task_ids, values, strict=True) if v is not None}

    def ledger_count(self, queue: str) -> int:
        return int(self._do(lambda: self.r.zcard(f"{self.p}ledger:{queue}")))


# KEYS[1] the queue's suspects (id -> first seen); ARGV now, confirm seconds, ids that look lost.
# Returns the ids first seen at least `confirm` ago, and clears them and every suspect not listed.
_LEDGER_SUSPECT = """
local now, confirm = tonumber(ARGV[1]), tonumber(ARGV[2])
local listed = {}
for i = 3, #ARGV do listed[ARGV[i]] = true end
local known = redis.call('HGETALL', KEYS[1])
for i = 1, #known, 2 do
  if not listed[known[i]] then redis.call('HDEL', KEYS[1], known[i]) end
end
local confirmed = {}
for i = 3, #ARGV do
  local first = redis.call('HGET', KEYS[1], ARGV[i])
  if not first then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  elseif now - tonumber(first) >= confirm then
    confirmed[#confirmed + 1] = ARGV[i]
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return confirmed
"""


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
