"""
A small threaded HTTP server on 127.0.0.1 whose routes each test sets.

Tests never touch the internet: anything fetched over HTTP is served from
here.  Usage::

    with HTTPTestServer() as server:
        server.route("/feed.xml", static(b"<rss/>", content_type="application/rss+xml"))
        url = server.url("/feed.xml")
        ...
        assert server.requests[0].headers["user-agent"].startswith("news-ingest")

A handler is any `Callable[[Request], Response]`.  `Response.body` may be an
iterable of chunks: each is written and flushed on its own, with no
Content-Length, so a generator that sleeps between chunks makes a trickling or
endless server.  `Response(reset=True)` drops the connection with a TCP RST,
`Response(drop=True)` closes it without an answer, and
`Response(early_hints=True)` sends a 103 before the answer.

By default every answer closes its connection (HTTP/1.0).  With
`HTTPTestServer(keep_alive=True)` the server speaks HTTP/1.1 and keeps the
connection open after an answer of known length, unless the answer says
`close_after=True` (it then closes right after, unannounced, as a server whose
keep-alive timeout ran out does); `connections` counts the connections accepted.
`HTTPTestServer(tls=context)` serves HTTPS with a server-side SSL context.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    """What a handler answers; an iterable body is streamed chunk by chunk."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    drop: bool = False
    close_after: bool = False
    early_hints: bool = False


Handler = Callable[[Request], Response]


def static(
    body: bytes = b"", *, status: int = 200, content_type: str | None = "text/plain", **headers: str
) -> Handler:
    """
    Return a handler that always gives the same answer.

    Extra keyword headers use underscores for dashes (`retry_after="5"`).
    """
    all_headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if content_type is not None:
        all_headers["Content-Type"] = content_type

    def handler(_: Request) -> Response:
        return Response(status=status, body=body, headers=dict(all_headers))

    return handler


def redirect(location: str, status: int = 301) -> Handler:
    """Return a handler that redirects to `location`."""
    return static(status=status, content_type=None, Location=location)


def sequence(*handlers: Handler) -> Handler:
    """Return a handler that answers with each handler in turn, then repeats the last."""
    lock = threading.Lock()
    calls = iter(handlers)
    last: list[Handler] = [handlers[-1]]

    def handler(request: Request) -> Response:
        with lock:
            chosen = next(calls, last[0])
        return chosen(request)

    return handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Threads may sit in a sleeping handler; never wait for them on close.
    block_on_close = False
    owner: HTTPTestServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up mid-body is what many tests do."""


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        owner = self.server.owner
        with owner.lock:
            owner.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(request)
            handler = owner.routes.get(parts.path)
        response = handler(request) if handler else Response(status=404, body=b"not found")
        if response.reset:
            # SO_LINGER 0 makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if response.drop:
            self.close_connection = True
            return
        self._write(response)
        if response.close_after:
            self.close_connection = True

    def _write(self, response: Response) -> None:
        if response.early_hints:
            self.send_response_only(103)
            self.send_header("Link", "</style.css>; rel=preload")
            self.end_headers()
        self.send_response(response.status)
        names = {k.lower() for k in response.headers}
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(response.body, bytes) and "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        if not self.server.owner.keep_alive or not isinstance(response.body, bytes):
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if isinstance(response.body, bytes):
                self.wfile.write(response.body)
            else:
                for chunk in response.body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except OSError:
            pass  # the client hung up, as body-cap and deadline tests make it do
        finally:
            close = getattr(response.body, "close", None)
            if close is not None:
                close()

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def finish(self) -> None:
        # The socket may have been reset on purpose or by the client.
        with contextlib.suppress(OSError, ValueError):
            super().finish()


class _KeepAliveHandler(_RequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection ends its thread after this many seconds.
    timeout = 30
    # Headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True


class HTTPTestServer:
    """
    Serve `routes` (path → handler) on 127.0.0.1 from a daemon thread.

    `requests` records every request in order, for assertions on the headers
    a client sent; `connections` counts the connections accepted.
    """

    def __init__(self, *, keep_alive: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.connections = 0
        self.keep_alive = keep_alive
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _RequestHandler)
        self._server.owner = self
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        """Return the absolute URL of `path` on this server."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        """Serve `path` with `handler` from now on."""
        with self.lock:
            self.routes[path] = handler

    def requests_to(self, path: str) -> list[Request]:
        """Return the requests made to one path."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> HTTPTestServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HTTPTestServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """Split `data` into pieces of `size` bytes, for streamed bodies."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
