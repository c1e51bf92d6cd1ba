"""Name resolution inside the request's total deadline, with a resolver function put in its place."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from worker.app import explain
from worker.config import Settings
from worker.errors import FetchConnectionError, FetchTimeout
from worker.fetch.client import Fetcher
from worker.fetch.resolve import AddrInfo, DeadlinePassed
from worker.fetch.transport import Limits, Transport, parse_target


@pytest.fixture
def hung() -> Iterator[threading.Event]:
    """An event a hung resolver waits on; set at the end so its thread ends."""
    release = threading.Event()
    yield release
    release.set()


def hanging_resolver(release: threading.Event):
    """Return a resolver that answers only once `release` is set (or after 30 s)."""

    def resolve(host: str, port: int) -> AddrInfo:
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "gave up")

    return resolve


class TestResolutionDeadline:
    def test_a_hung_resolver_ends_at_the_total_deadline(self, hung: threading.Event) -> None:
        """A look-up that never answers raises DeadlinePassed when the request's deadline passes."""
        transport = Transport(allow_private=False, resolver=hanging_resolver(hung))
        limits = Limits(connect_timeout_s=5.0, read_timeout_s=5.0, deadline=time.monotonic() + 0.3)
        started = time.monotonic()

        with (
            pytest.raises(DeadlinePassed, match=r"while resolving slow\.example"),
            transport.stream(parse_target("http://slow.example/a"), {}, limits),
        ):
            pass
        took = time.monotonic() - started
        transport.close()

        assert 0.25 <= took < 1.5, took

    def test_the_fetcher_reports_the_total_deadline(self, hung: threading.Event) -> None:
        """Through the client, a hung resolver is a FetchTimeout naming the total deadline."""
        settings = Settings(total_timeout_s=0.3, connect_timeout_s=5.0, fetch_attempts=1)
        fetcher = Fetcher(settings, transport=Transport(allow_private=False, resolver=hanging_resolver(hung)))
        started = time.monotonic()

        with pytest.raises(FetchTimeout, match="total deadline passed"):
            fetcher.fetch("http://slow.example/a")
        took = time.monotonic() - started
        fetcher.transport.close()

        assert took < 1.5, took

    def test_hung_lookups_hold_a_bounded_number_of_threads(self, hung: threading.Event) -> None:
        """Ten requests on a hung resolver each end at their deadline and start at most 4 look-up threads."""
        transport = Transport(allow_private=False, resolver=hanging_resolver(hung))
        before = threading.active_count()

        for i in range(10):
            limits = Limits(5.0, 5.0, deadline=time.monotonic() + 0.05)
            with (
                pytest.raises(DeadlinePassed),
                transport.stream(parse_target(f"http://slow{i}.example/"), {}, limits),
            ):
                pass
        grown = threading.active_count() - before
        transport.close()

        assert grown <= 4, grown

    def test_a_name_that_does_not_resolve_is_a_connection_error(self) -> None:
        """The resolver's own failure comes through as it was: a connection error, not a timeout."""

        def unknown(host: str, port: int) -> AddrInfo:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        transport = Transport(allow_private=False, resolver=unknown)
        fetcher = Fetcher(Settings(fetch_attempts=1), transport=transport)

        with pytest.raises(FetchConnectionError) as caught:
            fetcher.fetch("http://nowhere.example/")

        assert "cannot resolve nowhere.example (Name or service not known)" == str(caught.value)
        assert "check the host name" in (explain.hint(caught.value) or "")
