"""When to poll a feed next: pure arithmetic over what the last poll learned."""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Sequence


def adaptive_interval(entry_times: Sequence[float], default_s: float, min_s: float, max_s: float) -> float:
    """
    Return a poll interval from the feed's recent publishing rhythm.

    Half the median gap between recent entries (so a new entry waits half a
    gap on average), clamped to the configured bounds; the default when there
    are too few dated entries to tell.
    """
    times = sorted(t for t in entry_times if t > 0)
    if len(times) < 3:
        return min(max(default_s, min_s), max_s)
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if not gaps:
        return min(max(default_s, min_s), max_s)
    return min(max(statistics.median(gaps) / 2, min_s), max_s)


def next_check(
    now: float,
    interval_s: float,
    *,
    errors: int = 0,
    not_before: Sequence[float | None] = (),
    max_s: float = 86400.0,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """
    Return the epoch time of the next poll.

    Consecutive errors double the interval each time (capped at `max_s`);
    `not_before` holds the earliest times the server allowed (Cache-Control
    max-age, Expires, RSS ttl, Retry-After): the result is never earlier.
    Jitter spreads feeds added together so they do not stay in lockstep.
    """
    base = interval_s * (2 ** min(errors, 16)) if errors else interval_s
    base = min(base, max_s)
    r = rng or random
    at = now + base * (1 + r.uniform(0, jitter))
    floor = max((t for t in not_before if t is not None), default=0.0)
    return max(at, floor)
