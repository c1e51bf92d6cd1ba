"""Read one article page named as a source (an http(s) URL or a local `.html` file): one `page` record."""

from __future__ import annotations

import structlog

from worker import dispatch
from worker.dispatch import TASK_PROCESS
from worker.fetch.client import PAGE_ACCEPT, Fetcher, FetchResult
from worker.models import RawItem, SourceSpec, raw_to_dict
from worker.poll.result import ReadResult
from worker.sources.discovery import feed_links

log = structlog.get_logger(__name__)


def poll_page(spec: SourceSpec, *, fetcher: Fetcher, in_process: bool = False) -> ReadResult:
    """
    Fetch an article page named as a source and queue it for processing.

    Raises:
        IngestError: the page cannot be fetched.
    """
    # The operator named this page, so a local file is fine (unlike a file: link found in a feed).
    res = fetcher.fetch_retrying(spec.location, accept=PAGE_ACCEPT, allow_file=True)
    return read_page(spec, res, in_process=in_process)


def read_page(spec: SourceSpec, res: FetchResult, *, in_process: bool = False) -> ReadResult:
    """
    Queue a fetched page as one article of `source.kind` "page", and say which feeds it links to.

    The record's URL is the one given (not where redirects ended), so the
    same page given twice has the same id and is emitted once.  The feeds it
    declares are reported (`ReadResult.feeds`, the `page_read` event), not
    read: subscribing is the operator's choice (`sources add URL`).
    """
    page = SourceSpec("page", spec.location, spec.name, spec.tz)
    item = RawItem(
        url=spec.location,
        source=page.ref(),
        content=res.text(),
        content_type="html",
        fetched_at=res.fetched_at,
    )
    dispatch.send(TASK_PROCESS, [raw_to_dict(item)])
    # A relative link of a local file resolves to a file: URL that names nothing: web feeds only.
    feeds = [u for u in feed_links(item.content, res.url) if u.startswith(("http://", "https://"))]
    # In-process (`ingest`) the CLI says which feeds it found; the service logs it.
    (log.debug if in_process else log.info)("page_read", url=spec.location, feeds=feeds)
    return ReadResult(source=spec.name, seen=1, queued=1, kind="page", feeds=feeds)
