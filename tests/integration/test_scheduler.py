"""Polling against a real HTTP server (conditional GET, errors, redirects, RFC 5005) and the dispatch tick."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.conftest import ROOT
from tests.integration.conftest import jsonl_ids, wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response, redirect, static
from tests.support.corpus import article_text, article_title, rss_feed
from worker import dispatch
from worker.config import Settings
from worker.errors import HTTPStatusError, ServerBusy
from worker.fetch.client import Fetcher
from worker.ids import article_id
from worker.models import SourceSpec
from worker.poll import archive as poll_archive
from worker.poll import feed as poll
from worker.schedule import politeness
from worker.schedule import tick as scheduler
from worker.sources.archives import iter_archive
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

INTERVAL_S = 600.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for polling 127.0.0.1 in-process: one attempt, three errors to disable, a loose host rate."""
    return Settings(
        state_dir=tmp_path / "var",
        # Backfill pages take the host's slots; TestBackfillRate sets a tight rate of its own.
        host_rate_per_s=1000.0,
        host_burst=1000.0,
        allow_private_networks=True,
        fetch_attempts=1,
        retry_max_wait_s=1,
        max_errors=3,
        poll_interval_s=INTERVAL_S,
        min_interval_s=60,
        max_interval_s=86400,
    )


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh state store of each kind."""
    if request.param == "sqlite":
        s: StateStore = SQLiteStore(tmp_path / "state.sqlite3")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"), prefix="t:")
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StateStore]:
    """A fresh SQLite store (for behaviour that does not depend on the store)."""
    s = SQLiteStore(tmp_path / "state.sqlite3")
    yield s
    s.close()


@pytest.fixture
def queued() -> Iterator[dispatch.LocalDispatcher]:
    """Collect the tasks a poll queues instead of sending them to a broker."""
    local = dispatch.LocalDispatcher()
    token = dispatch.current.set(local)
    yield local
    dispatch.current.reset(token)


@pytest.fixture
def fetcher(settings: Settings) -> Iterator[Fetcher]:
    """The real fetcher, allowed to reach 127.0.0.1."""
    with Fetcher(settings) as f:
        yield f


def feed_spec(url: str) -> SourceSpec:
    """Return the spec of a feed at `url`."""
    return SourceSpec("feed", url, "test")


def poll_once(spec: SourceSpec, settings: Settings, store: StateStore, fetcher: Fetcher) -> poll.ReadResult:
    """Poll `spec` once, swallowing the error a failing poll raises."""
    try:
        return poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)
    except (ServerBusy, HTTPStatusError):
        return poll.ReadResult(source=spec.name, error="failed")


def polled_events(logs: list[dict]) -> list[dict]:
    """Return the `feed_polled` log events."""
    return [e for e in logs if e["event"] == "feed_polled"]


def urls_queued(local: dispatch.LocalDispatcher) -> list[str]:
    """Return the article URLs of every fetch or process task queued."""
    out: list[str] = []
    for task, args in local.queue:
        if task == dispatch.TASK_FETCH:
            out.append(args[0]["url"])
        elif task == dispatch.TASK_PROCESS:
            out.extend(item["url"] for item in args[0])
    return out


class TestConditionalPolling:
    def test_validators_round_trip_and_304_is_no_work(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """The ETag and Last-Modified of a 200 are sent back; the 304 queues nothing and parses nothing."""
        body = rss_feed(http_server.url("").rstrip("/"), [1, 2])
        lm = "Wed, 21 Oct 2015 07:28:00 GMT"

        def feed(request: Request) -> Response:
            if request.headers.get("if-none-match") == '"v1"':
                return Response(status=304, headers={"ETag": '"v1"'})
            headers = {"Content-Type": "application/rss+xml", "ETag": '"v1"', "Last-Modified": lm}
            return Response(body=body, headers=headers)

        http_server.route("/feed.xml", feed)
        spec = feed_spec(http_server.url("/feed.xml"))
        poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        queued.queue.clear()

        with capture_logs() as logs:
            result = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        second = http_server.requests_to("/feed.xml")[-1]

        assert ('"v1"', lm) == (second.headers.get("if-none-match"), second.headers.get("if-modified-since"))
        assert (True, 0) == (result.not_modified, len(queued.queue))
        assert [(304, False)] == [(e["status"], e["parsed"]) for e in polled_events(logs)]

    def test_an_expires_header_delays_the_next_poll(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """An `Expires` two hours ahead (longer than the interval) is the earliest next poll."""
        expires_at = int(time.time()) + 7200
        body = rss_feed(http_server.url("").rstrip("/"), [1])
        http_server.route(
            "/feed.xml",
            static(body, content_type="application/rss+xml", expires=formatdate(expires_at, usegmt=True)),
        )
        spec = feed_spec(http_server.url("/feed.xml"))

        poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)

        assert sqlite_store.get_feed(spec.location)["next_at"] >= expires_at

    def test_unchanged_body_skips_the_parse(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """A server ignoring validators sends the same bytes: the hash matches and no parse happens."""
        body = rss_feed(http_server.url("").rstrip("/"), [1, 2])
        http_server.route("/feed.xml", static(body, content_type="application/rss+xml"))
        spec = feed_spec(http_server.url("/feed.xml"))

        with capture_logs() as logs:
            first = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
            second = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)

        assert [(200, True), (200, False)] == [(e["status"], e["parsed"]) for e in polled_events(logs)]
        assert (False, True) == (first.not_modified, second.not_modified)
        assert 2 == len(urls_queued(queued))

    def test_changed_body_queues_only_new_entries(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """A feed gaining one entry queues that entry alone."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1, 2]), content_type="application/rss+xml"))
        spec = feed_spec(http_server.url("/feed.xml"))
        poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        queued.queue.clear()
        http_server.route("/feed.xml", static(rss_feed(base, [1, 2, 3]), content_type="application/rss+xml"))

        result = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)

        assert (3, 1) == (result.seen, result.queued)
        assert [f"{base}/article/3?utm_source=rss&utm_medium=feed"] == urls_queued(queued)

    def test_json_feed_entries_are_queued(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """A JSON Feed with full content goes straight to processing, one item per entry."""
        text = "<p>" + "Full article text. " * 60 + "</p>"
        items = [
            {"id": f"j{i}", "url": http_server.url(f"/j/{i}"), "title": f"T{i}", "content_html": text}
            for i in range(3)
        ]
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
        http_server.route(
            "/feed.json", static(json.dumps(doc).encode(), content_type="application/feed+json")
        )

        result = poll.poll_feed(
            feed_spec(http_server.url("/feed.json")), settings=settings, store=sqlite_store, fetcher=fetcher
        )

        assert (3, 3) == (result.seen, result.queued)
        assert [i["url"] for i in items] == urls_queued(queued)
        assert {dispatch.TASK_PROCESS} == {task for task, _ in queued.queue}


class TestErrors:
    @pytest.mark.parametrize("status", [429, 503], ids=["429", "503"])
    def test_retry_after_pushes_the_next_check(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued, status: int
    ) -> None:
        """A Retry-After of an hour puts the next check at least an hour away, whatever the interval."""
        http_server.route("/feed.xml", static(b"busy", status=status, retry_after="3600"))
        spec = feed_spec(http_server.url("/feed.xml"))
        before = time.time()

        result = poll_once(spec, settings, sqlite_store, fetcher)
        state = sqlite_store.get_feed(spec.location) or {}

        assert "failed" == result.error
        assert (1, status) == (state["errors"], state.get("last_status", status))
        assert state["next_at"] >= before + 3600
        assert state["next_at"] == sqlite_store.scheduled()[spec.location]

    def test_repeated_500s_back_off_then_disable(
        self, http_server: HTTPTestServer, settings, store, fetcher, queued
    ) -> None:
        """Each 500 doubles the wait; the third disables the feed with the reason kept and unschedules it."""
        http_server.route("/feed.xml", static(b"boom", status=500))
        spec = feed_spec(http_server.url("/feed.xml"))
        waits = []
        for _ in range(2):
            start = time.time()
            poll_once(spec, settings, store, fetcher)
            waits.append(store.scheduled()[spec.location] - start)

        poll_once(spec, settings, store, fetcher)
        state = store.get_feed(spec.location) or {}

        assert 2 * INTERVAL_S <= waits[0] <= 2 * INTERVAL_S * 1.1 + 1
        assert 4 * INTERVAL_S <= waits[1] <= 4 * INTERVAL_S * 1.1 + 1
        assert 3 == state["errors"]
        assert state["disabled"].startswith("3 consecutive errors: ServerBusy")
        assert spec.location not in store.scheduled()

    def test_success_resets_the_error_count(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """Two failures then a success: the count is back to zero and the next check is one interval away."""
        ok = static(rss_feed(http_server.url("").rstrip("/"), [1]), content_type="application/rss+xml")
        failing = static(b"boom", status=500)
        spec = feed_spec(http_server.url("/feed.xml"))
        http_server.route("/feed.xml", failing)
        poll_once(spec, settings, sqlite_store, fetcher)
        poll_once(spec, settings, sqlite_store, fetcher)
        http_server.route("/feed.xml", ok)
        start = time.time()

        poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        state = sqlite_store.get_feed(spec.location) or {}

        assert (0, 200, None) == (state["errors"], state["last_status"], state["last_error"])
        assert state["next_at"] - start <= settings.max_interval_s

    def test_410_disables_at_once(
        self, http_server: HTTPTestServer, settings, store, fetcher, queued
    ) -> None:
        """One 410 Gone disables the feed and removes it from the due-set."""
        http_server.route("/feed.xml", static(b"gone", status=410))
        spec = feed_spec(http_server.url("/feed.xml"))

        poll_once(spec, settings, store, fetcher)
        state = store.get_feed(spec.location) or {}

        assert ("410 Gone", 410, 1) == (state["disabled"], state["last_status"], state["errors"])
        assert {} == store.scheduled()


class TestRedirects:
    def test_301_moves_the_source_with_its_state_and_entries(
        self, http_server: HTTPTestServer, settings, store, fetcher, queued
    ) -> None:
        """After a 301 the source lives at the new URL, due there, and its seen entries came along."""
        body = rss_feed(http_server.url("").rstrip("/"), [1, 2])
        http_server.route("/old.xml", static(body, content_type="application/rss+xml"))
        old = feed_spec(http_server.url("/old.xml"))
        poll.poll_feed(old, settings=settings, store=store, fetcher=fetcher)
        http_server.route("/old.xml", redirect(http_server.url("/new.xml")))
        http_server.route("/new.xml", static(body + b"<!-- moved -->", content_type="application/rss+xml"))
        queued.queue.clear()

        result = poll.poll_feed(old, settings=settings, store=store, fetcher=fetcher)
        new_url = http_server.url("/new.xml")
        state = store.get_feed(new_url) or {}

        assert (None, [new_url]) == (store.get_feed(old.location), list(store.scheduled()))
        assert (new_url, old.location) == (state["spec"]["location"], state["redirected_from"])
        assert (2, 0) == (result.seen, result.queued)
        assert [] == urls_queued(queued)


def archive_page(server: HTTPTestServer, path: str, ids: list[int], links: dict[str, str]) -> None:
    """Serve an Atom document with entries `ids` and feed-level `links` (rel -> path)."""
    link_tags = "".join(f'<link rel="{rel}" href="{server.url(p)}"/>' for rel, p in links.items())
    entries = "".join(
        f'<entry><id>urn:e:{i}</id><title>E{i}</title><link href="{server.url(f"/a/{i}")}"/>'
        f"<updated>2024-01-{1 + i % 28:02d}T00:00:00Z</updated></entry>"
        for i in ids
    )
    doc = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:feed</id><title>F</title><updated>2024-02-01T00:00:00Z</updated>{link_tags}{entries}</feed>"
    )
    server.route(path, static(doc.encode(), content_type="application/atom+xml"))


class TestRFC5005:
    def test_archive_chain_is_read_once(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """prev-archive links are followed to the chain's end once; the next poll reads only the new page."""
        archive_page(http_server, "/feed", [9, 10], {"prev-archive": "/arch/3"})
        archive_page(http_server, "/arch/3", [7, 8], {"prev-archive": "/arch/2", "current": "/feed"})
        archive_page(http_server, "/arch/2", [4, 5, 6], {"prev-archive": "/arch/1"})
        archive_page(http_server, "/arch/1", [1, 2, 3], {})
        spec = feed_spec(http_server.url("/feed"))

        first = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        first_urls = urls_queued(queued)
        queued.queue.clear()
        archive_page(http_server, "/feed", [11], {"prev-archive": "/arch/4"})
        archive_page(http_server, "/arch/4", [9, 10], {"prev-archive": "/arch/3"})
        second = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)

        assert sorted(http_server.url(f"/a/{i}") for i in range(1, 11)) == sorted(first_urls)
        assert (3, 10) == (first.pages, first.queued)
        assert (1, 1) == (second.pages, second.queued)
        assert [http_server.url("/a/11")] == urls_queued(queued)
        assert 1 == len(http_server.requests_to("/arch/1"))

    def test_paged_feed_backfill_stops_at_the_depth_limit(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """`next` pages are followed up to the page limit; the next poll goes on where the first stopped."""
        for n in range(5):
            links = {"next": f"/page/{n + 1}"} if n < 4 else {}
            archive_page(http_server, f"/page/{n}", [n * 2, n * 2 + 1], links)
        spec = feed_spec(http_server.url("/page/0"))

        first = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher, backfill_pages=2)
        not_yet = len(http_server.requests_to("/page/3"))
        archive_page(http_server, "/page/0", [0, 1, 100], {"next": "/page/1"})
        second = poll.poll_feed(
            spec, settings=settings, store=sqlite_store, fetcher=fetcher, backfill_pages=2
        )
        third = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher, backfill_pages=2)

        assert (2, 6) == (first.pages, first.queued)
        assert 0 == not_yet
        assert (2, 5) == (second.pages, second.queued)
        assert (0, 0) == (third.pages, third.queued)
        assert [1, 1, 1, 1] == [len(http_server.requests_to(f"/page/{n}")) for n in range(1, 5)]
        assert sorted(http_server.url(f"/a/{i}") for i in [*range(10), 100]) == sorted(urls_queued(queued))

    def test_failed_page_is_tried_again_next_poll(
        self, http_server: HTTPTestServer, settings, sqlite_store, fetcher, queued
    ) -> None:
        """A page that fails is not remembered as read."""
        archive_page(http_server, "/feed", [1], {"prev-archive": "/arch/1"})
        http_server.route("/arch/1", static(b"boom", status=500))
        spec = feed_spec(http_server.url("/feed"))
        first = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)
        archive_page(http_server, "/arch/1", [0], {})
        archive_page(http_server, "/feed", [1, 2], {"prev-archive": "/arch/1"})

        second = poll.poll_feed(spec, settings=settings, store=sqlite_store, fetcher=fetcher)

        assert (0, 1) == (first.pages, second.pages)
        assert sorted([http_server.url("/a/0"), http_server.url("/a/1"), http_server.url("/a/2")]) == sorted(
            urls_queued(queued)
        )


class TestDispatchTick:
    def test_host_cap_leaves_the_rest_due_for_the_next_tick(self, store: StateStore, queued) -> None:
        """Five due feeds of one host and two of another, cap 2: four go now, the rest on later ticks."""
        now = time.time()
        urls = [f"http://big.example/{i}" for i in range(5)] + [f"http://small.example/{i}" for i in range(2)]
        for i, url in enumerate(urls):
            store.put_feed(url, {"spec": feed_spec(url).to_dict()}, next_at=now - 100 + i)

        first = scheduler.tick(store, now=now, limit=100, lease_s=300, per_host=2)
        sent_first = [args[0]["location"] for _, args in queued.queue]
        queued.queue.clear()
        second = scheduler.tick(store, now=now + 1, limit=100, lease_s=300, per_host=2)
        third = scheduler.tick(store, now=now + 2, limit=100, lease_s=300, per_host=2)

        assert (7, 4, 3) == (first.claimed, first.dispatched, first.deferred)
        assert [*urls[:2], *urls[5:]] == sent_first
        assert (3, 2, 1) == (second.claimed, second.dispatched, second.deferred)
        assert (1, 1, 0) == (third.claimed, third.dispatched, third.deferred)

    def test_the_claimed_state_rides_with_the_poll_and_its_validators_are_sent(
        self, http_server: HTTPTestServer, settings, store: StateStore, fetcher, queued
    ) -> None:
        """The tick hands each poll the state its claim read; the poll sends those validators unread."""
        http_server.route("/feed.xml", static(b"", status=304, etag='"v7"'))
        url = http_server.url("/feed.xml")
        stored = {"spec": feed_spec(url).to_dict(), "etag": '"v7"', "body_hash": "00ff00ff00ff00ff"}
        store.put_feed(url, {**stored, "last_polled": 1_700_000_000, "interval_s": 900.0}, next_at=1)

        scheduler.tick(store, now=10, limit=10, lease_s=60)
        [(task, (spec_dict, resume_after, claimed))] = list(queued.queue)
        # What the poll then does with it: the store's copy is gone, the claimed one still serves.
        store.put_feed(url, {"spec": spec_dict})
        result = poll.poll_feed(
            SourceSpec.from_dict(spec_dict), settings=settings, store=store, fetcher=fetcher, state=claimed
        )

        assert (dispatch.TASK_POLL, None) == (task, resume_after)
        assert '"v7"' == claimed["etag"]
        assert ("00ff00ff00ff00ff", 900) == (claimed["body_hash"], claimed["interval_s"])
        assert "spec" not in claimed
        assert '"v7"' == http_server.requests_to("/feed.xml")[-1].headers.get("if-none-match")
        assert result.not_modified
        assert '"v7"' == store.get_feed(url)["etag"]

    def test_disabled_and_specless_sources_are_dropped(self, store: StateStore, queued) -> None:
        """A disabled source found due is removed from the due-set, not polled."""
        store.put_feed(
            "http://h/a", {"spec": feed_spec("http://h/a").to_dict(), "disabled": "410 Gone"}, next_at=1
        )
        store.schedule("http://h/b", 1)

        result = scheduler.tick(store, now=10, limit=10, lease_s=60)

        assert (2, 0, 2) == (result.claimed, result.dispatched, result.dropped)
        assert {} == store.scheduled()


def seed_format(i: int) -> bytes:
    """Return article `i` in the seed archive's text format (tags, title, date, body)."""
    return (
        f"Tags: world | test{i % 3}\n\n{article_title(i)}\n\n"
        f"Monday, 09 Sep 2013 04:11 AM\n\n{article_text(i)}\n"
    ).encode()


def make_text_tar(path: Path, count: int) -> Path:
    """Write a .tar.gz of `count` seed-format articles."""
    with tarfile.open(path, "w:gz") as tf:
        for i in range(count):
            data = seed_format(i)
            info = tarfile.TarInfo(f"dump/{i:04d}.txt")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


class TestArchives:
    def test_registered_archive_is_read_in_chunks_and_rescheduled(
        self, tmp_path: Path, settings, sqlite_store, queued
    ) -> None:
        """A chunk ends with a continuation; the last chunk clears the checkpoint and sets the next read."""
        path = make_text_tar(tmp_path / "dump.tar.gz", 5)
        spec = SourceSpec("archive", str(path), "dump", interval_s=3600)
        sqlite_store.put_feed(spec.location, {"spec": spec.to_dict()})
        small = settings.with_(batch_size=1)
        poll_archive.ARCHIVE_CHUNK_BATCHES, saved = 2, poll_archive.ARCHIVE_CHUNK_BATCHES
        try:
            first = poll_archive.read_archive(spec, settings=small, store=sqlite_store)
            continuation = queued.queue[-1]
            resume = continuation[1][1]
            second = poll_archive.read_archive(spec, settings=small, store=sqlite_store, resume_after=resume)
            checkpoint_mid = sqlite_store.get_checkpoint(f"archive:{spec.location}")
            third = poll_archive.read_archive(
                spec, settings=small, store=sqlite_store, resume_after=queued.queue[-1][1][1]
            )
        finally:
            poll_archive.ARCHIVE_CHUNK_BATCHES = saved
        start = time.time()

        assert dispatch.TASK_POLL == continuation[0]
        assert (2, 2, 1) == (first.seen, second.seen, third.seen)
        assert resume == checkpoint_mid
        assert None is sqlite_store.get_checkpoint(f"archive:{spec.location}")  # cleared: the key is gone
        assert 3600 <= sqlite_store.scheduled()[spec.location] - start + 5 <= 3600 * 1.1 + 5
        assert 5 == sum(len(args[0]) for task, args in queued.queue if task == dispatch.TASK_PROCESS)

    def test_ingest_killed_halfway_resumes_with_nothing_missing_or_doubled(
        self, cli, base_env: dict[str, str], tmp_path: Path
    ) -> None:
        """SIGKILL mid-archive, run again: every article is in the JSONL exactly once; the rerun resumed."""
        count = 48
        path = make_text_tar(tmp_path / "big.tar.gz", count)
        out = tmp_path / "out"
        env = {**base_env, "INGEST_BATCH_SIZE": "2"}
        expected = sorted(
            {
                article_id(ai.item.url)
                for ai in iter_archive(str(path), source=SourceSpec("archive", str(path), "big").ref())
                if ai.item
            }
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker", "ingest", str(path), "--out", str(out), "--quiet"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert wait_for(
                lambda: len(jsonl_ids(out, whole_lines=True)) >= 24 if out.exists() else False,
                timeout=180,
                interval=0.02,
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        # Killed mid-append, the file may end in part of a line: the rerun's repair deals with it.
        written_before = len(jsonl_ids(out, whole_lines=True))
        state = SQLiteStore(Path(base_env["INGEST_STATE_DIR"]) / "state.sqlite3")
        checkpoint = state.get_checkpoint(f"archive:{path}")
        state.close()

        rerun = cli("ingest", str(path), "--out", str(out), "--json", env={"INGEST_BATCH_SIZE": "2"})
        ids = jsonl_ids(out)

        assert 0 == rerun.returncode, rerun.stderr[-2000:]
        assert count == len(expected)
        assert written_before < count, "the first run finished before it was killed"
        assert checkpoint, "killed before any chunk was checkpointed"
        assert json.loads(rerun.stdout.splitlines()[-1])["seen"] < count
        assert len(ids) == len(set(ids))
        assert expected == sorted(ids)


class CountingStore(SQLiteStore):
    """A real SQLite store that remembers how much each `claim_due_feeds` call asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.asked: list[int] = []

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict]]:
        self.asked.append(limit)
        return super().claim_due_feeds(now, limit, lease_s)


class Recorder(dispatch.LocalDispatcher):
    """Collect queued tasks with their countdowns."""

    def __init__(self) -> None:
        super().__init__()
        self.countdowns: list[float] = []

    def send_later(self, task: str, countdown_s: float, *args) -> None:
        self.countdowns.append(countdown_s)
        super().send_later(task, countdown_s, *args)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Collect the tasks a tick queues, with their countdowns."""
    local = Recorder()
    token = dispatch.current.set(local)
    yield local
    dispatch.current.reset(token)


class TestLargeClaims:
    def test_a_large_claim_is_split_into_store_calls_of_at_most_a_chunk(self, tmp_path: Path, queued) -> None:
        """2,100 due sources and a limit of 2,500: three store calls of at most 1,000, each source once."""
        store = CountingStore(tmp_path / "state.sqlite3")
        now = time.time()
        urls = [f"http://h{i % 700}.example/{i}" for i in range(2100)]
        store.put_feeds([(u, {"spec": feed_spec(u).to_dict()}, now - 10) for u in urls])

        result = scheduler.tick(store, now=now, limit=2500, lease_s=300, per_host=10)
        sent = [args[0]["location"] for _, args in queued.queue]
        store.close()

        assert [1000, 1000, 500] == store.asked
        assert (2100, 2100) == (result.claimed, result.dispatched)
        assert sorted(urls) == sorted(sent)

    def test_a_claim_stops_at_the_limit(self, tmp_path: Path, queued) -> None:
        """A limit below what is due takes exactly the limit, in chunks, leaving the rest due."""
        store = CountingStore(tmp_path / "state.sqlite3")
        urls = [f"http://h{i}.example/" for i in range(10)]
        store.put_feeds([(u, {"spec": feed_spec(u).to_dict()}, 1.0) for u in urls])

        claimed = scheduler.claim_due_in_chunks(store, 100.0, 7, 60, chunk=3)
        left = [u for u, at in store.scheduled().items() if at <= 100.0]
        store.close()

        assert [3, 3, 1] == store.asked
        assert 7 == len({u for u, _ in claimed})
        assert 3 == len(left)


class TestParkedRelease:
    def test_tick_releases_what_falls_before_the_next_tick_with_countdowns(
        self, store: StateStore, recorder: Recorder
    ) -> None:
        """Parked fetches due by the next tick are sent, counting down to their slot; later ones stay."""
        now = 1000.0
        for name, at in [("late", 990.0), ("soon", 1003.0), ("later", 1020.0)]:
            store.park(name, {"url": f"http://h/{name}", "slot": at}, at)

        result = scheduler.tick(store, now=now, limit=10, lease_s=60, release_ahead_s=5.0)
        sent = [(task, args[0]["url"]) for task, args in recorder.queue]

        assert 2 == result.released
        assert [(dispatch.TASK_FETCH, "http://h/late"), (dispatch.TASK_FETCH, "http://h/soon")] == sent
        assert [-10.0, 3.0] == recorder.countdowns
        assert 1 == store.parked_count()
        assert 0 == scheduler.tick(store, now=now + 1, limit=10, lease_s=60, release_ahead_s=5.0).released

    def test_fetches_park_only_while_a_tick_runs(self, store: StateStore) -> None:
        """Parking is safe only when a dispatch tick releases: each tick says so for three ticks."""
        before = politeness.tick_alive(store)
        politeness.mark_tick(store, 1.0)
        during = politeness.tick_alive(store)
        time.sleep(3.2)

        assert (False, True, False) == (before, during, politeness.tick_alive(store))

    def test_a_large_release_is_split_into_chunks(self, store: StateStore, recorder: Recorder) -> None:
        """2,500 due fetches go out in store calls of at most a chunk, each once, up to the per-tick limit."""
        for i in range(2500):
            store.park(f"a{i}", {"url": f"http://h/{i}"}, 900.0 + i * 0.01)

        sent = scheduler.release_parked(store, now=1000.0, ahead_s=0, lease_s=60, limit=2200, chunk=1000)
        urls = [args[0]["url"] for _, args in recorder.queue]

        assert 2200 == sent
        assert 2200 == len(set(urls))
        assert 300 == store.parked_count()


class TestPurge:
    def test_the_tick_purges_once_a_minute_whichever_process_runs_it(
        self, store: StateStore, settings: Settings, queued
    ) -> None:
        """The first tick of a minute purges what expired; no other tick of that minute, in any process."""
        store.mark_done("a", 1)
        time.sleep(2.1)
        with capture_logs() as logs:
            first = scheduler.run(store, settings)
            again = scheduler.run(store, settings)
            other_process = scheduler.maybe_purge(store, time.time())
        purged = [e for e in logs if e["event"] == "state_purged"]

        assert (None, 0) == (other_process, again.purged)
        assert [first.purged] == [e["items"] for e in purged]
        assert False is store.is_done("a")

    def test_the_lease_of_the_purge_ends_after_the_minute(self, store: StateStore) -> None:
        """A purge taken with a 1-second turn lets the next one go after a second."""
        turns = [scheduler.maybe_purge(store, time.time(), every_s=1) for _ in range(2)]
        time.sleep(1.2)

        assert [True, False, True] == [
            t is not None for t in (*turns, scheduler.maybe_purge(store, time.time(), every_s=1))
        ]


class TestBackfillRate:
    def test_backfill_pages_take_the_host_slot_and_go_on_at_the_next_poll(
        self, http_server: HTTPTestServer, settings: Settings, sqlite_store, queued
    ) -> None:
        """At 1 request a second (burst 2) a poll reads the pages it has slots for; later polls go on."""
        tight = settings.with_(host_rate_per_s=1.0, host_burst=2.0)
        for n in range(5):
            links = {"prev-archive": f"/arch/{n - 1}"} if n > 0 else {}
            archive_page(http_server, f"/arch/{n}", [n * 2, n * 2 + 1], links)
        archive_page(http_server, "/feed", [100], {"prev-archive": "/arch/4"})
        spec = feed_spec(http_server.url("/feed"))
        results = []
        with Fetcher(tight) as fetcher, capture_logs() as logs:
            results.append(poll.poll_feed(spec, settings=tight, store=sqlite_store, fetcher=fetcher))
            time.sleep(2.1)  # two slots free again
            archive_page(http_server, "/feed", [100, 101], {"prev-archive": "/arch/4"})
            results.append(poll.poll_feed(spec, settings=tight, store=sqlite_store, fetcher=fetcher))
            time.sleep(2.1)
            # The feed is unchanged, so not parsed: the pending backfill goes on all the same.
            results.append(poll.poll_feed(spec, settings=tight, store=sqlite_store, fetcher=fetcher))
            time.sleep(1.1)
            # Nothing is pending any more: an unchanged poll reads no page.
            results.append(poll.poll_feed(spec, settings=tight, store=sqlite_store, fetcher=fetcher))
        paused = [e["reason"] for e in logs if e["event"] == "feed_backfill_paused"]

        assert [False, False, True, True] == [r.not_modified for r in results]
        assert [2, 2, 1, 0] == [r.pages for r in results]
        assert sqlite_store.get_feed(spec.location).get("backfill_pending") is None
        assert ["host_rate", "host_rate"] == paused
        assert [1, 1, 1, 1, 1] == [len(http_server.requests_to(f"/arch/{n}")) for n in range(5)]
        assert sorted(http_server.url(f"/a/{i}") for i in [*range(10), 100, 101]) == sorted(
            urls_queued(queued)
        )
