"""
When an article waits because its host asked it to, and when it stops waiting: pure rules.

A server answering 429 or 503 (`retry.asks_to_wait`), or a host whose
robots.txt is unreachable, defers the fetch on the host's slot rather than
dead-lettering it (`worker.fetch.article`).  The payload counts those
deferrals (`deferrals`, `first_deferred_at`); past `INGEST_MAX_DEFERRALS` of
them, or once the waiting would last more than `INGEST_MAX_DEFER_TOTAL_S`,
the article is dead-lettered with a reason that says so.  Deferrals for the
host's rate alone (the slot is later) are not counted: they always end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.errors import IngestError, RobotsUnavailable, ServerBusy
from worker.fetch.retry import asks_to_wait

# A 429 or 503 without Retry-After: RFC 9110 gives no default.  A minute, doubled with each
# deferral of the article, up to an hour: the first wait is long enough for a rate limiter's
# window, and 8 deferrals then cover about four hours.
DEFAULT_WAIT_S = 60.0
MAX_DEFAULT_WAIT_S = 3600.0

# The payload keys of a deferred fetch: a dead letter is stored without them, so `dead retry` starts afresh.
BOOKKEEPING = ("slot", "deferrals", "first_deferred_at")


@dataclass(frozen=True)
class Ask:
    """A host asking us to wait `wait_s`: why (`cause`), and what it said (`detail`, one line)."""

    wait_s: float
    cause: str  # "server_busy" (429, 503) or "robots_unavailable"
    detail: str


def deferrals_of(payload: dict[str, Any]) -> int:
    """Return how many times the article was deferred at its host's request so far."""
    n = payload.get("deferrals")
    return n if isinstance(n, int) and n >= 0 else 0


def ask_of(exc: IngestError, payload: dict[str, Any], max_wait_s: float) -> Ask | None:
    """
    Return what the host asks by `exc`, or None when `exc` is not a request to wait.

    Args:
        max_wait_s: `INGEST_RETRY_MAX_WAIT_S`: a Retry-After beyond it asks to wait even on a 500.
    """
    if isinstance(exc, RobotsUnavailable):
        return Ask(exc.retry_after_s, "robots_unavailable", str(exc))
    if isinstance(exc, ServerBusy) and asks_to_wait(exc, max_wait_s):
        if exc.retry_after_s is not None:
            return Ask(max(0.0, exc.retry_after_s), "server_busy", str(exc))
        wait = min(MAX_DEFAULT_WAIT_S, DEFAULT_WAIT_S * 2 ** min(deferrals_of(payload), 16))
        return Ask(wait, "server_busy", f"{exc}, no Retry-After")
    return None


def count(
    payload: dict[str, Any], ask: Ask, now: float, *, max_deferrals: int, max_total_s: float
) -> tuple[dict[str, Any], str | None]:
    """
    Count one more deferral of the article.

    Returns:
        The payload carrying the new count, and None; or, when the article
        should wait no longer, the payload and the reason of its dead letter.
    """
    n = deferrals_of(payload) + 1
    first = payload.get("first_deferred_at")
    first = float(first) if isinstance(first, int | float) and first <= now else now
    counted = {**payload, "deferrals": n, "first_deferred_at": first}
    waited = now - first
    asked = _asked(ask)
    if n > max_deferrals:
        return counted, (
            f"{ask.detail}: {asked} {_times(n)} in {seconds(waited)} s "
            f"(INGEST_MAX_DEFERRALS is {max_deferrals})"
        )
    if waited + ask.wait_s > max_total_s:
        return counted, (
            f"{ask.detail}: {asked} {_times(n)}; waiting would last {seconds(waited + ask.wait_s)} s "
            f"(INGEST_MAX_DEFER_TOTAL_S is {seconds(max_total_s)})"
        )
    return counted, None


def fresh(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the payload without the bookkeeping of deferrals (what a dead letter keeps)."""
    return {k: v for k, v in payload.items() if k not in BOOKKEEPING}


def _asked(ask: Ask) -> str:
    if ask.cause == "robots_unavailable":
        return f"host's robots.txt unreachable, asked to wait {seconds(ask.wait_s)} s"
    return f"server asked to wait {seconds(ask.wait_s)} s"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def seconds(value: float) -> str:
    """Write a duration in seconds for a reason: whole seconds, or one decimal under ten."""
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
