"""When to poll a feed next: pure arithmetic over what the last poll learned."""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Sequence

from worker.hosts import http_host


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
    max-age, Expires, RSS ttl, Retry-After): the result is never earlier,
    unless that is beyond `max_s` from now, the cap of any hint.
    Jitter spreads feeds added together so they do not stay in lockstep.
    """
    base = interval_s * (2 ** min(errors, 16)) if errors else interval_s
    base = min(base, max_s)
    r = rng or random
    at = now + base * (1 + r.uniform(0, jitter))
    # A server's hint may delay a poll, never beyond the longest interval (`max-age=31536000`
    # would otherwise silence a feed for a year).
    floor = min(max((t for t in not_before if t is not None), default=0.0), now + max_s)
    return max(at, floor)


def host_of(location: str) -> str | None:
    """Return the host a source is fetched from, or None for local archives and files."""
    return http_host(location)


def cap_per_host(locations: Sequence[str], cap: int) -> tuple[list[str], list[str]]:
    """
    Split due sources into those polled this tick and those left for the next one.

    At most `cap` sources of one host go per tick, so a host with thousands
    of feeds is not hit with thousands of requests at once; local sources
    have no host and are never held back.  Order is kept within each part.
    """
    taken: dict[str, int] = {}
    now: list[str] = []
    later: list[str] = []
    for location in locations:
        host = host_of(location)
        if host is None:
            now.append(location)
            continue
        n = taken.get(host, 0)
        if n < cap:
            taken[host] = n + 1
            now.append(location)
        else:
            later.append(location)
    return now, later
