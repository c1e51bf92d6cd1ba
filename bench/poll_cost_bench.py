"""
CPU cost of polling an unchanged feed, next to one feedparser parse of the same feed, in one run.

Two unchanged cases are timed through the real `poll_feed` (HTTP over
127.0.0.1): a server that answers 304 to the stored ETag, and one that ignores
validators and sends the same body again (the body hash skips the parse).
Each runs against the SQLite state store and, when `redis-server` can be
started (a private one on a free port, `harness.private_redis`), the
Redis store.  The baseline is `feedparser.parse` of the very bytes the server
sends, timed in the same run.

The feed is served by a child process (HTTP/1.1 keep-alive, as real feed
servers answer), so neither its CPU nor its threads' share of the GIL lands
in the figures.  CPU time is the bench thread's own (`time.thread_time`).
Logging is configured as the worker's (INFO, JSON) with the lines written to
/dev/null: the `feed_polled` line is rendered and counted, terminal I/O is not.

A scheduled poll gets its feed's state from the dispatch tick, whose claim
read it anyway, so `poll_feed` is timed as the worker calls it, with that
state; the claim's own cost per feed (a claim of `CLAIM_BATCH` due feeds,
timed in this run, divided by the batch) is added to the poll's figure, so
no work is left out.  A poll that reads its own state (`ingest`, a poll
task without it) is printed too, as `self_read`.
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import log_to_devnull, private_redis, server_child
from worker import dispatch
from worker.config import Settings
from worker.fetch.client import Fetcher
from worker.models import SourceSpec
from worker.poll import feed as poll
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

ITEMS = 50
ROUNDS = 40
# Rounds are run in this many blocks, each call's share in a row (see `blocked_cpu_ms`).
BLOCKS = 5
GOAL_RATIO = 1 / 25
# Due feeds claimed at once when timing the claim's share of a poll.
CLAIM_BATCH = 200


def serve(items: int) -> None:
    """Serve the feed (/304.xml honours the ETag, /same.xml not); print the port; stop when stdin closes."""
    from tests.integration.httpserver import HTTPTestServer, Request, Response
    from tests.support.corpus import rss_feed

    with HTTPTestServer(keep_alive=True) as server:
        body = rss_feed(server.url("").rstrip("/"), list(range(items)))

        def answer(request: Request, honour_etag: bool) -> Response:
            if honour_etag and request.headers.get("if-none-match") == '"v1"':
                return Response(status=304, headers={"ETag": '"v1"'})
            return Response(body=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        server.route("/304.xml", lambda r: answer(r, True))
        server.route("/same.xml", lambda r: answer(r, False))
        print(server.port, flush=True)
        sys.stdin.read()


@contextmanager
def feed_server(items: int) -> Iterator[str]:
    """Start the feed server as a child process; yield its base URL."""
    with server_child(Path(__file__).resolve(), "--serve", str(items)) as base:
        yield base


def blocked_cpu_ms(calls: dict[str, Callable[[], object]], blocks: int, per_block: int) -> dict[str, float]:
    """
    Return the median thread CPU milliseconds of each call, `per_block` calls in a row, over `blocks` blocks.

    Each block runs every call `per_block` times in a row (a worker polling
    feed after feed), so a change in the shared machine's load reaches every
    figure alike and the ratios stay comparable.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(blocks):
        for name, fn in calls.items():
            for _ in range(per_block):
                started = time.thread_time()
                fn()
                samples[name].append((time.thread_time() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def open_stores(stack: ExitStack, folder: Path) -> dict[str, StateStore]:
    """Open the SQLite store and, when a private redis-server starts, the Redis store."""
    stores: dict[str, StateStore] = {"sqlite": SQLiteStore(folder / "state.sqlite3")}
    stack.callback(stores["sqlite"].close)
    try:
        url = stack.enter_context(private_redis())
    except SystemExit as exc:  # no redis-server here: the SQLite figures still stand
        print(f"redis store skipped: {exc}", file=sys.stderr)
        return stores
    stores["redis"] = RedisStore(url, prefix="bench:")
    stack.callback(stores["redis"].close)
    return stores


def claim_share_ms(store: StateStore, base: str, rounds: int) -> float:
    """
    Return the median thread CPU milliseconds per feed of claiming `CLAIM_BATCH` due feeds, as a tick does.

    The batch is made due again before each claim, untimed.
    """
    specs = [SourceSpec("feed", f"{base}/claim/{i}.xml", "bench") for i in range(CLAIM_BATCH)]
    state = {"etag": '"6654a1c2-6400"', "body_hash": "00ff00ff00ff00ff", "interval_s": 900.0}
    samples = []
    for _ in range(rounds):
        store.put_feeds([(s.location, {"spec": s.to_dict(), **state}, 1.0) for s in specs])
        started = time.thread_time()
        claimed = store.claim_due_feeds(2.0, CLAIM_BATCH, 600)
        samples.append((time.thread_time() - started) * 1000 / CLAIM_BATCH)
        assert len(claimed) == CLAIM_BATCH, "the claim found fewer due feeds than were put"
    return statistics.median(samples)


def main(items: int = ITEMS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Time the parse and the unchanged polls on each store; return the figures (also printed as JSON)."""
    log_to_devnull()
    local = dispatch.LocalDispatcher()
    token = dispatch.current.set(local)
    try:
        with ExitStack() as stack:
            base = stack.enter_context(feed_server(items))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            settings = Settings(state_dir=folder, allow_private_networks=True, fetch_attempts=1)
            fetcher = stack.enter_context(Fetcher(settings))
            body = fetcher.fetch(f"{base}/same.xml").body
            calls: dict[str, Callable[[], object]] = {"parse": lambda: feedparser.parse(io.BytesIO(body))}
            stores = open_stores(stack, folder)
            for name, store in stores.items():
                for case, path in (("304", "/304.xml"), ("same_body", "/same.xml")):
                    spec = SourceSpec("feed", f"{base}{path}", "bench")
                    poll.poll_feed(
                        spec, settings=settings, store=store, fetcher=fetcher
                    )  # stores the validators
                    claimed = {k: v for k, v in (store.get_feed(spec.location) or {}).items() if k != "spec"}
                    calls[f"{name}:{case}"] = partial(
                        poll.poll_feed, spec, settings=settings, store=store, fetcher=fetcher, state=claimed
                    )
                    calls[f"{name}:{case}_self_read"] = partial(
                        poll.poll_feed, spec, settings=settings, store=store, fetcher=fetcher
                    )
            local.queue.clear()
            figures = blocked_cpu_ms(calls, BLOCKS, max(1, rounds // BLOCKS))
            assert not local.queue, "an unchanged poll queued work"
            for name, store in stores.items():
                figures[f"{name}:claim"] = claim_share_ms(store, base, rounds)
    finally:
        dispatch.current.reset(token)
    parse_ms = figures.pop("parse")
    results: dict[str, dict[str, float]] = {}
    for key in [k for k in figures if k.endswith(":claim")]:
        name = key.split(":")[0]
        share = figures.pop(key)
        results[name] = {"claim_share_cpu_ms": round(share, 3)}
        for case in ("304", "same_body"):
            ms = figures[f"{name}:{case}"] + share
            results[name][f"poll_{case}_cpu_ms"] = round(ms, 3)
            results[name][f"ratio_{case}"] = round(ms / parse_ms, 4)
            own = figures[f"{name}:{case}_self_read"]
            results[name][f"poll_{case}_self_read_cpu_ms"] = round(own, 3)
            results[name][f"ratio_{case}_self_read"] = round(own / parse_ms, 4)
    return {
        "feed_items": items,
        "feed_bytes": len(body),
        "rounds": rounds,
        "feedparser_parse_cpu_ms": round(parse_ms, 3),
        **results,
        "goal_ratio": round(GOAL_RATIO, 4),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--serve", type=int, metavar="ITEMS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
    else:
        print(json.dumps(main(args.items, args.rounds), indent=2))
