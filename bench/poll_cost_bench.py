"""
CPU cost of polling an unchanged feed, next to one feedparser parse of the same feed, in one run.

Two unchanged cases are timed through the real `poll_feed` (HTTP over
127.0.0.1, SQLite state store): a server that answers 304 to the stored
ETag, and one that ignores validators and sends the same body again (the
body hash skips the parse).  CPU time is the polling thread's own
(`time.thread_time`), so the HTTP server thread is not counted; logging is
set to WARNING so the console renderer is not timed.
Goal: an unchanged poll costs <= 1/25 of one `feedparser.parse`.

    .venv/bin/python bench/poll_cost_bench.py [--items N] [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.httpserver import HTTPTestServer, Request, Response
from tests.support.corpus import rss_feed
from worker import dispatch, poll
from worker import logging as wlogging
from worker.config import Settings
from worker.fetch import Fetcher
from worker.sources import SourceSpec
from worker.state.sqlite import SQLiteStore

ITEMS = 50
ROUNDS = 40


def cpu_ms(fn: Callable[[], object], rounds: int) -> float:
    """Return the median thread CPU milliseconds of `fn` over `rounds` calls."""
    samples = []
    for _ in range(rounds):
        started = time.thread_time()
        fn()
        samples.append((time.thread_time() - started) * 1000)
    return statistics.median(samples)


def main(items: int = ITEMS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Time the three costs; return the figures (also printed as JSON)."""
    wlogging.configure("WARNING", force=True)
    with HTTPTestServer() as server, tempfile.TemporaryDirectory() as folder:
        body = rss_feed(server.url("").rstrip("/"), list(range(items)))

        def answer(request: Request, honour_etag: bool) -> Response:
            if honour_etag and request.headers.get("if-none-match") == '"v1"':
                return Response(status=304, headers={"ETag": '"v1"'})
            return Response(body=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        server.route("/304.xml", lambda r: answer(r, True))
        server.route("/same.xml", lambda r: answer(r, False))
        settings = Settings(state_dir=Path(folder), allow_private_networks=True, fetch_attempts=1)
        store = SQLiteStore(Path(folder) / "state.sqlite3")
        local = dispatch.LocalDispatcher()
        token = dispatch.current.set(local)
        try:
            with Fetcher(settings) as fetcher:

                def poller(path: str) -> Callable[[], object]:
                    spec = SourceSpec("feed", server.url(path), "bench")
                    return lambda: poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)

                poll_304, poll_same = poller("/304.xml"), poller("/same.xml")
                poll_304()  # the first polls parse and store the validators and hash
                poll_same()
                local.queue.clear()
                parse_ms = cpu_ms(lambda: feedparser.parse(io.BytesIO(body)), max(5, rounds // 4))
                not_modified_ms = cpu_ms(poll_304, rounds)
                same_body_ms = cpu_ms(poll_same, rounds)
                assert not local.queue, "an unchanged poll queued work"
        finally:
            dispatch.current.reset(token)
            store.close()
    return {
        "feed_items": items,
        "feed_bytes": len(body),
        "feedparser_parse_cpu_ms": round(parse_ms, 3),
        "poll_304_cpu_ms": round(not_modified_ms, 3),
        "poll_same_body_cpu_ms": round(same_body_ms, 3),
        "ratio_304": round(not_modified_ms / parse_ms, 4),
        "ratio_same_body": round(same_body_ms / parse_ms, 4),
        "goal_ratio": round(1 / 25, 4),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    print(json.dumps(main(args.items, args.rounds), indent=2))
