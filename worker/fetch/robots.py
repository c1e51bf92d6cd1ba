"""
Obey robots.txt (RFC 9309): fetched once per host, cached in the state store, matched by protego.

A missing robots.txt (4xx) allows everything (§2.3.1.3); an unreachable one
(5xx, network) raises a `TransientError` to the caller.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from protego import Protego

from worker.errors import BlockedURL, HTTPStatusError, PermanentError
from worker.fetch.client import Fetcher
from worker.state import StateStore

log = structlog.get_logger(__name__)

ROBOTS_ACCEPT = "text/plain, */*;q=0.1"


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
