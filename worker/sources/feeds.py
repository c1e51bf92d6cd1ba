"""
Parse RSS, Atom and JSON Feed bytes into frozen records, refusing XML entity tricks.

Pure: bytes in, records out.  feedparser is handed a byte stream, never a
URL or a string it might open as a file name, so it cannot fetch or read
anything.  Every failure surfaces as `ParseError`.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import io
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import feedparser

from worker.errors import ParseError


@dataclass(frozen=True)
class FeedEntry:
    """
    One entry of a feed, with the hints the pipeline uses before fetching.

    `key` is stable across polls and unique within the feed: it is what
    "have we seen this entry?" is asked with.  `published` is ISO UTC when
    the date could be read, else the raw string.
    """

    key: str
    link: str | None
    title: str | None
    summary: str | None
    published: str | None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    content: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """
    A parsed feed.

    `links` maps a feed-level link relation to its href; RFC 5005 archives
    use `next-archive`, `prev-archive` and `current`, paged feeds `next`.
    `bozo` says why a feed was only loosely readable (None when clean).
    """

    title: str | None
    link: str | None
    ttl_s: int | None
    entries: tuple[FeedEntry, ...]
    bozo: str | None = None
    links: Mapping[str, str] = field(default_factory=dict)
    version: str = ""


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)

# Byte signatures of encodings that hide ASCII markup from a byte scan
# (XML 1.0 appendix F, as feedparser's own sniffing uses them).
_WIDE_SIGNATURES = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)


def body_hash(body: bytes) -> str:
    """
    Return a short hex digest of a feed body, to skip parsing it when unchanged.

    64 bits: a collision would only delay noticing one change of one feed,
    and the digest is stored for every feed (`worker.state.codec`).
    """
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def _candidate_encodings(body: bytes, content_type: str | None) -> set[str]:
    """Return every non-default encoding a parser might read `body` in."""
    names = {name for signature, name in _WIDE_SIGNATURES if body.startswith(signature)}
    declared = _XML_ENCODING.match(body[:512])
    if declared:
        names.add(declared.group(1).decode("ascii"))
    header = _CHARSET.search(content_type or "")
    if header:
        names.add(header.group(1))
    valid = set()
    for name in names:
        try:
            valid.add(codecs.lookup(name).name)
        except LookupError:
            continue
    return valid


def refuse_entity_declarations(body: bytes, content_type: str | None = None) -> None:
    """
    Raise `ParseError` when a DOCTYPE is followed by an entity declaration.

    Entity declarations are how billion-laughs, quadratic blow-up and
    external-entity (XXE) attacks work, and no real feed needs them.  The
    scan is a regex over bytes (and over the text in any encoding the parser
    might pick, so UTF-16 or UTF-7 cannot hide the markup): linear time,
    no parser involved.  It looks past the first `]>` on purpose, because a
    comment inside the internal subset may contain one.
    """
    views: list[bytes] = [body]
    for name in _candidate_encodings(body, content_type):
        views.append(body.decode(name, errors="replace").encode("utf-8", errors="replace"))
    for view in views:
        doctype = _DOCTYPE.search(view)
        if doctype and _ENTITY.search(view, doctype.start()):
            raise ParseError("xml entity declarations refused")


def _iso(parsed: Any) -> str | None:
    """Return feedparser's UTC struct_time as ISO 8601 with a `Z`."""
    if not isinstance(parsed, time.struct_time | tuple):
        return None
    try:
        stamp = calendar.timegm((*tuple(parsed)[:6], 0, 0, 0))
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _json_date(value: Any) -> str | None:
    """Return an RFC 3339 JSON Feed date as ISO UTC, or the raw string."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return value.strip()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    """Return a stripped string, or None for anything empty or not a string."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _get(mapping: Any, key: str) -> Any:
    # dict.get bypasses FeedParserDict's key aliases, which warn (and so fail
    # under filterwarnings=error) when `updated` is read but only `published` exists.
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


@dataclass(frozen=True)
class _Draft:
    """An entry before its key is chosen, which needs the whole feed."""

    guid: str | None
    entry: FeedEntry


def _hash_key(entry: FeedEntry) -> str:
    parts = [entry.title or "", entry.published or ""]
    if not any(parts):
        # Neither title nor date: the text is all that tells entries apart.
        parts.append(entry.content or entry.summary or "")
    return "hash:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def assign_keys(drafts: list[_Draft]) -> tuple[FeedEntry, ...]:
    """
    Choose each entry's key: guid, then link, then a hash of title and date.

    A feed that repeats one guid (or one link) for every entry would make
    all entries look like one; when a field is not unique within the feed it
    is not used as a key for any entry, so the keys stay stable across polls.
    """

    def unique(values: list[str | None]) -> bool:
        present = [v for v in values if v]
        return len(present) == len(set(present))

    use_guid = unique([d.guid for d in drafts])
    use_link = unique([d.entry.link for d in drafts])
    keyed = []
    for draft in drafts:
        if use_guid and draft.guid:
            key = "guid:" + draft.guid
        elif use_link and draft.entry.link:
            key = "link:" + draft.entry.link
        else:
            key = _hash_key(draft.entry)
        keyed.append(replace(draft.entry, key=key))
    return tuple(keyed)


def _xml_entry(raw: Any) -> _Draft:
    authors = [_text(_get(a, "name")) for a in _get(raw, "authors") or [] if isinstance(a, dict)]
    tags = [
        _text(_get(t, "term")) or _text(_get(t, "label"))
        for t in _get(raw, "tags") or []
        if isinstance(t, dict)
    ]
    contents = [c for c in _get(raw, "content") or [] if isinstance(c, dict)]
    html = [c for c in contents if "html" in str(_get(c, "type") or "")]
    content = _text(_get((html or contents or [{}])[0], "value"))
    published = (
        _iso(_get(raw, "published_parsed"))
        or _iso(_get(raw, "updated_parsed"))
        or _text(_get(raw, "published"))
        or _text(_get(raw, "updated"))
    )
    entry = FeedEntry(
        key="",
        link=_text(_get(raw, "link")),
        title=_text(_get(raw, "title")),
        summary=_text(_get(raw, "summary")),
        published=published,
        authors=_unique(authors or [_text(_get(raw, "author"))]),
        tags=_unique(tags),
        content=content,
    )
    return _Draft(guid=_text(_get(raw, "id")), entry=entry)


def _feed_links(links: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for link in links or []:
        rel, href = _text(_get(link, "rel")) or "alternate", _text(_get(link, "href"))
        if href and rel not in found:
            found[rel] = href
    return found


def _ttl_seconds(value: Any) -> int | None:
    text = _text(value)
    if text is None or not text.isdigit():
        return None
    return int(text) * 60  # RSS 2.0 <ttl> is in minutes


def _parse_xml(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    refuse_entity_declarations(body, content_type)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A BytesIO, never bytes or str: feedparser opens a string as a URL or
    # a file name if it looks like one.
    result = feedparser.parse(io.BytesIO(body), response_headers=headers)
    feed = _get(result, "feed") or {}
    raw_entries = _get(result, "entries") or []
    version = _get(result, "version") or ""
    if not version and not raw_entries:
        reason = _get(result, "bozo_exception")
        raise ParseError(f"not a feed{': ' + str(reason) if reason else ''}", url=url)
    bozo_exc = _get(result, "bozo_exception") if _get(result, "bozo") else None
    if content_type is None and isinstance(bozo_exc, feedparser.NonXMLContentType):
        # Only says no header was given; a file or archive source has none.
        bozo_exc = None
    return ParsedFeed(
        title=_text(_get(feed, "title")),
        link=_text(_get(feed, "link")),
        ttl_s=_ttl_seconds(_get(feed, "ttl")),
        entries=assign_keys([_xml_entry(raw) for raw in raw_entries]),
        bozo=f"{type(bozo_exc).__name__}: {bozo_exc}" if bozo_exc is not None else None,
        links=_feed_links(_get(feed, "links")),
        version=version,
    )


def _json_authors(item: dict[str, Any]) -> Iterator[str | None]:
    authors = item.get("authors")
    if isinstance(authors, list):
        yield from (_text(a.get("name")) for a in authors if isinstance(a, dict))
    author = item.get("author")  # JSON Feed 1.0
    if isinstance(author, dict):
        yield _text(author.get("name"))


def _json_entry(item: dict[str, Any]) -> _Draft:
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    tags = item.get("tags")
    html, plain = _text(item.get("content_html")), _text(item.get("content_text"))
    entry = FeedEntry(
        key="",
        link=_text(item.get("url")) or _text(item.get("external_url")),
        title=_text(item.get("title")),
        summary=_text(item.get("summary")),
        published=_json_date(item.get("date_published")) or _json_date(item.get("date_modified")),
        authors=_unique(_json_authors(item)),
        tags=_unique(_text(t) for t in tags) if isinstance(tags, list) else (),
        content=html or plain,
    )
    return _Draft(guid=guid or None, entry=entry)


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}", url=url) from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise ParseError("JSON is not a JSON Feed", url=url)
    items = doc.get("items")
    drafts = [_json_entry(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    links = {"next": _text(doc.get("next_url")), "self": _text(doc.get("feed_url"))}
    return ParsedFeed(
        title=_text(doc.get("title")),
        link=_text(doc.get("home_page_url")),
        ttl_s=None,
        entries=assign_keys(drafts),
        bozo=None if isinstance(items, list) else "items missing",
        links={rel: href for rel, href in links.items() if href},
        version="json" + version.rsplit("/", 1)[-1].replace(".", ""),
    )


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    """Sniff the body first, since servers mislabel feeds; fall back on the content type."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return True
    if head[:1] == b"<":
        return False
    return "json" in (content_type or "").lower()


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """
    Parse an RSS, Atom, RDF or JSON Feed document.

    Args:
        body: The raw bytes as fetched.
        url: The feed's URL, the base for relative links.
        content_type: The Content-Type header, charset included, if any.

    Raises:
        ParseError: Entity declarations, not a feed, or anything unreadable.
    """
    try:
        if _looks_like_json(body, content_type):
            return _parse_json(body, url)
        return _parse_xml(body, url, content_type)
    except ParseError:
        raise
    except Exception as exc:
        # feedparser and its sgmllib fallback are old code: whatever they
        # throw on hostile input must not escape as anything but ParseError.
        raise ParseError(f"feed unreadable: {type(exc).__name__}: {exc}", url=url) from exc
