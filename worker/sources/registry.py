"""Register, list and remove scheduled sources: what `python -m worker sources` does, over a state store."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from worker.errors import SourceError
from worker.fetch.client import Fetcher
from worker.models import SourceSpec
from worker.sources.discovery import discover
from worker.sources.opml import OpmlFeed, parse_opml, render_opml
from worker.sources.spec import resolve
from worker.state import StateStore

# Cleared when a source is added again, so re-adding a disabled feed revives it.
_FAILURE_KEYS = ("disabled", "errors", "last_error")


def register(store: StateStore, spec: SourceSpec, *, now: float | None = None) -> None:
    """Store the source's spec (keeping what polling learned) and make it due now."""
    state = store.get_feed(spec.location) or {}
    for key in _FAILURE_KEYS:
        state.pop(key, None)
    state["spec"] = spec.to_dict()
    store.put_feed(spec.location, state, next_at=time.time() if now is None else now)


def add(
    store: StateStore,
    target: str,
    *,
    fetcher: Fetcher | None,
    name: str | None = None,
    tz: str = "UTC",
    interval_s: float | None = None,
) -> list[SourceSpec]:
    """
    Add a feed, an archive, or the feeds an HTML page leads to; return what was added.

    With a `fetcher`, an http(s) URL is fetched: a feed is added as it is, a
    page is searched for its feeds (`worker.sources.discovery`).  Without one, the
    URL is added unchecked.

    Raises:
        SourceError: a path that does not exist, or a page with no feed.
        IngestError: the URL cannot be fetched.
    """
    spec = resolve(target, name=name, tz=tz)
    spec = replace(spec, interval_s=interval_s)
    specs = [spec]
    if spec.kind == "feed" and fetcher is not None and spec.location.startswith(("http://", "https://")):
        urls = discover(spec.location, fetcher)
        if not urls:
            raise SourceError(f"{target}: no feed found (not a feed, no <link> to one, no usual path)")
        specs = [replace(resolve(u, name=name, tz=tz), interval_s=interval_s) for u in urls]
    for s in specs:
        register(store, s)
    return specs


def remove(store: StateStore, url: str) -> bool:
    """Forget a source entirely (state, schedule, seen entries); True when it was known."""
    return store.delete_feed(url)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(store: StateStore) -> list[dict[str, Any]]:
    """Return one row per known source: kind, last status, ETag, next check, errors, disabled and why."""
    due = store.scheduled()
    urls = sorted(set(due) | set(store.feed_urls()))
    states = store.get_feeds(urls)
    out = []
    for url in urls:
        st = states.get(url, {})
        spec = st.get("spec") or {}
        out.append(
            {
                "url": url,
                "kind": spec.get("kind"),
                "name": spec.get("name"),
                "last_status": st.get("last_status"),
                "etag": st.get("etag"),
                "last_modified": st.get("last_modified"),
                "next_check": _iso(due.get(url)),
                "errors": st.get("errors", 0),
                "last_error": st.get("last_error"),
                "disabled": st.get("disabled"),
            }
        )
    return out


def import_opml(store: StateStore, data: bytes, *, tz: str = "UTC") -> list[str]:
    """
    Register every feed of an OPML file (known ones keep their state); return the URLs added.

    Raises:
        ParseError: the file is not OPML.
    """
    now = time.time()
    feeds = parse_opml(data)
    known = store.get_feeds([f.url for f in feeds])
    items: list[tuple[str, dict[str, Any], float | None]] = []
    for feed in feeds:
        if feed.url in known or not feed.url.startswith(("http://", "https://")):
            continue
        spec = SourceSpec("feed", feed.url, feed.title or resolve(feed.url).name, tz)
        items.append((feed.url, {"spec": spec.to_dict()}, now))
    store.put_feeds(items)
    return [url for url, _, _ in items]


def export_opml(store: StateStore) -> str:
    """Return every registered feed (not archives) as an OPML document."""
    urls = store.feed_urls()
    states = store.get_feeds(urls)
    feeds = [
        OpmlFeed(url, (states[url].get("spec") or {}).get("name"))
        for url in urls
        if url in states and (states[url].get("spec") or {}).get("kind", "feed") == "feed"
    ]
    return render_opml(feeds)
