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

When a server asks us to wait (429, 503), the host is *held*: `reserve_after`
reserves the first slot that far off and moves the TAT past it, and
`hold_tokens` empties the gate's token bucket until then, so fetches holding
earlier slots stop at the gate and reserve again behind the hold.
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


def reserve_after(
    tat: float | None, now: float, rate_per_s: float, burst: float, delay_s: float
) -> tuple[float, float]:
    """
    Reserve the first slot at least `delay_s` after `now`, and move the TAT past it.

    Every later reservation comes after this slot, one interval apart: a host
    that asked us to wait gets its requests paced when the wait ends, not a
    burst.  A queue already longer than the delay keeps its order (the slot
    is the next one after it).

    Returns:
        (wait_s, new_tat), as `reserve`; `wait_s` is at least `delay_s`.
    """
    floor = now + max(0.0, delay_s) + (burst - 1.0) / rate_per_s
    return reserve(floor if tat is None else max(tat, floor), now, rate_per_s, burst)


def hold_tokens(
    bucket: tuple[float, float] | None, now: float, rate_per_s: float, burst: float, delay_s: float
) -> float:
    """
    Return the tokens of a gate bucket (tokens, stamp; None: full) held for `delay_s` from `now`.

    The bucket refills at `rate_per_s`, so with 1 - delay * rate tokens the
    next one is whole `delay_s` from now; a bucket already emptier stays so.
    """
    have = burst if bucket is None else min(burst, bucket[0] + max(0.0, now - bucket[1]) * rate_per_s)
    return min(have, 1.0 - max(0.0, delay_s) * rate_per_s)
