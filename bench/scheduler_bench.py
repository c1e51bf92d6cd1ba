"""
Scheduler at scale: 1,000,000 registered feeds on a private redis-server, 1 % due.

Prints and returns the dispatch-tick latency (p50/p99 over repeated ticks)
and the Redis memory per feed, measured with INFO memory on a redis-server
this script starts on a free port (never a shared one).  Goals: a tick of
500 claims in <= 50 ms, <= 200 bytes of Redis per registered feed.

    .venv/bin/python bench/scheduler_bench.py [--feeds N] [--ticks N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker import dispatch, scheduler
from worker.state.redis import RedisStore

FEEDS = 1_000_000
DUE_SHARE = 0.01
TICK_LIMIT = 500
TICKS = 50
HOSTS = 50_000
CHUNK = 20_000


@contextmanager
def private_redis() -> Iterator[str]:
    """Start a redis-server of our own on a free port; yield its URL."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def feed_url(i: int) -> str:
    """Return a realistic feed URL (about 50 characters) for feed `i`, spread over `HOSTS` hosts."""
    return f"https://news{i % HOSTS}.example.com/feeds/section-{i}.xml"


def spec(url: str) -> dict[str, Any]:
    """Return the spec a `sources add` would store for `url`."""
    host = url.split("/")[2]
    return {"kind": "feed", "location": url, "name": host, "tz": "UTC", "interval_s": None}


def used_memory(client: redis.Redis[str]) -> int:
    """Return Redis's `used_memory` in bytes."""
    return int(client.info("memory")["used_memory"])


def register(store: RedisStore, feeds: int, now: float) -> None:
    """Register `feeds` feeds, pipelined; 1 % due now, the rest spread over the next hour."""
    due_every = round(1 / DUE_SHARE)
    for start in range(0, feeds, CHUNK):
        items = []
        for i in range(start, min(start + CHUNK, feeds)):
            url = feed_url(i)
            at = now - 60 + i % 60 if i % due_every == 0 else now + 60 + (i % 3600)
            items.append((url, {"spec": spec(url)}, float(at)))
        store.put_feeds(items)


def polled_state(url: str, i: int) -> dict[str, Any]:
    """Return a typical state after a 200 poll: validators, body hash, interval, status."""
    return {
        "spec": spec(url),
        "etag": f'"{i:x}-5f3a"',
        "last_modified": "Wed, 21 Oct 2015 07:28:00 GMT",
        "body_hash": f"{i:032x}",
        "last_status": 200,
        "last_polled": 1_718_000_000 + i % 1000,
        "next_at": 1_718_000_900 + i % 1000,
        "interval_s": 900.0,
        "errors": 0,
    }


def time_ticks(store: RedisStore, now: float, ticks: int, limit: int) -> list[float]:
    """Run `ticks` dispatch ticks (claim, cap per host, queue); return each one's milliseconds."""
    local = dispatch.LocalDispatcher()
    token = dispatch.current.set(local)
    times = []
    try:
        for _ in range(ticks):
            started = time.perf_counter()
            scheduler.tick(store, now=now, limit=limit, lease_s=600)
            times.append((time.perf_counter() - started) * 1000)
            # Untimed: put the claimed feeds back as due, so every tick finds a full batch.
            store.put_feeds([(a[0]["location"], {"spec": a[0]}, now - 1) for _, a in local.queue])
            local.queue.clear()
    finally:
        dispatch.current.reset(token)
    return times


def percentile(values: list[float], q: float) -> float:
    """Return the `q` quantile (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(feeds: int = FEEDS, ticks: int = TICKS, polled: bool = True) -> dict[str, Any]:
    """Run the simulation; return the figures (also printed as JSON)."""
    with private_redis() as url:
        store = RedisStore(url, prefix="ingest:")
        client: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
        base = used_memory(client)
        now = time.time()
        started = time.perf_counter()
        register(store, feeds, now)
        register_s = time.perf_counter() - started
        registered = used_memory(client) - base
        due_count = int(client.zcount("ingest:due", "-inf", now))
        tick_ms = time_ticks(store, now, ticks, TICK_LIMIT)
        claim_ms = []
        for _ in range(5):
            t0 = time.perf_counter()
            claimed = store.claim_due_feeds(now, due_count, 600)
            claim_ms.append((time.perf_counter() - t0) * 1000)
            store.put_feeds([(u, s, now - 1) for u, s in claimed])
        figures: dict[str, Any] = {
            "feeds": feeds,
            "due": due_count,
            "register_s": round(register_s, 1),
            "tick_limit": TICK_LIMIT,
            "tick_ms_p50": round(statistics.median(tick_ms), 2),
            "tick_ms_p99": round(percentile(tick_ms, 0.99), 2),
            "claim_all_due_ms_p50": round(statistics.median(claim_ms), 1),
            "bytes_per_feed": round(registered / feeds, 1),
            "due_zset_bytes_per_feed": round(int(client.memory_usage("ingest:due") or 0) / feeds, 1),
        }
        if polled:
            for start in range(0, feeds, CHUNK):
                rows = range(start, min(start + CHUNK, feeds))
                store.put_feeds([(feed_url(i), polled_state(feed_url(i), i), None) for i in rows])
            figures["bytes_per_feed_after_poll"] = round((used_memory(client) - base) / feeds, 1)
        figures["goal_tick_ms"] = 50
        figures["goal_bytes_per_feed"] = 200
        store.close()
        client.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--ticks", type=int, default=TICKS)
    parser.add_argument("--no-polled", action="store_true", help="skip the after-poll memory figure")
    args = parser.parse_args()
    print(json.dumps(main(args.feeds, args.ticks, polled=not args.no_polled), indent=2))
