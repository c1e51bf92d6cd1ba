"""
The one tenacity retry policy: short transient errors only, backoff with jitter.

One retry layer per failure kind (STYLE §3): timeouts, resets and 5xx are
retried here, inside the fetch, and Celery never `autoretry_for`s them.  A
server asking us to come back later (`asks_to_wait`: 429, 503, a long
Retry-After) is not retried here at all: the caller waits on its own
schedule (the feed's next check; an article's deferral on its host's slot).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
import tenacity

from worker.errors import ServerBusy, TransientError

log = structlog.get_logger(__name__)

# First backoff window in seconds; it doubles each attempt (full jitter).
BACKOFF_BASE_S = 0.5


# RFC 6585 §4 (429 Too Many Requests) and RFC 9110 §15.6.4 (503 Service Unavailable): the server
# is overloaded or rate-limiting us, and retrying at once makes it worse.
WAIT_STATUSES = frozenset({429, 503})


def asks_to_wait(exc: BaseException, max_wait_s: float) -> bool:
    """
    Return True when `exc` is a server asking us to come back later, rather than a blip.

    That is a 429 or 503 (with or without Retry-After), or any answer whose
    Retry-After is longer than `max_wait_s`, the longest wait spent here.
    """
    if not isinstance(exc, ServerBusy):
        return False
    return exc.status in WAIT_STATUSES or (exc.retry_after_s is not None and exc.retry_after_s > max_wait_s)


def _retry_after(state: tenacity.RetryCallState) -> float | None:
    """Return the server's `Retry-After` from the last attempt, if it sent one."""
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc.retry_after_s if isinstance(exc, ServerBusy) else None


class _BackoffHonouringRetryAfter(tenacity.wait.wait_base):
    """Wait exponential backoff with full jitter, but never less than `Retry-After`."""

    def __init__(self, max_wait_s: float, base_s: float) -> None:
        self.max_wait_s = max_wait_s
        self.jitter = tenacity.wait_random_exponential(multiplier=base_s, max=max_wait_s)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = self.jitter(retry_state)
        wanted = _retry_after(retry_state)
        if wanted is not None:
            delay = max(delay, wanted)
        return min(delay, self.max_wait_s)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    delay_s = state.next_action.sleep if state.next_action is not None else 0.0
    # DEBUG: a retry is routine; what matters, the failure once attempts run out, is logged by the
    # caller (a poll's `feed_poll_failed`, a fetch's dead letter), so a failing source stays one line.
    log.debug(
        "retry_scheduled",
        attempt=state.attempt_number,
        delay_s=round(delay_s, 3),
        error=type(exc).__name__,
        detail=str(exc),
        url=getattr(exc, "url", None),
    )


def transient_retry(
    attempts: int,
    max_wait_s: float,
    *,
    base_s: float = BACKOFF_BASE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """
    Build the retry policy for one call that may fail transiently.

    Only `TransientError` is retried, and not a server asking to wait
    (`asks_to_wait`: it is raised at once, for the caller's schedule); a
    `PermanentError` or any other exception goes straight through.  After the
    last attempt the original exception is re-raised, not a tenacity
    `RetryError`.  A short Retry-After (a 500 that sends one) is honoured.

    Use it as `transient_retry(4, 30.0)(func, *args, **kwargs)` or as a
    decorator via `.wraps(func)`.

    Args:
        attempts: Total attempts, the first one included.
        max_wait_s: Upper bound of one wait.
        base_s: First backoff window; doubles with each attempt.
        sleep: How to wait (tests may pass a recorder).
    """
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(
            lambda exc: isinstance(exc, TransientError) and not asks_to_wait(exc, max_wait_s)
        ),
        stop=tenacity.stop_after_attempt(max(1, attempts)),
        wait=_BackoffHonouringRetryAfter(max_wait_s, base_s),
        before_sleep=_log_retry,
        sleep=sleep,
        reraise=True,
    )
