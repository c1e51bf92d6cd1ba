"""
Reserve request slots of a shared per-host rate (GCRA): pure arithmetic, mirrored by `lua/reserve_slot.lua`.

The generic cell rate algorithm keeps one number per host, its theoretical
arrival time (TAT): the time at which the host would be rested again if every
reserved request went at its slot.  A reservation never fails: it returns the
time at which the request may go and moves the TAT on by one interval
(1 / rate), so a backlog of ten thousand articles gets ten thousand distinct
slots in one call each, instead of retrying a token bucket until it has a token.
`burst` requests may go at once after a rest: a slot is at most
(burst - 1) intervals before the TAT.

Across any window from t1 to t2 the slots handed out number at most
burst + rate * (t2 - t1) (tests/unit/test_slots.py checks it).
"""

from __future__ import annotations


def reserve(tat: float | None, now: float, rate_per_s: float, burst: float) -> tuple[float, float]:
    """
    Reserve the next slot of a host whose stored TAT is `tat` (None: never used or expired).

    Args:
        tat: the stored theoretical arrival time (epoch seconds).
        now: the current time (epoch seconds, the store's clock).
        rate_per_s: requests per second.
        burst: requests a rested host may take at once (at least 1).

    Returns:
        (wait_s, new_tat): seconds from `now` to the reserved slot, and the TAT to store.
    """
    interval = 1.0 / rate_per_s
    start = now if tat is None else max(tat, now)
    wait = max(0.0, start - (burst - 1.0) * interval - now)
    return wait, start + interval


def keep_s(new_tat: float, now: float) -> float:
    """Return how long the TAT matters: once it has passed the host is rested and the key can go."""
    return max(0.0, new_tat - now) + 1.0
