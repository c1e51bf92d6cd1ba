"""
The one tenacity retry policy: transient errors only, backoff with jitter.

This is the only retry layer for a fetch (STYLE §3): Celery tasks must not
also `autoretry_for` the same `TransientError`s.
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


def _retry_after(state: tenacity.RetryCallState) -> float | None:
    """Return the server's `Retry-After` from the last attempt, if it sent one."""
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc.retry_after_s if isinstance(exc, ServerBusy) else None


class _RetryAfterTooLong(tenacity.stop.stop_base):
    """
    Stop when the server asks us to wait longer than we are willing to.

    Retrying early would ignore the server's wish; giving up hands the error,
    with its `retry_after_s`, to the scheduler, which pushes the next check.
    """

    def __init__(self, max_wait_s: float) -> None:
        self.max_wait_s = max_wait_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        wanted = _retry_after(retry_state)
        return wanted is not None and wanted > self.max_wait_s


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
    log.warning(
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

    Only `TransientError` is retried; a `PermanentError` or any other
    exception goes straight through.  After the last attempt the original
    exception is re-raised, not a tenacity `RetryError`.  A `ServerBusy` whose
    `retry_after_s` exceeds `max_wait_s` stops at once (see `_RetryAfterTooLong`).

    Use it as `transient_retry(4, 30.0)(func, *args, **kwargs)` or as a
    decorator via `.wraps(func)`.

    Args:
        attempts: Total attempts, the first one included.
        max_wait_s: Upper bound of one wait.
        base_s: First backoff window; doubles with each attempt.
        sleep: How to wait (tests may pass a recorder).
    """
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(max(1, attempts)) | _RetryAfterTooLong(max_wait_s),
        wait=_BackoffHonouringRetryAfter(max_wait_s, base_s),
        before_sleep=_log_retry,
        sleep=sleep,
        reraise=True,
    )
