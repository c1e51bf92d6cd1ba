"""
The Redis state store: every check-and-set is one Lua script (`worker/state/lua/`), so it is atomic.

Feeds and the due-set are in `feeds.py` (their compact layout is described
there); dedupe, politeness, parking, dead letters, counters and the ledger here.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import redis

from worker.state import nearindex
from worker.state.base import DeadLetter
from worker.state.nearindex import NearKey
from worker.state.redis.base import connect
from worker.state.redis.feeds import FeedTables

__all__ = ["RedisStore", "connect"]


class RedisStore(FeedTables):
    """State in Redis under one key prefix."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ingest:",
        dead_stream: str = "articles:dead",
        nd_articles_per_generation: int = 200_000,
        nd_threshold: float = nearindex.DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(url, prefix=prefix)
        self.dead_stream = dead_stream
        self.nd_shard_bits = nearindex.shard_bits(nd_articles_per_generation)
        self.nd_threshold = nd_threshold

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
            lambda: self._script("claim_content")(
                keys=[f"{self.p}content:{content_hash}"], args=[article_id, ttl_s]
            )
        )
        return str(owner) if owner else None

    def near_claim(self, article_id: str, key: NearKey, ttl_s: int) -> str | None:
        args = nearindex.check_and_insert_args(
            key,
            article_id,
            prefix=self.p,
            now_s=time.time(),
            retention_s=ttl_s,
            shard_bits=self.nd_shard_bits,
            threshold=self.nd_threshold,
        )
        if not args:
            return None
        found = self._do(lambda: self._script("near_claim")(keys=[], args=args))
        if int(found[0]) == 1 and str(found[1]) != article_id:
            return str(found[1])
        return None

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
            lambda: self._script("learn_chrome")(keys=[f"{self.p}chrome:{source}"], args=[min_count, *fps])
        )
        return frozenset(str(x) for x in learned)

    # -- politeness -------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        raw = self._do(lambda: self.r.get(f"{self.p}cache:{key}"))
        return None if raw is None else str(raw)

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        self._do(lambda: self.r.set(f"{self.p}cache:{key}", value, ex=max(1, int(ttl_s))))

    def take_token(self, bucket: str, rate_per_s: float, burst: float) -> float:
        wait = self._do(
            lambda: self._script("take_token")(keys=[f"{self.p}bucket:{bucket}"], args=[rate_per_s, burst])
        )
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
    def reserve_slot(
        self, bucket: str, rate_per_s: float, burst: float, max_wait_s: float | None = None
    ) -> float:
        script = self._script("reserve_slot")
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
        script = self._script("claim_parked")
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
        script = self._script("unpark")
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
        script = self._script("ledger_suspect")
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
