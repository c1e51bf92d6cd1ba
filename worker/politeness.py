"""
Be polite to article hosts: obey robots.txt and share one request rate per host across all workers.

robots.txt is fetched once per host and cached in the state store (so every
worker process shares it) for `robots_ttl_s`; RFC 9309 §2.3.1.3 says a
robots.txt that is missing (4xx) allows everything, and an unreachable one
(5xx, network) is not guessed at: the error goes to the caller, which
dead-letters the article as a transient failure.

The per-host rate is a token bucket in the state store (a Lua script in
Redis, a transaction in SQLite).  When a host has no token, the article is
deferred with a *short* countdown (at most `max_defer_s`, seconds): a Redis
broker hands an ETA task to a worker, which holds it unacknowledged, and an
ETA beyond the visibility timeout would be redelivered again and again, so
long countdowns are never used.  `ingest`, which runs tasks in-process,
simply sleeps for the wait instead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from protego import Protego

from worker import config
from worker.config import Settings
from worker.errors import BlockedURL, HTTPStatusError, PermanentError
from worker.fetch import Fetcher
from worker.state import StateStore

log = structlog.get_logger(__name__)

ROBOTS_ACCEPT = "text/plain, */*;q=0.1"


@dataclass(frozen=True)
class Policy:
    """How polite to be; built from the settings by `policy_of`."""

    rate_per_s: float = 1.0  # INGEST_HOST_RATE: article requests per second per host
    burst: float = 3.0  # INGEST_HOST_BURST: requests a rested host may get at once
    robots_ttl_s: int = 86400  # INGEST_ROBOTS_TTL_S: RFC 9309 §2.4 suggests at most a day
    max_defer_s: float = 10.0  # INGEST_MAX_DEFER_S: far below any sane visibility timeout


def policy_of(settings: Settings) -> Policy:
    """Return the politeness part of the settings."""
    return Policy(settings.host_rate_per_s, settings.host_burst, settings.robots_ttl_s, settings.max_defer_s)


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


def host_wait(url: str, *, store: StateStore, policy: Policy) -> float:
    """Take a request slot for `url`'s host; return 0.0 when taken, else the seconds to wait."""
    host = urlsplit(url).hostname
    if not host:
        return 0.0
    return store.take_token(f"host:{host}", policy.rate_per_s, policy.burst)


def defer_s(wait_s: float, policy: Policy, rng: random.Random | None = None) -> float:
    """
    Return the countdown of a deferred fetch: the wait plus a little jitter, capped.

    The jitter keeps deferred fetches of one host from all coming back in the same instant.
    """
    r = rng or random
    return min(policy.max_defer_s, wait_s + r.uniform(0, min(1.0, 0.25 * wait_s + 0.05)))
