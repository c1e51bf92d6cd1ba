"""
Shared records and helpers of the archive readers: items, URIs, member safety, decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Literal

import structlog
from dateutil import parser as dateparser

from worker.errors import SourceError
from worker.fetch.decode import decode_body
from worker.models import ContentType, RawItem, SourceRef, archive_uri

# Same as the default INGEST_MAX_BODY_BYTES: a member larger than any page we
# would fetch is not an article, and reading it would defeat bounded memory.
MAX_MEMBER_BYTES = 15 * 1024 * 1024

log = structlog.get_logger("worker.sources.archives")

_TEXT_SUFFIXES = {".txt": "text", ".html": "html", ".htm": "html"}
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class SitemapEntry:
    """
    One `<url>` or `<sitemap>` of a sitemap: a page (`url`) or a child sitemap (`sitemap`) to fetch.

    `lastmod` is aware UTC; Google news sitemaps give it as `news:publication_date`.
    """

    url: str
    lastmod: datetime | None = None
    title: str | None = None
    kind: Literal["url", "sitemap"] = "url"


@dataclass(frozen=True)
class ArchiveItem:
    """
    One thing found in an archive, with the checkpoint to resume after it.

    Exactly one of `item` and `fetch` is set: archives holding content (folders,
    tar, zip, JSONL, WARC, single files) give a `RawItem`; sitemaps hold only
    URLs, so they give a `SitemapEntry` for the fetch path to get.  `position` is
    opaque: store the last one seen and pass it back as `start_after`.
    """

    position: str
    item: RawItem | None = None
    fetch: SitemapEntry | None = None

    def __post_init__(self) -> None:
        """Refuse an item that is both content and a URL, or neither."""
        if (self.item is None) == (self.fetch is None):
            raise ValueError("ArchiveItem needs exactly one of item and fetch")

    @property
    def fetch_url(self) -> str | None:
        """Return the URL to fetch for a sitemap entry, else None."""
        return self.fetch.url if self.fetch is not None else None


def file_uri(path: Path) -> str:
    """Return the absolute `file://` URI of a path."""
    return path.absolute().as_uri()


def member_uri(source: SourceRef, member: str) -> str:
    """
    Return the URI of one member of an archive: `archive:SOURCE-NAME/MEMBER-PATH`.

    It is the item's `url` and, hashed, its id (`worker.ids.article_id`), so
    it holds what identifies the member whatever folder the archive lies in:
    the source's name and the member's path inside the archive.  Items with a
    URL of their own (a WARC record's target, a JSONL record's `url`) keep it.
    """
    return archive_uri(source.name, member)


def default_source(stem: str) -> SourceRef:
    """Return the `SourceRef` of an archive read without one: named by its base name, not its path."""
    return SourceRef(kind="archive", name=stem, url=archive_uri(stem))


def unsafe_reason(name: str) -> str | None:
    """
    Return why a member name could escape an extraction root, or None when safe.

    We never extract, but a name is also a URL and a label in logs, and a
    consumer could one day write it: refuse traversal in either separator.
    """
    if not name or "\x00" in name:
        return "empty_or_nul_name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute_path"
    if ".." in re.split(r"[/\\]", name):
        return "path_traversal"
    return None


def content_type_for(name: str) -> ContentType | None:
    """Return the content type a member gets by its name, or None when it is not an article."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    kind = _TEXT_SUFFIXES.get(suffix)
    return "text" if kind == "text" else "html" if kind == "html" else None


def decode_html(data: bytes, http_charset: str | None = None) -> str:
    """
    Decode an HTML body: BOM, then HTTP charset, then `<meta>` charset, then UTF-8, then cp1252.

    The fetcher's decoding (`worker.fetch.decode.decode_body`): a page read from an archive
    reads as the same page fetched.  Undecodable bytes become U+FFFD rather than failing it.
    """
    return decode_body(data, http_charset)


def decode_text(data: bytes) -> str:
    """Decode a seed-format text article (UTF-8, optional BOM)."""
    return data.decode("utf-8-sig", errors="replace")


def make_item(url: str, source: SourceRef, data: bytes, content_type: ContentType) -> RawItem:
    """Build the `RawItem` of a text or HTML file's bytes."""
    content = decode_text(data) if content_type == "text" else decode_html(data)
    return RawItem(url=url, source=source, content=content, content_type=content_type)


def read_capped(stream: IO[bytes], cap: int) -> bytes | None:
    """
    Read at most `cap` bytes; return None when there is more.

    Reading `cap + 1` bytes is what defeats zip bombs and lying size headers.
    """
    data = stream.read(cap + 1)
    return None if len(data) > cap else data


def admit_member(archive: Path, name: str, special: str | None, size: int, cap: int) -> ContentType | None:
    """
    Decide whether a tar or zip member is read, before any byte of it is.

    Returns its content type, or None (logged) for an unsafe name, a link or
    device (`special`), a file we do not read, or a declared size over `cap`.
    """
    reason = unsafe_reason(name) or special
    if reason is not None:
        warn_skipped(archive, name, reason)
        return None
    content_type = content_type_for(name)
    if content_type is None:
        return None
    if size > cap:
        warn_too_large(archive, name, cap, size)
        return None
    return content_type


def warn_too_large(archive: Path, member: str, cap: int, size: int | None = None) -> None:
    """Log a member skipped for its size."""
    log.warning(
        "archive_member_too_large", archive=str(archive), member=member, cap_bytes=cap, size_bytes=size
    )


def warn_skipped(archive: Path, member: str, reason: str) -> None:
    """Log a member skipped for safety or because it cannot be read."""
    log.warning("archive_member_skipped", archive=str(archive), member=member, reason=reason)


def int_position(path: Path, start_after: str | None) -> int:
    """Parse a numeric resume position (-1 when starting from the beginning)."""
    if start_after is None:
        return -1
    try:
        value = int(start_after)
    except ValueError:
        raise SourceError(f"{path}: bad resume position {start_after!r}", url=file_uri(path)) from None
    if value < 0:
        raise SourceError(f"{path}: bad resume position {start_after!r}", url=file_uri(path))
    return value


def utc_iso(value: str | None) -> str | None:
    """
    Normalise a WARC/ARC/W3C date to `YYYY-MM-DDTHH:MM:SSZ` in UTC, or None if unreadable.

    A date without zone is taken as UTC, which is what WARC-Date and ARC
    timestamps mean (ISO 28500 §5.4).
    """
    parsed = parse_utc(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None


def parse_utc(value: str | None) -> datetime | None:
    """Parse a date string into an aware UTC datetime, or None if unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        if text.isdigit() and len(text) == 14:
            # ARC timestamps: YYYYMMDDhhmmss
            parsed = datetime.strptime(text, "%Y%m%d%H%M%S")
        else:
            parsed = dateparser.isoparse(text)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
