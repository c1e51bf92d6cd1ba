"""Politeness against a real HTTP server: robots.txt, and one per-host rate shared by two worker processes."""

from __future__ import annotations

import json
import threading
import time
from html import escape

import pytest

from tests.integration.conftest import wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response, static
from tests.support.corpus import article_page, article_title
from worker import politeness

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

        assert allowed == politeness.robots_allows(robots, f"http://h{path}", ua)

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

        assert (0, 0) == (first.returncode, again.returncode), first.stderr[-2000:]
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
