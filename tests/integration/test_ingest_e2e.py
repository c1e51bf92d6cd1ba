"""End to end: the CLI over real archives and feeds, a real Redis, real worker processes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from tests.conftest import SEED
from tests.integration.httpserver import HTTPTestServer, Request, Response, static
from tests.support.corpus import article_page, article_text, rss_feed
from worker.ids import article_id
from worker.process import record

pytestmark = pytest.mark.integration


def read_jsonl(out: Path) -> list[dict]:
    """Return every record of every JSONL file under `out`."""
    return [
        json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.read_text("utf-8").splitlines()
    ]


def summary(proc: subprocess.CompletedProcess[str], code: int = 0) -> dict:
    """Parse the `--json` summary line of `ingest`, which exited with `code` (3: some articles failed)."""
    assert proc.returncode == code, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """Return a folder holding only the seed article."""
    d = tmp_path / "archive"
    d.mkdir()
    shutil.copy(SEED, d / SEED.name)
    return d


def serve_feed(server: HTTPTestServer, ids: list[int]) -> str:
    """Serve a feed of `ids` and their article pages; return the feed URL."""
    base = server.url("").rstrip("/")
    server.route("/feed.xml", static(rss_feed(base, ids), content_type="application/rss+xml"))
    for i in ids:
        server.route(f"/article/{i}", static(article_page(i), content_type="text/html; charset=utf-8"))
    return server.url("/feed.xml")


class TestSeedRecord:
    def test_ingest_folder_writes_the_whole_expected_record(
        self, cli, seed_dir: Path, tmp_path: Path
    ) -> None:
        """The seed becomes exactly one record with every field the backbone issue asks for."""
        out = tmp_path / "out"

        result = summary(cli("ingest", str(seed_dir), "--out", str(out), "--json"))
        records = read_jsonl(out)

        assert 1 == result["new"]
        assert 1 == len(records)
        rec = records[0]
        record.validate(rec)
        assert "Top Syrian Diplomat Passes Assad's Thanks to Russia" == rec["title"]
        assert ["russia", "syria", "conflict", "assad"] == rec["tags"]
        assert "MOSCOW" == rec["dateline"]
        assert "AFP" == rec["credit"]
        assert "2013-09-09T04:11:00Z" == rec["published_at"]
        assert "en" == rec["language"]
        assert rec["text"].startswith("MOSCOW — Syria's foreign minister on Monday")
        assert rec["text"].endswith("the approval of Congress.")
        for chrome in (
            "Like our page",
            "registered trademarks",
            "America's News Page",
            "All Rights Reserved",
            "©",
        ):
            assert chrome not in rec["text"]
        assert "\n\n" in rec["text"]
        assert f"archive:archive/{SEED.name}" == rec["url"]
        assert article_id(rec["url"]) == rec["id"]
        assert rec["duplicate_of"] is None
        persons = {e["text"] for e in rec["entities"] if e["label"] == "PERSON"}
        places = {e["text"] for e in rec["entities"] if e["label"] == "LOC"}
        assert {
            "Vladimir Putin",
            "Bashar Assad",
            "Sergei Lavrov",
            "Walid al-Muallem",
            "Barack Obama",
        } <= persons
        assert {"Moscow", "Syria", "Damascus"} <= places
        putin = next(e for e in rec["entities"] if e["text"] == "Vladimir Putin")
        assert len(re.findall(r"\bPutin\b", rec["text"])) == putin["count"]
        assert "Putin" not in {e["text"] for e in rec["entities"]}
        assert "article/2" == rec["schema"]
        assert {
            "kind": "archive",
            "name": "archive",
            "url": "archive:archive",
            "title": None,
        } == rec["source"]
        assert record.word_count(rec["text"]) == rec["word_count"] > 400

    def test_naive_date_is_read_in_the_configured_zone(self, cli, seed_dir: Path, tmp_path: Path) -> None:
        """`--tz` moves the seed's naive 04:11 to UTC."""
        out = tmp_path / "out"

        summary(cli("ingest", str(seed_dir), "--out", str(out), "--tz", "America/New_York", "--json"))

        assert "2013-09-09T08:11:00Z" == read_jsonl(out)[0]["published_at"]

    def test_second_ingest_emits_nothing_new(self, cli, seed_dir: Path, tmp_path: Path) -> None:
        """State persists between runs: the same folder twice gives one record."""
        out = tmp_path / "out"
        summary(cli("ingest", str(seed_dir), "--out", str(out), "--json"))

        again = summary(cli("ingest", str(seed_dir), "--out", str(out), "--json"))

        assert (0, 1) == (again["new"], again["duplicate"])
        assert 1 == len(read_jsonl(out))

    def test_the_same_archive_in_two_folders_gives_one_record(
        self, cli, seed_dir: Path, tmp_path: Path
    ) -> None:
        """A copy of the archive elsewhere has the same ids: both give one record, no local path in it."""
        out = tmp_path / "out"
        copies = [tmp_path / "one" / "archive", tmp_path / "two" / "deeper" / "archive"]
        for copy in copies:
            shutil.copytree(seed_dir, copy)

        # Emitting duplicates, a copy told only by its content would be a second record (`duplicate_of`):
        # one record means the copy's id was already done.
        env = {"INGEST_EMIT_DUPLICATES": "1"}
        first = summary(cli("ingest", str(copies[0]), "--out", str(out), "--json", env=env))
        second = summary(cli("ingest", str(copies[1]), "--out", str(out), "--json", env=env))
        records = read_jsonl(out)

        assert ((1, 0), (0, 1)) == ((first["new"], first["duplicate"]), (second["new"], second["duplicate"]))
        assert 1 == len(records)
        assert str(tmp_path) not in json.dumps(records[0])

    def test_redis_mode_puts_the_record_on_the_stream_once(
        self, cli, seed_dir: Path, tmp_path: Path, redis_url: str
    ) -> None:
        """With REDIS_URL the record goes to the stream as id/url/data; a rerun adds nothing."""
        out = tmp_path / "out"
        env = {"REDIS_URL": redis_url}
        summary(cli("ingest", str(seed_dir), "--out", str(out), "--json", env=env))

        summary(cli("ingest", str(seed_dir), "--out", str(out), "--json", env=env))
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        entries = r.xrange("articles")

        assert 1 == len(entries)
        fields = entries[0][1]
        assert {"id", "url", "data"} == set(fields)
        data = json.loads(fields["data"])
        assert (fields["id"], fields["url"]) == (data["id"], data["url"])
        assert read_jsonl(out) == [data]


class TestSourceErrors:
    def test_missing_source_exits_non_zero_naming_it(self, cli, tmp_path: Path) -> None:
        """A source that cannot be read gives a one-line error naming it and a non-zero exit."""
        missing = tmp_path / "nope"

        proc = cli("ingest", str(missing))

        assert 0 != proc.returncode
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert 1 == len(errors)
        assert str(missing) in errors[0]

    def test_feed_answering_500_fails_the_run(self, cli, http_server: HTTPTestServer) -> None:
        """A feed that keeps answering 500 is reported as unreadable, by URL."""
        http_server.route("/broken.xml", static(b"boom", status=500))
        url = http_server.url("/broken.xml")

        proc = cli("ingest", url, "--json")

        assert 1 == proc.returncode
        assert url in proc.stderr


class TestLocalFiles:
    def test_a_local_feed_is_read_but_its_file_links_are_refused(self, cli, tmp_path: Path) -> None:
        """A feed file named by the operator is read; a file: link inside it is untrusted, never fetched."""
        feed = tmp_path / "local.xml"
        feed.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>Secrets</title><link>file:///etc/passwd</link><guid>x1</guid></item>"
            "</channel></rss>"
        )

        result = summary(cli("ingest", str(feed), "--out", str(tmp_path / "out"), "--json"), code=3)
        dead = [json.loads(x) for x in cli("dead", "list").stdout.splitlines()]

        assert (1, 0, 1) == (result["seen"], result["new"], result["failed"])
        assert ["fetch"] == [d["stage"] for d in dead]
        assert dead[0]["url"].startswith("file:")
        assert dead[0]["url"].endswith("etc/passwd")
        assert dead[0]["reason"].startswith("BlockedURL")
        assert [] == read_jsonl(tmp_path / "out")


class TestFeedOverHTTP:
    def test_feed_articles_are_fetched_cleaned_and_emitted(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """Each entry's page is fetched from 127.0.0.1 and becomes one record with tags, guid, feed title."""
        ids = [1, 2, 3]
        url = serve_feed(http_server, ids)
        out = tmp_path / "out"

        result = summary(cli("ingest", url, "--out", str(out), "--json"))
        records = read_jsonl(out)

        assert (3, 3) == (result["seen"], result["new"])
        assert 3 == len({r["id"] for r in records})
        for r in records:
            record.validate(r)
            i = int(r["url"].split("/article/")[1].split("?")[0])
            assert "utm_source" not in r["canonical_url"]
            assert ["world", "politics"] == r["tags"]
            first_para = article_text(i).split("\n\n")[0]
            assert first_para[:80] in r["text"]
            assert "newsletter" not in r["text"].lower()
            assert "Example Times" == r["title"] or "(" in r["title"]
            assert (f"article-{i}", "Example Times") == (r["entry_id"], r["source"]["title"])
        user_agents = {q.headers.get("user-agent", "") for q in http_server.requests}
        assert all(ua.startswith("news-ingest-worker") for ua in user_agents)

    def test_unchanged_feed_is_not_fetched_again(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """The second poll sends the stored ETag; a 304 means no article is fetched again."""
        base = http_server.url("").rstrip("/")
        body = rss_feed(base, [7])
        seen: list[Request] = []

        def feed(request: Request) -> Response:
            seen.append(request)
            if request.headers.get("if-none-match") == '"v1"':
                return Response(status=304, headers={"ETag": '"v1"'})
            return Response(body=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        http_server.route("/feed.xml", feed)
        http_server.route("/article/7", static(article_page(7), content_type="text/html"))
        out = tmp_path / "out"
        summary(cli("ingest", http_server.url("/feed.xml"), "--out", str(out), "--json"))

        again = summary(cli("ingest", http_server.url("/feed.xml"), "--out", str(out), "--json"))

        assert '"v1"' == seen[-1].headers.get("if-none-match")
        assert (0, 0) == (again["seen"], again["new"])
        assert 1 == sum(1 for q in http_server.requests if q.path == "/article/7")
