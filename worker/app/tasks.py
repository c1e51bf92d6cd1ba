"""Celery tasks: thin wrappers that bind log context and call the stage code."""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery import Task
from structlog.contextvars import bound_contextvars

from worker import dispatch
from worker.app import runtime
from worker.app.celery_app import app
from worker.errors import IngestError, PermanentError, StoreUnavailable, TransientError
from worker.models import raw_from_dict, raw_to_dict
from worker.poll import feed as poll
from worker.schedule import politeness
from worker.schedule import tick as scheduler
from worker.sources.spec import SourceSpec

log = structlog.get_logger(__name__)

# Redis or the SQLite file being briefly unreachable is retried here, at the
# task level; HTTP failures are retried inside fetch (tenacity), never both.
_STORE_RETRY: dict[str, Any] = {
    "autoretry_for": (StoreUnavailable,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 20,
}


def _task_id(task: Task) -> str | None:
    return getattr(task.request, "id", None)


@app.task(name="worker.poll_source", bind=True, **_STORE_RETRY)
def poll_source(
    self: Task,
    spec_dict: dict[str, Any],
    resume_after: str | None = None,
    claimed_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Poll a feed or read (a chunk of) an archive; queue what it holds.

    `claimed_state` is the feed's state as the dispatch tick's claim read it
    (under the claim's lease), which spares the poll a second read.
    """
    spec = SourceSpec.from_dict(spec_dict)
    rt = runtime.get()
    started = time.monotonic()
    with bound_contextvars(task_id=_task_id(self), source=spec.name, url=spec.location):
        if spec.kind == "archive":
            result = poll.read_archive(spec, settings=rt.settings, store=rt.store, resume_after=resume_after)
        else:
            result = poll.poll_feed(
                spec, settings=rt.settings, store=rt.store, fetcher=rt.fetcher, state=claimed_state
            )
        log.info(
            "task_done",
            task="poll_source",
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **result.as_dict(),
        )
        return result.as_dict()


def _polite_wait(
    task: Task, payload: dict[str, Any], rt: runtime.Runtime
) -> tuple[float, float | None, bool, bool]:
    """
    Check robots.txt (raises BlockedURL), then the host's schedule and gate (`worker.schedule.politeness`).

    A fetch coming back from a deferral holds its slot: it goes to the gate
    without reserving (or, back early from a capped countdown, waits on).
    Stopped at the gate (it ran late, among others that did), it reserves a
    new slot, behind the ones already handed out, rather than retrying soon.
    In-process runs (`ingest`) sleep instead of deferring, as nothing else
    is waiting for this process.

    Returns:
        The seconds to the fetch's slot, 0.0 to go now; how late a held slot
        was (None: none held); whether the slot waited for was reserved in
        this run; and whether a held slot was lost (a second reservation).
    """
    url = payload["url"]
    politeness.check_robots(
        url,
        store=rt.store,
        fetcher=rt.fetcher,
        user_agent=rt.settings.user_agent,
        ttl_s=rt.settings.robots_ttl_s,
    )
    policy = politeness.policy_of(rt.settings)
    now = time.time()
    slot = politeness.reserved_slot(payload, now)
    late = None if slot is None else now - slot
    wait = politeness.reserve(url, store=rt.store, policy=policy) if slot is None else max(0.0, slot - now)
    reserved, again = slot is None, False
    while True:
        if wait > 0 and not task.request.is_eager:
            return wait, late, reserved, again
        time.sleep(wait)
        stopped = politeness.gate(url, store=rt.store, policy=policy)
        if stopped == 0.0:
            return 0.0, late, reserved, again
        wait = max(stopped, politeness.reserve(url, store=rt.store, policy=policy))
        reserved, again = True, again or slot is not None


def _defer(
    task: Task, payload: dict[str, Any], aid: str, wait: float, flags: dict[str, bool], rt: runtime.Runtime
) -> dict[str, Any]:
    """Send the fetch back with its slot: as a short countdown, or parked in the state store."""
    policy = politeness.policy_of(rt.settings)
    slot = time.time() + wait
    deferred = {**payload, "slot": slot}
    mode = politeness.defer_mode(wait, policy)
    if mode == "park" and not politeness.tick_alive(rt.store):
        # Nothing would release it: wait in capped countdowns, keeping the slot (worker.schedule.politeness).
        mode = "hop"
    if mode == "park":
        rt.store.park(aid, deferred, slot)
    else:
        task.apply_async(args=[deferred], countdown=min(wait, politeness.countdown_cap_s(policy)))
    log.info("task_done", task="fetch_article", status="deferred", delay_s=round(wait, 2), mode=mode, **flags)
    return {"status": "deferred", "delay_s": wait, "mode": mode}


@app.task(name="worker.fetch_article", bind=True, **_STORE_RETRY)
def fetch_article(self: Task, payload: dict[str, Any]) -> dict[str, Any]:
    """Fetch one article page and queue it for processing; dead-letter it when it cannot be had."""
    rt = runtime.get()
    url = payload["url"]
    spec = SourceSpec.from_dict(payload["spec"])
    with bound_contextvars(task_id=_task_id(self), source=spec.name, url=url):
        from worker.process.dedup import article_id

        aid = article_id(url)
        if rt.store.is_done(aid):
            log.info("task_done", task="fetch_article", status="duplicate", article_id=aid)
            return {"status": "duplicate", "article_id": aid}
        try:
            wait, late, reserved, again = _polite_wait(self, payload, rt)
            if wait > 0:
                return _defer(self, payload, aid, wait, {"reserved": reserved, "again": again}, rt)
            res = rt.fetcher.fetch_retrying(url)
        except (PermanentError, TransientError) as exc:
            if isinstance(exc, StoreUnavailable):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            rt.store.dead_letter(reason, "fetch", spec.name, payload)
            rt.store.incr("failed_fetch")
            log.warning("task_done", task="fetch_article", status="failed", error=reason)
            return {"status": "failed", "reason": reason}
        dispatch.send(poll.TASK_PROCESS, [raw_to_dict(poll.raw_from_fetch(res, payload))])
        # `late_s`: how long after its reserved slot a deferred fetch went (a busy pool shows here).
        timing = {} if late is None else {"late_s": round(late, 3)}
        log.info("task_done", task="fetch_article", status="fetched", body_bytes=len(res.body), **timing)
        return {"status": "fetched", "article_id": aid}


@app.task(name="worker.process_items", bind=True, **_STORE_RETRY)
def process_items(self: Task, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clean, dedupe, enrich and emit a batch of raw items."""
    rt = runtime.get()
    with bound_contextvars(task_id=_task_id(self)):
        started = time.monotonic()
        outcomes = rt.pipeline.process([raw_from_dict(d) for d in items])
        summary: dict[str, int] = {}
        for o in outcomes:
            summary[o.status] = summary.get(o.status, 0) + 1
            rt.store.incr(f"articles_{o.status}")
        log.info(
            "task_done",
            task="process_items",
            items=len(items),
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **summary,
        )
        return [
            {
                "status": o.status,
                "url": o.url,
                "article_id": o.article_id,
                "duplicate_of": o.duplicate_of,
                "reason": o.reason,
            }
            for o in outcomes
        ]


@app.task(name="worker.dispatch_tick", bind=True, **_STORE_RETRY)
def dispatch_tick(self: Task, limit: int = 500, per_host: int | None = None) -> int:
    """Claim the due sources and queue a poll for each, and release parked fetches (the one beat entry)."""
    rt = runtime.get()
    with bound_contextvars(task_id=_task_id(self)):
        lease = max(rt.settings.task_time_limit_s * 2, 60)
        cap = per_host or rt.settings.host_cap_per_tick
        # Two ticks ahead: a tick that runs late still releases parked fetches before their slot.
        ahead = 2 * rt.settings.tick_s
        result = scheduler.tick(
            rt.store, now=time.time(), limit=limit, lease_s=lease, per_host=cap, release_ahead_s=ahead
        )
        politeness.mark_tick(rt.store, rt.settings.tick_s)
        if result.claimed or result.released:
            log.info("task_done", task="dispatch_tick", **result.as_dict())
        return result.dispatched


def error_reason(exc: BaseException) -> str:
    """Return the one-line reason recorded for a failure."""
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, IngestError) else repr(exc)
