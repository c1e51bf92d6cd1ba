"""
Send one GET over a kept-alive, SSRF-guarded HTTP/1.1 connection; used by `worker.fetch.client` only.

Each resolved address passes `netguard.check_ip` and the socket connects to
exactly that address; TLS checks the host name; every receive is cut at the
request's total deadline; a connection is pooled again only after a whole
response.  Errors are the standard library's plus `BlockedURL`, translated by
`worker.fetch.client`.  Why `http.client` and not httpx: docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import certifi

from worker.errors import BlockedURL, PermanentError, ServerBusy
from worker.fetch.netguard import check_ip
from worker.fetch.resolve import (
    RESOLVER_THREADS,
    AddrInfo,
    DeadlinePassed,
    NameNotResolved,
    Resolver,
    system_resolver,
)

DEFAULT_PORTS = {"http": 80, "https": 443}

# Idle connections kept per (scheme, host, port) and in all.
MAX_IDLE_PER_HOST = 4
MAX_IDLE = 64
# An idle connection older than this is closed rather than reused: servers
# drop idle keep-alive connections after a few seconds (Apache's default is 5).
KEEPALIVE_S = 5.0
# A body left unread (a redirect's, an error page's) is read off so the
# connection can be reused only when it is known to be this small.
DRAIN_MAX_BYTES = 64 * 1024

# Characters left as they are in a request target; anything else (spaces,
# non-ASCII, controls) is percent-encoded, as browsers and httpx do.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_BAD_HEADER_CHARS = frozenset("\r\n\0")

Key = tuple[str, str, int]


@dataclass(frozen=True)
class Limits:
    """The time limits of one request: per operation, and a total `deadline` (`time.monotonic`)."""

    connect_timeout_s: float
    read_timeout_s: float
    deadline: float


@dataclass(frozen=True)
class Target:
    """A URL split into what the connection and the request line need."""

    key: Key
    host_header: str
    path: str


def parse_target(url: str) -> Target:
    """
    Split an http(s) URL into its pool key, Host header and request target.

    Raises:
        BlockedURL: Not an http(s) URL with a host, a bad port, or a host name
            that cannot be IDNA-encoded.
    """
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        if scheme not in DEFAULT_PORTS or not host:
            raise ValueError("not an http(s) URL with a host")
        host = host if host.isascii() else host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise BlockedURL(f"invalid URL: {exc}", url=url) from None
    port = port or DEFAULT_PORTS[scheme]
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_QUERY)
    return Target((scheme, host, port), host_header, path)


class _Wire:
    """One open connection, with the limits of the request using it now."""

    __slots__ = ("deadline", "idle_since", "key", "read_timeout_s", "received", "sock", "timeout")

    def __init__(self, sock: socket.socket, key: Key) -> None:
        self.sock = sock
        self.key = key
        self.deadline = 0.0
        self.read_timeout_s = 0.0
        self.timeout: float | None = None
        self.received = 0
        self.idle_since = 0.0

    def arm(self, limits: Limits) -> None:
        """Apply a new request's limits."""
        self.deadline = limits.deadline
        self.read_timeout_s = limits.read_timeout_s
        self.received = 0

    def bound(self) -> None:
        """Set the socket timeout for the next operation: the per-operation one, cut at the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed("total deadline passed")
        timeout = min(self.read_timeout_s, remaining)
        if timeout != self.timeout:
            self.sock.settimeout(timeout)
            self.timeout = timeout

    def makefile(self, mode: str) -> io.BufferedReader:
        """
        Give `http.client.HTTPResponse` a reader whose every receive is bounded (it asks for "rb").

        One reader per response: whatever a server sent past the end of an
        answer is dropped with it, never read as the start of the next one.
        """
        return io.BufferedReader(_BoundedReader(self))

    def dropped(self) -> bool:
        """Return True when the idle connection has something to read: EOF, a reset or stray bytes."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self.sock.close()


class _Continued:
    """Hand the reader of a 1xx answer to the answer after it: its buffer may hold that answer's start."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def makefile(self, mode: str) -> Any:
        return self.reader


class _BoundedReader(io.RawIOBase):
    """Raw reads from a wire, each bounded by the read timeout and the total deadline."""

    def __init__(self, wire: _Wire) -> None:
        self.wire = wire

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wire = self.wire
        wire.bound()
        n = wire.sock.recv_into(buffer)
        wire.received += n
        return n


class Response:
    """
    A response whose body has not been read yet.

    `headers` has lower-case names; a header sent several times is joined
    with ", " (RFC 9110 §5.3).
    """

    __slots__ = ("_raw", "headers", "status")

    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self._raw = raw
        self.status = raw.status
        headers: dict[str, str] = {}
        for name, value in raw.msg.items():
            low = name.lower()
            headers[low] = f"{headers[low]}, {value}" if low in headers else value
        self.headers = headers

    def iter_raw(self, size: int) -> Iterator[bytes]:
        """
        Yield the body as sent (transfer coding undone, content coding kept), in pieces.

        Raises:
            http.client.IncompleteRead: The connection ended before the declared length.
        """
        raw = self._raw
        while piece := raw.read(size):
            yield piece
        if raw.length:
            raise http.client.IncompleteRead(b"", raw.length)

    def complete(self) -> bool:
        """Return True when the body was read to its end."""
        return self._raw.isclosed()

    def drain(self) -> None:
        """Read off a body known to be small, so the connection can be reused."""
        raw = self._raw
        if not raw.isclosed() and raw.length is not None and raw.length <= DRAIN_MAX_BYTES:
            raw.read()

    def reusable(self) -> bool:
        """Return True when the connection may carry another request."""
        return self._raw.isclosed() and not self._raw.will_close


class Transport:
    """
    Send GET requests over guarded connections, keeping idle ones per (scheme, host, port).

    Safe to share between threads: a connection is used by one request at a
    time, and the idle lists are guarded by a lock.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_s: float = KEEPALIVE_S,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow_private = allow_private
        self.ssl_context = ssl_context or ssl.create_default_context(cafile=certifi.where())
        self.keepalive_s = keepalive_s
        self.resolver = resolver
        self._idle: dict[Key, list[_Wire]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._resolving: ThreadPoolExecutor | None = None
        self._resolving_pid = 0

    @contextmanager
    def stream(self, target: Target, headers: Mapping[str, str], limits: Limits) -> Iterator[Response]:
        """
        Send `GET target` and yield the response with its body unread.

        On leaving, the connection goes back to the pool when the response was
        read to its end (a small unread body is read off first) and is closed
        otherwise.

        Raises:
            BlockedURL: The host resolves to a refused address.
            OSError: Connection refused or reset, DNS failure, TLS failure;
                `TimeoutError` for timeouts and the total deadline.
            http.client.HTTPException: The server's answer is not HTTP/1.x.
        """
        request = _request_bytes(target, headers)
        wire, response = self._exchange(target, request, limits)
        try:
            yield response
        except BaseException as exc:
            # The caller's own refusals (a 5xx, a binary type, a body over the cap) leave a sound
            # connection worth a small drain; a transport failure, the deadline, a task's time
            # limit or an interrupt must not wait on the server any longer: closed, not drained.
            self._release(wire, response, drain=isinstance(exc, PermanentError | ServerBusy))
            raise
        self._release(wire, response, drain=True)

    def _exchange(self, target: Target, request: bytes, limits: Limits) -> tuple[_Wire, Response]:
        wire = self._take(target.key)
        reused = wire is not None
        if wire is None:
            wire = self._connect(target.key, limits)
        try:
            return wire, self._send(wire, request, limits)
        except BaseException as exc:
            wire.close()
            # The server closed a kept-alive connection as we sent: nothing of
            # the answer came, so a GET may go again, once, on a new connection.
            if not (reused and wire.received == 0 and _closed_by_peer(exc)):
                raise
        wire = self._connect(target.key, limits)
        try:
            return wire, self._send(wire, request, limits)
        except BaseException:
            wire.close()
            raise

    @staticmethod
    def _send(wire: _Wire, request: bytes, limits: Limits) -> Response:
        wire.arm(limits)
        wire.bound()
        wire.sock.sendall(request)
        raw = http.client.HTTPResponse(wire, method="GET")  # type: ignore[arg-type]
        raw.begin()
        # `begin` skips 100 Continue only; another 1xx (103 Early Hints) is
        # followed by the real answer on the same connection.
        while raw.status < 200:
            # Take the reader off the 1xx first, or closing that response would close it.
            reader, raw.fp = raw.fp, None  # type: ignore[assignment]
            raw = http.client.HTTPResponse(_Continued(reader), method="GET")  # type: ignore[arg-type]
            raw.begin()
        return Response(raw)

    def _resolve(self, host: str, port: int, deadline: float) -> AddrInfo:
        """
        Resolve `host` in the look-up threads, waiting no later than `deadline`.

        Raises:
            DeadlinePassed: The resolver did not answer before the deadline.
            OSError: The name does not resolve.
        """
        with self._lock:
            if self._resolving is None or self._resolving_pid != os.getpid():
                # A forked child has its parent's pool object but none of its threads.
                self._resolving = ThreadPoolExecutor(RESOLVER_THREADS, thread_name_prefix="resolve")
                self._resolving_pid = os.getpid()
            pool = self._resolving
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed("total deadline passed before resolving")
        lookup = pool.submit(self.resolver, host, port)
        try:
            return lookup.result(timeout=remaining)
        except TimeoutError:
            lookup.cancel()  # still queued behind stuck look-ups: never started
            raise DeadlinePassed(f"total deadline passed while resolving {host}") from None
        except socket.gaierror as exc:
            # `[Errno -2] Name or service not known` says neither which name nor what to do.
            raise NameNotResolved(f"cannot resolve {host} ({exc.strerror or exc})") from exc
        except UnicodeError as exc:
            raise NameNotResolved(f"cannot resolve {host} ({exc})") from exc

    def _connect(self, key: Key, limits: Limits) -> _Wire:
        scheme, host, port = key
        infos = self._resolve(host, port, limits.deadline)
        # All addresses must pass: a name that mixes public and private
        # answers is exactly what a rebinding attack looks like.
        for info in infos:
            address = str(info[4][0])
            try:
                check_ip(ipaddress.ip_address(address.split("%", 1)[0]), self.allow_private)
            except BlockedURL as exc:
                raise BlockedURL(f"{host} resolves to a refused address: {exc}") from None
        last: OSError = OSError(f"{host} has no address")
        for family, kind, proto, _, sockaddr in infos:
            remaining = limits.deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlinePassed("total deadline passed while connecting")
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(min(limits.connect_timeout_s, remaining))
                sock.connect(sockaddr)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock = self.ssl_context.wrap_socket(sock, server_hostname=host)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            return _Wire(sock, key)
        raise last

    def _take(self, key: Key) -> _Wire | None:
        now = time.monotonic()
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not share its parent's sockets.
                self._drop_all()
                self._pid = os.getpid()
            idle = self._idle.get(key)
            while idle:
                wire = idle.pop()
                if now - wire.idle_since < self.keepalive_s and not wire.dropped():
                    return wire
                wire.close()
        return None

    def _release(self, wire: _Wire, response: Response, *, drain: bool) -> None:
        if drain and not response.complete():
            # A failed drain leaves the response incomplete: the connection is closed below.
            with contextlib.suppress(OSError, http.client.HTTPException):
                response.drain()
        if not response.reusable():
            wire.close()
            return
        wire.idle_since = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(wire.key, [])
            idle.append(wire)
            if len(idle) > MAX_IDLE_PER_HOST:
                idle.pop(0).close()
            if sum(len(v) for v in self._idle.values()) > MAX_IDLE:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        key = min((k for k, v in self._idle.items() if v), key=lambda k: self._idle[k][0].idle_since)
        self._idle[key].pop(0).close()

    def _drop_all(self) -> None:
        for idle in self._idle.values():
            for wire in idle:
                wire.close()
        self._idle.clear()

    def close(self) -> None:
        """Close every idle connection; stop the look-up threads (one stuck is left to finish)."""
        with self._lock:
            self._drop_all()
            if self._resolving is not None and self._resolving_pid == os.getpid():
                self._resolving.shutdown(wait=False, cancel_futures=True)
            self._resolving = None


def _closed_by_peer(exc: BaseException) -> bool:
    """Return True for the errors of a connection the server had closed (not for timeouts)."""
    return isinstance(exc, ConnectionError | http.client.RemoteDisconnected | ssl.SSLEOFError)


def _request_bytes(target: Target, headers: Mapping[str, str]) -> bytes:
    """
    Return the request head of `GET target`.

    Raises:
        BlockedURL: A header holds CR, LF or NUL (it would split the request).
    """
    lines = [f"GET {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    for name, value in headers.items():
        if _BAD_HEADER_CHARS.intersection(name + value):
            raise BlockedURL(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    try:
        return "\r\n".join(lines).encode("latin-1")
    except UnicodeEncodeError as exc:
        raise BlockedURL(f"header not encodable: {exc}") from None
