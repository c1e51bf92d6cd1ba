"""One-line reasons and hints of expected failures (`worker.app.explain`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.app import explain
from worker.errors import BlockedURL, ConfigError, HTTPStatusError, ParseError, ServerBusy, SourceError


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
        ],
        ids=["loopback", "private", "cgnat", "file", "404", "not-a-feed", "config"],
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
