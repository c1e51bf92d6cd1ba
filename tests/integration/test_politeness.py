"""Politeness against a real HTTP server: robots.txt, and one per-host rate shared by two worker processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ROOT
from tests.integration.conftest import WorkerProcess, wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response, static
from tests.support.corpus import article_page, article_title
from worker import dispatch
from worker.config import Settings
from worker.fetch.robots import robots_allows
from worker.ids import article_id
from worker.models import SourceSpec
from worker.schedule import politeness
from worker.schedule import tick as scheduler
from worker.state.redis import RedisStore

pytestmark = pytest.mark.integration


def serve_articles(server: HTTPTestServer, paths: list[str]) -> str:
    """Serve an RSS feed linking to `paths` (each an article page); return the feed URL."""
    items = "".join(
        f"<item><title>{escape(article_title(i))}</title><link>{server.url(p)}</link>"
        f"<guid>{escape(p)}</guid></item>"
        for i, p in enumerate(paths)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    server.route("/feed.xml", static(feed.encode(), content_type="application/rss+xml"))
    for i, p in enumerate(paths):
        server.route(p, static(article_page(300 + i), content_type="text/html; charset=utf-8"))
    return server.url("/feed.xml")


class TestRobotsRules:
    @pytest.mark.parametrize(
        ("robots", "path", "allowed"),
        [
            ("User-agent: *\nDisallow: /private/\n", "/private/1", False),
            ("User-agent: *\nDisallow: /private/\n", "/news/1", True),
            ("User-agent: news-ingest-worker\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "/news/1", False),
            ("User-agent: otherbot\nDisallow: /\n", "/news/1", True),
            ("", "/anything", True),
        ],
        ids=["disallowed-path", "allowed-path", "our-agent-named", "other-agent-only", "empty"],
    )
    def test_rules_follow_rfc_9309(self, robots: str, path: str, allowed: bool) -> None:
        """Our user agent is matched by its product token; an empty robots.txt allows everything."""
        ua = "news-ingest-worker/0.1 (+https://example.org/news-ingest-worker)"

        assert allowed == robots_allows(robots, f"http://h{path}", ua)

    def test_policy_reads_the_environment(self) -> None:
        """The rate, burst, robots TTL and deferral cap come from INGEST_* variables."""
        env = {"INGEST_HOST_RATE": "2.5", "INGEST_HOST_BURST": "4", "INGEST_ROBOTS_TTL_S": "60"}

        assert politeness.Policy(2.5, 4.0, 60, 10.0) == politeness.load_policy(env)


class TestRobotsInIngest:
    def test_disallowed_article_is_dead_lettered_and_never_fetched(
        self, cli, http_server: HTTPTestServer
    ) -> None:
        """robots.txt is fetched once per host and cached; a disallowed page is dead-lettered unfetched."""
        http_server.route("/robots.txt", static(b"User-agent: *\nDisallow: /private/\n"))
        url = serve_articles(http_server, ["/private/1", "/news/2", "/news/3"])

        first = cli("ingest", url, "--json")
        again = cli("ingest", url, "--json")
        dead = [json.loads(line) for line in cli("dead", "list").stdout.splitlines()]

        # 3: every source was read, an article failed (the refused page, a dead letter).
        assert (3, 0) == (first.returncode, again.returncode), first.stderr[-2000:]
        assert [] == http_server.requests_to("/private/1")
        assert 1 == len(http_server.requests_to("/news/2"))
        assert 1 == len(http_server.requests_to("/robots.txt"))
        assert [(http_server.url("/private/1"), "fetch")] == [(d["url"], d["stage"]) for d in dead]
        assert "robots.txt" in dead[0]["reason"]

    def test_missing_robots_allows_everything(self, cli, http_server: HTTPTestServer) -> None:
        """A 404 robots.txt means no restriction (RFC 9309 §2.3.1.3)."""
        url = serve_articles(http_server, ["/private/1"])

        proc = cli("ingest", url, "--json")

        assert 0 == proc.returncode, proc.stderr[-2000:]
        assert 1 == len(http_server.requests_to("/private/1"))
        assert 1 == json.loads(proc.stdout.splitlines()[-1])["new"]


class TestSharedRate:
    def test_per_host_rate_holds_across_two_worker_processes(
        self, cli, start_worker, http_server: HTTPTestServer, redis_url: str
    ) -> None:
        """Two workers fetching one host never exceed the shared bucket: burst 1, then 2 per second."""
        rate, burst = 2.0, 1.0
        paths = [f"/news/{i}" for i in range(8)]
        url = serve_articles(http_server, paths)
        stamps: list[float] = []
        lock = threading.Lock()

        def timed(path: str):
            page = article_page(300 + paths.index(path))

            def handler(_: Request) -> Response:
                with lock:
                    stamps.append(time.monotonic())
                return Response(body=page, headers={"Content-Type": "text/html; charset=utf-8"})

            return handler

        for p in paths:
            http_server.route(p, timed(p))
        env = {"REDIS_URL": redis_url, "INGEST_HOST_RATE": str(rate), "INGEST_HOST_BURST": str(burst)}
        workers = [start_worker("w1", env=env), start_worker("w2", env=env)]

        assert 0 == cli("ingest", "--enqueue", url, env=env).returncode
        assert wait_for(lambda: len(stamps) >= len(paths), timeout=120)
        times = sorted(stamps)
        fetched_by = [w.log.read_text(errors="replace").count("fetch_article") for w in workers]

        assert len(paths) == len(times)
        # In any window from request i to request j, at most burst + rate * elapsed requests fit.
        slack_s = 0.1
        for i in range(len(times)):
            for j in range(i + 1, len(times)):
                assert j - i + 1 <= burst + rate * (times[j] - times[i] + slack_s), (i, j, times)
        assert all(n > 0 for n in fetched_by), fetched_by


def timed_articles(server: HTTPTestServer, paths: list[str]) -> tuple[str, dict[str, list[float]]]:
    """Serve a feed of `paths`; return its URL and the request times the server sees, per path."""
    url = serve_articles(server, paths)
    stamps: dict[str, list[float]] = {p: [] for p in paths}
    lock = threading.Lock()

    def timed(path: str) -> Callable[[Request], Response]:
        page = article_page(300 + paths.index(path))

        def handler(_: Request) -> Response:
            with lock:
                stamps[path].append(time.monotonic())
            return Response(body=page, headers={"Content-Type": "text/html; charset=utf-8"})

        return handler

    for p in paths:
        server.route(p, timed(p))
    return url, stamps


def fetch_events(workers: list[WorkerProcess], task: str = "fetch_article") -> list[dict[str, Any]]:
    """Return the `task_done` events of `task` from the workers' JSON logs."""
    return [e for w in workers for e in w.events("task_done") if e.get("task") == task]


@pytest.fixture
def start_beat(base_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[dict[str, str]], None]]:
    """Factory: start one `celery beat` (the dispatch tick); it is stopped at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> None:
        args = [sys.executable, "-m", "celery", "-A", "worker.app.celery_app", "beat", "--loglevel", "INFO"]
        args += ["--schedule", str(tmp_path / "beat-schedule")]
        with open(tmp_path / "beat.log", "wb") as fh:
            procs.append(
                subprocess.Popen(args, env={**base_env, **env}, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
            )

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class BrokerDispatcher:
    """Send tasks to the test's Redis broker from this process, as a tick in a worker would."""

    def __init__(self, redis_url: str, state_dir: Path) -> None:
        from worker.app.celery_app import make_app

        self.app = make_app(Settings(redis_url=redis_url, state_dir=state_dir))

    def send(self, task: str, *args: Any) -> None:
        self.app.send_task(task, args=list(args))

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        self.app.send_task(task, args=list(args), countdown=countdown_s if countdown_s > 0 else None)


class TestDeferral:
    def test_a_backlog_on_one_host_is_paced_and_each_article_deferred_at_most_once(
        self, cli, start_worker, start_beat, http_server: HTTPTestServer, redis_url: str
    ) -> None:
        """
        30 articles of one host at 5 requests a second, two fetching workers and the beat's tick.

        Each article is fetched and emitted once; it is deferred at most once
        to the slot it reserved first (a countdown or parked in the state
        store, both seen), and again only when it ran too late to pass the
        gate, which keeps late fetches from bunching: no retry loop.  The
        server sees no window with more requests than burst + rate × its length.
        """
        rate, burst, n = 5.0, 1.0, 30
        paths = [f"/news/{i}" for i in range(n)]
        url, stamps = timed_articles(http_server, paths)
        env = {
            "REDIS_URL": redis_url,
            "INGEST_HOST_RATE": str(rate),
            "INGEST_HOST_BURST": str(burst),
            "INGEST_TICK_S": "2",
            "INGEST_MAX_DEFER_S": "0",  # waits over a tick park
        }
        fetchers = [start_worker(name, env=env, queues="poll,fetch") for name in ("f1", "f2")]
        start_worker("p1", env=env, queues="process")
        start_beat(env)
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        # Fetches park only once a tick has run (before, they wait in capped countdowns).
        assert wait_for(lambda: r.exists(f"ingest:cache:{politeness.TICK_ALIVE_KEY}") == 1, timeout=120)

        assert 0 == cli("ingest", "--enqueue", url, env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= n, timeout=180), fetch_events(fetchers)[-5:]
        events = fetch_events(fetchers)
        first: dict[str, int] = {}
        for e in events:
            if e["status"] == "deferred" and e["reserved"] and not e["again"]:
                first[e["url"]] = first.get(e["url"], 0) + 1
        modes = {e["mode"] for e in events if e["status"] == "deferred"}
        again = sum(1 for e in events if e.get("again"))
        times = sorted(t for p in paths for t in stamps[p])
        store = RedisStore(redis_url)
        parked_left = store.parked_count()
        store.close()
        ids = [json.loads(f["data"])["id"] for _, f in r.xrange("articles")]

        assert [1] * n == [len(stamps[p]) for p in paths]
        assert (n, n) == (len(ids), len(set(ids)))
        assert n == sum(1 for e in events if e["status"] == "fetched")
        assert all(c == 1 for c in first.values()), first
        assert len(first) >= n // 2, first
        assert {"countdown", "park"} == modes
        # A retry loop (the previous design) runs this backlog ~15 times per article; here a
        # fetch runs again only when it ran late, which a loaded machine makes happen at times.
        assert again <= 2 * n, again
        assert 0 == parked_left
        slack_s = 0.1
        for i in range(len(times)):
            for j in range(i + 1, len(times)):
                assert j - i + 1 <= burst + rate * (times[j] - times[i] + slack_s), (i, j, again, times)

    def test_a_release_sent_twice_emits_each_article_once(
        self, start_worker, http_server: HTTPTestServer, redis_url: str, tmp_path: Path, monkeypatch
    ) -> None:
        """A tick that died after sending, before deleting: the lease brings the items back; emitted once."""
        paths = [f"/news/{i}" for i in range(3)]
        url, stamps = timed_articles(http_server, paths)
        spec = SourceSpec("feed", url, "test").to_dict()
        store = RedisStore(redis_url)
        now = time.time()
        for p in paths:
            link = http_server.url(p)
            store.park(
                article_id(link), {"url": link, "spec": spec, "hints": {}, "slot": now - 0.5}, now - 0.5
            )
        worker = start_worker("w1", env={"REDIS_URL": redis_url})
        monkeypatch.setenv("REDIS_URL", redis_url)
        broker = BrokerDispatcher(redis_url, tmp_path / "var")
        token = dispatch.current.set(broker)
        try:
            for _, payload, _ in store.claim_parked(now, 10, 1.0):  # the tick that died before unpark
                broker.send(dispatch.TASK_FETCH, payload)
            resent = scheduler.release_parked(store, now=now + 2, ahead_s=0, lease_s=60)
        finally:
            dispatch.current.reset(token)
        r = redis.Redis.from_url(redis_url, decode_responses=True)

        # A fetch may also be deferred on its way (robots.txt takes the host's first slot): it comes
        # back and ends fetched or duplicate like the others; only those ends are counted.
        def ends() -> list[str]:
            return [e["status"] for e in fetch_events([worker]) if e["status"] in {"fetched", "duplicate"}]

        def settled() -> bool:
            processed = fetch_events([worker], "process_items")
            return len(ends()) >= 2 * len(paths) and len(processed) >= ends().count("fetched")

        done = wait_for(settled, timeout=180)
        statuses = ends()
        parked_left = store.parked_count()
        store.close()

        assert done, statuses
        assert 3 == resent
        assert 0 == parked_left
        assert 2 * len(paths) == statuses.count("fetched") + statuses.count("duplicate"), statuses
        assert statuses.count("fetched") >= len(paths)
        assert len(paths) == r.xlen("articles")
        assert all(1 <= len(stamps[p]) <= 2 for p in paths)
