"""
HTTP faults end to end: every article ends in a record or on the dead-letter stream, in bounded time.

`ingest` runs the service's own tasks against a local server that resets
connections, stalls, trickles, answers 500s, serves binary content, loops
redirects and mislabels charsets.  `dead list` shows what failed and `dead
retry`, once the server is fixed, turns the letters into records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.httpserver import (
    Handler,
    HTTPTestServer,
    Request,
    Response,
    redirect,
    sequence,
    static,
)
from tests.integration.test_ingest_e2e import read_jsonl, summary
from tests.support.corpus import article_page, rss_feed
from worker.ids import article_id

pytestmark = pytest.mark.integration

FAST_FAILURE = {
    "INGEST_READ_TIMEOUT_S": "1",
    "INGEST_TOTAL_TIMEOUT_S": "3",
    "INGEST_FETCH_ATTEMPTS": "2",
    "INGEST_RETRY_MAX_WAIT_S": "0.2",
    "INGEST_NER_LANGUAGES": "",
}


def stall(seconds: float) -> Handler:
    """Return a handler that answers only after `seconds` (a read timeout for the client)."""

    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return Response(body=article_page(0), headers={"Content-Type": "text/html"})

    return handler


def trickle(request: Request) -> Response:
    """Send the page one byte a second, forever as far as the client is concerned."""

    def body() -> Iterator[bytes]:
        for b in article_page(0)[:60]:
            yield bytes([b])
            time.sleep(1)

    return Response(body=body(), headers={"Content-Type": "text/html"})


def reset(_: Request) -> Response:
    """Drop the connection with a TCP RST."""
    return Response(reset=True)


# What the server does for each article that must end on the dead-letter stream.
FAULTS: dict[int, Handler] = {
    1: reset,
    2: stall(5),
    3: trickle,
    4: static(b"busy", status=500),
    5: static(b"\x89PNG\r\n\x1a\n" + bytes(200), content_type="image/png"),
    6: redirect("/article/6b"),
}
DEAD = sorted(FAULTS)


def cp1252_page(i: int) -> bytes:
    """Return article `i` with accented words, in windows-1252 and with no charset anywhere."""
    html = article_page(i).decode("utf-8").replace('<meta charset="utf-8">', "")
    html = html.replace("<p>The ", "<p>Café crème naïveté. The ", 1)
    return html.encode("cp1252")


@pytest.fixture
def faulty(http_server: HTTPTestServer) -> HTTPTestServer:
    """Serve a feed of articles 1-9: six faulty pages, a 500 burst, and two mislabelled charsets."""
    base = http_server.url("").rstrip("/")
    http_server.route(
        "/feed.xml", static(rss_feed(base, list(range(1, 10))), content_type="application/rss+xml")
    )
    for i, handler in FAULTS.items():
        http_server.route(f"/article/{i}", handler)
    http_server.route("/article/6b", redirect("/article/6"))
    # A burst of 500s shorter than the retry budget ends in a record.
    http_server.route(
        "/article/7", sequence(static(b"x", status=500), static(article_page(7), content_type="text/html"))
    )
    # No charset declared and cp1252 bytes; then a charset the codec registry does not know.
    http_server.route("/article/8", static(cp1252_page(8), content_type="text/html"))
    http_server.route("/article/9", static(article_page(9), content_type="text/html; charset=utf-99"))
    return http_server


def aid(server: HTTPTestServer, i: int) -> str:
    """Return the article id of `/article/<i>` on the server."""
    return article_id(server.url(f"/article/{i}"))


class TestHTTPFaults:
    def test_each_article_ends_in_a_record_or_a_dead_letter_then_retry_recovers(
        self, cli, faulty: HTTPTestServer, redis_url: str, tmp_path: Path
    ) -> None:
        """Resets, stalls, trickles, 500s, binary, loops: dead letters; fixed, `dead retry` records them."""
        env = {"REDIS_URL": redis_url, **FAST_FAILURE}
        out = tmp_path / "out"

        first = summary(cli("ingest", faulty.url("/feed.xml"), "--json", env=env), code=3)
        listed = [json.loads(x) for x in cli("dead", "list", env=env).stdout.splitlines()]
        records = {r["id"]: r for r in read_jsonl(out)}

        assert (9, 3, len(DEAD)) == (first["seen"], first["new"], first["failed"])
        assert {aid(faulty, i) for i in (7, 8, 9)} == set(records)
        assert sorted(faulty.url(f"/article/{i}") for i in DEAD) == sorted(
            d["url"].split("?")[0] for d in listed
        )
        assert {"fetch"} == {d["stage"] for d in listed}
        reasons = {int(d["url"].split("/article/")[1].split("?")[0]): d["reason"] for d in listed}
        assert "FetchConnectionError" in reasons[1]
        assert "FetchTimeout" in reasons[2]
        assert "FetchTimeout" in reasons[3]
        assert "ServerBusy" in reasons[4]
        assert "binary content type image/png" in reasons[5]
        assert "redirect loop" in reasons[6]
        assert "Café crème naïveté." in records[aid(faulty, 8)]["text"]
        assert "�" not in records[aid(faulty, 9)]["text"]

        for i in DEAD:
            faulty.route(f"/article/{i}", static(article_page(i), content_type="text/html"))
        retried = cli("dead", "retry", env=env)
        after = [r["id"] for r in read_jsonl(out)]
        left = cli("dead", "list", env=env).stdout.strip()
        stream = [
            f["id"] for _, f in redis.Redis.from_url(redis_url, decode_responses=True).xrange("articles")
        ]

        assert 0 == retried.returncode, retried.stderr[-2000:]
        assert f"retried {len(DEAD)}: new {len(DEAD)}" in retried.stdout
        assert "" == left
        assert sorted(aid(faulty, i) for i in range(1, 10)) == sorted(after)
        assert sorted(after) == sorted(stream)
