"""The Redis store's `Heartbeats` and `SourceOverview` roles (see `worker.state.overview`)."""

from __future__ import annotations

import math

from worker.state.redis.base import RedisBase


class OverviewTables(RedisBase):
    """Heartbeats in one zset a group (`heartbeats:<group>`, member scored by its last beat)."""

    def _heartbeat_key(self, group: str) -> str:
        return f"{self.p}heartbeats:{group}"

    def heartbeat(self, group: str, member: str, at: float, ttl_s: int) -> None:
        key = self._heartbeat_key(group)
        # MULTI/EXEC: the member's score is set on its own, the silent ones dropped and the key's life
        # renewed in one step, so no other writer's beat is ever overwritten.
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(key, {member: at}, gt=True)  # GT adds a new member too; an older beat never wins
        pipe.zremrangebyscore(key, "-inf", f"({at - ttl_s!r}")
        pipe.expire(key, max(1, math.ceil(ttl_s)))
        self._do(pipe.execute)

    def heartbeat_leave(self, group: str, member: str) -> None:
        self._do(lambda: self.r.zrem(self._heartbeat_key(group), member))

    def heartbeats(self, group: str, since: float) -> dict[str, float]:
        pairs = self._do(
            lambda: self.r.zrangebyscore(self._heartbeat_key(group), repr(since), "+inf", withscores=True)
        )
        return {str(m): float(t) for m, t in pairs}
