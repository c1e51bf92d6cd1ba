"""
Fetch one URL politely and safely; the only module that talks to the network.

It sends its requests through `worker.fetch.transport` (kept-alive `http.client`
connections), and every error of the standard library's network and HTTP
code is translated here into the `worker.errors` tree, so none escapes.
Safety rules, each with its reason:

* The address is checked by `netguard` after DNS resolution, at connect time,
  and the socket connects to exactly the address that was checked, so DNS
  rebinding cannot swap in a private address between check and connect.  No
  proxy is ever used (the environment is not read): through a proxy the check
  would see the proxy, not the target.
* TLS checks the certificate against the URL's host name, sent as SNI.
* Redirects are followed by hand so each hop is re-checked; a loop or more
  than `max_redirects` hops is an `HTTPStatusError` carrying the last 3xx
  status (the server answers wrongly for good, so it is permanent, and it is
  not our policy refusing it, so it is not a `BlockedURL`).
* The body is decoded (gzip, deflate, br) by us in bounded pieces and cut at
  `max_body_bytes` of *decoded* bytes, so a compression bomb stops at the cap.
* A total deadline covers the whole fetch, so a server trickling one byte
  just inside the read timeout cannot hold a worker for ever.
* A kept-alive connection is reused only after its response was read to the
  end; a half-read one is closed (see `worker.fetch.transport`).
"""

from __future__ import annotations

import codecs
import email.utils
import http.client
import mimetypes
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import cast
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import brotli

from worker.config import Settings
from worker.errors import (
    BlockedURL,
    BodyTooLarge,
    FetchConnectionError,
    FetchTimeout,
    HTTPStatusError,
    ParseError,
    ServerBusy,
    SourceError,
    UnsupportedContent,
)
from worker.fetch.netguard import check_url
from worker.fetch.retry import transient_retry
from worker.fetch.transport import Limits, Response, Transport, parse_target

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml, text/plain;q=0.9, */*;q=0.1"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})

# Only codings we can decode in bounded pieces; zstd is not advertised.
ACCEPT_ENCODING = "gzip, deflate, br"

# Largest decoded piece handed on at once: bounds memory while decoding.
_PIECE = 64 * 1024

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


@dataclass(frozen=True)
class FetchResult:
    """
    One fetched response, after redirects.

    `status` is 200-class or 304 (then `body` is empty).  `url` is the final
    URL; `permanent_redirect_url` is set when the chain began with 301/308
    hops, to the target of the last of them, so the source can be updated.
    The caching fields feed the scheduler: `max_age_s` from Cache-Control,
    `expires` as ISO UTC, `retry_after_s` in seconds.
    """

    url: str
    status: int
    body: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    max_age_s: int | None
    expires: str | None
    retry_after_s: float | None
    permanent_redirect_url: str | None
    fetched_at: str

    def text(self) -> str:
        """Decode the body: declared charset, then BOM, then UTF-8, then cp1252."""
        return decode_body(self.body, self.charset)


def decode_body(body: bytes, charset: str | None) -> str:
    """
    Decode bytes to text with the most trustworthy encoding available.

    A BOM beats a declared charset (WHATWG encoding sniffing does the same);
    without either, strict UTF-8 is tried and cp1252, the usual mislabel, is
    the fallback.
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    if charset:
        return body.decode(charset, errors="replace")
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
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_max_age(cache_control: str | None) -> int | None:
    """Return `max-age` from a Cache-Control header, in seconds."""
    match = _MAX_AGE.search(cache_control or "")
    return int(match.group(1)) if match else None


def http_date_to_iso(value: str | None) -> str | None:
    """Return an HTTP date (Expires) as ISO UTC, or None when unreadable."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
            out = decoder.decompress(data, _PIECE)
            if out:
                yield out
            data = decoder.unconsumed_tail
            if (not data and len(out) < _PIECE) or decoder.eof:
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
        out = cast(bytes, decoder.process(chunk, output_buffer_limit=_PIECE))
        if out:
            yield out
        while not decoder.can_accept_more_data():
            out = cast(bytes, decoder.process(b"", output_buffer_limit=_PIECE))
            if not out:
                break
            yield out
    while not decoder.is_finished():
        out = cast(bytes, decoder.process(b"", output_buffer_limit=_PIECE))
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
        UnsupportedContent: A coding we did not ask for.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    stream = chunks
    # Codings are listed in the order they were applied: undo the last first.
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UnsupportedContent(f"content-encoding {coding} is not supported")
        stream = decoder(stream)
    return stream


@contextmanager
def _translated(url: str, deadline: float) -> Iterator[None]:
    """Turn network, HTTP and decoder exceptions into the worker's own."""
    try:
        yield
    except BlockedURL as exc:
        # The transport's connect-time refusal knows the host, not the URL.
        exc.url = exc.url or url
        raise
    except TimeoutError as exc:
        # Every receive waits at most until the deadline: say which limit ended the fetch.
        which = "total deadline passed" if time.monotonic() >= deadline else "timed out"
        raise FetchTimeout(f"{which}: {exc or type(exc).__name__}", url=url) from exc
    except (OSError, http.client.HTTPException) as exc:
        # OSError covers refused, reset, DNS and TLS (certificate) failures.
        raise FetchConnectionError(f"{type(exc).__name__}: {exc}", url=url) from exc
    except (zlib.error, brotli.error) as exc:
        raise ParseError(f"corrupt content-encoding: {exc}", url=url) from exc


class Fetcher:
    """
    Fetch URLs with one transport, the settings' limits and the SSRF guard.

    `fetch` makes one attempt; `fetch_retrying` wraps it with the policy from
    `worker.fetch.retry`.  Use as a context manager, or call `close()`.  A
    `transport` may be injected (tests give one trusting their own TLS CA).
    """

    def __init__(self, settings: Settings, transport: Transport | None = None) -> None:
        self.settings = settings
        self._owns_transport = transport is None
        self.transport = transport or Transport(allow_private=settings.allow_private_networks)
        self._headers = {"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        # Built once: tenacity keeps each call's state thread-local, so one policy serves every call.
        self._retry = transient_retry(settings.fetch_attempts, settings.retry_max_wait_s)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the transport's idle connections when this fetcher built it."""
        if self._owns_transport:
            self.transport.close()

    def fetch_retrying(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        allow_file: bool = False,
    ) -> FetchResult:
        """Fetch with retries of transient errors (`settings.fetch_attempts`)."""
        return self._retry(
            self.fetch, url, etag=etag, last_modified=last_modified, accept=accept, allow_file=allow_file
        )

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        allow_file: bool = False,
    ) -> FetchResult:
        """
        Fetch `url` once, following redirects.

        Args:
            url: An http(s) URL, or `file:` when `allow_file` or `settings.allow_file_urls`.
            etag: The ETag of the last 200, sent as If-None-Match.
            last_modified: The Last-Modified of the last 200, sent as If-Modified-Since.
            accept: The Accept header (`FEED_ACCEPT`, `PAGE_ACCEPT`); `*/*` by default.
            allow_file: The URL is a source the operator configured, so `file:` is fine;
                never set it for URLs found in feeds or pages (they are untrusted).

        Returns:
            The final response, with status 2xx or 304.

        Raises:
            TransientError: FetchTimeout, FetchConnectionError, ServerBusy (429, 5xx).
            PermanentError: BlockedURL, HTTPStatusError, BodyTooLarge,
                UnsupportedContent, ParseError (corrupt coding), SourceError (file:).
        """
        check_url(
            url,
            allow_private=self.settings.allow_private_networks,
            allow_file=allow_file or self.settings.allow_file_urls,
        )
        if urlsplit(url).scheme.lower() == "file":
            return self._fetch_file(url, last_modified)
        headers = {**self._headers, "Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.settings.total_timeout_s
        with _translated(url, deadline):
            return self._follow(url, headers, deadline)

    def _follow(self, url: str, headers: dict[str, str], deadline: float) -> FetchResult:
        current, seen = url, {urldefrag(url).url}
        permanent: str | None = None
        still_permanent = True
        s = self.settings
        limits = Limits(s.connect_timeout_s, s.read_timeout_s, deadline)
        for _ in range(self.settings.max_redirects + 1):
            with self.transport.stream(parse_target(current), headers, limits) as resp:
                location = resp.headers.get("location") if resp.status in REDIRECT_STATUSES else None
                if location is None:
                    return self._finish(resp, current, permanent)
            target = urldefrag(urljoin(current, location.strip())).url
            # Only an unbroken run of permanent hops from the start may move the source.
            still_permanent = still_permanent and resp.status in PERMANENT_REDIRECTS
            if still_permanent:
                permanent = target
            if target in seen:
                raise HTTPStatusError("redirect loop", url=target, status=resp.status)
            # A redirect may never lead to a local file, whatever the settings.
            check_url(target, allow_private=self.settings.allow_private_networks, allow_file=False)
            seen.add(target)
            current = target
        raise HTTPStatusError(
            f"more than {self.settings.max_redirects} redirects", url=current, status=resp.status
        )

    def _finish(self, resp: Response, url: str, permanent: str | None) -> FetchResult:
        status = resp.status
        retry_after_s = parse_retry_after(resp.headers.get("retry-after"))
        if status == 429 or status >= 500:
            raise ServerBusy(f"HTTP {status}", url=url, status=status, retry_after_s=retry_after_s)
        if status >= 300 and status != 304:
            raise HTTPStatusError(f"HTTP {status}", url=url, status=status)
        mime, charset = split_content_type(resp.headers.get("content-type"))
        body = b""
        if status not in (204, 304):
            reason = binary_reason(mime)
            if reason is not None:
                raise UnsupportedContent(reason, url=url)
            body = self._read_body(resp, url)
        return FetchResult(
            url=url,
            status=status,
            body=body,
            content_type=mime,
            charset=charset,
            etag=resp.headers.get("etag"),
            last_modified=resp.headers.get("last-modified"),
            max_age_s=parse_max_age(resp.headers.get("cache-control")),
            expires=http_date_to_iso(resp.headers.get("expires")),
            retry_after_s=retry_after_s,
            permanent_redirect_url=permanent,
            fetched_at=utc_now_iso(),
        )

    def _read_body(self, resp: Response, url: str) -> bytes:
        cap = self.settings.max_body_bytes
        encoding = resp.headers.get("content-encoding")
        declared = resp.headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > cap:
            raise BodyTooLarge(f"content-length {declared} over {cap} bytes", url=url)
        # Every receive is cut at the total deadline by the transport.
        body = bytearray()
        for piece in decode_stream(resp.iter_raw(_PIECE), encoding):
            body += piece
            if len(body) > cap:
                raise BodyTooLarge(f"body over {cap} bytes", url=url)
        return bytes(body)

    def _fetch_file(self, url: str, last_modified: str | None) -> FetchResult:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise BlockedURL("file: URL names a remote host", url=url)
        path = Path(url2pathname(parts.path))
        try:
            stat = path.stat()
            if not path.is_file():
                raise SourceError("not a regular file", url=url)
            mtime = email.utils.format_datetime(datetime.fromtimestamp(stat.st_mtime, UTC), usegmt=True)
            mime = mimetypes.guess_type(path.name)[0]
            reason = binary_reason(mime)
            if reason is not None:
                raise UnsupportedContent(reason, url=url)
            unchanged = last_modified == mtime
            body = b""
            if not unchanged:
                with path.open("rb") as handle:
                    body = handle.read(self.settings.max_body_bytes + 1)
        except OSError as exc:
            raise SourceError(f"cannot read file: {exc.strerror}", url=url) from exc
        if len(body) > self.settings.max_body_bytes:
            raise BodyTooLarge(f"file over {self.settings.max_body_bytes} bytes", url=url)
        return FetchResult(
            url=url,
            status=304 if unchanged else 200,
            body=body,
            content_type=mime,
            charset=None,
            etag=None,
            last_modified=mtime,
            max_age_s=None,
            expires=None,
            retry_after_s=None,
            permanent_redirect_url=None,
            fetched_at=utc_now_iso(),
        )
