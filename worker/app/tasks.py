"""Celery tasks: each binds its log context, calls one stage function and returns its summary."""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery import Task
from structlog.contextvars import bound_contextvars

from worker import dispatch
from worker.app import activity, explain, runtime
from worker.app.celery_app import app
from worker.errors import IngestError, StoreUnavailable, TransientError
from worker.fetch import article
from worker.models import SourceSpec, raw_from_dict
from worker.poll import archive, feed, page, sitemap
from worker.poll.result import ReadOptions, ReadResult
from worker.schedule import tick

log = structlog.get_logger(__name__)

# One retry layer per failure kind (STYLE §3).  The state store or a sink being
# unreachable (a Redis outage, a full disk, a busy SQLite file) is retried here,
# for the whole task, with backoff for up to half an hour; the Redis client
# under it retries only a blip (`worker.state.redis.base.BLIP_RETRIES`).  HTTP
# failures are never retried here: short ones by tenacity inside fetch, a
# server asking to wait by a deferral on its host's slot (`worker.fetch.article`).
# `throws`: our own errors are expected outcomes (a 404, a refused address, not
# a feed), logged by the task as one event; Celery then logs them at INFO
# without a traceback (and `worker.app.logging` keeps its trace logger at
# WARNING), so a traceback means a bug.
_STORE_RETRY: dict[str, Any] = {
    "throws": (IngestError,),
    "autoretry_for": (StoreUnavailable,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 20,
}


def _task_id(task: Task) -> str | None:
    return getattr(task.request, "id", None)


@app.task(name=dispatch.TASK_POLL, bind=True, **_STORE_RETRY)
def poll_source(
    self: Task,
    spec_dict: dict[str, Any],
    resume_after: str | None = None,
    claimed_state: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Poll a feed or a sitemap, read a page, or read (a chunk of) an archive; queue what it holds.

    `claimed_state` is the feed's state as the dispatch tick's claim read it
    (under the claim's lease), which spares the poll a second read;
    `options` are `worker.poll.result.ReadOptions` (a one-shot read, `since`).
    """
    spec = SourceSpec.from_dict(spec_dict)
    opts = ReadOptions.from_dict(options)
    rt = runtime.get()
    started = time.monotonic()
    in_process = bool(self.request.is_eager)
    with bound_contextvars(task_id=_task_id(self), source=spec.name, url=spec.location):
        try:
            result = _read(spec, rt, resume_after, claimed_state, opts, in_process=in_process)
        except IngestError as exc:
            _log_poll_failed(exc, opts.document or spec.location, in_process=in_process)
            raise
        log.info(
            "task_done",
            task="poll_source",
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **result.as_dict(),
        )
        return result.as_dict()


def _read(
    spec: SourceSpec,
    rt: runtime.Runtime,
    resume_after: str | None,
    claimed_state: dict[str, Any] | None,
    opts: ReadOptions,
    *,
    in_process: bool,
) -> ReadResult:
    """Call the reader of the source's kind (a child sitemap of an index is read as a sitemap)."""
    common: dict[str, Any] = {"settings": rt.settings, "store": rt.store}
    if opts.document is not None:
        return sitemap.read_child(spec, fetcher=rt.fetcher, options=opts, in_process=in_process, **common)
    if spec.kind == "archive":
        return archive.read_archive(spec, resume_after=resume_after, options=opts, **common)
    if spec.kind == "page":
        return page.poll_page(spec, fetcher=rt.fetcher, in_process=in_process)
    if spec.kind == "sitemap":
        return sitemap.poll_sitemap(spec, fetcher=rt.fetcher, options=opts, state=claimed_state, **common)
    return feed.poll_feed(
        spec, fetcher=rt.fetcher, state=claimed_state, options=opts, in_process=in_process, **common
    )


@app.task(name=dispatch.TASK_FETCH, bind=True, **_STORE_RETRY)
def fetch_article(self: Task, payload: dict[str, Any]) -> dict[str, Any]:
    """Fetch one article page and queue it for processing (`worker.fetch.article`)."""
    rt = runtime.get()
    spec = payload.get("spec") or {}
    with bound_contextvars(task_id=_task_id(self), source=spec.get("name"), url=payload["url"]):
        return article.fetch_article(
            payload,
            store=rt.store,
            fetcher=rt.fetcher,
            settings=rt.settings,
            in_process=bool(self.request.is_eager),
        )


@app.task(name=dispatch.TASK_PROCESS, bind=True, **_STORE_RETRY)
def process_items(self: Task, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clean, dedupe, enrich and emit a batch of raw items."""
    rt = runtime.get()
    with bound_contextvars(task_id=_task_id(self)):
        started = time.monotonic()
        outcomes = rt.pipeline.process([raw_from_dict(d) for d in items])
        summary: dict[str, int] = {}
        for o in outcomes:
            summary[o.status] = summary.get(o.status, 0) + 1
        # Beside the pipeline's `articles_<status>` counters: the status page's per-minute view of them.
        activity.record(rt.store, items, outcomes)
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


@app.task(name=dispatch.TASK_TICK, bind=True, **_STORE_RETRY)
def dispatch_tick(self: Task, limit: int = 500, per_host: int | None = None) -> int:
    """Claim the due sources and queue a poll for each, and release parked fetches (the one beat entry)."""
    rt = runtime.get()
    with bound_contextvars(task_id=_task_id(self)):
        result = tick.run(rt.store, rt.settings, limit=limit, per_host=per_host)
        if result.claimed or result.released:
            log.info("task_done", task="dispatch_tick", **result.as_dict())
        return result.dispatched


def _log_poll_failed(exc: IngestError, location: str, *, in_process: bool) -> None:
    """
    Log the one event of a source that could not be read: the reason and a hint, no traceback.

    In-process (`ingest`) the CLI prints it as its `error:` line, so the event is DEBUG there.
    """
    level = "debug" if in_process else "warning" if isinstance(exc, TransientError) else "error"
    getattr(log, level)(
        "poll_failed",
        error=f"{type(exc).__name__}: {explain.reason(exc, location)}",
        hint=explain.hint(exc),
    )


def error_reason(exc: BaseException) -> str:
    """Return the one-line reason recorded for a failure."""
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, IngestError) else repr(exc)
