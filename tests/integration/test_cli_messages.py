"""What a person sees when something goes wrong: one line per failing source, a hint, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import wait_for
from tests.integration.httpserver import HTTPTestServer

pytestmark = pytest.mark.integration


def error_lines(stderr: str) -> list[str]:
    """Return the `error:` lines of a run's stderr."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


class TestExpectedFailures:
    def test_two_missing_feeds_cost_two_lines_and_no_traceback(
        self, cli, http_server: HTTPTestServer
    ) -> None:
        """Two 404 feeds: exit 1, one `error: URL: reason [hint]` line each on stderr, nothing else."""
        a, b = http_server.url("/a.xml"), http_server.url("/b.xml")

        proc = cli("ingest", a, b)

        assert 1 == proc.returncode
        assert "Traceback" not in proc.stderr
        assert [f"error: {a}: HTTP 404 [check the URL]", f"error: {b}: HTTP 404 [check the URL]"] == (
            proc.stderr.splitlines()
        )

    def test_loopback_refusal_names_the_setting_that_allows_it(
        self, cli, http_server: HTTPTestServer
    ) -> None:
        """Without INGEST_ALLOW_PRIVATE_NETWORKS a 127.0.0.1 feed is refused with the setting as the hint."""
        url = http_server.url("/feed.xml")

        proc = cli("ingest", url, env={"INGEST_ALLOW_PRIVATE_NETWORKS": "0"})

        assert 1 == proc.returncode
        assert "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {url}: address 127.0.0.1 is loopback [")
        assert "INGEST_ALLOW_PRIVATE_NETWORKS=1" in line
        assert [] == http_server.requests

    def test_a_file_that_is_not_a_feed_is_one_line(self, cli, tmp_path: Path) -> None:
        """A `.rss` file of plain words: `not a feed`, once, without its path repeated or a traceback."""
        bad = tmp_path / "words.rss"
        bad.write_text("just some words\n")

        proc = cli("ingest", str(bad))

        assert 1 == proc.returncode
        assert "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {bad.as_uri()}: not a feed: ")
        assert 1 == line.count(str(bad))

    def test_a_binary_file_does_not_repeat_its_path(self, cli, tmp_path: Path) -> None:
        """A file of no known kind: one line naming it once."""
        blob = tmp_path / "blob.bin"
        blob.write_bytes(b"\x00\x01\x02" * 100)

        proc = cli("ingest", str(blob))

        assert 1 == proc.returncode
        assert "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {blob}: unknown archive kind")
        assert 1 == line.count(str(blob))

    def test_a_worker_logs_a_failed_poll_as_one_event_without_traceback(
        self, cli, start_worker, http_server: HTTPTestServer, redis_url: str
    ) -> None:
        """In the service a 404 feed is one `poll_failed` event with a reason and a hint, no traceback."""
        url = http_server.url("/gone.xml")
        env = {"REDIS_URL": redis_url}
        worker = start_worker("quiet", env=env)

        assert 0 == cli("ingest", "--enqueue", url, env=env).returncode
        assert wait_for(lambda: bool(worker.events("poll_failed")), timeout=60)
        worker.stop()
        log = worker.log.read_text(errors="replace")

        [event] = worker.events("poll_failed")
        assert ("error", url, "HTTPStatusError: HTTP 404", "check the URL") == (
            event["level"],
            event["url"],
            event["error"],
            event["hint"],
        )
        assert "Traceback" not in log
        assert "raised unexpected" not in log
