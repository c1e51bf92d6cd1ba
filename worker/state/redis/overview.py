"""The Redis store's `Heartbeats` and `SourceOverview` roles (see `worker.state.overview`)."""

from __future__ import annotations

import math
from itertools import islice
from typing import Any

from worker.state.codec import unpack_feed
from worker.state.overview import SourcesPage
from worker.state.redis.feeds import FeedTables

# Due buckets read per round trip while filling the overview with sources in good health.
_BUCKETS_A_READ = 64


class OverviewTables(FeedTables):
    """
    Heartbeats in one zset a group (`heartbeats:<group>`, member scored by its last beat); the overview
    from the `disabled` set, the `failing` zset (scored by consecutive errors) and the due buckets.
    """

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

    def sources_page(self, limit: int) -> SourcesPage:
        self._ensure_due_layout()
        self._index_troubles()
        disabled_key, failing_key = f"{self.p}disabled", f"{self.p}failing"
        disabled = [str(i) for i in self._do(lambda: list(islice(self.r.sscan_iter(disabled_key), limit)))]
        failing = [str(i) for i in self._do(lambda: self.r.zrevrange(failing_key, 0, max(0, limit - 1)))]
        picked: dict[str, float | None] = dict.fromkeys(disabled)
        picked.update(self._due_times(failing[: max(0, limit - len(picked))]))
        buckets = [str(b) for b in self._do(lambda: self.r.zrange(f"{self.p}due-index", 0, -1))]
        sizes = self._due_sizes(buckets)
        self._fill_due(buckets, picked, limit, skip=set(failing))
        rows = self._rows(picked)
        n_disabled = int(self._do(lambda: self.r.scard(disabled_key)))
        return SourcesPage(
            rows=tuple(rows),
            total=sum(sizes) + n_disabled,
            disabled=n_disabled,
            failing=int(self._do(lambda: self.r.zcard(failing_key))),
        )

    def _due_sizes(self, buckets: list[str]) -> list[int]:
        """Return the number of scheduled feeds of each due bucket (a bounded 65,536 at most)."""
        pipe = self.r.pipeline(transaction=False)
        for b in buckets:
            pipe.zcard(f"{self.p}due:{b}")
        return [int(n) for n in self._do(pipe.execute)]

    def _due_times(self, ids: list[str]) -> dict[str, float | None]:
        """Return the next check of each feed id (None when it is not scheduled)."""
        pipe = self.r.pipeline(transaction=False)
        for fid in ids:
            pipe.zscore(f"{self.p}due:{fid[:4]}", fid[4:])
        scores = self._do(pipe.execute) if ids else []
        return {fid: None if at is None else float(at) for fid, at in zip(ids, scores, strict=True)}

    def _fill_due(
        self, buckets: list[str], picked: dict[str, float | None], limit: int, skip: set[str]
    ) -> None:
        """Add scheduled feeds not in `skip` until `limit` are picked, the buckets due earliest first."""
        for start in range(0, len(buckets), _BUCKETS_A_READ):
            if len(picked) >= limit:
                return
            chunk = buckets[start : start + _BUCKETS_A_READ]
            pipe = self.r.pipeline(transaction=False)
            for b in chunk:
                pipe.zrange(f"{self.p}due:{b}", 0, -1, withscores=True)
            for b, pairs in zip(chunk, self._do(pipe.execute), strict=True):
                for member, score in pairs:
                    fid = b + str(member)
                    if fid not in skip and fid not in picked and len(picked) < limit:
                        picked[fid] = float(score)

    def _rows(self, picked: dict[str, float | None]) -> list[tuple[str, dict[str, Any], float | None]]:
        """Read the URL and state of each picked feed id (one HMGET each, pipelined)."""
        ids = list(picked)
        pipe = self.r.pipeline(transaction=False)
        for fid in ids:
            pipe.hmget(f"{self.p}feed:{fid[:4]}", [fid, f"+{fid[4:]}"])
        rows = []
        for fid, (spec, poll) in zip(ids, self._do(pipe.execute), strict=True):
            if spec is not None:
                url, state = unpack_feed(spec, poll)
                rows.append((url, state, picked[fid]))
        return rows
