"""
Host politeness, parked fetches and the ledger of sent tasks in Redis, each under a hash tag.

On a Redis Cluster the keys one script or transaction touches must share a slot:

- a host's slot and gate: `slot:{<host>}`, `bucket:{<host>}` (a tag per host);
- parked fetches: `{parked}:due`, a zset of ids scored by when they are due (or
  by their lease's end once claimed), and `{parked}:items`, id -> {"at": slot time, "p": payload};
- the ledger: per queue `{ledger}:queue:<q>`, a zset of ids by last sign of life,
  and `{ledger}:suspect:<q>`, id -> first seen lost; one `{ledger}:msg`, id -> message.

Keys of the layout before the tags (`slot:<host>`, `bucket:<host>`, `parked`,
`parked:items`, `ledger:<q>`, `ledger-suspect:<q>`, `ledger-msg`) exist only on
a single Redis: a host's are read by its scripts and replaced by the new key
on the next write (they live seconds, an hour at most); parking's and the
ledger's are merged into the new keys once, before their first use (`_move_old_keys`).
"""

from __future__ import annotations

import json
from typing import Any

from worker import dispatch
from worker.state.redis.base import RedisBase


class TaskTables(RedisBase):
    """The `HostRate`, `Parking` and `Ledger` roles (see `worker.state.base`)."""

    _old_keys_moved = False

    # -- host politeness: a tag per host ------------------------------------
    def _host_keys(self, kind: str, bucket: str) -> list[str]:
        """Return a host's key and, on a single Redis, its key of the layout before the tag."""
        keys = [f"{self.p}{kind}:{{{bucket}}}"]
        if not self.cluster:
            keys.append(f"{self.p}{kind}:{bucket}")
        return keys

    def take_token(self, bucket: str, rate_per_s: float, burst: float) -> float:
        keys = self._host_keys("bucket", bucket)
        return float(self._do(lambda: self._script("take_token")(keys=keys, args=[rate_per_s, burst])))

    def reserve_slot(
        self, bucket: str, rate_per_s: float, burst: float, max_wait_s: float | None = None
    ) -> float:
        script = self._script("reserve_slot")
        limit = "" if max_wait_s is None else repr(float(max_wait_s))
        keys = self._host_keys("slot", bucket)
        return float(self._do(lambda: script(keys=keys, args=[rate_per_s, burst, limit])))

    def hold_host(self, bucket: str, rate_per_s: float, burst: float, delay_s: float) -> float:
        script = self._script("hold_host")
        slot, gate = self._host_keys("slot", bucket), self._host_keys("bucket", bucket)
        keys = [slot[0], gate[0], *slot[1:], *gate[1:]]
        return float(self._do(lambda: script(keys=keys, args=[rate_per_s, burst, repr(float(delay_s))])))

    # -- parked fetches and the ledger: one tag each -------------------------
    def _parked(self) -> list[str]:
        self._move_old_keys()
        return [f"{self.p}{{parked}}:due", f"{self.p}{{parked}}:items"]

    def _ledger(self, queue: str) -> tuple[str, str, str]:
        """Return the queue's zset, its suspects and the messages hash."""
        self._move_old_keys()
        tag = f"{self.p}{{ledger}}:"
        return f"{tag}queue:{queue}", f"{tag}suspect:{queue}", f"{tag}msg"

    def _move_old_keys(self) -> None:
        """Merge parking's and the ledger's keys of the untagged layout into theirs (once, single Redis)."""
        if self._old_keys_moved:
            return
        if not self.cluster:
            tag = f"{self.p}{{ledger}}:"
            pairs = [
                (f"{self.p}parked", f"{self.p}{{parked}}:due"),
                (f"{self.p}parked:items", f"{self.p}{{parked}}:items"),
                (f"{self.p}ledger-msg", f"{tag}msg"),
            ]
            for q in dispatch.QUEUES:
                pairs += [
                    (f"{self.p}ledger:{q}", f"{tag}queue:{q}"),
                    (f"{self.p}ledger-suspect:{q}", f"{tag}suspect:{q}"),
                ]
            keys = [k for pair in pairs for k in pair]
            self._do(lambda: self._script("move_keys")(keys=keys, args=[]))
        self._old_keys_moved = True

    def park(self, item_id: str, payload: dict[str, Any], at: float) -> None:
        due, items = self._parked()
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(items, item_id, json.dumps({"at": at, "p": payload}))
        pipe.zadd(due, {item_id: at})
        self._do(pipe.execute)

    def claim_parked(
        self, now: float, limit: int, lease_s: float, *, ahead_s: float = 0.0
    ) -> list[tuple[str, dict[str, Any], float]]:
        script, keys = self._script("claim_parked"), self._parked()
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
        script, keys = self._script("unpark"), self._parked()
        args = [x for item_id, at in items for x in (item_id, repr(at))]
        self._do(lambda: script(keys=keys, args=args))

    def parked_count(self) -> int:
        due = self._parked()[0]
        return int(self._do(lambda: self.r.zcard(due)))

    def ledger_put(self, queue: str, task_id: str, at: float, message: str) -> None:
        zset, suspects, msgs = self._ledger(queue)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(msgs, task_id, message)
        pipe.zadd(zset, {task_id: at})
        pipe.hdel(suspects, task_id)
        self._do(pipe.execute)

    def ledger_touch(self, queue: str, task_id: str, at: float) -> None:
        zset, suspects, _ = self._ledger(queue)
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(zset, {task_id: at}, xx=True)
        pipe.hdel(suspects, task_id)
        self._do(pipe.execute)

    def ledger_done(self, queue: str, task_id: str) -> None:
        zset, suspects, msgs = self._ledger(queue)
        pipe = self.r.pipeline(transaction=True)
        pipe.zrem(zset, task_id)
        pipe.hdel(msgs, task_id)
        pipe.hdel(suspects, task_id)
        self._do(pipe.execute)

    def ledger_stale(self, queue: str, before: float, limit: int) -> list[tuple[str, float]]:
        key = self._ledger(queue)[0]
        upto = f"({before!r}"  # exclusive
        rows = self._do(lambda: self.r.zrangebyscore(key, "-inf", upto, start=0, num=limit, withscores=True))
        return [(str(task_id), float(at)) for task_id, at in rows]

    def ledger_suspect(self, queue: str, task_ids: list[str], now: float, confirm_s: float) -> list[str]:
        script, key = self._script("ledger_suspect"), self._ledger(queue)[1]
        confirmed = self._do(lambda: script(keys=[key], args=[repr(now), repr(confirm_s), *task_ids]))
        return [str(x) for x in confirmed]

    def ledger_messages(self, task_ids: list[str]) -> dict[str, str]:
        if not task_ids:
            return {}
        msgs = self._ledger("")[2]
        values = self._do(lambda: self.r.hmget(msgs, task_ids))
        return {task_id: v for task_id, v in zip(task_ids, values, strict=True) if v is not None}

    def ledger_count(self, queue: str) -> int:
        key = self._ledger(queue)[0]
        return int(self._do(lambda: self.r.zcard(key)))
