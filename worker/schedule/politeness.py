"""
Share one request rate per host across every worker: reserved slots, a gate, and how a fetch waits.

A fetch reserves its host's next slot once (`reserve`: GCRA in the state store)
and, when the slot is not now, is deferred carrying it (`"slot"` in the payload):
as a broker countdown up to `countdown_cap_s`, else parked in the state store
for the dispatch tick to release (`defer_mode`).  The gate (`gate`: a token
bucket) is taken as the request goes, so late fetches never bunch.  A host
that asks us to wait (429, 503) is held (`hold`): its next slot moves past the
wait and its gate shuts until then.  Backfill pages go only when the host is
free now (`take_now`).  README "Politeness" says why it is built this way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from worker import config
from worker.config import Settings
from worker.hosts import http_host
from worker.state import StateStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    """How polite to be; built from the settings by `policy_of`."""

    rate_per_s: float = 1.0  # INGEST_HOST_RATE: article requests per second per host
    burst: float = 3.0  # INGEST_HOST_BURST: requests a rested host may get at once
    robots_ttl_s: int = 86400  # INGEST_ROBOTS_TTL_S: RFC 9309 §2.4 suggests at most a day
    max_defer_s: float = 10.0  # INGEST_MAX_DEFER_S: longest countdown; longer waits are parked
    tick_s: float = 5.0  # INGEST_TICK_S: how often parked fetches are released


def policy_of(settings: Settings) -> Policy:
    """Return the politeness part of the settings."""
    return Policy(
        settings.host_rate_per_s,
        settings.host_burst,
        settings.robots_ttl_s,
        settings.max_defer_s,
        settings.tick_s,
    )


def load_policy(env: Mapping[str, str] | None = None) -> Policy:
    """Build the policy from `INGEST_HOST_RATE`, `_HOST_BURST`, `_ROBOTS_TTL_S` and `_MAX_DEFER_S`."""
    return policy_of(config.load(None if env is None else dict(env)))


# Set by each dispatch tick (`mark_tick`): without a beat nothing releases parked fetches.
TICK_ALIVE_KEY = "dispatch_tick_alive"

# Fetches going at their slots arrive with a few milliseconds of timer jitter: the gate lets two
# requests come this much closer than the rate (never more), so jitter alone never stops one.
GATE_SLACK_S = 0.05

# A reserved slot further in the past is not honoured (see the module docstring): far above how
# late a busy pool runs a released fetch, far below a dead letter's retry.
STALE_SLOT_S = 300.0


def host_bucket(url: str) -> str | None:
    """Return the name of the rate shared by `url`'s host, or None when it has no host (file: URLs)."""
    host = http_host(url)
    return f"host:{host}" if host else None


def reserve(url: str, *, store: StateStore, policy: Policy, max_wait_s: float | None = None) -> float:
    """
    Reserve a request slot of `url`'s host; return the seconds until it (0.0: go now).

    With `max_wait_s`, a slot further away is not reserved (the caller does not go).
    """
    bucket = host_bucket(url)
    if bucket is None:
        return 0.0
    return store.reserve_slot(bucket, policy.rate_per_s, policy.burst, max_wait_s)


def gate(url: str, *, store: StateStore, policy: Policy) -> float:
    """Take a token of `url`'s host as the request goes; return 0.0 when taken, else the seconds to wait."""
    bucket = host_bucket(url)
    if bucket is None:
        return 0.0
    return store.take_token(bucket, policy.rate_per_s, policy.burst + policy.rate_per_s * GATE_SLACK_S)


def hold(url: str, delay_s: float, *, store: StateStore, policy: Policy) -> float:
    """
    Hold `url`'s host, which asked us to wait `delay_s`; return the seconds until our slot.

    It answered 429 or 503, or its robots.txt is unreachable.  The slot
    reserved is the first at least `delay_s` away; the host's later slots come
    after it, and its gate gives no token before it, so fetches holding
    earlier slots stop there and reserve again (`HostRate.hold_host`).
    """
    bucket = host_bucket(url)
    if bucket is None:
        return max(0.0, delay_s)
    return store.hold_host(bucket, policy.rate_per_s, policy.burst, delay_s)


def take_now(url: str, *, store: StateStore, policy: Policy) -> bool:
    """Return True when `url`'s host has a slot free now and it was taken (schedule and gate)."""
    if reserve(url, store=store, policy=policy, max_wait_s=0.0) > 0:
        return False
    return gate(url, store=store, policy=policy) == 0.0


def reserved_slot(payload: Mapping[str, Any], now: float) -> float | None:
    """Return the slot a deferred fetch reserved before, or None when it has none or it is stale."""
    slot = payload.get("slot")
    if not isinstance(slot, int | float) or now - slot > STALE_SLOT_S:
        return None
    return float(slot)


def mark_tick(store: StateStore, tick_s: float) -> None:
    """Say that a dispatch tick runs (it releases parked fetches), for three ticks."""
    store.cache_set(TICK_ALIVE_KEY, "1", max(1, math.ceil(3 * tick_s)))


def tick_alive(store: StateStore) -> bool:
    """Return whether a dispatch tick ran lately: parking a fetch is only safe then."""
    return store.cache_get(TICK_ALIVE_KEY) is not None


def countdown_cap_s(policy: Policy) -> float:
    """Return the longest countdown a deferred fetch is given: `max_defer_s`, or a tick if longer."""
    return max(policy.max_defer_s, policy.tick_s)


def defer_mode(wait_s: float, policy: Policy) -> str:
    """
    Return how a fetch whose slot is `wait_s` away waits: "now", "countdown" or "park".

    Waits up to a dispatch tick count down whatever `max_defer_s` says: parked,
    they could only be released at the next tick, after their slot.
    """
    if wait_s <= 0:
        return "now"
    return "countdown" if wait_s <= countdown_cap_s(policy) else "park"
