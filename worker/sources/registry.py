"""Register, list and remove scheduled sources: what `python -m worker sources` does, over a state store."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from worker.errors import SourceError
from worker.fetch.client import Fetcher
from worker.models import SourceSpec, default_name
from worker.sources.discovery import discover
from worker.sources.opml import OpmlFeed, parse_opml, render_opml
from worker.sources.spec import resolve
from worker.state import StateStore

# Cleared when a source is added again, so re-adding a disabled feed revives it.
_FAILURE_KEYS = ("disabled", "errors", "last_error")

Status = Literal["added", "already subscribed", "updated", "revived"]


@dataclass(frozen=True)
class Added:
    """One source `add` dealt with, and what it did: added, revived, updated, or nothing (already there)."""

    spec: SourceSpec
    status: Status


def subscribed(store: StateStore) -> set[str]:
    """
    Return the sources subscribed to: those in the due-set, and those disabled (unscheduled for failing).

    A one-shot `ingest` stores a feed's validators and seen entries but never
    schedules it, so its state alone does not make a subscription.
    """
    due = set(store.scheduled())
    urls = store.feed_urls()
    states = store.get_feeds([u for u in urls if u not in due])
    return due | {u for u, st in states.items() if st.get("disabled")}


def _status(store: StateStore, spec: SourceSpec, known: set[str]) -> Status:
    state = store.get_feed(spec.location)
    if state is None or spec.location not in known:
        return "added"
    if state.get("disabled"):
        return "revived"
    return "already subscribed" if state.get("spec") == spec.to_dict() else "updated"


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
) -> list[Added]:
    """
    Subscribe to a feed, a sitemap, an archive, or the feeds an HTML page leads to; say what was done to each.

    With a `fetcher`, an http(s) URL is fetched: a feed or a sitemap is added
    as it is, a page is searched for its feeds (`worker.sources.discovery`).  Without one, the
    URL is added unchecked.  A source already subscribed with the same spec is
    left as it is; a disabled one is revived.

    Raises:
        SourceError: a path that does not exist, or a page with no feed.
        IngestError: the URL cannot be fetched.
    """
    spec = resolve(target, name=name, tz=tz)
    spec = replace(spec, interval_s=interval_s)
    specs = [spec]
    web = spec.location.startswith(("http://", "https://"))
    if spec.kind in {"feed", "sitemap"} and fetcher is not None and web:
        found = discover(spec.location, fetcher)
        if not found:
            raise SourceError(
                "no feed found (not a feed or a sitemap, no <link> to a feed, no usual path)", url=target
            )
        specs = [replace(resolve(u, name=name, tz=tz, kind=k), interval_s=interval_s) for k, u in found]
    known = subscribed(store)
    done = [Added(s, _status(store, s, known)) for s in specs]
    for a in done:
        if a.status != "already subscribed":
            register(store, a.spec)
    return done


def remove(store: StateStore, url: str) -> bool:
    """Forget a source entirely (state, schedule, seen entries); True when it was known."""
    return store.delete_feed(url)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(store: StateStore) -> list[dict[str, Any]]:
    """Return one row per subscribed source: kind, last status, ETag, next check, errors, disabled and why."""
    due = store.scheduled()
    urls = sorted(subscribed(store))
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


@dataclass(frozen=True)
class OpmlImport:
    """What an OPML import did: the feeds added, and how many outlines it passed over and why."""

    added: list[str]
    known: int  # already subscribed: left as they are
    local: int  # not http(s) (file: and relative outlines): never imported


def import_opml(store: StateStore, data: bytes, *, tz: str = "UTC") -> OpmlImport:
    """
    Subscribe to every web feed of an OPML file, named by its outline's title.

    Feeds already subscribed keep their state; a feed known only from a
    one-shot run keeps its validators.  Outlines that are not http(s) (a
    `file:` feed in an exported reader list) are counted and left out: a local
    file is subscribed with `sources add PATH`, deliberately.

    Raises:
        ParseError: the file is not OPML.
    """
    now = time.time()
    feeds = parse_opml(data)
    web = [f for f in feeds if f.url.startswith(("http://", "https://"))]
    known = subscribed(store)
    states = store.get_feeds([f.url for f in web if f.url not in known])
    items: list[tuple[str, dict[str, Any], float | None]] = []
    for feed in web:
        if feed.url in known:
            continue
        spec = SourceSpec("feed", feed.url, feed.title or default_name(feed.url), tz)
        items.append((feed.url, {**states.get(feed.url, {}), "spec": spec.to_dict()}, now))
    store.put_feeds(items)
    return OpmlImport([url for url, _, _ in items], known=len(web) - len(items), local=len(feeds) - len(web))


def export_opml(store: StateStore) -> str:
    """Return every subscribed feed (not archives) as an OPML document."""
    urls = sorted(subscribed(store))
    states = store.get_feeds(urls)
    feeds = [
        OpmlFeed(url, (states[url].get("spec") or {}).get("name"))
        for url in urls
        if url in states and (states[url].get("spec") or {}).get("kind", "feed") == "feed"
    ]
    return render_opml(feeds)
