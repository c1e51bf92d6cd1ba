"""Read an archive (folder, tarball, zip, JSONL, WARC, sitemap) in resumable chunks."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import TASK_FETCH, TASK_POLL, TASK_PROCESS
from worker.models import SourceSpec, raw_to_dict
from worker.poll.result import ReadOptions, ReadResult, parse_since
from worker.schedule import intervals as schedule
from worker.sources.archives import iter_archive
from worker.state import StateStore

log = structlog.get_logger(__name__)

# Process batches read per archive task: bounds the task's run time and the memory `ingest` queues.
ARCHIVE_CHUNK_BATCHES = 8


def read_archive(
    spec: SourceSpec,
    *,
    settings: Settings,
    store: StateStore,
    resume_after: str | None = None,
    options: ReadOptions | None = None,
) -> ReadResult:
    """
    Stream one chunk of an archive into process batches; queue a continuation for the rest.

    The checkpoint is the position up to which every item is safe: written by
    the continuation when it starts, because by then the chunk before it is
    either processed (`ingest` runs tasks in order) or held by the broker
    (at-least-once).  A restart resumes there; the items of the interrupted
    chunk that were already done are re-read and dropped by dedupe, so
    nothing is missed or emitted twice.  At the end the checkpoint is
    cleared and a scheduled archive gets its next check (not after a one-shot read).
    """
    opts = options or ReadOptions()
    since = parse_since(opts.since)
    result = ReadResult(source=spec.name, kind="archive")
    key = f"archive:{spec.location}"
    if resume_after is not None:
        store.set_checkpoint(key, resume_after)
    start = resume_after or store.get_checkpoint(key) or None
    if start:
        log.info("archive_resumed", source=spec.name, start_after=start)
    chunk = settings.batch_size * ARCHIVE_CHUNK_BATCHES
    batch: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    items = iter_archive(
        spec.location,
        source=spec.ref(),
        start_after=start,
        max_member_bytes=settings.max_body_bytes,
        skipped=skipped,
    )
    # `read` counts the chunk's entries whatever they were (a child sitemap is not an article).
    for read, ai in enumerate(items, start=1):
        if ai.item is not None:
            result.seen += 1
            batch.append(raw_to_dict(ai.item))
        elif ai.fetch is not None and ai.fetch.kind == "sitemap":
            # A child of a sitemap index is a sitemap, read by a poll of its own, never an article.
            child = replace(opts, document=ai.fetch.url, depth=opts.depth + 1, slot=None)
            dispatch.send(TASK_POLL, spec.to_dict(), None, None, child.to_dict())
            result.pages += 1
        elif ai.fetch is not None and not _older(ai.fetch.lastmod, since):
            result.seen += 1
            payload = {"url": ai.fetch.url, "spec": spec.to_dict(), "hints": {"title": ai.fetch.title}}
            dispatch.send(TASK_FETCH, payload)
            result.queued += 1
        if len(batch) >= settings.batch_size or (batch and read >= chunk):
            _send_batch(batch, result)
            batch = []
        if read >= chunk:
            dispatch.send(TASK_POLL, spec.to_dict(), ai.position, None, opts.to_dict())
            log.info("archive_chunk_read", source=spec.name, seen=result.seen, position=ai.position)
            return _with_skipped(result, skipped)
    if batch:
        _send_batch(batch, result)
    store.set_checkpoint(key, "")
    if not opts.once:
        _reschedule(spec, store, settings)
    log.info("archive_read", source=spec.name, seen=result.seen, queued=result.queued)
    return _with_skipped(result, skipped)


def _with_skipped(result: ReadResult, skipped: Counter[str]) -> ReadResult:
    """Put the count of files that are not articles in the result, and say it once in the log."""
    if skipped:
        result.skipped = dict(skipped)
        log.info("archive_files_skipped", reason="not an article (.txt, .html)", by_suffix=result.skipped)
    return result


def _older(lastmod: datetime | None, since: datetime | None) -> bool:
    """Return True when a sitemap entry is dated before `--since` (an undated one may be new)."""
    return since is not None and lastmod is not None and lastmod < since


def _send_batch(batch: list[dict[str, Any]], result: ReadResult) -> None:
    dispatch.send(TASK_PROCESS, batch)
    result.queued += len(batch)


def _reschedule(spec: SourceSpec, store: StateStore, settings: Settings) -> None:
    """Give a registered archive (one that `sources add` scheduled) its next read; leave others alone."""
    state = store.get_feed(spec.location)
    if state is None or state.get("disabled"):
        return
    now = time.time()
    interval = spec.interval_s or settings.poll_interval_s
    state.update(
        last_polled=int(now), next_at=schedule.next_check(now, interval, max_s=settings.max_interval_s)
    )
    store.put_feed(spec.location, state, next_at=state["next_at"])
