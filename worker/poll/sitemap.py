"""
Read a remote sitemap or sitemap index: queue its new pages, read its child sitemaps as sitemaps.

A sitemap source is polled like a feed (validators, body hash, the next
check, errors counted and the source disabled when it keeps failing); each
page it lists is fetched once (the seen entries of the source) through the
fetch stage.  A child sitemap of an index is read by its own poll task, which
takes a slot of its host's rate first (`worker.schedule.politeness`), since an
index may list hundreds of them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import TASK_FETCH, TASK_POLL
from worker.errors import IngestError
from worker.fetch.article import polite_wait
from worker.fetch.client import Fetcher
from worker.models import SourceSpec
from worker.poll.feed import record_error
from worker.poll.result import ReadOptions, ReadResult, parse_since
from worker.schedule import intervals as schedule
from worker.schedule import politeness
from worker.sources.archives import SitemapEntry, iter_sitemap_urls
from worker.sources.archives.sitemap import SITEMAP_MAX_BYTES
from worker.sources.feeds import body_hash
from worker.state import StateStore

log = structlog.get_logger(__name__)

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.1"
# An index of indexes at most: the protocol allows none, and a loop must end.
MAX_DEPTH = 2


def poll_sitemap(
    spec: SourceSpec,
    *,
    settings: Settings,
    store: StateStore,
    fetcher: Fetcher,
    options: ReadOptions,
    state: dict[str, Any] | None = None,
) -> ReadResult:
    """
    Poll a sitemap source: a conditional GET, new pages to the fetch stage, children to polls of their own.

    A one-shot read (`options.once`) keeps the validators but never schedules;
    with `options.since` it sends none, so an earlier `since` than the last
    run's finds what that one left out.

    Raises:
        IngestError: the sitemap cannot be fetched or read (after the state is updated).
    """
    result = ReadResult(source=spec.name, kind="sitemap")
    state = dict(state) if state is not None else (store.get_feed(spec.location) or {})
    state["spec"] = spec.to_dict()
    now = time.time()
    interval = spec.interval_s or state.get("interval_s") or settings.poll_interval_s
    validators = not (options.once and options.since)
    try:
        res = fetcher.fetch_retrying(
            spec.location,
            etag=state.get("etag") if validators else None,
            last_modified=state.get("last_modified") if validators else None,
            accept=SITEMAP_ACCEPT,
            allow_file=True,  # the operator named this source
            gunzip=True,  # a `sitemap.xml.gz`, or a sitemap served as application/gzip
        )
        state.update(errors=0, last_status=res.status, last_polled=int(now), last_error=None)
        if res.status == 304:
            result.not_modified = True
            state["etag"] = res.etag or state.get("etag")
        elif validators and body_hash(res.body) == state.get("body_hash"):
            result.not_modified = True
        else:
            state.update(etag=res.etag, last_modified=res.last_modified, body_hash=body_hash(res.body))
            queue_sitemap(res.body, spec, result, store=store, options=options, max_bytes=_cap(settings))
    except IngestError as exc:
        if not options.once:
            record_error(spec, state, exc, store=store, settings=settings, now=now, interval=interval)
        raise
    if options.once:
        store.put_feed(spec.location, state)
    else:
        state["disabled"] = None
        state["next_at"] = schedule.next_check(now, interval, max_s=settings.max_interval_s)
        store.put_feed(spec.location, state, next_at=state["next_at"])
    log.info("sitemap_polled", status=res.status, not_modified=result.not_modified, **_counts(result))
    return result


def read_child(
    spec: SourceSpec,
    *,
    settings: Settings,
    store: StateStore,
    fetcher: Fetcher,
    options: ReadOptions,
    in_process: bool,
) -> ReadResult:
    """
    Read `options.document`, a child sitemap of the source `spec`, at its host's pace.

    Its pages count as the source's (one set of seen entries); the host's slot
    is taken first, waited for in-process, else the task is sent again for
    when its slot comes, carrying it.

    Raises:
        IngestError: the child cannot be fetched or read, or robots.txt refuses it.
    """
    url = options.document
    assert url is not None
    result = ReadResult(source=spec.name, kind="sitemap")
    slot_wait = polite_wait(
        url,
        {"slot": options.slot},
        store=store,
        fetcher=fetcher,
        settings=settings,
        sleep=in_process,
    )
    if slot_wait.wait_s > 0:
        cap = politeness.countdown_cap_s(politeness.policy_of(settings))
        held = replace(options, slot=time.time() + slot_wait.wait_s)
        dispatch.send_later(TASK_POLL, min(slot_wait.wait_s, cap), spec.to_dict(), None, None, held.to_dict())
        log.info("sitemap_deferred", document=url, delay_s=round(slot_wait.wait_s, 2))
        return result
    res = fetcher.fetch_retrying(url, accept=SITEMAP_ACCEPT, gunzip=True)
    queue_sitemap(res.body, spec, result, store=store, options=options, max_bytes=_cap(settings))
    log.info("sitemap_read", document=url, depth=options.depth, **_counts(result))
    return result


def queue_sitemap(
    body: bytes,
    spec: SourceSpec,
    result: ReadResult,
    *,
    store: StateStore,
    options: ReadOptions,
    max_bytes: int = SITEMAP_MAX_BYTES,
) -> None:
    """
    Send the new pages of a sitemap body to the fetch stage, and each child sitemap to a poll of its own.

    A body still gzipped (served as XML, or by a `file:` URL) is gunzipped
    here, up to `max_bytes` of XML.

    Raises:
        ParseError: the body is not a sitemap.
        BodyTooLarge: it is over `max_bytes` once decompressed.
    """
    since = parse_since(options.since)
    entries = list(iter_sitemap_urls(body, since=since, max_bytes=max_bytes))
    pages = [e for e in entries if e.kind == "url"]
    result.seen += len(pages)
    fresh = set(store.add_entries(spec.location, [e.url for e in pages]))
    for entry in pages:
        if entry.url in fresh:
            dispatch.send(TASK_FETCH, fetch_payload(entry, spec))
            result.queued += 1
    for child in (e for e in entries if e.kind == "sitemap"):
        if options.depth >= MAX_DEPTH:
            log.warning("sitemap_too_deep", document=child.url, depth=options.depth + 1)
            continue
        nested = replace(options, document=child.url, depth=options.depth + 1, slot=None)
        dispatch.send(TASK_POLL, spec.to_dict(), None, None, nested.to_dict())
        result.pages += 1


def _cap(settings: Settings) -> int:
    """Return the most XML a sitemap may hold: the body cap, and never past the protocol's 50 MB."""
    return min(settings.max_body_bytes, SITEMAP_MAX_BYTES)


def fetch_payload(entry: SitemapEntry, spec: SourceSpec) -> dict[str, Any]:
    """Return the fetch task's payload of a sitemap page: its URL, the source, the title and date it gives."""
    published = entry.lastmod.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.lastmod else None
    return {"url": entry.url, "spec": spec.to_dict(), "hints": {"title": entry.title, "published": published}}


def _counts(result: ReadResult) -> dict[str, int]:
    return {"seen": result.seen, "queued": result.queued, "sitemaps": result.pages}
