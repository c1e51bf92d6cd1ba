"""
Read what a response says: decode its body (bounded pieces, charset), parse its caching and date headers.

Pure functions, no I/O; `worker.fetch.client` applies them to each response.
"""

from __future__ import annotations

import codecs
import email.utils
import re
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import cast

import brotli

from worker.errors import UnsupportedContent

# Only codings we can decode in bounded pieces; zstd is not advertised.
ACCEPT_ENCODING = "gzip, deflate, br"

# Largest decoded piece handed on at once: bounds memory while decoding.
PIECE = 64 * 1024

# Most content codings undone for one body.  Each one nests a decoder in the
# next, so thousands of stacked `gzip` values would recurse past Python's
# limit; no real server applies more than two.  urllib3 caps the chain at 5 too.
MAX_CODINGS = 5

_BINARY_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/java-archive",
        "application/wasm",
        "application/msword",
        "application/x-shockwave-flash",
        "application/x-msdownload",
    }
)
_BINARY_PREFIXES = (
    "image/",
    "video/",
    "audio/",
    "font/",
    "application/vnd.openxmlformats",
    "application/vnd.ms-",
)

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


# A document's own declaration: `<meta charset="…">`, or the charset parameter of
# `<meta http-equiv="Content-Type" content="text/html; charset=…">`.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# How far into a document its declaration is looked for.  The WHATWG prescan reads 1,024 bytes; pages
# with a long comment or many links before the declaration put it further, and 4 KiB still costs nothing.
PRESCAN_BYTES = 4096
# Labels that browsers decode as windows-1252 (WHATWG Encoding, "windows-1252"): its printable
# characters in 0x80-0x9F (curly quotes, dashes, €) are what such pages mean, not C1 controls.
_AS_CP1252 = frozenset({"latin_1", "iso8859-1", "ascii", "cp1252"})


def codec_name(label: str | None) -> str | None:
    """Return Python's codec for a charset label, None when unknown or refused (UTF-7: an XSS vector)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    return None if name == "utf-7" else name


def declared_charset(body: bytes) -> str | None:
    """
    Return the codec a document declares in its first bytes (`<meta charset>`), None without one.

    A declared UTF-16 or UTF-32 is read as UTF-8: bytes the prescan could read as ASCII are no
    UTF-16 (WHATWG: "If charset is UTF-16BE/LE, then set charset to UTF-8").
    """
    match = _META_CHARSET.search(body[:PRESCAN_BYTES])
    name = codec_name(match.group(1).decode("ascii")) if match else None
    return "utf-8" if name is not None and name.startswith(("utf-16", "utf-32")) else name


def decode_body(body: bytes, charset: str | None) -> str:
    """
    Decode bytes to text with the most trustworthy encoding available.

    As WHATWG encoding sniffing orders it: a BOM, then the charset the response
    declares, then the one the document declares in its first bytes (`<meta
    charset>`); without any, strict UTF-8 is tried and cp1252, the usual
    mislabel, is the fallback.  Latin-1 and ASCII labels decode as cp1252, as
    browsers decode them.
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    codec = codec_name(charset) or declared_charset(body)
    if codec:
        return body.decode("cp1252" if codec in _AS_CP1252 else codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def utc_now_iso() -> str:
    """Return the current time as ISO 8601 UTC with a `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """
    Return the delay a `Retry-After` header asks for, in seconds.

    RFC 9110 §10.2.3 allows delay-seconds or an HTTP date; a date in the past
    means "now" (0.0).  Anything unreadable gives None.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    when = _http_date(text)
    return None if when is None else max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_max_age(cache_control: str | None) -> int | None:
    """Return `max-age` from a Cache-Control header, in seconds."""
    match = _MAX_AGE.search(cache_control or "")
    return int(match.group(1)) if match else None


def http_date_to_iso(value: str | None) -> str | None:
    """Return an HTTP date (Expires) as ISO UTC, or None when unreadable."""
    when = _http_date(value) if value else None
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(value: str) -> datetime | None:
    """Read an HTTP date (RFC 9110 §5.6.7); one without a zone is UTC; None when unreadable."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """
    Return (mime type, charset) from a Content-Type header.

    An unknown charset (`charset=utf-99`) is dropped rather than trusted, and
    a known one is normalised to Python's codec name.
    """
    if not value:
        return None, None
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            try:
                charset = codecs.lookup(val.strip().strip("\"'")).name
            except LookupError:
                charset = None
    return (mime.strip().lower() or None), charset


def binary_reason(mime: str | None) -> str | None:
    """Return why a content type cannot be ingested, or None when it may be text."""
    if mime is None:
        return None
    if mime in _BINARY_TYPES or mime.startswith(_BINARY_PREFIXES):
        return f"binary content type {mime}"
    return None


def _zlib_pieces(chunks: Iterator[bytes], wbits: int) -> Iterator[bytes]:
    decoder = zlib.decompressobj(wbits)
    for chunk in chunks:
        data = chunk
        while True:
            out = decoder.decompress(data, PIECE)
            if out:
                yield out
            data = decoder.unconsumed_tail
            if (not data and len(out) < PIECE) or decoder.eof:
                break
        if decoder.eof:
            return
    tail = decoder.flush()
    if tail:
        yield tail


def _deflate_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but some
    # servers send raw deflate; a zlib header is recognisable by its checksum.
    first = next(chunks, b"")
    zlib_wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] * 256 + first[1]) % 31 == 0

    def again() -> Iterator[bytes]:
        yield first
        yield from chunks

    yield from _zlib_pieces(again(), zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)


def _brotli_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    decoder = brotli.Decompressor()
    for chunk in chunks:
        out = cast(bytes, decoder.process(chunk, output_buffer_limit=PIECE))
        if out:
            yield out
        while not decoder.can_accept_more_data():
            out = cast(bytes, decoder.process(b"", output_buffer_limit=PIECE))
            if not out:
                break
            yield out
    while not decoder.is_finished():
        out = cast(bytes, decoder.process(b"", output_buffer_limit=PIECE))
        if not out:
            break
        yield out


_DECODERS: dict[str, Callable[[Iterator[bytes]], Iterator[bytes]]] = {
    "identity": lambda chunks: chunks,
    "gzip": lambda chunks: _zlib_pieces(chunks, 16 + zlib.MAX_WBITS),
    "x-gzip": lambda chunks: _zlib_pieces(chunks, 16 + zlib.MAX_WBITS),
    "deflate": _deflate_pieces,
    "br": _brotli_pieces,
}


def decode_stream(chunks: Iterator[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """
    Undo the Content-Encoding codings, in order, yielding bounded pieces.

    Raises:
        UnsupportedContent: More than `MAX_CODINGS` codings, or one we did not ask for.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if len(codings) > MAX_CODINGS:
        raise UnsupportedContent(f"{len(codings)} content codings stacked, more than {MAX_CODINGS}")
    stream = chunks
    # Codings are listed in the order they were applied: undo the last first.
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UnsupportedContent(f"content-encoding {coding} is not supported")
        stream = decoder(stream)
    return stream
