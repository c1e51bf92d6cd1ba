"""
Fetch one article page politely and hand it to the process stage.

`fetch_article` is the whole fetch stage of one feed entry or sitemap URL:
skip an article already emitted, obey robots.txt, wait for the host's slot
(deferring or parking the fetch when it is not now), GET the page, queue it
for processing, and dead-letter it when it cannot be had.  A host asking us
to wait (429, 503, its robots.txt unreachable) is waited for on its slot, a
bounded number of times (`worker.fetch.deferral`), rather than dead-lettered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import TASK_FETCH, TASK_PROCESS
from worker.errors import PermanentError, StoreUnavailable, TransientError
from worker.fetch import deferral, robots
from worker.fetch.client import Fetcher, FetchResult
from worker.fetch.deferral import Ask
from worker.ids import article_id as id_of
from worker.models import RawItem, SourceSpec, raw_to_dict
from worker.schedule import politeness
from worker.state import StateStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SlotWait:
    """When a fetch may go: `wait_s` from now (0.0: now), and how its slot was had."""

    wait_s: float
    late_s: float | None  # how late a held slot was (None: none held)
    reserved: bool  # the slot waited for was reserved in this run
    again: bool  # a held slot was lost at the gate, or to the robots.txt request (a second reservation)


def polite_wait(
    url: str, payload: dict[str, Any], *, store: StateStore, fetcher: Fetcher, settings: Settings, sleep: bool
) -> SlotWait:
    """
    Check robots.txt (raises BlockedURL, RobotsUnavailable), then the host's schedule and gate.

    A fetch coming back from a deferral holds its slot: it goes to the gate
    without reserving, and robots.txt is looked at only once the slot has
    come.  Stopped at the gate (it ran late, among others that did), it
    reserves a new slot behind the ones handed out.  A robots.txt not cached
    is requested with the slot the article waited for, like any request to
    the host; the article then reserves another.  With `sleep` (in-process
    runs: `ingest`) the waits are slept here, as nothing else waits for this
    process; otherwise a positive `wait_s` is returned for deferral.
    """
    policy = politeness.policy_of(settings)
    now = time.time()
    slot = politeness.reserved_slot(payload, now)
    late = None if slot is None else now - slot
    if slot is not None and slot > now:
        if not sleep:
            return SlotWait(slot - now, late, False, False)
        time.sleep(slot - now)
        late = time.time() - slot
    pending = robots.check_cached(url, store=store, user_agent=settings.user_agent)
    wait = politeness.reserve(url, store=store, policy=policy) if slot is None else 0.0
    reserved, again = slot is None, False
    while True:
        if wait > 0 and not sleep:
            return SlotWait(wait, late, reserved, again)
        time.sleep(wait)
        stopped = politeness.gate(url, store=store, policy=policy)
        if stopped == 0.0:
            # A robots.txt not cached yet takes this slot (RFC 9309: its failures are cached, no
            # storm), unless another fetch cached it meanwhile; the article then reserves another.
            if not (pending and robots.refresh(url, store=store, fetcher=fetcher, settings=settings)):
                return SlotWait(0.0, late, reserved, again)
            pending = False
        wait = max(stopped, politeness.reserve(url, store=store, policy=policy))
        reserved, again = True, again or slot is not None


def defer(
    payload: dict[str, Any],
    article_id: str,
    slot_wait: SlotWait,
    *,
    store: StateStore,
    settings: Settings,
    ask: Ask | None = None,
) -> dict[str, Any]:
    """Send the fetch back with its slot: as a short countdown, or parked in the state store."""
    policy = politeness.policy_of(settings)
    wait = slot_wait.wait_s
    deferred = {**payload, "slot": time.time() + wait}
    mode = politeness.defer_mode(wait, policy)
    if mode == "park" and not politeness.tick_alive(store):
        # Nothing would release it: wait in capped countdowns, keeping the slot.
        mode = "hop"
    if mode == "park":
        store.park(article_id, deferred, deferred["slot"])
    else:
        dispatch.send_later(TASK_FETCH, min(wait, politeness.countdown_cap_s(policy)), deferred)
    asked = {} if ask is None else {"reason": ask.detail, "deferrals": deferral.deferrals_of(payload)}
    log.info(
        "task_done",
        task="fetch_article",
        status="deferred",
        cause="slot" if ask is None else ask.cause,
        delay_s=round(wait, 2),
        mode=mode,
        reserved=slot_wait.reserved,
        again=slot_wait.again,
        **asked,
    )
    return {
        "status": "deferred",
        "cause": "slot" if ask is None else ask.cause,
        "delay_s": wait,
        "mode": mode,
        "deferrals": deferral.deferrals_of(payload),
    }


def fetch_article(
    payload: dict[str, Any], *, store: StateStore, fetcher: Fetcher, settings: Settings, in_process: bool
) -> dict[str, Any]:
    """
    Fetch one article page and queue it for processing; dead-letter it when it cannot be had.

    A host asking to wait holds its slot for the wait (`politeness.hold`) and
    the fetch is deferred to it, or, in process (`ingest`), sleeps until it;
    after `max_deferrals` such waits or `max_defer_total_s` of them, it is
    dead-lettered.

    Returns:
        The task's summary: `status` is duplicate, deferred, failed or fetched.
    """
    url = payload["url"]
    aid = id_of(url)
    if store.is_done(aid):
        log.info("task_done", task="fetch_article", status="duplicate", article_id=aid)
        return {"status": "duplicate", "article_id": aid}
    while True:
        try:
            slot_wait = polite_wait(
                url, payload, store=store, fetcher=fetcher, settings=settings, sleep=in_process
            )
            if slot_wait.wait_s > 0:
                return defer(payload, aid, slot_wait, store=store, settings=settings)
            res = fetcher.fetch_retrying(url)
            break
        except (PermanentError, TransientError) as exc:
            if isinstance(exc, StoreUnavailable):
                raise
            ask = deferral.ask_of(exc, payload, settings.retry_max_wait_s)
            if ask is None:
                return _fail(f"{type(exc).__name__}: {exc}", payload, store=store)
            payload, reason = deferral.count(
                payload,
                ask,
                time.time(),
                max_deferrals=settings.max_deferrals,
                max_total_s=settings.max_defer_total_s,
            )
            if reason is not None:
                return _fail(f"{type(exc).__name__}: {reason}", payload, store=store)
            slot_wait = _held(url, ask, store=store, settings=settings)
            if not in_process:
                return defer(payload, aid, slot_wait, store=store, settings=settings, ask=ask)
            payload = {**payload, "slot": time.time() + slot_wait.wait_s}  # slept by polite_wait
    dispatch.send(TASK_PROCESS, [raw_to_dict(raw_from_fetch(res, payload))])
    # `late_s`: how long after its reserved slot a deferred fetch went (a busy pool shows here).
    timing = {} if slot_wait.late_s is None else {"late_s": round(slot_wait.late_s, 3)}
    log.info("task_done", task="fetch_article", status="fetched", body_bytes=len(res.body), **timing)
    return {"status": "fetched", "article_id": aid}


def _held(url: str, ask: Ask, *, store: StateStore, settings: Settings) -> SlotWait:
    """Hold the host for the wait it asked (its slot and gate move past it); return the article's slot."""
    wait = politeness.hold(url, ask.wait_s, store=store, policy=politeness.policy_of(settings))
    log.info("host_asked_to_wait", cause=ask.cause, reason=ask.detail, wait_s=round(ask.wait_s, 2))
    return SlotWait(wait, None, True, False)


def _fail(reason: str, payload: dict[str, Any], *, store: StateStore) -> dict[str, Any]:
    """Dead-letter the fetch with `reason`, without the deferral bookkeeping: a retry starts afresh."""
    spec = SourceSpec.from_dict(payload["spec"])
    store.dead_letter(reason, "fetch", spec.name, deferral.fresh(payload))
    store.incr("failed_fetch")
    log.warning("task_done", task="fetch_article", status="failed", error=reason)
    return {"status": "failed", "reason": reason}


def raw_from_fetch(res: FetchResult, payload: dict[str, Any]) -> RawItem:
    """Make the raw item of a fetched article page, with the feed's hints."""
    spec = SourceSpec.from_dict(payload["spec"])
    hints = payload.get("hints") or {}
    return RawItem(
        url=payload["url"],
        source=replace(spec.ref(), title=hints.get("source_title")),
        content=res.text(),
        content_type="html",
        fetched_at=res.fetched_at,
        title=hints.get("title"),
        summary=hints.get("summary"),
        published=hints.get("published"),
        authors=tuple(hints.get("authors") or ()),
        tags=tuple(hints.get("tags") or ()),
        entry_id=hints.get("entry_id"),
    )
