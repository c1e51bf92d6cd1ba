"""
Be polite to article hosts: obey robots.txt and share one request rate per host across all workers.

robots.txt is fetched once per host and cached in the state store (so every
worker process shares it) for `robots_ttl_s`; RFC 9309 §2.3.1.3 says a
robots.txt that is missing (4xx) allows everything, and an unreachable one
(5xx, network) is not guessed at: the error goes to the caller, which
dead-letters the article as a transient failure.

One per-host rate is shared by every worker, in two steps (both atomic in
the state store: Lua scripts in Redis, transactions in SQLite):

* the *schedule* (`reserve`: GCRA slots, `worker.state.slots`) says when a fetch
  may go.  A fetch reserves its host's next slot once; when the slot is not
  now it is deferred *once*, carrying its slot in the payload (`"slot"`,
  epoch seconds), and never reserves again when it comes back.  A backlog of
  ten thousand articles for one host thus costs ten thousand reservations
  and as many deferrals, not a retry every few seconds for each;
* the *gate* (`gate`: the token bucket of `StateStore.take_token`) is taken
  when the request really goes.  A fetch comes back at or after its slot,
  and one that ran late (a busy pool) could land right before the next
  slot's fetch: the gate keeps the requests the host sees within the rate
  (give or take `GATE_SLACK_S` of timer jitter) whatever the lateness.  A
  fetch it stops has lost its slot and reserves a new one, behind those
  handed out already (deferred again, once, rather than retrying soon,
  which would only collide with the next slots).

How a deferred fetch waits: a wait up to `max_defer_s` (INGEST_MAX_DEFER_S),
or a dispatch tick (`tick_s`) if that is longer, is a broker countdown; a
longer one is *parked* in the state store (`StateStore.park`), not in the
broker: a Redis broker hands an ETA task to a worker, which holds it
unacknowledged, and an ETA beyond the visibility timeout is redelivered
again and again.  The dispatch tick (`scheduler.release_parked`) sends the
parked fetches whose slot falls within the next two ticks, each with a
countdown to its slot.  A slot older than `STALE_SLOT_S` (a dead letter
retried hours later, a release that came back after a crash) is not
honoured: the fetch reserves anew.  Without a beat (no dispatch tick seen
for three ticks) nothing would release a parked fetch, so a long wait is
spent in capped countdowns instead ("hop"), each carrying the same slot:
a few more task runs, still no second reservation.  `ingest`, which runs
tasks in-process, sleeps instead (nothing else waits for it).  RFC 5005
backfill pages go only when both the schedule and the gate are free now
(`take_now`): they never jump the queue of scheduled article fetches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from protego import Protego

from worker import config
from worker.config import Settings
from worker.errors import BlockedURL, HTTPStatusError, PermanentError
from worker.fetch.client import Fetcher
from worker.hosts import http_host
from worker.state import StateStore

log = structlog.get_logger(__name__)

ROBOTS_ACCEPT = "text/plain, */*;q=0.1"


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


def robots_url(url: str) -> str | None:
    """Return the robots.txt URL governing `url`, or None when it has no host (file: URLs)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def robots_allows(robots_txt: str, url: str, user_agent: str) -> bool:
    """Return whether `robots_txt` lets `user_agent` fetch `url` (pure; protego does the matching)."""
    if not robots_txt.strip():
        return True
    return bool(Protego.parse(robots_txt).can_fetch(url, user_agent))


def _robots_txt(where: str, *, store: StateStore, fetcher: Fetcher, ttl_s: int) -> str:
    key = f"robots:{where}"
    cached = store.cache_get(key)
    if cached is not None:
        return cached
    try:
        res = fetcher.fetch_retrying(where, accept=ROBOTS_ACCEPT)
        body = res.text() if res.status == 200 else ""
    except HTTPStatusError:
        body = ""  # RFC 9309 §2.3.1.3: unavailable (4xx) means no restriction
    except PermanentError as exc:
        # Unreadable (binary, too big, redirected off-limits): treated as absent, and said so.
        log.warning("robots_unreadable", url=where, error=f"{type(exc).__name__}: {exc}")
        body = ""
    store.cache_set(key, body, ttl_s)
    log.info("robots_fetched", url=where, body_bytes=len(body))
    return body


def check_robots(url: str, *, store: StateStore, fetcher: Fetcher, user_agent: str, ttl_s: int) -> None:
    """
    Raise `BlockedURL` when the host's robots.txt disallows `url` for our user agent.

    Raises:
        BlockedURL: robots.txt disallows the URL (permanent: never retried).
        TransientError: robots.txt could not be fetched right now.
    """
    where = robots_url(url)
    if where is None:
        return
    if not robots_allows(_robots_txt(where, store=store, fetcher=fetcher, ttl_s=ttl_s), url, user_agent):
        raise BlockedURL("robots.txt disallows this URL", url=url)


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
