"""
Fetch one article page politely and hand it to the process stage.

`fetch_article` is the whole fetch stage of one feed entry or sitemap URL:
skip an article already emitted, obey robots.txt, wait for the host's slot
(deferring or parking the fetch when it is not now), GET the page, queue it
for processing, and dead-letter it when it cannot be had.
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
from worker.fetch import robots
from worker.fetch.client import Fetcher, FetchResult
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
    again: bool  # a held slot was lost at the gate (a second reservation)


def polite_wait(
    url: str, payload: dict[str, Any], *, store: StateStore, fetcher: Fetcher, settings: Settings, sleep: bool
) -> SlotWait:
    """
    Check robots.txt (raises BlockedURL), then the host's schedule and gate.

    A fetch coming back from a deferral holds its slot: it goes to the gate
    without reserving.  Stopped at the gate (it ran late, among others that
    did), it reserves a new slot behind the ones handed out.  With `sleep`
    (in-process runs: `ingest`) the wait is slept here, as nothing else waits
    for this process; otherwise a positive `wait_s` is returned for deferral.
    """
    robots.check_robots(
        url, store=store, fetcher=fetcher, user_agent=settings.user_agent, ttl_s=settings.robots_ttl_s
    )
    policy = politeness.policy_of(settings)
    now = time.time()
    slot = politeness.reserved_slot(payload, now)
    late = None if slot is None else now - slot
    wait = politeness.reserve(url, store=store, policy=policy) if slot is None else max(0.0, slot - now)
    reserved, again = slot is None, False
    while True:
        if wait > 0 and not sleep:
            return SlotWait(wait, late, reserved, again)
        time.sleep(wait)
        stopped = politeness.gate(url, store=store, policy=policy)
        if stopped == 0.0:
            return SlotWait(0.0, late, reserved, again)
        wait = max(stopped, politeness.reserve(url, store=store, policy=policy))
        reserved, again = True, again or slot is not None


def defer(
    payload: dict[str, Any], article_id: str, slot_wait: SlotWait, *, store: StateStore, settings: Settings
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
    log.info(
        "task_done",
        task="fetch_article",
        status="deferred",
        delay_s=round(wait, 2),
        mode=mode,
        reserved=slot_wait.reserved,
        again=slot_wait.again,
    )
    return {"status": "deferred", "delay_s": wait, "mode": mode}


def fetch_article(
    payload: dict[str, Any], *, store: StateStore, fetcher: Fetcher, settings: Settings, in_process: bool
) -> dict[str, Any]:
    """
    Fetch one article page and queue it for processing; dead-letter it when it cannot be had.

    Returns:
        The task's summary: `status` is duplicate, deferred, failed or fetched.
    """
    url = payload["url"]
    spec = SourceSpec.from_dict(payload["spec"])
    aid = id_of(url)
    if store.is_done(aid):
        log.info("task_done", task="fetch_article", status="duplicate", article_id=aid)
        return {"status": "duplicate", "article_id": aid}
    try:
        slot_wait = polite_wait(
            url, payload, store=store, fetcher=fetcher, settings=settings, sleep=in_process
        )
        if slot_wait.wait_s > 0:
            return defer(payload, aid, slot_wait, store=store, settings=settings)
        res = fetcher.fetch_retrying(url)
    except (PermanentError, TransientError) as exc:
        if isinstance(exc, StoreUnavailable):
            raise
        reason = f"{type(exc).__name__}: {exc}"
        store.dead_letter(reason, "fetch", spec.name, payload)
        store.incr("failed_fetch")
        log.warning("task_done", task="fetch_article", status="failed", error=reason)
        return {"status": "failed", "reason": reason}
    dispatch.send(TASK_PROCESS, [raw_to_dict(raw_from_fetch(res, payload))])
    # `late_s`: how long after its reserved slot a deferred fetch went (a busy pool shows here).
    timing = {} if slot_wait.late_s is None else {"late_s": round(slot_wait.late_s, 3)}
    log.info("task_done", task="fetch_article", status="fetched", body_bytes=len(res.body), **timing)
    return {"status": "fetched", "article_id": aid}


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
