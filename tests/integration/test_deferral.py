"""
A host asking us to wait gets a deferral, not a dead letter: 429/503 and robots.txt outages (issue 12).

Against a real HTTP server on 127.0.0.1 and real state stores.  The service
path calls the fetch stage as a worker does (`in_process=False`) with a
dispatcher that records what it sends; `ingest` and one real worker run the
whole pipeline.  Retry-After is kept short (2 s) but above
`INGEST_RETRY_MAX_WAIT_S` (1 s in these tests), so the code path is the one
a 40 s wait takes.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.conftest import wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response, sequence, static
from tests.integration.test_ingest_e2e import read_jsonl, summary
from tests.support.corpus import article_page, rss_feed
from worker import dispatch
from worker.config import Settings
from worker.fetch import article, robots
from worker.fetch.client import Fetcher
from worker.ids import article_id
from worker.models import SourceSpec
from worker.schedule import politeness
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

PAGE = {"content_type": "text/html; charset=utf-8"}
ALLOW_ALL = b"User-agent: *\nAllow: /\n"
FAST = {"INGEST_NER_LANGUAGES": ""}


class Recorder:
    """A dispatcher that keeps what the fetch stage sends instead of queueing it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.later: list[tuple[str, float, tuple[Any, ...]]] = []

    def send(self, task: str, *args: Any) -> None:
        self.sent.append((task, args))

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        self.later.append((task, countdown_s, args))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Make a recording dispatcher the current one for the test."""
    rec = Recorder()
    token = dispatch.current.set(rec)
    yield rec
    dispatch.current.reset(token)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh state store of each kind."""
    if request.param == "sqlite":
        opened: StateStore = SQLiteStore(str(tmp_path / "state.sqlite3"))
    else:
        opened = RedisStore(request.getfixturevalue("redis_url"))
    yield opened
    opened.close()


def settings(**changes: Any) -> Settings:
    """Settings for the fetch stage against 127.0.0.1, short retries."""
    base: dict[str, Any] = {
        "allow_private_networks": True,
        "fetch_attempts": 2,
        "retry_max_wait_s": 1.0,
        "host_rate_per_s": 50.0,
        "host_burst": 1.0,
    }
    return Settings(**{**base, **changes})


def payload_of(server: HTTPTestServer, path: str) -> dict[str, Any]:
    """Return the fetch task's payload of `path`, as a poll sends it."""
    spec = SourceSpec("feed", server.url("/feed.xml"), "test").to_dict()
    return {"url": server.url(path), "spec": spec, "hints": {}}


def run_fetch(payload: dict[str, Any], store: StateStore, s: Settings, *, in_process: bool = False) -> dict:
    """Run the fetch stage once, as a worker's task does."""
    with Fetcher(s) as fetcher:
        return article.fetch_article(payload, store=store, fetcher=fetcher, settings=s, in_process=in_process)


def http_date(seconds_ahead: float) -> str:
    """Return the HTTP date `seconds_ahead` from now."""
    return email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_ahead), usegmt=True)


class TestServerAsksToWait:
    @pytest.fixture(autouse=True)
    def robots_known(self, http_server: HTTPTestServer, store: StateStore) -> None:
        """Have the host's robots.txt (a 404: no restriction) cached, as after its first article."""
        s = settings()
        with Fetcher(s) as fetcher:
            robots.refresh(http_server.url("/"), store=store, fetcher=fetcher, settings=s)

    @pytest.mark.parametrize("status", [429, 503])
    def test_the_fetch_is_deferred_to_a_slot_after_the_wait(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder, status: int
    ) -> None:
        """A 429/503 with Retry-After: 40 defers the fetch (counted); the host's next slot moves past it."""
        http_server.route("/article/1", static(b"busy", status=status, Retry_After="40"))
        s = settings()
        started = time.time()

        result = run_fetch(payload_of(http_server, "/article/1"), store, s)
        [(task, countdown, (sent,))] = recorder.later
        next_slot = store.reserve_slot(politeness.host_bucket(http_server.url()), 50.0, 1.0)

        expected = {"status": "deferred", "cause": "server_busy", "mode": "hop", "deferrals": 1}
        assert expected == {k: result[k] for k in expected}
        assert 40.0 <= result["delay_s"] < 41.0
        assert (dispatch.TASK_FETCH, politeness.countdown_cap_s(politeness.policy_of(s))) == (task, countdown)
        assert (1, started) == (sent["deferrals"], pytest.approx(sent["first_deferred_at"], abs=2))
        assert 40.0 <= sent["slot"] - started < 42.0
        assert 40.0 <= next_slot < 41.0
        assert [] == store.dead_letters()
        assert 1 == len(http_server.requests_to("/article/1"))

    def test_a_long_wait_is_parked_when_a_tick_runs(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """With a dispatch tick alive, a 40 s wait (HTTP-date form) is parked in the store."""
        http_server.route("/article/1", static(b"busy", status=429, Retry_After=http_date(40)))
        politeness.mark_tick(store, 5.0)

        result = run_fetch(payload_of(http_server, "/article/1"), store, settings())

        assert ("deferred", "park", 1) == (result["status"], result["mode"], store.parked_count())
        assert 38.0 <= result["delay_s"] < 41.0
        assert [] == recorder.later

    def test_after_the_wait_the_article_is_fetched(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """Sent back at its slot, the deferred fetch goes straight through the gate and is fetched."""
        http_server.route(
            "/article/1",
            sequence(static(b"busy", status=503, Retry_After="2"), static(article_page(1), **PAGE)),
        )
        s = settings()

        run_fetch(payload_of(http_server, "/article/1"), store, s)
        [(_, _, (deferred,))] = recorder.later
        time.sleep(max(0.0, deferred["slot"] - time.time()))
        result = run_fetch(deferred, store, s)

        assert "fetched" == result["status"]
        assert [dispatch.TASK_PROCESS] == [task for task, _ in recorder.sent]
        assert [] == store.dead_letters()
        stamps = http_server.requests_to("/article/1")
        assert 2 == len(stamps)

    def test_after_max_deferrals_the_article_is_dead_lettered_with_the_reason(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """A server answering 429 for ever: 2 deferrals, then a dead letter saying how often it asked."""
        http_server.route("/article/1", static(b"busy", status=429, Retry_After="2"))
        s = settings(max_deferrals=2)
        payload = payload_of(http_server, "/article/1")

        results = []
        for _ in range(3):
            results.append(run_fetch(payload, store, s))
            if recorder.later:
                payload = recorder.later.pop()[2][0]
                time.sleep(max(0.0, payload["slot"] - time.time()))
        [letter] = store.dead_letters()

        assert ["deferred", "deferred", "failed"] == [r["status"] for r in results]
        assert letter.reason.startswith("ServerBusy: HTTP 429: server asked to wait 2 s 3 times in ")
        assert letter.reason.endswith("(INGEST_MAX_DEFERRALS is 2)")
        assert payload_of(http_server, "/article/1") == letter.payload
        assert 3 == len(http_server.requests_to("/article/1"))

    def test_a_wait_past_the_total_cap_is_dead_lettered_at_once(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """Retry-After beyond INGEST_MAX_DEFER_TOTAL_S: a dead letter naming the cap, no deferral."""
        http_server.route("/article/1", static(b"busy", status=503, Retry_After="7200"))

        result = run_fetch(payload_of(http_server, "/article/1"), store, settings(max_defer_total_s=3600))

        expected = (
            "ServerBusy: HTTP 503: server asked to wait 7200 s once; waiting would last 7200 s "
            "(INGEST_MAX_DEFER_TOTAL_S is 3600)"
        )
        assert ("failed", expected) == (result["status"], result["reason"])
        assert [] == recorder.later

    def test_a_500_is_still_retried_by_the_fetch_and_then_dead_lettered(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """A 500 without Retry-After is a blip: tenacity's attempts, then a dead letter, never a deferral."""
        http_server.route("/article/1", static(b"oops", status=500))

        result = run_fetch(payload_of(http_server, "/article/1"), store, settings())

        assert ("failed", "ServerBusy: HTTP 500") == (result["status"], result["reason"])
        assert 2 == len(http_server.requests_to("/article/1"))


class TestRobotsOutage:
    def test_a_5xx_robots_txt_is_requested_once_and_every_article_deferred(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """Ten articles on a host whose robots.txt answers 503: one robots request, ten deferrals, no page."""
        http_server.route("/robots.txt", static(b"down", status=503))
        paths = [f"/article/{i}" for i in range(10)]
        for p in paths:
            http_server.route(p, static(article_page(1), **PAGE))
        started = time.time()

        results = [run_fetch(payload_of(http_server, p), store, settings()) for p in paths]
        slots = [args[0]["slot"] for _, _, args in recorder.later]

        assert 1 == len(http_server.requests_to("/robots.txt"))
        assert [] == [r for r in http_server.requests if r.path != "/robots.txt"]
        assert [("deferred", "robots_unavailable", 1)] * 10 == [
            (r["status"], r["cause"], r["deferrals"]) for r in results
        ]
        assert [] == store.dead_letters()
        # RFC 9309 §2.3.1.4: disallowed for INGEST_ROBOTS_ERROR_TTL_S (600 s), then asked for again.
        assert all(600.0 <= slot - started < 610.0 for slot in slots), slots
        assert len(set(slots)) == len(slots)

    def test_after_the_error_ttl_robots_txt_is_asked_again_and_the_articles_fetched(
        self, http_server: HTTPTestServer, store: StateStore, recorder: Recorder
    ) -> None:
        """Once the cached outage expires, the next slot asks for robots.txt again; allowed, it fetches."""
        http_server.route("/robots.txt", sequence(static(b"down", status=500), static(ALLOW_ALL)))
        paths = [f"/article/{i}" for i in range(3)]
        for p in paths:
            http_server.route(p, static(article_page(1), **PAGE))
        s = settings(robots_error_ttl_s=1)

        first = [run_fetch(payload_of(http_server, p), store, s) for p in paths]
        deferred = [args[0] for _, _, args in recorder.later]
        time.sleep(max(0.0, max(d["slot"] for d in deferred) - time.time()))
        then = [run_fetch(d, store, s, in_process=True) for d in deferred]

        assert ["deferred"] * 3 == [r["status"] for r in first]
        assert ["fetched"] * 3 == [r["status"] for r in then]
        assert 2 == len(http_server.requests_to("/robots.txt"))
        assert [] == store.dead_letters()


class TestIngest:
    @pytest.mark.parametrize("form", ["seconds", "http-date"])
    def test_429_with_retry_after_then_200_ends_as_a_record(
        self, cli, http_server: HTTPTestServer, tmp_path: Path, form: str
    ) -> None:
        """`ingest` waits out a Retry-After longer than the retry wait cap and writes the record."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1]), content_type="application/rss+xml"))
        stamps: list[float] = []
        answers = iter([429])

        def handler(_: Request) -> Response:
            stamps.append(time.monotonic())
            if next(answers, 200) == 429:
                wait = "2" if form == "seconds" else http_date(3)
                return Response(status=429, body=b"slow down", headers={"Retry-After": wait})
            return Response(body=article_page(1), headers={"Content-Type": "text/html; charset=utf-8"})

        http_server.route("/article/1", handler)

        result = summary(cli("ingest", http_server.url("/feed.xml"), "--json", env=FAST))
        dead = cli("dead", "list", env=FAST).stdout.strip()

        assert (1, 0) == (result["new"], result["failed"])
        assert [article_id(http_server.url("/article/1"))] == [r["id"] for r in read_jsonl(tmp_path / "out")]
        assert "" == dead
        assert 2 == len(stamps)
        assert stamps[1] - stamps[0] >= 1.9

    def test_a_robots_txt_outage_is_waited_out(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """robots.txt answering 503 once: `ingest` waits the error TTL, asks again, writes every record."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1, 2, 3]), content_type="application/rss+xml"))
        for i in (1, 2, 3):
            http_server.route(f"/article/{i}", static(article_page(i), **PAGE))
        http_server.route("/robots.txt", sequence(static(b"down", status=503), static(ALLOW_ALL)))

        proc = cli(
            "ingest", http_server.url("/feed.xml"), "--json", env={**FAST, "INGEST_ROBOTS_ERROR_TTL_S": "1"}
        )
        result = summary(proc)

        assert (3, 0) == (result["new"], result["failed"])
        assert 2 == len(http_server.requests_to("/robots.txt"))
        assert 3 == len(read_jsonl(tmp_path / "out"))


class TestService:
    def test_a_worker_defers_a_429_and_emits_the_article(
        self, cli, start_worker, http_server: HTTPTestServer, redis_url: str
    ) -> None:
        """A real worker: 429 with Retry-After 2 s, then 200: a deferral (no dead letter), then the record."""
        base = http_server.url("").rstrip("/")
        http_server.route("/feed.xml", static(rss_feed(base, [1]), content_type="application/rss+xml"))
        http_server.route(
            "/article/1",
            sequence(static(b"busy", status=429, Retry_After="2"), static(article_page(1), **PAGE)),
        )
        env = {"REDIS_URL": redis_url, **FAST}
        worker = start_worker("w1", env=env)
        r = redis.Redis.from_url(redis_url, decode_responses=True)

        assert 0 == cli("ingest", "--enqueue", http_server.url("/feed.xml"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= 1, timeout=120)
        events = [e for e in worker.events("task_done") if e.get("task") == "fetch_article"]

        assert ["deferred", "fetched"] == [e["status"] for e in events]
        assert ("server_busy", 1, "HTTP 429") == (
            events[0]["cause"],
            events[0]["deferrals"],
            events[0]["reason"],
        )
        assert 0 == (r.xlen("articles:dead") if r.exists("articles:dead") else 0)
        [(_, entry)] = r.xrange("articles")
        assert article_id(http_server.url("/article/1")) == json.loads(entry["data"])["id"]
