"""Frozen records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from worker.hosts import http_host

SourceKind = Literal["feed", "archive", "page"]
ContentType = Literal["html", "text", "record"]
# A sitemap's articles are `archive` records: a sitemap is a site's index of its pages.
SpecKind = Literal["feed", "archive", "page", "sitemap"]
ARCHIVE_SCHEME = "archive:"


def archive_uri(name: str, member: str | None = None) -> str:
    """
    Return the location-free URI of an archive (`archive:NAME`) or of a member (`archive:NAME/MEMBER`).

    An archive is named by its source name (the configured one, else its base
    name), never by where it lies, so records and their ids stay the same when
    the folder moves and no local path leaks downstream.  The name is
    percent-encoded whole (a `/` in it cannot pose as a member path); the
    member keeps its `/` and has surrogate-escaped bytes (tarfile's undecodable
    names) encoded, so the URI is always valid.
    """
    base = ARCHIVE_SCHEME + quote(name, safe="")
    if member is None:
        return base
    return f"{base}/{quote(member, safe='/', errors='surrogateescape')}"


@dataclass(frozen=True)
class SourceRef:
    """
    Where an article came from, as it appears in the record's `source` key.

    `tz` is the zone a naive date from this source is read in; `title` is
    the feed's own title, when the item came through a feed that has one.
    """

    kind: SourceKind
    name: str
    url: str
    tz: str = "UTC"
    title: str | None = None

    def as_record(self) -> dict[str, str | None]:
        """Return the `source` object of a record."""
        return {"kind": self.kind, "name": self.name, "url": self.url, "title": self.title}


@dataclass(frozen=True)
class RawItem:
    """
    One article as found, before cleaning.

    `content` is HTML (`html`), seed-format text (`text`) or a JSON record
    (`record`, from a `.jsonl` archive).  The hints come from the feed entry
    or archive record and are used where the page itself says nothing;
    `entry_id` is the feed entry's guid, when the feed gives one.
    """

    url: str
    source: SourceRef
    content: str
    content_type: ContentType
    fetched_at: str | None = None
    title: str | None = None
    summary: str | None = None
    published: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    entry_id: str | None = None


@dataclass(frozen=True)
class Extracted:
    """
    What cleaning found in one page or text article.

    `text` holds paragraphs separated by blank lines with dateline, credit and
    site chrome already removed.  `published` and `updated` are ISO 8601 as
    resolved (a day, a naive time, or a time with the page's offset);
    enrichment turns them into UTC.
    """

    title: str | None
    text: str
    summary: str | None = None
    published: str | None = None
    authors: tuple[str, ...] = ()
    dateline: str | None = None
    credit: str | None = None
    tags: tuple[str, ...] = ()
    canonical_url: str | None = None
    image: str | None = None
    site_name: str | None = None
    is_article: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    updated: str | None = None
    section: str | None = None
    publisher: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    is_accessible_for_free: bool | None = None


@dataclass(frozen=True)
class Entity:
    """A named entity with its mention count in one article."""

    text: str
    label: Literal["PERSON", "ORG", "LOC", "MISC"]
    count: int


def raw_to_dict(raw: RawItem) -> dict[str, Any]:
    """Return a JSON-safe form of a raw item, for task arguments and dead letters."""
    return {
        "url": raw.url,
        "source": {
            "kind": raw.source.kind,
            "name": raw.source.name,
            "url": raw.source.url,
            "tz": raw.source.tz,
            "title": raw.source.title,
        },
        "content": raw.content,
        "content_type": raw.content_type,
        "fetched_at": raw.fetched_at,
        "title": raw.title,
        "summary": raw.summary,
        "published": raw.published,
        "authors": list(raw.authors),
        "tags": list(raw.tags),
        "entry_id": raw.entry_id,
    }


def raw_from_dict(d: dict[str, Any]) -> RawItem:
    """Rebuild a raw item from `raw_to_dict` output."""
    return RawItem(
        url=d["url"],
        source=SourceRef(**d["source"]),
        content=d["content"],
        content_type=d["content_type"],
        fetched_at=d.get("fetched_at"),
        title=d.get("title"),
        summary=d.get("summary"),
        published=d.get("published"),
        authors=tuple(d.get("authors") or ()),
        tags=tuple(d.get("tags") or ()),
        entry_id=d.get("entry_id"),
    )


@dataclass(frozen=True)
class SourceSpec:
    """
    One configured source: a feed, an article page, a sitemap (each a URL, http(s) or `file:`) or an archive.

    `location` is a URL for feeds, pages and sitemaps, and a filesystem path for archives.
    """

    kind: SpecKind
    location: str
    name: str
    tz: str = "UTC"
    interval_s: float | None = None

    def ref(self) -> SourceRef:
        """Return the `source` of the records this source yields."""
        # An archive's records name it by its source name only: its path is the operator's business.
        url = archive_uri(self.name) if self.kind == "archive" else self.location
        kind: SourceKind = "feed" if self.kind == "feed" else "page" if self.kind == "page" else "archive"
        return SourceRef(kind=kind, name=self.name, url=url, tz=self.tz)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe form for task arguments."""
        # Every field is a scalar, so a flat copy is `asdict` without its
        # recursive walk (it runs on every poll, see `poll_feed`).
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceSpec:
        """Rebuild a spec from `to_dict` output."""
        return cls(**d)


def default_name(location: str) -> str:
    """Name a source given none: an http(s) URL by its host, anything else by its file name."""
    host = http_host(location)  # the fast path: the dispatch tick names every feed it claims
    if host is not None:
        return host
    parts = urlsplit(location)
    if parts.scheme in {"http", "https"}:
        return parts.hostname or location
    return Path(unquote(parts.path) if parts.scheme == "file" else location).name or location
