"""One dispatch tick: claim the due sources, hold back what a host cannot take, queue the polls."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import structlog

from worker import dispatch, schedule
from worker.state import StateStore

log = structlog.get_logger(__name__)

TASK_POLL = "worker.poll_source"

# Polls sent to one host per tick; with a 5 s tick that is at most 2 feed requests a second per host.
HOST_CAP_PER_TICK = 10


@dataclass
class TickResult:
    """What one tick did: sources `claimed`, polls `dispatched`, `deferred` to the next tick, `dropped`."""

    claimed: int = 0
    dispatched: int = 0
    deferred: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counts (the task's log line)."""
        return asdict(self)


def tick(
    store: StateStore, *, now: float, limit: int, lease_s: float, per_host: int = HOST_CAP_PER_TICK
) -> TickResult:
    """
    Claim up to `limit` due sources and queue a poll for each, at most `per_host` per host.

    The claim leases the sources (see `StateStore.claim_due`), so two ticks
    racing never queue one source twice; sources over the host cap are put
    back as due now, so the next tick takes them.  Sources with no spec or
    disabled are dropped from the due-set.
    """
    result = TickResult()
    specs: dict[str, dict[str, Any]] = {}
    for url, state in store.claim_due_feeds(now, limit, lease_s):
        result.claimed += 1
        spec = state.get("spec")
        if spec is None or state.get("disabled"):
            store.unschedule(url)
            result.dropped += 1
            continue
        specs[url] = spec
    go, later = schedule.cap_per_host(list(specs), per_host)
    for url in go:
        dispatch.send(TASK_POLL, specs[url])
    for url in later:
        store.schedule(url, now)
    result.dispatched, result.deferred = len(go), len(later)
    return result
