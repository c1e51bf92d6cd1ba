"""Celery tasks: thin wrappers that bind log context and call the stage code."""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery import Task
from structlog.contextvars import bound_contextvars

from worker import dispatch, politeness, poll, runtime, scheduler
from worker.celery_app import app
from worker.errors import IngestError, PermanentError, StoreUnavailable, TransientError
from worker.models import raw_from_dict, raw_to_dict
from worker.sources import SourceSpec

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
def poll_source(self: Task, spec_dict: dict[str, Any], resume_after: str | None = None) -> dict[str, Any]:
    """Poll a feed or read (a chunk of) an archive; queue what it holds."""
    spec = SourceSpec.from_dict(spec_dict)
    rt = runtime.get()
    started = time.monotonic()
    with bound_contextvars(task_id=_task_id(self), source=spec.name, url=spec.location):
        if spec.kind == "archive":
            result = poll.read_archive(spec, settings=rt.settings, store=rt.store, resume_after=resume_after)
        else:
            result = poll.poll_feed(spec, settings=rt.settings, store=rt.store, fetcher=rt.fetcher)
        log.info(
            "task_done",
            task="poll_source",
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **result.as_dict(),
        )
        return result.as_dict()


def _polite_wait(task: Task, url: str, rt: runtime.Runtime) -> float:
    """
    Check robots.txt (raises BlockedURL) and take a slot of the host's shared rate.

    Returns the seconds to wait when the host has no slot; in-process runs
    (`ingest`) sleep instead, as nothing else is waiting for this process.
    """
    politeness.check_robots(
        url,
        store=rt.store,
        fetcher=rt.fetcher,
        user_agent=rt.settings.user_agent,
        ttl_s=rt.settings.robots_ttl_s,
    )
    wait = politeness.host_wait(url, store=rt.store, policy=politeness.policy_of(rt.settings))
    while wait > 0 and task.request.is_eager:
        time.sleep(wait)
        wait = politeness.host_wait(url, store=rt.store, policy=politeness.policy_of(rt.settings))
    return wait


@app.task(name="worker.fetch_article", bind=True, **_STORE_RETRY)
def fetch_article(self: Task, payload: dict[str, Any]) -> dict[str, Any]:
    """Fetch one article page and queue it for processing; dead-letter it when it cannot be had."""
    rt = runtime.get()
    url = payload["url"]
    spec = SourceSpec.from_dict(payload["spec"])
    with bound_contextvars(task_id=_task_id(self), source=spec.name, url=url):
        from worker.dedup import article_id

        aid = article_id(url)
        if rt.store.is_done(aid):
            log.info("task_done", task="fetch_article", status="duplicate", article_id=aid)
            return {"status": "duplicate", "article_id": aid}
        try:
            wait = _polite_wait(self, url, rt)
            if wait > 0:
                delay = politeness.defer_s(wait, politeness.policy_of(rt.settings))
                self.apply_async(args=[payload], countdown=delay)
                log.info("task_done", task="fetch_article", status="deferred", delay_s=round(delay, 2))
                return {"status": "deferred", "delay_s": delay}
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
        log.info("task_done", task="fetch_article", status="fetched", body_bytes=len(res.body))
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
    """Claim the sources that are due and queue a poll for each (the one beat entry)."""
    rt = runtime.get()
    with bound_contextvars(task_id=_task_id(self)):
        lease = max(rt.settings.task_time_limit_s * 2, 60)
        cap = per_host or rt.settings.host_cap_per_tick
        result = scheduler.tick(rt.store, now=time.time(), limit=limit, lease_s=lease, per_host=cap)
        if result.claimed:
            log.info("task_done", task="dispatch_tick", **result.as_dict())
        return result.dispatched


def error_reason(exc: BaseException) -> str:
    """Return the one-line reason recorded for a failure."""
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, IngestError) else repr(exc)
