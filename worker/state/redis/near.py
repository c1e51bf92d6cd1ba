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
written to them.  Only while they can exist, though: the old layout's
`nd:seq` (the mark that it was ever written) is given the expiry of the last
generation it could have written, and once it is gone a process stops reading
the old bands, which doubled the HGETs of every check.
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
    # Until when (unix time) keys of the untagged layout may exist; read once per process.
    _untagged_until: float | None = None

    def _untagged_deadline(self, retention_s: int) -> float:
        """
        Return until when the untagged layout's bands may live: 0 when it was never written here.

        Its `nd:seq` has no TTL until the first check after the upgrade gives
        it the latest expiry a band of the old layout could have (one
        generation plus the retention from now), so every process reads the
        same deadline from its TTL.
        """
        key = f"{self.p}nd:seq"
        ttl = int(self._do(lambda: self.r.ttl(key)))
        if ttl == -2:
            return 0.0
        now = time.time()
        if ttl == -1:
            bound = int(now) + nearindex.generation_s(retention_s) + retention_s
            self._do(lambda: self.r.expireat(key, bound))
            return float(bound)
        return now + ttl

    def _nd_prefixes(self, retention_s: int) -> list[str]:
        """Return the key prefix of each source: this layout, then the one before it while it may live."""
        current = f"{self.p}{{nd}}:"
        if self.cluster:
            return [current]
        if self._untagged_until is None:
            self._untagged_until = self._untagged_deadline(retention_s)
        return [current, f"{self.p}nd:"] if time.time() < self._untagged_until else [current]

    @staticmethod
    def _band_keys(plan: NearPlan, prefixes: list[str]) -> list[str]:
        return [
            f"{prefix}b:{gen}:{shard}" for prefix in prefixes for gen in plan.gens for shard, _ in plan.slots
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
        prefixes = self._nd_prefixes(ttl_s)
        bands = self._band_keys(plan, prefixes)
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
