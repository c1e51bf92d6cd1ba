"""
Serve the status page on 127.0.0.1: read a snapshot from the state store, render it (`worker.app.status`).

The store is the shared one (Redis, or the embedded SQLite file), so the page
sees every worker.  A thin `http.server` edge: one page at `/`, read anew at
each request, a 503 page while the store is unreachable.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

from worker.app import activity
from worker.app.console import settings_of
from worker.app.status import MINUTES, Snapshot, SourceRow, group_dead, render, source_row, worst_first
from worker.config import Settings
from worker.errors import IngestError
from worker.models import archive_uri
from worker.state import StateStore, open_store

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8089
DEFAULT_ROWS = 200
# Dead letters read per page; past it the count says "at least".
DEAD_READ_LIMIT = 10_000


def _source_record_url(row: SourceRow, state: dict[str, Any]) -> str:
    """Return the `source.url` of the records a source gives (an archive's is `archive:NAME`)."""
    if row.kind == "archive":
        return archive_uri(str((state.get("spec") or {}).get("name") or row.name))
    return row.url


def collect(
    store: StateStore,
    *,
    now: float | None = None,
    max_rows: int = DEFAULT_ROWS,
    mode: str = "",
) -> Snapshot:
    """
    Read what the page shows from the state store.

    At most `max_rows` sources are read (`SourceOverview.sources_page`: the
    disabled, then the failing, then others by next check, through the
    store's indexes), so a request costs the same with a million feeds; the
    totals come from counts.  Only the shown ones are asked for their last
    new article.
    """
    at = time.time() if now is None else now
    last = int(at // 60)
    first = last - MINUTES + 1
    timelines = [store.timeline(activity.timeline_name(s), first) for s in activity.CHARTED]
    new, duplicate = (tuple(t.get(m, 0) for m in range(first, last + 1)) for t in timelines)

    # Subscribed sources only, as `sources list` (`worker.sources.registry.subscribed`): scheduled or
    # disabled; a one-shot `ingest` leaves a feed's state behind without subscribing it.
    page = store.sources_page(max_rows)
    states = {url: state for url, state, _ in page.rows}
    rows = worst_first([source_row(url, state, next_at) for url, state, next_at in page.rows])
    shown = []
    for row in rows:
        mark = store.cache_get(activity.last_new_key(_source_record_url(row, states.get(row.url, {}))))
        shown.append(row if mark is None else _with_last_new(row, float(mark)))
    counts = {"failing": page.failing, "disabled": page.disabled}
    if len(rows) == page.total:  # every source read: the ones never polled yet can be counted too
        counts["waiting"] = sum(r.health == "waiting" for r in rows)

    letters = store.dead_letters(DEAD_READ_LIMIT)
    return Snapshot(
        now=at,
        mode=mode,
        first_minute=first,
        new=new,
        duplicate=duplicate,
        sources=tuple(shown),
        sources_total=page.total,
        health_counts=counts,
        dead=group_dead(letters),
        dead_total=len(letters),
        dead_capped=len(letters) >= DEAD_READ_LIMIT,
    )


def _with_last_new(row: SourceRow, at: float) -> SourceRow:
    return replace(row, last_new=at)


_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


# No script runs on the page and nothing is loaded from elsewhere: the policy tells the browser so.
_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def mode_of(settings: Settings) -> str:
    """Return which state store the page reads, without the Redis URL (it may hold a password)."""
    return "Redis" if settings.redis_url else f"embedded SQLite ({settings.state_dir})"


def make_server(settings: Settings, port: int, *, max_rows: int = DEFAULT_ROWS) -> ThreadingHTTPServer:
    """Return a server of the page on 127.0.0.1:`port` (0: a free port), bound and not yet serving."""
    store = open_store(settings)
    mode = mode_of(settings)

    class Handler(BaseHTTPRequestHandler):
        server_version = "news-ingest-status"

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            if self.path.split("?", 1)[0] != "/":
                self._send(404, "<!doctype html><title>Not found</title><p>Not found: the page is at /.")
                return
            try:
                page = render(collect(store, max_rows=max_rows, mode=mode))
            except IngestError as exc:  # the store is down: say so, and the next reload tries again
                log.warning("status_page_failed", error=str(exc))
                reason = html.escape(str(exc))
                page = f"<!doctype html><title>Status unavailable</title><p>State store unavailable: {reason}"
                self._send(503, page, body=body)
                return
            self._send(200, page, body=body)

        def _send(self, code: int, page: str, *, body: bool = True) -> None:
            data = page.encode("utf-8")
            self.send_response(code)
            for name, value in _HEADERS.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("status_request", line=format % args)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def serve(settings: Settings, port: int = DEFAULT_PORT, *, max_rows: int = DEFAULT_ROWS) -> int:
    """Serve the page on 127.0.0.1 until interrupted; return the exit code."""
    server = make_server(settings, port, max_rows=max_rows)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    log.info("status_page_serving", url=url)
    print(f"status page on {url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """`python -m worker status`: serve the page until interrupted."""
    return serve(settings_of(args), args.port, max_rows=args.rows)
