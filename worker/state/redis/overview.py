"""The Redis store's `Heartbeats` and `SourceOverview` roles (see `worker.state.overview`)."""

from __future__ import annotations

import math
from functools import partial
from itertools import islice
from typing import Any

from worker.state.codec import unpack_feed
from worker.state.overview import SourcesPage
from worker.state.redis import layout
from worker.state.redis.feeds import FeedTables

# Due buckets read per round trip while filling the overview with sources in good health.
_BUCKETS_A_READ = 64


class OverviewTables(FeedTables):
    """
    Heartbeats in one zset a group (`heartbeats:<group>`, member scored by its last beat); the overview
    from each shard's `disabled` set and `failing` zset (scored by consecutive errors) and the due buckets.
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
        self._index_troubles()
        shards = range(layout.SHARDS)
        disabled: list[str] = []
        for k in shards:
            want = limit - len(disabled)
            if want <= 0:
                break
            disabled += self._do(partial(self._some_members, layout.disabled_key(self.p, k), want))
        # The worst `limit` of each shard, merged: the worst `limit` of all.
        pipe = self.r.pipeline(transaction=False)
        for k in shards:
            pipe.zrevrange(layout.failing_key(self.p, k), 0, max(0, limit - 1), withscores=True)
        worst = sorted(((-float(n), str(m)) for part in self._do(pipe.execute) for m, n in part))
        failing = [fid for _, fid in worst[:limit]]
        picked: dict[str, float | None] = dict.fromkeys(disabled)
        picked.update(self._due_times(failing[: max(0, limit - len(picked))]))
        pipe = self.r.pipeline(transaction=False)
        for k in shards:
            pipe.zrange(layout.index_key(self.p, k), 0, -1, withscores=True)
        ordered = sorted((float(at), str(b)) for part in self._do(pipe.execute) for b, at in part)
        buckets = [b for _, b in ordered]
        sizes = self._due_sizes(buckets)
        self._fill_due(buckets, picked, limit, skip=set(failing))
        rows = self._rows(picked)
        pipe = self.r.pipeline(transaction=False)
        for k in shards:
            pipe.scard(layout.disabled_key(self.p, k))
            pipe.zcard(layout.failing_key(self.p, k))
        counts = [int(n) for n in self._do(pipe.execute)]
        n_disabled = sum(counts[0::2])
        return SourcesPage(
            rows=tuple(rows),
            total=sum(sizes) + n_disabled,
            disabled=n_disabled,
            failing=sum(counts[1::2]),
        )

    def _some_members(self, key: str, limit: int) -> list[str]:
        """Return up to `limit` members of a set, by SSCAN (never the whole set at once)."""
        return [str(i) for i in islice(self.r.sscan_iter(key), limit)]

    def _due_sizes(self, buckets: list[str]) -> list[int]:
        """Return the number of scheduled feeds of each due bucket (a bounded 65,536 at most)."""
        pipe = self.r.pipeline(transaction=False)
        for b in buckets:
            pipe.zcard(layout.due_key(self.p, b))
        return [int(n) for n in self._do(pipe.execute)]

    def _due_times(self, ids: list[str]) -> dict[str, float | None]:
        """Return the next check of each feed id (None when it is not scheduled)."""
        pipe = self.r.pipeline(transaction=False)
        for fid in ids:
            pipe.zscore(layout.due_key(self.p, fid[:4]), fid[4:])
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
                pipe.zrange(layout.due_key(self.p, b), 0, -1, withscores=True)
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
            pipe.hmget(layout.feed_key(self.p, fid[:4]), [fid, f"+{fid[4:]}"])
        rows = []
        for fid, (spec, poll) in zip(ids, self._do(pipe.execute), strict=True):
            if spec is not None:
                url, state = unpack_feed(spec, poll)
                rows.append((url, state, picked[fid]))
        return rows
