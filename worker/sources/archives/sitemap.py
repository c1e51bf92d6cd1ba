"""
Parse XML sitemaps, sitemap indexes and Google news sitemaps safely into URLs to fetch.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError as XMLParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from worker.errors import BodyTooLarge, ParseError, SourceError
from worker.models import SourceRef
from worker.sources.archives.base import ArchiveItem, SitemapEntry, file_uri, int_position, log, parse_utc

# The sitemap protocol caps a file at 50 MB uncompressed (sitemaps.org).
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ROOTS = {"urlset": "url", "sitemapindex": "sitemap"}


def _local(tag: Any) -> str:
    """Return an element's name without its namespace: sitemaps in the wild omit or vary it."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _is_news(tag: Any) -> bool:
    namespace = tag.partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else ""
    return not namespace or "news" in namespace


def decompress(body: bytes, *, max_bytes: int = SITEMAP_MAX_BYTES) -> bytes:
    """
    Return a sitemap body, gunzipped when it is gzip, refusing more than `max_bytes`.

    Reading `max_bytes + 1` through the decompressor stops a gzip bomb early.
    """
    if not body.startswith(_GZIP_MAGIC):
        if len(body) > max_bytes:
            raise BodyTooLarge(f"sitemap over {max_bytes} bytes")
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"sitemap: bad gzip: {exc}") from exc
    if len(data) > max_bytes:
        raise BodyTooLarge(f"sitemap over {max_bytes} bytes once decompressed")
    return data


def iter_sitemap_urls(
    body: bytes, *, since: datetime | None = None, max_bytes: int = SITEMAP_MAX_BYTES
) -> Iterator[SitemapEntry]:
    """
    Yield the pages (`url`) or child sitemaps (`sitemap`) of a sitemap body, gzipped or not.

    With `since`, entries whose `lastmod` (or news `publication_date`) is older
    are left out; entries without a date are kept, as they may be new.  Parsing
    forbids DTDs and entities and never touches the network.  Raises ParseError
    (not a sitemap, bad XML) or BodyTooLarge.
    """
    data = decompress(body, max_bytes=max_bytes)
    floor = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    entry_tag: str | None = None
    try:
        events = SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        for event, elem in events:
            name = _local(elem.tag)
            if event == "start":
                if entry_tag is None:
                    entry_tag = _ROOTS.get(name)
                    if entry_tag is None:
                        raise ParseError(f"sitemap: root is <{name}>, not urlset or sitemapindex")
                continue
            if name != entry_tag:
                continue
            entry = _entry(elem, "url" if entry_tag == "url" else "sitemap")
            # Drop parsed entries so memory stays flat on 50k-URL files.
            elem.clear()
            if entry is not None and (floor is None or entry.lastmod is None or entry.lastmod >= floor):
                yield entry
    except (XMLParseError, DefusedXmlException) as exc:
        raise ParseError(f"sitemap: {exc}") from exc


def _entry(elem: Any, kind: str) -> SitemapEntry | None:
    fields: dict[str, str] = {}
    for child in elem.iter():
        name = _local(child.tag)
        if name == "title" and not _is_news(child.tag):
            # image:title and video:title describe media, not the article.
            continue
        if name in {"loc", "lastmod", "publication_date", "title"} and child.text and name not in fields:
            fields[name] = child.text.strip()
    url = fields.get("loc", "")
    if not url.lower().startswith(("http://", "https://")):
        # Only web URLs: a file: or javascript: loc must never reach the fetcher.
        log.debug("sitemap_url_skipped", url=url[:200])
        return None
    lastmod = parse_utc(fields.get("lastmod")) or parse_utc(fields.get("publication_date"))
    title = fields.get("title") or None
    return SitemapEntry(url=url, lastmod=lastmod, title=title, kind="url" if kind == "url" else "sitemap")


def iter_sitemap_file(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """
    Yield one `fetch` item per entry of a local sitemap; the position is the entry index.

    `source` and `max_member_bytes` are accepted for a uniform reader signature;
    a sitemap is capped by the protocol's own limit instead.
    """
    del source, max_member_bytes
    after = int_position(path, start_after)
    try:
        with path.open("rb") as fh:
            body = fh.read(SITEMAP_MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}", url=file_uri(path)) from exc
    try:
        for index, entry in enumerate(iter_sitemap_urls(body)):
            if index > after:
                yield ArchiveItem(position=str(index), fetch=entry)
    except (ParseError, BodyTooLarge) as exc:
        raise SourceError(f"{path}: {exc}", url=file_uri(path)) from exc
