"""
Fetch one URL politely and safely: redirects re-checked hop by hop, bodies decoded and capped.

Every error of the network and HTTP code is translated here into the
`worker.errors` tree, so none escapes.  The safety rules and their reasons are
in docs/architecture.md ("The network boundary").
"""

from __future__ import annotations

import email.utils
import http.client
import mimetypes
import ssl
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
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
from worker.fetch.decode import (
    ACCEPT_ENCODING,
    PIECE,
    binary_reason,
    decode_body,
    decode_stream,
    http_date_to_iso,
    parse_max_age,
    parse_retry_after,
    split_content_type,
    utc_now_iso,
)
from worker.fetch.netguard import check_url
from worker.fetch.resolve import NameNotResolved
from worker.fetch.retry import transient_retry
from worker.fetch.transport import Limits, Response, Transport, parse_target

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml, text/plain;q=0.9, */*;q=0.1"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
# A gzip file served as itself (a `sitemap.xml.gz`), not as a content coding of the response.
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})


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


@contextmanager
def _translated(url: str, deadline: float) -> Iterator[None]:
    """Turn network, HTTP and decoder exceptions into the worker's own."""
    try:
        yield
    except (BlockedURL, UnsupportedContent) as exc:
        # The transport's connect-time refusal knows the host, the decoders nothing: name the URL.
        exc.url = exc.url or url
        raise
    except TimeoutError as exc:
        # Every receive waits at most until the deadline: say which limit ended the fetch.
        which = "total deadline passed" if time.monotonic() >= deadline else "timed out"
        raise FetchTimeout(f"{which}: {exc or type(exc).__name__}", url=url) from exc
    except NameNotResolved as exc:
        raise FetchConnectionError(str(exc), url=url) from exc
    except ConnectionRefusedError as exc:
        # `[Errno 111] Connection refused` names neither the address nor what it means.
        raise FetchConnectionError(
            f"nothing answers at {host_port(url)} (connection refused)", url=url
        ) from exc
    except ConnectionResetError as exc:
        raise FetchConnectionError(f"{host_port(url)} reset the connection", url=url) from exc
    except ssl.SSLCertVerificationError as exc:
        why = exc.verify_message or exc.reason or "verification failed"
        raise FetchConnectionError(f"TLS certificate of {host_port(url)} refused ({why})", url=url) from exc
    except (OSError, http.client.HTTPException) as exc:
        # The other OSErrors: unreachable networks, TLS failures other than the certificate, and the like.
        raise FetchConnectionError(f"{type(exc).__name__}: {exc}", url=url) from exc
    except (zlib.error, brotli.error) as exc:
        raise ParseError(f"corrupt content-encoding: {exc}", url=url) from exc


def host_port(url: str) -> str:
    """Return `host:port` of `url`, the port its scheme's default when none is written."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def is_gzip_file(mime: str | None, url: str) -> bool:
    """Tell a body that is a gzip file: typed as gzip, or a `.gz` URL served untyped or as bytes."""
    if mime in GZIP_TYPES:
        return True
    return mime in {None, "application/octet-stream"} and urlsplit(url).path.lower().endswith(".gz")


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
        gunzip: bool = False,
    ) -> FetchResult:
        """Fetch with retries of transient errors (`settings.fetch_attempts`)."""
        return self._retry(
            self.fetch,
            url,
            etag=etag,
            last_modified=last_modified,
            accept=accept,
            allow_file=allow_file,
            gunzip=gunzip,
        )

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        allow_file: bool = False,
        gunzip: bool = False,
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
            gunzip: A body that is a gzip file (served as `application/gzip` or
                `application/x-gzip`, or a `.gz` URL served as `application/octet-stream`
                or untyped: a `sitemap.xml.gz`) is read gunzipped, in the same bounded
                decoder as a content coding, so `max_body_bytes` caps the decompressed size.

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
            return self._follow(url, headers, deadline, gunzip=gunzip)

    def _follow(self, url: str, headers: dict[str, str], deadline: float, *, gunzip: bool) -> FetchResult:
        current, seen = url, {urldefrag(url).url}
        permanent: str | None = None
        still_permanent = True
        s = self.settings
        limits = Limits(s.connect_timeout_s, s.read_timeout_s, deadline)
        for _ in range(self.settings.max_redirects + 1):
            with self.transport.stream(parse_target(current), headers, limits) as resp:
                location = resp.headers.get("location") if resp.status in REDIRECT_STATUSES else None
                if location is None:
                    return self._finish(resp, current, permanent, gunzip=gunzip)
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

    def _finish(self, resp: Response, url: str, permanent: str | None, *, gunzip: bool) -> FetchResult:
        status = resp.status
        retry_after_s = parse_retry_after(resp.headers.get("retry-after"))
        if status == 429 or status >= 500:
            raise ServerBusy(f"HTTP {status}", url=url, status=status, retry_after_s=retry_after_s)
        if status >= 300 and status != 304:
            raise HTTPStatusError(f"HTTP {status}", url=url, status=status)
        mime, charset = split_content_type(resp.headers.get("content-type"))
        body = b""
        if status not in (204, 304):
            gzipped = gunzip and is_gzip_file(mime, url)
            reason = None if gzipped else binary_reason(mime)
            if reason is not None:
                raise UnsupportedContent(reason, url=url)
            body = self._read_body(resp, url, gzipped=gzipped)
            if gzipped:
                # What the gzip held is told by its bytes (a sitemap's root element), not by this type.
                mime, charset = None, None
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

    def _read_body(self, resp: Response, url: str, *, gzipped: bool = False) -> bytes:
        cap = self.settings.max_body_bytes
        encoding = resp.headers.get("content-encoding")
        if gzipped:
            # The file's own gzip was applied before any content coding, so it is undone last.
            encoding = f"gzip, {encoding}" if encoding else "gzip"
        declared = resp.headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > cap:
            raise BodyTooLarge(f"content-length {declared} over {cap} bytes", url=url)
        # Every receive is cut at the total deadline by the transport.
        body = bytearray()
        for piece in decode_stream(resp.iter_raw(PIECE), encoding):
            body += piece
            if len(body) > cap:
                what = "once decompressed" if encoding else ""
                raise BodyTooLarge(f"body over {cap} bytes {what}".rstrip(), url=url)
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
