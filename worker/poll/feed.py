"""Poll a feed: a conditional GET, parse, queue the new entries, RFC 5005 backfill, the next check."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import TASK_FETCH, TASK_POLL, TASK_PROCESS
from worker.errors import HTTPStatusError, IngestError, ParseError
from worker.fetch.client import Fetcher, FetchResult
from worker.models import RawItem, SourceRef, SourceSpec, raw_to_dict
from worker.poll.page import read_page
from worker.poll.result import ReadOptions, ReadResult
from worker.schedule import intervals as schedule
from worker.schedule import politeness
from worker.sources.discovery import sniff_kind
from worker.sources.feeds import FeedEntry, ParsedFeed, body_hash, parse_feed
from worker.state import StateStore

log = structlog.get_logger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


# RFC 5005 relations leading to older entries: archived feeds (§4) and paged feeds (§3).
PAGE_RELS = ("prev-archive", "next", "previous", "prev")
# Older documents read per poll; the rest waits for the next poll (the pages read are remembered).
BACKFILL_MAX_PAGES = 20


def _entry_time(entry: FeedEntry) -> float:
    if not entry.published:
        return 0.0
    try:
        return datetime.fromisoformat(entry.published.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _expires_ts(value: str | None) -> float | None:
    """Return a response's `expires` (ISO UTC, as `FetchResult` gives it) as epoch seconds."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
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
        entry_id=entry_guid(entry),
    )


def entry_guid(entry: FeedEntry) -> str | None:
    """Return the entry's guid when its key is one (a feed repeating guids is keyed otherwise)."""
    return entry.key.removeprefix("guid:") if entry.key.startswith("guid:") else None


def _fetch_payload(entry: FeedEntry, spec: SourceSpec, feed_title: str | None) -> dict[str, Any]:
    return {
        "url": entry.link,
        "spec": spec.to_dict(),
        "hints": {
            "title": entry.title,
            "summary": entry.summary,
            "published": entry.published,
            "authors": list(entry.authors),
            "tags": list(entry.tags),
            "entry_id": entry_guid(entry),
            "source_title": feed_title,
        },
    }


def poll_feed(
    spec: SourceSpec,
    *,
    settings: Settings,
    store: StateStore,
    fetcher: Fetcher,
    backfill_pages: int = BACKFILL_MAX_PAGES,
    state: dict[str, Any] | None = None,
    options: ReadOptions | None = None,
    in_process: bool = False,
) -> ReadResult:
    """
    Poll one feed politely and queue its new entries.

    `state` is the feed's stored state when the caller already holds it (the
    dispatch tick's claim read it); otherwise it is read from the store.
    A one-shot read (`options.once`, `ingest`) keeps the validators and seen
    entries but does not schedule the feed nor count a failure against it, so
    a one-shot run never subscribes a feed; and a URL that turns out to be an
    article page or a sitemap is read as one (`worker.poll.page`, a sitemap poll).

    Sends the stored ETag/Last-Modified (a 304 is no work), skips the parse
    when the body hash is unchanged, follows a permanent redirect by moving
    the source, backfills RFC 5005 archive and paged links, and writes the
    next check back.

    Raises:
        IngestError: the feed could not be read (after the state is updated).
    """
    once = options is not None and options.once
    result = ReadResult(source=spec.name, kind="feed")
    state = dict(state) if state is not None else (store.get_feed(spec.location) or {})
    state["spec"] = spec.to_dict()
    now = time.time()
    interval = spec.interval_s or state.get("interval_s") or settings.poll_interval_s
    try:
        res = fetcher.fetch_retrying(
            spec.location,
            etag=state.get("etag"),
            last_modified=state.get("last_modified"),
            accept=FEED_ACCEPT,
            # Sources are configured by the operator (CLI, schedules/, `sources add`): a local
            # feed file is fine there, unlike a file: link found inside a feed.
            allow_file=True,
            # A `.gz` source, or one served as gzip, is read gunzipped (a one-shot sitemap URL above all).
            gunzip=True,
        )
    except IngestError as exc:
        if not once:
            record_error(spec, state, exc, store=store, settings=settings, now=now, interval=interval)
        raise
    if res.permanent_redirect_url and res.permanent_redirect_url != spec.location:
        spec = _move(spec, res.permanent_redirect_url, state, store)
    # Whole seconds: the Redis store keeps them in a few bytes (worker.state.codec), fractions in 18.
    state.update(errors=0, last_status=res.status, last_polled=int(now), last_error=None)
    if not once:
        state["disabled"] = None
    not_before: list[float | None] = [
        now + res.max_age_s if res.max_age_s else None,
        _expires_ts(res.expires),
    ]
    parsed, links = False, []
    if res.status == 304:
        result.not_modified = True
        # RFC 9110 §15.4.5: a 304 may carry an updated validator.
        state["etag"] = res.etag or state.get("etag")
    else:
        state.update(etag=res.etag, last_modified=res.last_modified)
        digest = body_hash(res.body)
        if digest == state.get("body_hash"):
            result.not_modified = True
        else:
            state["body_hash"] = digest
            try:
                feed = _parse(res)
            except ParseError:
                other = _not_a_feed(spec, res, options, in_process=in_process) if once else None
                if other is None:
                    raise
                return other
            parsed = True
            _queue_entries(feed, res, spec, result, store=store, settings=settings)
            links = _page_links(feed, spec.location)
            if feed.ttl_s:
                not_before.append(now + feed.ttl_s)
            times = [_entry_time(e) for e in feed.entries]
            interval = spec.interval_s or schedule.adaptive_interval(
                times, settings.poll_interval_s, settings.min_interval_s, settings.max_interval_s
            )
            state["interval_s"] = float(round(interval))
    # A changed feed backfills from the pages it links to.  An unchanged one goes on with a backfill
    # stopped earlier (host busy, page limit); the flag in the state keeps every other one free.
    if backfill_pages > 0 and (parsed or state.get("backfill_pending")):
        pending = backfill(
            links,
            spec,
            result,
            store=store,
            settings=settings,
            fetcher=fetcher,
            limit=backfill_pages,
        )
        state["backfill_pending"] = pending or None
    if once:
        store.put_feed(spec.location, state)
    else:
        state["next_at"] = schedule.next_check(
            now, interval, not_before=not_before, max_s=settings.max_interval_s
        )
        store.put_feed(spec.location, state, next_at=state["next_at"])
    log.info(
        "feed_polled",
        source=spec.name,
        url=spec.location,
        status=res.status,
        not_modified=result.not_modified,
        parsed=parsed,
        seen=result.seen,
        queued=result.queued,
        pages=result.pages,
    )
    return result


def _not_a_feed(
    spec: SourceSpec, res: FetchResult, options: ReadOptions | None, *, in_process: bool
) -> ReadResult | None:
    """
    Read a one-shot source that is no feed as what it is: a page now, a sitemap by a poll of its own.

    Returns None when it is neither (the caller raises the parse error).
    """
    kind = sniff_kind(res)
    if kind == "page":
        return read_page(spec, res, in_process=in_process)
    if kind == "sitemap":
        sitemap = SourceSpec("sitemap", spec.location, spec.name, spec.tz, spec.interval_s)
        dispatch.send(TASK_POLL, sitemap.to_dict(), None, None, (options or ReadOptions()).to_dict())
        log.info("source_is_a_sitemap", url=spec.location)
        return ReadResult(source=spec.name, kind="sitemap")
    return None


def _parse(res: FetchResult) -> ParsedFeed:
    ctype = (
        f"{res.content_type}; charset={res.charset}" if res.content_type and res.charset else res.content_type
    )
    return parse_feed(res.body, url=res.url, content_type=ctype)


def _move(spec: SourceSpec, new_url: str, state: dict[str, Any], store: StateStore) -> SourceSpec:
    """Move the source to where a permanent redirect points, keeping its state and seen entries."""
    moved = replace(spec, location=new_url)
    state.update(spec=moved.to_dict(), redirected_from=spec.location)
    store.move_feed(spec.location, new_url, state)
    log.info("feed_moved", source=spec.name, url=spec.location, new_url=new_url)
    return moved


def backfill(
    head: list[str],
    spec: SourceSpec,
    result: ReadResult,
    *,
    store: StateStore,
    settings: Settings,
    fetcher: Fetcher,
    limit: int,
) -> bool:
    """
    Read the older documents an RFC 5005 feed links to, once each, at most `limit` per poll.

    `head` holds the pages the feed just read links to; the pages a stopped
    backfill left (its frontier) come after them, so an unchanged poll (a
    304, the same body) passes none and goes on where the last one stopped.
    Returns True when pages are left for a later poll (the feed state
    remembers it as `backfill_pending`).

    Archive documents (`prev-archive`) never change (RFC 5005 §4), and paged
    feeds (`next`/`previous`) are read for backfill only, so every page read is
    remembered and never fetched again: a later poll stops at the first known page.
    Each page takes a slot of its host's shared rate (`worker.schedule.politeness`), only
    when one is free now, so it never jumps the queue of article fetches:
    otherwise, or at `limit`, or when a page fails, the backfill stops for
    this poll and the pages not read yet (the frontier) are remembered, so
    the next poll goes on from there.
    """
    pages_key = f"pages:{spec.location}"
    frontier_key = f"backfill:{spec.location}"
    saved = _frontier(store, frontier_key)
    todo = list(dict.fromkeys([*head, *saved]))
    policy = politeness.policy_of(settings)
    stopped = "limit"
    while todo and result.pages < limit:
        url = todo[0]
        if url == spec.location or not store.unseen_entries(pages_key, [url]):
            todo.pop(0)
            continue
        if not politeness.take_now(url, store=store, policy=policy):
            # The host has no slot free now; the next poll takes it.
            stopped = "host_rate"
            break
        try:
            res = fetcher.fetch_retrying(url, accept=FEED_ACCEPT)
            page = _parse(res)
        except IngestError as exc:
            log.warning("feed_page_failed", source=spec.name, url=url, error=f"{type(exc).__name__}: {exc}")
            stopped = "failed"
            break
        todo.pop(0)
        result.pages += 1
        _queue_entries(page, res, spec, result, store=store, settings=settings)
        # Recorded once its entries are sent: a poll killed before reads the page again.
        store.add_entries(pages_key, [url])
        todo.extend(u for u in _page_links(page, url) if u not in todo)
    if todo != saved:
        store.set_checkpoint(frontier_key, "\n".join(todo))
    if todo:
        log.info("feed_backfill_paused", source=spec.name, pages=result.pages, left=len(todo), reason=stopped)
    return bool(todo)


def _frontier(store: StateStore, key: str) -> list[str]:
    """Return the pages a paused backfill had still to read (one URL a line)."""
    return [u for u in (store.get_checkpoint(key) or "").split("\n") if u]


def _page_links(feed: ParsedFeed, base: str) -> list[str]:
    return [urljoin(base, href) for rel in PAGE_RELS if (href := feed.links.get(rel))]


def _queue_entries(
    feed: ParsedFeed,
    res: FetchResult,
    spec: SourceSpec,
    result: ReadResult,
    *,
    store: StateStore,
    settings: Settings,
) -> None:
    """
    Send the work of the entries not seen before, then record them as seen (send, then mark).

    A poll killed between the two sends them again on its next run; downstream
    drops what was done already (an emitted article is skipped by id).
    """
    ref = replace(spec.ref(), title=feed.title)
    result.seen += len(feed.entries)
    fresh = set(store.unseen_entries(spec.location, [e.key for e in feed.entries]))
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
            dispatch.send(TASK_FETCH, _fetch_payload(entry, spec, feed.title))
        else:
            continue
        result.queued += 1
    if batch:
        dispatch.send(TASK_PROCESS, batch)
    # Entries without work (no link, no content) are recorded too: they never get any.
    # The memory keeps at least twice the feed's length: an entry is forgotten only after
    # as many newer ones as the feed lists came and went since, twice over.
    keep = max(settings.entry_memory, 2 * len(feed.entries))
    store.add_entries(spec.location, list(fresh), keep=keep)


def record_error(
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
    state.update(errors=errors, last_error=f"{type(exc).__name__}: {exc}", last_polled=int(now))
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
    store.put_feed(spec.location, state, next_at=None if state.get("disabled") else state["next_at"])
    store.incr("feed_errors")
    # The failure itself is logged once, by the poll task (`poll_failed`).
