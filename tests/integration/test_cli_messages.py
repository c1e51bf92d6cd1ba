"""What a person sees when something goes wrong: one line per failing source, a hint, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import free_port, wait_for
from tests.integration.httpserver import HTTPTestServer, static
from tests.support.corpus import article_page, rss_feed

pytestmark = pytest.mark.integration


def said(stderr: str) -> list[str]:
    """Return what a run said to a person on stderr: its lines that are not JSON log events."""
    return [line for line in stderr.splitlines() if not line.startswith("{")]


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

    def test_a_refused_connection_is_one_line_after_its_retries(self, cli) -> None:
        """A closed port is retried (INGEST_FETCH_ATTEMPTS), quietly: the one line is the final failure."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/feed.xml"

        proc = cli("ingest", url, env={"INGEST_FETCH_ATTEMPTS": "3"})

        assert 1 == proc.returncode
        assert "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {url}: nothing answers at 127.0.0.1:{port} (connection refused) [")
        assert "listening on that port" in line

    def test_the_summary_counts_failed_sources_apart_from_articles(
        self, cli, http_server: HTTPTestServer
    ) -> None:
        """One good feed and one closed port: `failed 0` articles, `sources failed 1 of 2`, also in --json."""
        base = http_server.url("").rstrip("/")
        http_server.route("/ok.xml", static(rss_feed(base, [1]), content_type="application/rss+xml"))
        http_server.route("/article/1", static(article_page(1), content_type="text/html"))
        closed = f"http://127.0.0.1:{free_port()}/feed.xml"

        text = cli("ingest", http_server.url("/ok.xml"), closed)
        figures = json.loads(cli("ingest", http_server.url("/ok.xml"), closed, "--json").stdout)

        assert 1 == text.returncode
        assert "failed 0; sources failed 1 of 2 in " in text.stdout
        assert (1, 0) == (figures["sources_failed"], figures["failed"])

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


def write_feeds(folder: Path, n: int) -> None:
    """Write `n` small RSS files into `folder`."""
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"feed{i}.xml").write_text(
            f'<rss version="2.0"><channel><title>f{i}</title></channel></rss>'
        )


class TestArchivesSayWhatTheySkipped:
    def test_a_folder_of_feeds_reads_nothing_says_why_and_fails(self, cli, tmp_path: Path) -> None:
        """A folder of `.xml` feeds: exit 1, one line counting what was skipped; feeds go one by one."""
        folder = tmp_path / "feeds"
        write_feeds(folder, 3)

        proc = cli("ingest", str(folder))

        assert 1 == proc.returncode
        [line] = said(proc.stderr)
        assert line.startswith(
            f"error: {folder}: nothing read: skipped 3 file(s) that are not articles (3 .xml) ["
        )
        assert "feeds are sources of their own" in line

    def test_a_folder_with_articles_notes_the_rest(self, cli, tmp_path: Path) -> None:
        """Articles beside other files: the articles are read (exit 0) and a note counts the rest."""
        folder = tmp_path / "mixed"
        write_feeds(folder, 2)
        (folder / "story.txt").write_text(
            "Tags: a\n\nA title\n\nMonday, 09 Sep 2013 04:11 AM\n\n" + "Words here. " * 40
        )
        (folder / "README").write_text("notes")

        proc = cli("ingest", str(folder))

        assert 0 == proc.returncode, proc.stderr
        assert [f"note: {folder}: skipped 3 file(s) that are not articles (2 .xml, 1 (no suffix))"] == (
            said(proc.stderr)
        )


class TestSourcesMessages:
    def test_adding_a_known_feed_says_already_subscribed(self, cli) -> None:
        """The second `sources add` of a feed changes nothing and says so."""
        url = "http://feeds.example.org/rss"
        first = cli("sources", "add", url, "--no-check")

        again = cli("sources", "add", url, "--no-check")

        assert (0, f"added feed {url}") == (first.returncode, first.stdout.strip())
        assert (0, f"already subscribed: feed {url}") == (again.returncode, again.stdout.strip())

    def test_adding_a_missing_feed_names_its_url(self, cli, http_server: HTTPTestServer) -> None:
        """A 404 on `sources add`: exit 2 and one line naming the URL, the status and a hint."""
        url = http_server.url("/nope.xml")

        proc = cli("sources", "add", url)

        assert (2, [f"error: {url}: HTTP 404 [check the URL]"]) == (proc.returncode, proc.stderr.splitlines())

    def test_opml_import_names_feeds_by_title_and_counts_what_it_skipped(self, cli, tmp_path: Path) -> None:
        """Outline titles name the feeds; `file:` outlines and known feeds are counted, not imported."""
        opml = tmp_path / "subs.opml"
        opml.write_text(
            '<?xml version="1.0"?><opml version="2.0"><head/><body>'
            '<outline text="World News" xmlUrl="http://a.example/feed"/>'
            '<outline text="Local" xmlUrl="file:///srv/feeds/local.xml"/>'
            '<outline text="Other local" xmlUrl="feeds/other.xml"/>'
            '<outline title="Known" text="k" xmlUrl="http://k.example/rss"/></body></opml>'
        )
        assert 0 == cli("sources", "add", "http://k.example/rss", "--no-check").returncode

        proc = cli("sources", "import-opml", str(opml))
        names = {
            row["url"]: row["name"] for row in map(json.loads, cli("sources", "list").stdout.splitlines())
        }

        assert 0 == proc.returncode, proc.stderr
        assert [
            "imported 1 feed(s)",
            "already subscribed: 1 feed(s), left as they are",
            "skipped 2 outline(s) that are not http(s) feeds (file: or relative): "
            "subscribe to a local file with `sources add PATH`",
        ] == proc.stdout.splitlines()
        assert "World News" == names["http://a.example/feed"]


class TestFailedArticles:
    def test_failed_fetches_exit_3_and_point_to_dead_list(self, cli, http_server: HTTPTestServer) -> None:
        """An article 404s: exit 3 and one line pointing to `dead list`; `dead drop ID` removes it."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1]), content_type="application/rss+xml"))

        proc = cli("ingest", http_server.url("/feed.xml"))
        [letter] = [json.loads(x) for x in cli("dead", "list").stdout.splitlines()]
        unknown = cli("dead", "drop", "no-such-id")
        dropped = cli("dead", "drop", letter["id"])
        left = cli("dead", "list").stdout

        assert 3 == proc.returncode
        assert [
            "error: 1 article(s) failed: `python -m worker dead list` says why, "
            "`python -m worker dead retry` runs them again"
        ] == said(proc.stderr)
        assert "HTTP 404" in letter["reason"]
        assert (1, "dropped 0 dead letter(s)", ["error: no-such-id: no such dead letter"]) == (
            unknown.returncode,
            unknown.stdout.strip(),
            unknown.stderr.splitlines(),
        )
        assert (0, "dropped 1 dead letter(s)", "") == (dropped.returncode, dropped.stdout.strip(), left)

    def test_dead_drop_all_empties_the_dead_letters(self, cli, http_server: HTTPTestServer) -> None:
        """`dead drop --all` removes every letter; `dead drop` with neither ids nor --all is a usage error."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1, 2]), content_type="application/rss+xml"))
        assert 3 == cli("ingest", http_server.url("/feed.xml")).returncode

        neither = cli("dead", "drop")
        dropped = cli("dead", "drop", "--all")

        assert 2 == neither.returncode
        assert (0, "dropped 2 dead letter(s)") == (dropped.returncode, dropped.stdout.strip())
        assert "" == cli("dead", "list").stdout
