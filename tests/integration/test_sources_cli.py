"""`python -m worker sources ...` in the embedded and the Redis mode, with discovery over 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.httpserver import HTTPTestServer, static
from tests.support.corpus import rss_feed
from worker.config import Settings
from worker.errors import IngestError, ParseError, SourceError
from worker.fetch.client import Fetcher
from worker.poll import feed as poll
from worker.sources import registry
from worker.sources.opml import parse_opml
from worker.sources.spec import resolve
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

PAGE = b"""<!doctype html><html><head><title>Site</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="News" href="/news.xml">
<link rel="alternate" type="application/atom+xml" href="/atom.xml">
</head><body><p>Hello</p></body></html>"""


@pytest.fixture(params=["embedded", "redis"])
def mode_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Return the extra environment of each mode."""
    if request.param == "embedded":
        return {}
    return {"REDIS_URL": request.getfixturevalue("redis_url")}


def listed(cli, env: dict[str, str]) -> dict[str, dict]:
    """Return `sources list` as url -> row."""
    proc = cli("sources", "list", env=env)
    assert 0 == proc.returncode, proc.stderr[-2000:]
    return {row["url"]: row for row in map(json.loads, proc.stdout.splitlines())}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings allowing 127.0.0.1, one fetch attempt."""
    return Settings(state_dir=tmp_path / "inproc", allow_private_networks=True, fetch_attempts=1)


@pytest.fixture
def store(settings: Settings) -> Iterator[StateStore]:
    """An in-process SQLite store, for the tests that need no subprocess."""
    s = SQLiteStore(settings.state_dir / "state.sqlite3")
    yield s
    s.close()


def open_cli_store(base_env: dict[str, str], mode_env: dict[str, str]) -> StateStore:
    """Open the same store the CLI subprocesses use in this mode."""
    if "REDIS_URL" in mode_env:
        return RedisStore(mode_env["REDIS_URL"], prefix="ingest:")
    return SQLiteStore(Path(base_env["INGEST_STATE_DIR"]) / "state.sqlite3")


class TestSourcesCommand:
    def test_add_discovers_lists_and_removes(self, cli, http_server: HTTPTestServer, mode_env) -> None:
        """A page given to `add` subscribes its declared feeds; list shows them due; remove forgets one."""
        http_server.route("/", static(PAGE, content_type="text/html"))
        news, atom = http_server.url("/news.xml"), http_server.url("/atom.xml")

        added = cli("sources", "add", http_server.url("/"), "--interval", "600", env=mode_env)
        rows = listed(cli, mode_env)
        removed = cli("sources", "remove", news, env=mode_env)
        again = cli("sources", "remove", news, env=mode_env)

        assert 0 == added.returncode, added.stderr[-2000:]
        assert [f"added feed {news}", f"added feed {atom}"] == added.stdout.splitlines()
        assert sorted([news, atom]) == sorted(rows)
        assert ("feed", None, 0, None) == tuple(
            rows[news][k] for k in ("kind", "last_status", "errors", "disabled")
        )
        assert rows[news]["next_check"] is not None
        assert (0, 2) == (removed.returncode, again.returncode)

    def test_list_shows_polling_state_and_disable_reason(
        self, cli, base_env, http_server: HTTPTestServer, mode_env, settings
    ) -> None:
        """After polls, list shows the status, ETag, error count and why a feed was disabled."""
        http_server.route(
            "/ok.xml", static(rss_feed("http://x", []), content_type="application/rss+xml", etag='"e1"')
        )
        http_server.route("/gone.xml", static(b"gone", status=410))
        ok, gone = http_server.url("/ok.xml"), http_server.url("/gone.xml")
        store = open_cli_store(base_env, mode_env)
        with Fetcher(settings) as fetcher:
            for url in (ok, gone):
                registry.add(store, url, fetcher=None)
                with contextlib.suppress(IngestError):
                    poll.poll_feed(resolve(url), settings=settings, store=store, fetcher=fetcher)
        store.close()

        rows = listed(cli, mode_env)

        assert (200, '"e1"', 0, None) == tuple(
            rows[ok][k] for k in ("last_status", "etag", "errors", "disabled")
        )
        assert (410, 1, "410 Gone") == tuple(rows[gone][k] for k in ("last_status", "errors", "disabled"))
        assert "HTTPStatusError" in rows[gone]["last_error"]
        assert rows[gone]["next_check"] is None
        assert rows[ok]["next_check"] is not None

    def test_import_then_export_round_trips(self, cli, tmp_path: Path) -> None:
        """Feeds of a nested OPML file are registered once each; the export lists the same feeds."""
        opml = tmp_path / "subs.opml"
        opml.write_text(
            '<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>'
            '<outline text="News"><outline text="A" xmlUrl="http://a.example/feed"/>'
            '<outline text="B" title="Bee" xmlUrl="http://b.example/rss"/></outline>'
            '<outline text="A again" xmlUrl="http://a.example/feed"/></body></opml>'
        )

        imported = cli("sources", "import-opml", str(opml))
        exported = cli("sources", "export-opml")
        feeds = parse_opml(exported.stdout.encode())

        assert (0, "imported 2 feed(s)") == (imported.returncode, imported.stdout.strip())
        assert [("http://a.example/feed", "A"), ("http://b.example/rss", "Bee")] == sorted(
            (f.url, f.title) for f in feeds
        )


class TestRegistry:
    def test_page_without_links_falls_back_to_common_paths(
        self, http_server: HTTPTestServer, settings, store
    ) -> None:
        """A page declaring nothing: the usual /rss.xml is found and added."""
        http_server.route("/blog", static(b"<html><body>No links</body></html>", content_type="text/html"))
        http_server.route("/rss.xml", static(rss_feed("http://x", [1]), content_type="application/rss+xml"))

        with Fetcher(settings) as fetcher:
            specs = registry.add(store, http_server.url("/blog"), fetcher=fetcher)

        assert [http_server.url("/rss.xml")] == [a.spec.location for a in specs]
        assert [http_server.url("/rss.xml")] == store.feed_urls()

    def test_a_feed_url_is_added_as_it_is(self, http_server: HTTPTestServer, settings, store) -> None:
        """A URL that is itself a feed is not searched further."""
        http_server.route("/f.xml", static(rss_feed("http://x", [1]), content_type="application/rss+xml"))

        with Fetcher(settings) as fetcher:
            specs = registry.add(store, http_server.url("/f.xml"), fetcher=fetcher, interval_s=60)

        assert [(http_server.url("/f.xml"), 60)] == [(a.spec.location, a.spec.interval_s) for a in specs]
        assert 1 == len(http_server.requests)

    def test_page_with_no_feed_is_an_error(self, http_server: HTTPTestServer, settings, store) -> None:
        """No declared feed and no usual path: nothing is added."""
        http_server.route("/plain", static(b"<html><body>Nothing</body></html>", content_type="text/html"))

        with Fetcher(settings) as fetcher, pytest.raises(SourceError, match="no feed found"):
            registry.add(store, http_server.url("/plain"), fetcher=fetcher)

        assert [] == store.feed_urls()

    def test_re_adding_revives_a_disabled_feed(self, store) -> None:
        """Adding a disabled source again clears the failure and schedules it, keeping its ETag."""
        store.put_feed("http://h/f", {"etag": "e", "disabled": "410 Gone", "errors": 1})

        registry.add(store, "http://h/f", fetcher=None)
        state = store.get_feed("http://h/f") or {}

        assert ("e", None, None) == (state.get("etag"), state.get("disabled"), state.get("errors"))
        assert ["http://h/f"] == list(store.scheduled())

    def test_unreadable_opml_is_refused(self, store) -> None:
        """A file that is not OPML raises ParseError and registers nothing."""
        with pytest.raises(ParseError):
            registry.import_opml(store, b"<html>not opml</html>")

        assert [] == store.feed_urls()


class TestOneShotIngest:
    def test_ingest_never_subscribes_even_a_failing_feed(
        self, cli, base_env, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """A one-shot run reads a feed (its ETag kept for the next run) but schedules nothing, 404 or not."""
        http_server.route(
            "/ok.xml", static(rss_feed("http://x", []), content_type="application/rss+xml", etag='"e"')
        )
        ok, missing = http_server.url("/ok.xml"), http_server.url("/missing.xml")

        proc = cli("ingest", ok, missing, "--json")
        rows = listed(cli, {})
        store = open_cli_store(base_env, {})
        try:
            due, ok_state, missing_state = store.scheduled(), store.get_feed(ok), store.get_feed(missing)
        finally:
            store.close()

        assert 1 == proc.returncode
        assert ({}, {}) == (rows, due)
        assert '"e"' == (ok_state or {}).get("etag")
        assert missing_state is None

    def test_ingest_subscribe_subscribes_and_schedules_the_next_poll(
        self, cli, http_server: HTTPTestServer
    ) -> None:
        """`ingest --subscribe` reads the feed now and leaves it subscribed, next check in the future."""
        http_server.route("/f.xml", static(rss_feed("http://x", []), content_type="application/rss+xml"))
        url = http_server.url("/f.xml")

        proc = cli("ingest", "--subscribe", url, "--json")
        rows = listed(cli, {})

        assert 0 == proc.returncode, proc.stderr[-2000:]
        assert [url] == list(rows)
        assert (200, 0) == (rows[url]["last_status"], rows[url]["errors"])
        assert rows[url]["next_check"] is not None
        assert '"source_subscribed"' in proc.stderr

    def test_a_one_shot_read_of_a_subscribed_feed_keeps_its_schedule(
        self, cli, base_env, http_server: HTTPTestServer
    ) -> None:
        """Ingesting a subscribed feed once neither moves its next check nor counts a failure against it."""
        http_server.route("/f.xml", static(b"gone", status=404))
        url = http_server.url("/f.xml")
        assert 0 == cli("sources", "add", url, "--no-check").returncode
        before = listed(cli, {})[url]

        cli("ingest", url)
        after = listed(cli, {})[url]

        assert (before["next_check"], 0, None) == (after["next_check"], after["errors"], after["disabled"])
