"""One-line reasons and hints of expected failures (`worker.app.explain`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.app import explain
from worker.errors import (
    BlockedURL,
    ConfigError,
    FetchConnectionError,
    HTTPStatusError,
    ParseError,
    ServerBusy,
    SourceError,
)
from worker.fetch.client import host_port


class TestHint:
    @pytest.mark.parametrize(
        ("exc", "expected"),
        [
            (BlockedURL("address 127.0.0.1 is loopback"), "INGEST_ALLOW_PRIVATE_NETWORKS=1"),
            (BlockedURL("address 10.0.0.1 is private"), "INGEST_ALLOW_PRIVATE_NETWORKS=1"),
            (BlockedURL("address 100.64.0.1 is not globally routable"), "INGEST_ALLOW_PRIVATE_NETWORKS=1"),
            (BlockedURL("file: URLs are not allowed"), "INGEST_ALLOW_FILE_URLS=1"),
            (HTTPStatusError("HTTP 404", status=404), "check the URL"),
            (ParseError("not a feed: syntax error"), "expected RSS"),
            (ConfigError("INGEST_X='y': bad"), "python -m worker config"),
            (
                FetchConnectionError("nothing answers at 127.0.0.1:9 (connection refused)"),
                "listening on that port",
            ),
            (FetchConnectionError("TLS certificate of a.example:443 refused (expired)"), "CA store"),
        ],
        ids=["loopback", "private", "cgnat", "file", "404", "not-a-feed", "config", "refused", "tls"],
    )
    def test_hints_name_the_fix(self, exc: Exception, expected: str) -> None:
        """Each expected failure with a known fix gets a hint naming it."""
        found = explain.hint(exc)

        assert found is not None
        assert expected in found

    def test_no_hint_when_there_is_nothing_to_say(self) -> None:
        """A 503 has no operator fix: no hint, and the line is the reason alone."""
        exc = ServerBusy("HTTP 503", status=503)

        assert (None, "HTTP 503") == (explain.hint(exc), explain.one_line(exc))


class TestReason:
    def test_a_leading_path_is_not_repeated(self, tmp_path: Path) -> None:
        """A reader's `PATH: why` loses the path the CLI prints first, however it was spelled."""
        path = tmp_path / "a.bin"
        exc = SourceError(f"{path}: unknown archive kind")

        assert ["unknown archive kind"] * 3 == [
            explain.reason(exc, str(path)),
            explain.reason(exc, path.as_uri()),
            explain.reason(SourceError(f"{path.as_uri()}: unknown archive kind"), str(path)),
        ]

    def test_only_the_first_line_is_kept(self) -> None:
        """A multi-line message is cut to its first line."""
        assert "first" == explain.reason(ParseError("first\nsecond"))


class TestHostPort:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("http://127.0.0.1:9/feed.xml", "127.0.0.1:9"),
            ("https://news.example/feed", "news.example:443"),
            ("http://news.example/feed", "news.example:80"),
            ("http://[::1]:8080/", "[::1]:8080"),
            ("http://news.example:99999/", "news.example:80"),
        ],
    )
    def test_a_connection_failure_names_host_and_port(self, url: str, expected: str) -> None:
        """The address a refused connection names: its port written, or the scheme's default."""
        assert expected == host_port(url)
