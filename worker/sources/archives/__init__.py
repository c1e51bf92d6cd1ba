"""
Read local news archives (folders, tar, zip, JSONL, WARC/ARC, sitemaps, single files) as a resumable stream.

Every reader streams with bounded memory, never writes a member to disk and
gives each item an opaque `position`; passing the last position back as
`start_after` continues after it.  Kinds and positions:

    folder   *.txt/*.html under a directory   relative path
    tar      .tar, .tar.gz, .tgz              member index
    zip      .zip                             member index
    jsonl    .jsonl records or loose objects  LINE:BYTE_OFFSET
    warc     .warc, .warc.gz, .arc(.gz)       record byte offset
    sitemap  .xml, .xml.gz (urlset, index)    entry index, yields URLs to fetch
    text     one .txt or .html file           0
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from worker.errors import SourceError
from worker.models import SourceRef
from worker.sources.archives.base import MAX_MEMBER_BYTES, ArchiveItem, SitemapEntry, default_source, file_uri
from worker.sources.archives.folder import iter_folder, iter_single_file
from worker.sources.archives.jsonl import iter_jsonl
from worker.sources.archives.sitemap import iter_sitemap_file, iter_sitemap_urls
from worker.sources.archives.tarball import iter_tar
from worker.sources.archives.warc import iter_warc
from worker.sources.archives.ziparchive import iter_zip

__all__ = [
    "MAX_MEMBER_BYTES",
    "ArchiveItem",
    "SitemapEntry",
    "detect_kind",
    "iter_archive",
    "iter_sitemap_urls",
]

# Longest first, so `.tar.gz` wins over `.gz`-less `.tar` style matches.
_SUFFIXES = (
    (".tar.gz", "tar"),
    (".tar.bz2", "tar"),
    (".tar.xz", "tar"),
    (".tgz", "tar"),
    (".tar", "tar"),
    (".zip", "zip"),
    (".jsonl", "jsonl"),
    (".warc.gz", "warc"),
    (".arc.gz", "warc"),
    (".warc", "warc"),
    (".arc", "warc"),
    (".xml.gz", "sitemap"),
    (".xml", "sitemap"),
    (".txt", "text"),
    (".html", "text"),
    (".htm", "text"),
)
_SITEMAP_ROOT = re.compile(rb"<(?:[\w.-]+:)?(?:urlset|sitemapindex)[\s>/]")
_HEAD_BYTES = 4096
_EXPECTED = "a folder, .tar(.gz), .tgz, .zip, .jsonl, .warc(.gz), .arc(.gz), sitemap .xml(.gz), .txt or .html"


class _Reader(Protocol):
    def __call__(
        self, path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
    ) -> Iterator[ArchiveItem]: ...


_READERS: dict[str, _Reader] = {
    "folder": iter_folder,
    "tar": iter_tar,
    "zip": iter_zip,
    "jsonl": iter_jsonl,
    "warc": iter_warc,
    "sitemap": iter_sitemap_file,
    "text": iter_single_file,
}


def _suffix_kind(path: Path) -> tuple[str, str] | None:
    """Return (kind, stem) from the file name, or None when the suffix says nothing."""
    lower = path.name.lower()
    for suffix, kind in _SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return kind, path.name[: -len(suffix)]
    return None


def _sniff(head: bytes) -> str | None:
    """Tell the kind from the first bytes of a file whose name did not."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    inner = head
    if head.startswith(b"\x1f\x8b"):
        try:
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _HEAD_BYTES)
        except zlib.error:
            return None
    if inner.startswith((b"WARC/", b"filedesc://")):
        return "warc"
    if inner[257:262] == b"ustar":
        return "tar"
    if _SITEMAP_ROOT.search(inner):
        return "sitemap"
    return None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}", url=file_uri(path)) from exc


def _detect(path: Path) -> tuple[str, str]:
    if path.is_dir():
        return "folder", path.absolute().name
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder", url=file_uri(path))
    head = _head(path)
    by_name = _suffix_kind(path)
    if by_name is None:
        kind = _sniff(head)
        if kind is None:
            raise SourceError(f"{path}: unknown archive kind (expected {_EXPECTED})", url=file_uri(path))
        return kind, path.name.split(".", 1)[0] or path.name
    if by_name[0] == "sitemap" and _sniff(head) != "sitemap":
        raise SourceError(f"{path}: not a sitemap (root is not urlset or sitemapindex)", url=file_uri(path))
    return by_name


def detect_kind(path: str | Path) -> str:
    """
    Return the archive kind of a path: folder, tar, zip, jsonl, warc, sitemap or text.

    The file name decides, and the first bytes when the name says nothing.
    Raises SourceError, naming the path on one line, when it cannot be read or
    is of no known kind.
    """
    return _detect(Path(path))[0]


def iter_archive(
    path: str | Path,
    *,
    source: SourceRef | None = None,
    start_after: str | None = None,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    skipped: Counter[str] | None = None,
) -> Iterator[ArchiveItem]:
    """
    Stream the items of an archive, after `start_after` when given.

    The kind is detected now, so a bad path fails at the call rather than at
    the first `next()`.  Without `source`, one is made from the file name.
    Members over `max_member_bytes` are skipped with `archive_member_too_large`.
    A folder counts the files it does not read (not articles) in `skipped`, by suffix.
    """
    archive = Path(path)
    kind, stem = _detect(archive)
    src = source if source is not None else default_source(stem)
    if kind == "folder":
        return iter_folder(
            archive, source=src, start_after=start_after, max_member_bytes=max_member_bytes, skipped=skipped
        )
    return _READERS[kind](archive, source=src, start_after=start_after, max_member_bytes=max_member_bytes)
