"""
One dispatch tick: claim the due sources, cap them per host, queue their polls, release parked fetches.

Once a minute, in one process, the tick also purges what expired from the state store (`maybe_purge`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import TASK_FETCH, TASK_POLL
from worker.schedule import intervals as schedule
from worker.schedule import politeness
from worker.state import StateStore

log = structlog.get_logger(__name__)


T = TypeVar("T")

# Polls sent to one host per tick; with a 5 s tick that is at most 2 feed requests a second per host.
HOST_CAP_PER_TICK = 10
# Items taken by one store call, so one Lua script never blocks Redis for long: in Redis a claim
# is a short script a shard of the due-set (16), and a tick of 500 claims takes about 23 ms at a
# million feeds (`bench/scheduler_bench.py`).
CLAIM_CHUNK = 1000
# Parked fetches released per tick: at a 5 s tick, 2,000 requests a second over all hosts.
RELEASE_PER_TICK = 10_000
# Expired state is purged once a minute by one process (the cache key below decides which) ...
PURGE_EVERY_S = 60
PURGE_KEY = "state_purge"
# ... at most this many items a minute, in small batches (`StateStore.purge`: about a second for
# SQLite), so a tick is never held long; a backlog (an old store's first purge) takes the next minutes.
PURGE_LIMIT = 100_000


@dataclass
class TickResult:
    """
    What one tick did: sources `claimed`, polls `dispatched`, `deferred`, `dropped`; fetches `released`.

    `purged` counts the expired items the tick deleted from the state store.
    """

    claimed: int = 0
    dispatched: int = 0
    deferred: int = 0
    dropped: int = 0
    released: int = 0
    purged: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counts (the task's log line)."""
        return asdict(self)


def _in_chunks(limit: int, chunk: int, take: Callable[[int], Sequence[T]]) -> Iterator[Sequence[T]]:
    """Yield `take(n)` batches of at most `chunk`, up to `limit` in all; stop after one comes back short."""
    taken = 0
    while taken < limit:
        want = min(chunk, limit - taken)
        batch = take(want)
        yield batch
        taken += len(batch)
        if len(batch) < want:
            return


def claim_due_in_chunks(
    store: StateStore, now: float, limit: int, lease_s: float, chunk: int = CLAIM_CHUNK
) -> list[tuple[str, dict[str, Any]]]:
    """Claim up to `limit` due sources in store calls of at most `chunk`."""
    batches = _in_chunks(limit, chunk, lambda n: store.claim_due_feeds(now, n, lease_s))
    return [item for batch in batches for item in batch]


def tick(
    store: StateStore,
    *,
    now: float,
    limit: int,
    lease_s: float,
    per_host: int = HOST_CAP_PER_TICK,
    release_ahead_s: float = 0.0,
) -> TickResult:
    """
    Claim up to `limit` due sources and queue a poll for each (`per_host` at most); release parked fetches.

    The claim leases the sources (see `StateStore.claim_due`), so two ticks
    racing never queue one source twice; sources over the host cap are put
    back as due now, so the next tick takes them.  Sources with no spec or
    disabled are dropped from the due-set.  Parked fetches whose slot falls
    before `now + release_ahead_s` (the next tick) are sent, see `release_parked`.
    """
    result = TickResult()
    claimed: dict[str, dict[str, Any]] = {}
    for url, state in claim_due_in_chunks(store, now, limit, lease_s):
        result.claimed += 1
        if state.get("spec") is None or state.get("disabled"):
            store.unschedule(url)
            result.dropped += 1
            continue
        claimed[url] = state
    go, later = schedule.cap_per_host(list(claimed), per_host)
    # A lost poll needs no ledger entry (worker.app.ledger): its source comes due again when the lease ends.
    with dispatch.leased():
        for url in go:
            # The state goes along (validators, body hash, counts): the poll need not read it again.
            spec = claimed[url]["spec"]
            dispatch.send(TASK_POLL, spec, None, {k: v for k, v in claimed[url].items() if k != "spec"})
    for url in later:
        store.schedule(url, now)
    result.dispatched, result.deferred = len(go), len(later)
    result.released = release_parked(store, now=now, ahead_s=release_ahead_s, lease_s=lease_s)
    return result


def release_parked(
    store: StateStore,
    *,
    now: float,
    ahead_s: float,
    lease_s: float,
    limit: int = RELEASE_PER_TICK,
    chunk: int = CLAIM_CHUNK,
) -> int:
    """
    Send the parked fetches whose slot is before `now + ahead_s`, each with a countdown to its slot.

    Claim, send, then delete: the claim leases the items, so a tick that
    dies before deleting leaves them to come back after `lease_s` (a second
    send is harmless: the fetch finds the article done, or the pipeline
    drops the duplicate).  The delete spares an item parked again meanwhile
    (its fetch already ran and was deferred anew).  Countdowns are at most `ahead_s`, a tick, so
    the broker never holds a long ETA.

    Returns:
        The number of fetches sent.
    """
    sent = 0
    for items in _in_chunks(limit, chunk, lambda n: store.claim_parked(now, n, lease_s, ahead_s=ahead_s)):
        for _, payload, at in items:
            dispatch.send_later(TASK_FETCH, at - now, payload)
        store.unpark([(item_id, at) for item_id, _, at in items])
        sent += len(items)
    return sent


def run(
    store: StateStore, settings: Settings, *, limit: int = 500, per_host: int | None = None
) -> TickResult:
    """
    Run the beat's tick now: claim and poll due sources, release parked fetches, say the tick is alive.

    A claim is leased for two task time limits (at least a minute); parked fetches
    are released two ticks ahead, so a tick that runs late still sends them before their slot.
    """
    result = tick(
        store,
        now=time.time(),
        limit=limit,
        lease_s=max(settings.task_time_limit_s * 2, 60),
        per_host=per_host or settings.host_cap_per_tick,
        release_ahead_s=2 * settings.tick_s,
    )
    politeness.mark_tick(store, settings.tick_s)
    result.purged = maybe_purge(store, time.time()) or 0
    return result


def maybe_purge(
    store: StateStore, now: float, *, every_s: int = PURGE_EVERY_S, limit: int = PURGE_LIMIT
) -> int | None:
    """
    Purge what expired from the state store, unless a process did within `every_s`.

    Returns:
        The number of items purged, or None when it was not this call's turn.
    """
    # A read first: every tick asks, and only a write takes the SQLite store's lock.
    if store.cache_get(PURGE_KEY) is not None or not store.cache_add(PURGE_KEY, str(int(now)), every_s):
        return None
    started = time.monotonic()
    purged = store.purge(now, limit)
    # An empty purge is the usual case, not worth a line at INFO every minute.
    level = log.info if purged else log.debug
    level("state_purged", items=purged, duration_ms=round((time.monotonic() - started) * 1000, 1))
    return purged


def purge_all(store: StateStore, now: float, *, limit: int = PURGE_LIMIT) -> int:
    """Purge until nothing expired is left (the end of `ingest`); return the number of items."""
    started = time.monotonic()
    purged = 0
    while True:
        n = store.purge(now, limit)
        purged += n
        if n < limit:
            break
    # DEBUG: `ingest`'s stderr holds one line a failing source and nothing else at the default level.
    log.debug("state_purged", items=purged, duration_ms=round((time.monotonic() - started) * 1000, 1))
    return purged
