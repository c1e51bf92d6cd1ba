"""
The near-duplicate index in Redis: check-and-insert in two scripts that name every key they touch.

The layout is in `worker.state.nearindex`; every key carries the hash tag
`{nd}`, one slot of a cluster.  A band's value is an article number n whose
sketch lives in `{nd}:s:<n // 100>`: which sketch hashes a check reads is only
known once the bands are read, so `near_candidates.lua` reads them (and takes a
new n), then `near_claim.lua` gets those sketch hashes in its KEYS and does the
check and the insert atomically; if a racing insert added a candidate in
between, it answers "again" and the pair runs once more.

On a single Redis the keys of the layout before the tag (`nd:b:…`, `nd:s:…`)
are read as well, as a second source, so articles remembered before the
upgrade still count; they expire with their generation, and nothing new is
written to them.
"""

from __future__ import annotations

import time
from functools import partial

from worker.state import nearindex
from worker.state.nearindex import NearKey, NearPlan
from worker.state.redis.base import RedisBase

# Rounds of the two scripts before giving up on a race (each lost round means another article
# was inserted into one of our bands meanwhile; three in a row is far beyond real rates).
_ROUNDS = 5


class NearIndex(RedisBase):
    """The near-duplicate half of the `Dedupe` role."""

    nd_shard_bits = 16
    nd_threshold = nearindex.DEFAULT_THRESHOLD

    def _nd_prefixes(self) -> list[str]:
        """Return the key prefix of each source: this layout, then (single Redis) the one before it."""
        current = f"{self.p}{{nd}}:"
        return [current] if self.cluster else [current, f"{self.p}nd:"]

    def _band_keys(self, plan: NearPlan) -> list[str]:
        return [
            f"{prefix}b:{gen}:{shard}"
            for prefix in self._nd_prefixes()
            for gen in plan.gens
            for shard, _ in plan.slots
        ]

    def near_claim(self, article_id: str, key: NearKey, ttl_s: int) -> str | None:
        plan = nearindex.plan(
            key,
            article_id,
            now_s=time.time(),
            retention_s=ttl_s,
            shard_bits=self.nd_shard_bits,
            threshold=self.nd_threshold,
        )
        if plan is None:
            return None
        prefixes = self._nd_prefixes()
        bands = self._band_keys(plan)
        fields = [field for _, field in plan.slots]
        head = [len(plan.slots), len(plan.gens)]
        ask = partial(
            self._script("near_candidates"), keys=[f"{prefixes[0]}seq", *bands], args=[*head, *fields]
        )
        for _ in range(_ROUNDS):
            found = self._do(ask)
            n = int(found[0])
            pairs = zip(found[1::2], found[2::2], strict=True)
            where = sorted({(0, n // 100)} | {(int(src), int(c) // 100) for src, c in pairs})
            sketch_keys = [f"{prefixes[src]}s:{bucket}" for src, bucket in where]
            args = [
                *head,
                len(prefixes),
                plan.expire_at,
                plan.need,
                plan.sketch,
                plan.record_id,
                n,
                len(where),
                *(x for pair in where for x in pair),
                *fields,
            ]
            result = self._do(partial(self._script("near_claim"), keys=[*bands, *sketch_keys], args=args))
            if int(result[0]) == 2:
                continue
            if int(result[0]) == 1 and str(result[1]) != article_id:
                return str(result[1])
            return None
        raise RuntimeError("near_claim: lost the race for the bands five times in a row")
