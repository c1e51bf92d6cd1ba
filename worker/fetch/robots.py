"""
Obey robots.txt (RFC 9309): requested at a slot of the host, cached in the state store, matched by protego.

A missing robots.txt (4xx) allows everything (§2.3.1.3).  An unreachable one
(5xx, 429, a network failure) disallows everything for now (§2.3.1.4): that
outcome is cached `INGEST_ROBOTS_ERROR_TTL_S`, so a struggling host gets one
robots.txt request per that time however many articles wait for it, and the
articles are deferred (`RobotsUnavailable`), not dead-lettered.  The cached
outcome counts the failures in a row; once they have lasted `UNREACHABLE_ALLOW_S`
(the RFC's 30 days) the host is treated as having no robots.txt, asked for
again every `INGEST_ROBOTS_TTL_S`.

The request itself is made by the caller's slot of the host (`worker.fetch.article`
takes one for it): `check_cached` says whether one is needed, `refresh` makes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from protego import Protego

from worker.config import Settings
from worker.errors import BlockedURL, HTTPStatusError, PermanentError, RobotsUnavailable, TransientError
from worker.fetch.client import Fetcher
from worker.state import StateStore

log = structlog.get_logger(__name__)

ROBOTS_ACCEPT = "text/plain, */*;q=0.1"

# RFC 9309 §2.3.1.4: "If the robots.txt file is unreachable for more than 30 days, crawlers MAY
# assume the robots.txt file is unavailable" (no restriction).
UNREACHABLE_ALLOW_S = 30 * 86400

# What the cache holds for an unreachable robots.txt instead of its text.  A comment line to any
# robots parser, and `Unreachable.decode` wants all its fields, so no real file is read as one.
_MARKER = "#!robots.txt-unreachable"


@dataclass(frozen=True)
class Unreachable:
    """The cached outcome of a robots.txt that could not be fetched: the failures in a row so far."""

    failures: int
    since: float  # epoch seconds of the first failure in a row
    retry_at: float  # when it is asked for again
    error: str  # the last failure, one line

    def encode(self) -> str:
        """Return the cached text of this outcome."""
        error = " ".join(self.error.split())
        return f"{_MARKER} {self.failures} {self.since:.3f} {self.retry_at:.3f} {error}"

    @classmethod
    def decode(cls, text: str) -> Unreachable | None:
        """Return the outcome a cached text holds, or None when it is a robots.txt."""
        if not text.startswith(_MARKER + " "):
            return None
        parts = text.split(" ", 4)
        try:
            return cls(int(parts[1]), float(parts[2]), float(parts[3]), parts[4] if len(parts) > 4 else "")
        except (IndexError, ValueError):
            return None

    def gave_up(self, now: float) -> bool:
        """Return True once the failures have lasted `UNREACHABLE_ALLOW_S`: no restriction then."""
        return now - self.since >= UNREACHABLE_ALLOW_S


def after_failure(
    previous: Unreachable | None,
    now: float,
    error: str,
    *,
    error_ttl_s: float,
    ttl_s: float,
    retry_after_s: float | None = None,
) -> Unreachable:
    """
    Return the outcome to cache after one more failed request (pure).

    The next request comes `error_ttl_s` later (or the server's longer
    Retry-After); once the host is treated as allowing all, `ttl_s` later.
    """
    failures = 1 if previous is None else previous.failures + 1
    since = now if previous is None else previous.since
    down = Unreachable(failures, since, now, error)
    wait = ttl_s if down.gave_up(now) else max(error_ttl_s, retry_after_s or 0.0)
    return Unreachable(failures, since, now + wait, error)


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


def verdict(cached: str | None, url: str, user_agent: str, now: float) -> bool:
    """
    Apply a cached robots.txt outcome to `url` (pure).

    Returns:
        True when robots.txt must be requested first (nothing cached, or the
        time to ask again has come), False when `url` may be fetched.

    Raises:
        BlockedURL: robots.txt disallows the URL (permanent: never retried).
        RobotsUnavailable: robots.txt is unreachable: nothing may be fetched until `retry_after_s`.
    """
    if cached is None:
        return True
    down = Unreachable.decode(cached)
    if down is None:
        if not robots_allows(cached, url, user_agent):
            raise BlockedURL("robots.txt disallows this URL", url=url)
        return False
    if now >= down.retry_at:
        return True
    if down.gave_up(now):
        return False
    times = "1 time" if down.failures == 1 else f"{down.failures} times in a row"
    raise RobotsUnavailable(
        f"robots.txt unreachable {times} ({down.error})", url=url, retry_after_s=down.retry_at - now
    )


def check_cached(url: str, *, store: StateStore, user_agent: str) -> bool:
    """
    Apply the host's cached robots.txt outcome to `url`; see `verdict`.

    Returns:
        True when robots.txt must be requested first (at a slot of the host: `refresh`).
    """
    where = robots_url(url)
    if where is None:
        return False
    return verdict(store.cache_get(f"robots:{where}"), url, user_agent, time.time())


def refresh(url: str, *, store: StateStore, fetcher: Fetcher, settings: Settings) -> bool:
    """
    Request the robots.txt of `url`'s host once, cache the outcome and apply it to `url`.

    One attempt, no retries: the caller took a slot of the host for it, and a
    failure is retried by the cache's `INGEST_ROBOTS_ERROR_TTL_S`, not here.

    Returns:
        True when a request was made; False when another fetch had cached the outcome meanwhile.

    Raises:
        BlockedURL: robots.txt disallows the URL.
        RobotsUnavailable: it could not be fetched (or another fetch just found so).
    """
    where = robots_url(url)
    if where is None:
        return False
    key = f"robots:{where}"
    now = time.time()
    cached = store.cache_get(key)
    if not verdict(cached, url, settings.user_agent, now):
        return False
    previous = None if cached is None else Unreachable.decode(cached)
    text, ttl_s = _request(where, previous, fetcher=fetcher, settings=settings, now=now)
    store.cache_set(key, text, ttl_s)
    verdict(text, url, settings.user_agent, now)
    return True


def _request(
    where: str, previous: Unreachable | None, *, fetcher: Fetcher, settings: Settings, now: float
) -> tuple[str, int]:
    """Fetch robots.txt; return the text to cache (the file, or an `Unreachable`) and its lifetime."""
    try:
        res = fetcher.fetch(where, accept=ROBOTS_ACCEPT)
        body = res.text() if res.status == 200 else ""
    except HTTPStatusError:
        body = ""  # RFC 9309 §2.3.1.3: unavailable (4xx) means no restriction
    except TransientError as exc:
        down = after_failure(
            previous,
            now,
            f"{type(exc).__name__}: {exc}",
            error_ttl_s=settings.robots_error_ttl_s,
            ttl_s=settings.robots_ttl_s,
            retry_after_s=getattr(exc, "retry_after_s", None),
        )
        log.warning(
            "robots_unreachable",
            url=where,
            error=down.error,
            failures=down.failures,
            retry_in_s=round(down.retry_at - now, 1),
            allowed=down.gave_up(now),
        )
        # Kept past the retry so failures in a row add up; a host nobody asks for in 30 days starts over.
        return down.encode(), int(down.retry_at - now) + UNREACHABLE_ALLOW_S
    except PermanentError as exc:
        # Unreadable (binary, too big, redirected off-limits): treated as absent, and said so.
        log.warning("robots_unreadable", url=where, error=f"{type(exc).__name__}: {exc}")
        body = ""
    log.info("robots_fetched", url=where, body_bytes=len(body))
    return body, settings.robots_ttl_s
