"""Read sources: poll a feed (conditional GET, parse, new entries) or stream an archive."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import structlog

from worker import dispatch, schedule
from worker.archives import iter_archive
from worker.config import Settings
from worker.errors import HTTPStatusError, IngestError, TransientError
from worker.feeds import FeedEntry, ParsedFeed, body_hash, parse_feed
from worker.fetch import Fetcher, FetchResult
from worker.models import RawItem, SourceRef, raw_to_dict
from worker.sources import SourceSpec
from worker.state import StateStore

log = structlog.get_logger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)

TASK_PROCESS = "worker.process_items"
TASK_FETCH = "worker.fetch_article"


@dataclass
class ReadResult:
    """What reading one source found: `seen` items, of which `queued` went on."""

    source: str
    seen: int = 0
    queued: int = 0
    not_modified: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary (the task result)."""
        return dict(self.__dict__)


def _entry_time(entry: FeedEntry) -> float:
    if not entry.published:
        return 0.0
    try:
        from datetime import datetime

        return datetime.fromisoformat(entry.published.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _expires_ts(value: str | None) -> float | None:
    if not value:
        return None
    try:
        from datetime import datetime

        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        try:
            return calendar.timegm(parsedate_to_datetime(value).utctimetuple())
        except (TypeError, ValueError):
            return None


def entry_to_raw(entry: FeedEntry, ref: SourceRef, fetched_at: str, min_chars: int) -> RawItem | None:
    """
    Return the entry as a raw item when the feed carries the full text, else None (fetch the link).

    Entries with no link at all are taken from the feed whatever their length.
    """
    body = entry.content or ""
    if entry.link and len(body) < min_chars:
        return None
    if not body and not entry.summary:
        return None
    return RawItem(
        url=entry.link or f"{ref.url}#entry={entry.key}",
        source=ref,
        content=body or entry.summary or "",
        content_type="html",
        fetched_at=fetched_at,
        title=entry.title,
        summary=entry.summary,
        published=entry.published,
        authors=tuple(entry.authors),
        tags=tuple(entry.tags),
    )


def _fetch_payload(entry: FeedEntry, spec: SourceSpec) -> dict[str, Any]:
    return {
        "url": entry.link,
        "spec": spec.to_dict(),
        "hints": {
            "title": entry.title,
            "summary": entry.summary,
            "published": entry.published,
            "authors": list(entry.authors),
            "tags": list(entry.tags),
        },
    }


def poll_feed(spec: SourceSpec, *, settings: Settings, store: StateStore, fetcher: Fetcher) -> ReadResult:
    """
    Poll one feed politely and queue its new entries.

    Sends the stored ETag/Last-Modified (a 304 is no work), skips the parse
    when the body hash is unchanged, and writes the next check back.

    Raises:
        IngestError: the feed could not be read (after the state is updated).
    """
    result = ReadResult(source=spec.name)
    state = store.get_feed(spec.location) or {}
    state["spec"] = spec.to_dict()
    now = time.time()
    interval = spec.interval_s or state.get("interval_s") or settings.poll_interval_s
    try:
        res = fetcher.fetch_retrying(
            spec.location,
            etag=state.get("etag"),
            last_modified=state.get("last_modified"),
            accept=FEED_ACCEPT,
        )
    except IngestError as exc:
        _record_error(spec, state, exc, store=store, settings=settings, now=now, interval=interval)
        raise
    state.update(errors=0, last_status=res.status, last_polled=now, last_error=None)
    not_before: list[float | None] = [
        now + res.max_age_s if res.max_age_s else None,
        _expires_ts(res.expires),
    ]
    if res.status == 304:
        result.not_modified = True
        log.info("feed_not_modified", source=spec.name, url=spec.location)
    else:
        if res.permanent_redirect_url:
            state["redirected_to"] = res.permanent_redirect_url
        state.update(etag=res.etag, last_modified=res.last_modified)
        digest = body_hash(res.body)
        if digest == state.get("body_hash"):
            result.not_modified = True
            log.info("feed_unchanged", source=spec.name, url=spec.location, body_bytes=len(res.body))
        else:
            state["body_hash"] = digest
            ctype = (
                f"{res.content_type}; charset={res.charset}"
                if res.content_type and res.charset
                else res.content_type
            )
            feed = parse_feed(res.body, url=res.url, content_type=ctype)
            _queue_entries(feed, res, spec, result, store=store, settings=settings)
            if feed.ttl_s:
                not_before.append(now + feed.ttl_s)
            times = [_entry_time(e) for e in feed.entries]
            interval = spec.interval_s or schedule.adaptive_interval(
                times, settings.poll_interval_s, settings.min_interval_s, settings.max_interval_s
            )
            state["interval_s"] = interval
    state["next_at"] = schedule.next_check(
        now, interval, not_before=not_before, max_s=settings.max_interval_s
    )
    store.put_feed(spec.location, state)
    store.schedule(spec.location, state["next_at"])
    log.info(
        "feed_polled",
        source=spec.name,
        url=spec.location,
        status=res.status,
        seen=result.seen,
        queued=result.queued,
    )
    return result


def _queue_entries(
    feed: ParsedFeed,
    res: FetchResult,
    spec: SourceSpec,
    result: ReadResult,
    *,
    store: StateStore,
    settings: Settings,
) -> None:
    ref = spec.ref()
    result.seen = len(feed.entries)
    fresh = set(store.add_entries(spec.location, [e.key for e in feed.entries]))
    batch: list[dict[str, Any]] = []
    for entry in feed.entries:
        if entry.key not in fresh:
            continue
        raw = entry_to_raw(entry, ref, res.fetched_at, settings.use_feed_content_chars)
        if raw is not None:
            batch.append(raw_to_dict(raw))
            if len(batch) >= settings.batch_size:
                dispatch.send(TASK_PROCESS, batch)
                batch = []
        elif entry.link:
            dispatch.send(TASK_FETCH, _fetch_payload(entry, spec))
        else:
            continue
        result.queued += 1
    if batch:
        dispatch.send(TASK_PROCESS, batch)


def _record_error(
    spec: SourceSpec,
    state: dict[str, Any],
    exc: IngestError,
    *,
    store: StateStore,
    settings: Settings,
    now: float,
    interval: float,
) -> None:
    """Count the error, back off, and disable the feed when it is gone or keeps failing."""
    errors = int(state.get("errors", 0)) + 1
    state.update(errors=errors, last_error=f"{type(exc).__name__}: {exc}", last_polled=now)
    if isinstance(exc, HTTPStatusError):
        state["last_status"] = exc.status
    gone = isinstance(exc, HTTPStatusError) and exc.status == 410
    if gone or errors >= settings.max_errors:
        state["disabled"] = "410 Gone" if gone else f"{errors} consecutive errors: {state['last_error']}"
        store.unschedule(spec.location)
        log.warning("feed_disabled", source=spec.name, url=spec.location, reason=state["disabled"])
    else:
        retry_after = getattr(exc, "retry_after_s", None)
        state["next_at"] = schedule.next_check(
            now,
            interval,
            errors=errors,
            not_before=[now + retry_after if retry_after else None],
            max_s=settings.max_interval_s,
        )
        store.schedule(spec.location, state["next_at"])
    store.put_feed(spec.location, state)
    store.incr("feed_errors")
    level = "warning" if isinstance(exc, TransientError) else "error"
    getattr(log, level)(
        "feed_poll_failed", source=spec.name, url=spec.location, error=state["last_error"], errors=errors
    )


def read_archive(spec: SourceSpec, *, settings: Settings, store: StateStore) -> ReadResult:
    """
    Stream an archive into process batches, checkpointing after each batch is queued.

    A restart resumes after the last queued batch; at most that batch is read
    twice, and dedupe makes the repeat a no-op.  The checkpoint is cleared at
    the end, so a later run re-reads the archive and finds its articles done.
    """
    result = ReadResult(source=spec.name)
    key = f"archive:{spec.location}"
    start = store.get_checkpoint(key) or None
    if start:
        log.info("archive_resumed", source=spec.name, start_after=start)
    batch: list[dict[str, Any]] = []
    last: str | None = None
    for ai in iter_archive(
        spec.location, source=spec.ref(), start_after=start, max_member_bytes=settings.max_body_bytes
    ):
        result.seen += 1
        last = ai.position
        if ai.item is not None:
            batch.append(raw_to_dict(ai.item))
        elif ai.fetch is not None:
            payload = {"url": ai.fetch.url, "spec": spec.to_dict(), "hints": {"title": ai.fetch.title}}
            dispatch.send(TASK_FETCH, payload)
            result.queued += 1
        if len(batch) >= settings.batch_size:
            dispatch.send(TASK_PROCESS, batch)
            result.queued += len(batch)
            batch = []
            store.set_checkpoint(key, last)
    if batch:
        dispatch.send(TASK_PROCESS, batch)
        result.queued += len(batch)
    store.set_checkpoint(key, "")
    log.info("archive_read", source=spec.name, seen=result.seen, queued=result.queued)
    return result


def raw_from_fetch(res: FetchResult, payload: dict[str, Any]) -> RawItem:
    """Make the raw item of a fetched article page, with the feed's hints."""
    spec = SourceSpec.from_dict(payload["spec"])
    hints = payload.get("hints") or {}
    return RawItem(
        url=payload["url"],
        source=spec.ref(),
        content=res.text(),
        content_type="html",
        fetched_at=res.fetched_at,
        title=hints.get("title"),
        summary=hints.get("summary"),
        published=hints.get("published"),
        authors=tuple(hints.get("authors") or ()),
        tags=tuple(hints.get("tags") or ()),
    )
