"""
Read the HTML pages of a WARC or ARC file with warcio, resuming by byte offset and resyncing past bad records.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from worker.errors import SourceError
from worker.models import RawItem, SourceRef
from worker.sources.archives.base import (
    ArchiveItem,
    decode_html,
    file_uri,
    int_position,
    log,
    utc_iso,
    warn_too_large,
)

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_SCAN_CHUNK = 1024 * 1024
# warcio is lenient parser code: on garbage it raises any of these, sometimes
# from deep inside (a None header block gives AttributeError).
_BROKEN = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    ValueError,
    LookupError,
    EOFError,
    OSError,
    zlib.error,
    AttributeError,
    TypeError,
)


class _Invalid(Exception):
    """A record that claims to be a page but cannot be read as one."""


def iter_warc(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """
    Yield one `html` item per HTTP 200 HTML response record.

    The position is the record's byte offset.  Resuming seeks straight to it
    when the file is uncompressed or gzipped per record (the WARC norm); after a
    record that cannot be parsed, reading resumes at the next record boundary.
    """
    after = int_position(path, start_after)
    counts: Counter[str] = Counter()
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}", url=file_uri(path)) from exc
    with fh:
        gz = fh.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
        start: int | None = after if after > 0 and _is_boundary(fh, after, gz) else 0
        while start is not None:
            start = yield from _read_from(fh, start, after, gz, source, max_member_bytes, counts, path)
    log.info("warc_read", archive=str(path), **counts)


def _is_boundary(fh: IO[bytes], offset: int, gz: bool) -> bool:
    """Tell whether a saved offset can be sought to (a gzip member start in a gzipped file)."""
    if not gz:
        return True
    fh.seek(offset)
    return fh.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC


def _read_from(
    fh: IO[bytes],
    start: int,
    after: int,
    gz: bool,
    source: SourceRef,
    cap: int,
    counts: Counter[str],
    path: Path,
) -> Generator[ArchiveItem, None, int | None]:
    """Iterate records from `start`; return the offset to resync at, or None at the end."""
    fh.seek(start)
    records = ArchiveIterator(fh, arc2warc=True)
    offset = start
    while True:
        try:
            # Finish the previous record so `records.offset` is where the next begins.
            records.read_to_end()
            offset = records.offset
            record = next(records)
        except StopIteration:
            return None
        except _BROKEN as exc:
            counts["invalid"] += 1
            log.warning("warc_record_invalid", archive=str(path), offset=offset, reason=_reason(exc))
            return _resync(fh, offset + 1, gz)
        if record.format == "warc" and not (record.rec_headers.get_header("Content-Length") or "").isdigit():
            # Without a length warcio would read the rest of the file as this
            # record's block, swallowing every record after it.
            counts["invalid"] += 1
            log.warning("warc_record_invalid", archive=str(path), offset=offset, reason="no Content-Length")
            return _resync(fh, offset + 1, gz)
        if offset <= after:
            continue
        try:
            item = _page(record, source, cap, counts, path)
        except (_Invalid, *_BROKEN) as exc:
            counts["invalid"] += 1
            log.warning("warc_record_invalid", archive=str(path), offset=offset, reason=_reason(exc))
            continue
        if item is not None:
            counts["pages"] += 1
            yield ArchiveItem(position=str(offset), item=item)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def _page(record: Any, source: SourceRef, cap: int, counts: Counter[str], path: Path) -> RawItem | None:
    """Return the page of one record, or None (counted) when it is not an HTML 200 response."""
    if record.rec_type != "response":
        counts["not_response"] += 1
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")
    http = record.http_headers
    if http is None:
        if url and url.startswith(("http:", "https:")):
            raise _Invalid("response without HTTP headers")
        counts["not_http"] += 1
        return None
    if http.get_statuscode() != "200":
        counts["not_200"] += 1
        return None
    mime, charset = _content_type(http.get_header("Content-Type"))
    if mime not in _HTML_TYPES:
        counts["not_html"] += 1
        return None
    if not url:
        raise _Invalid("no WARC-Target-URI")
    data = record.content_stream().read(cap + 1)
    if len(data) > cap:
        warn_too_large(path, url, cap)
        counts["too_large"] += 1
        return None
    return RawItem(
        url=url,
        source=source,
        content=decode_html(data, charset),
        content_type="html",
        fetched_at=utc_iso(record.rec_headers.get_header("WARC-Date")),
    )


def _content_type(value: str | None) -> tuple[str, str | None]:
    """Split a Content-Type header into its lower-cased MIME type and charset."""
    if not value:
        return "", None
    mime, *params = value.split(";")
    charset = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return mime.strip().lower(), charset


def _resync(fh: IO[bytes], offset: int, gz: bool) -> int | None:
    """
    Return the offset of the next record start at or after `offset`, or None.

    In a per-record gzip the next record starts at the next gzip header; in
    plain WARC at the next `WARC/1.` version line.  Either could occur inside
    a payload by chance, in which case that "record" fails too and we scan on.
    """
    magic = _GZIP_MAGIC if gz else _WARC_MAGIC
    fh.seek(offset)
    base, tail = offset, b""
    while chunk := fh.read(_SCAN_CHUNK):
        window = tail + chunk
        found = window.find(magic)
        if found >= 0:
            return base - len(tail) + found
        tail = window[-(len(magic) - 1) :]
        base += len(chunk)
    return None
