"""
A poll sends its entries' work before it records them as seen, so a poll that dies loses nothing.

Issue 12: a poll used to record every new entry as seen before it sent the
fetch tasks; a kill or a publish failure in between lost those articles for good.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.conftest import wait_for
from tests.integration.httpserver import HTTPTestServer, static
from tests.integration.test_faults import FAST_REDELIVERY, assert_exactly_once, idle, progress
from tests.support.corpus import article_page, rss_feed
from worker import dispatch
from worker.config import Settings
from worker.fetch.client import Fetcher
from worker.ids import article_id
from worker.models import SourceSpec
from worker.poll import feed as poll
from worker.sources.feeds import parse_feed
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

ENTRIES = 200


def serve_feed(server: HTTPTestServer, n: int = ENTRIES) -> tuple[str, set[str]]:
    """Serve a feed of `n` entries and their pages; return the feed URL and the article ids."""
    base = server.url("").rstrip("/")
    server.route("/feed.xml", static(rss_feed(base, list(range(n))), content_type="application/rss+xml"))
    for i in range(n):
        server.route(f"/article/{i}", static(article_page(i), content_type="text/html; charset=utf-8"))
    return server.url("/feed.xml"), {article_id(f"{base}/article/{i}") for i in range(n)}


class FailingBroker(dispatch.LocalDispatcher):
    """A broker that takes `accept` messages, then fails every publish (a lost connection, a kill)."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept

    def send(self, task: str, *args: Any) -> None:
        if len(self.queue) >= self.accept:
            raise ConnectionError("broker gone")
        super().send(task, *args)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh state store of each kind."""
    if request.param == "sqlite":
        s: StateStore = SQLiteStore(tmp_path / "state.sqlite3")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"), prefix=f"pd{random.randrange(10**9)}:")
    yield s
    s.close()


def fetch_urls(local: dispatch.LocalDispatcher) -> set[str]:
    """Return the article ids of the fetch tasks a poll queued."""
    return {article_id(args[0]["url"]) for task, args in local.queue if task == dispatch.TASK_FETCH}


class TestSendThenMark:
    def test_a_publish_failure_mid_poll_loses_no_entry(
        self, store: StateStore, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """The broker fails after 57 of 200 sends: the next poll sends every entry not sent, none is lost."""
        url, expected = serve_feed(http_server)
        settings = Settings(state_dir=tmp_path / "var", allow_private_networks=True, fetch_attempts=1)
        spec = SourceSpec("feed", url, "test")
        broken = FailingBroker(accept=57)
        with Fetcher(settings) as fetcher:
            token = dispatch.current.set(broken)
            try:
                with pytest.raises(ConnectionError):
                    poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)
            finally:
                dispatch.current.reset(token)
            again = dispatch.LocalDispatcher()
            token = dispatch.current.set(again)
            try:
                result = poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)
            finally:
                dispatch.current.reset(token)

        assert 57 == len(broken.queue)
        assert expected == fetch_urls(broken) | fetch_urls(again)
        assert ENTRIES == result.queued
        keys = [e.key for e in parse_feed(http_server.routes["/feed.xml"](None).body, url=url).entries]
        assert ENTRIES == len(keys)
        assert [] == store.unseen_entries(url, keys)


class TestKilledDuringPoll:
    def test_sigkill_in_the_middle_of_a_200_entry_poll_repeatedly_loses_and_doubles_nothing(
        self, cli, start_worker, http_server: HTTPTestServer, redis_url: str, tmp_path: Path
    ) -> None:
        """The worker is SIGKILLed mid-poll, again and again: every article still ends in the stream once."""
        url, expected = serve_feed(http_server)
        # One host serves all 200 pages: its rate is set out of reach, politeness is not under test.
        env = {
            "REDIS_URL": redis_url,
            **FAST_REDELIVERY,
            "INGEST_HOST_RATE": "500",
            "INGEST_HOST_BURST": "500",
        }
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        rng = random.Random(12)
        mid_poll, attempts, polls = 0, 0, 0

        def feed_requests() -> int:
            return sum(1 for q in http_server.requests if q.path == "/feed.xml")

        def done() -> bool:
            return r.xlen("articles") >= len(expected) and idle(r)

        worker = start_worker("p0", env=env, concurrency=1)
        assert 0 == cli("ingest", "--enqueue", url, env=env).returncode
        while mid_poll < 2 and attempts < 8:
            attempts += 1
            # The poll comes back (kombu's unacked restore, the ledger) unless the last one finished.
            assert wait_for(lambda p=polls: feed_requests() > p or done(), timeout=90, interval=0.01), (
                progress(r)
            )
            if feed_requests() == polls:
                break
            time.sleep(rng.uniform(0.01, 0.2))
            worker.kill()
            polls = feed_requests()
            # Killed after it read the feed and before it logged the end of its poll: mid-poll.
            mid_poll += not worker.events("feed_polled")
            worker = start_worker(f"p{attempts}", env=env, concurrency=1)
        print(f"{mid_poll} of {attempts} kills landed mid-poll")
        assert mid_poll >= 1
        finished = wait_for(done, timeout=180)
        assert finished, progress(r)
        time.sleep(1)

        assert_exactly_once(expected, r, tmp_path / "out")
