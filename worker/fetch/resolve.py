"""Resolve host names for the transport: the system resolver, run where a deadline can cut it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

# What `socket.getaddrinfo` returns; a resolver is any `(host, port) -> AddrInfo`.
AddrInfo = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]]
Resolver = Callable[[str, int], AddrInfo]

# Look-ups running at once per transport.  `getaddrinfo` has no timeout of its
# own, so it runs in these threads and the request waits for it only until its
# deadline; a look-up stuck longer keeps its thread, so the pool bounds how many
# threads a hung resolver can hold (later look-ups wait in the queue, and time out).
RESOLVER_THREADS = 4


def system_resolver(host: str, port: int) -> AddrInfo:
    """Resolve `host` with the system's resolver (`getaddrinfo`), TCP addresses only."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class DeadlinePassed(TimeoutError):
    """The request's total deadline passed while waiting on the server."""


class NameNotResolved(OSError):
    """A host name that does not resolve (unknown, or no DNS answer): the message names the host."""
