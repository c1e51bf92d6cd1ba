"""
Scheduler at scale: 1,000,000 registered feeds on a private redis-server, 1 % due.

Prints and returns the dispatch-tick latency (p50/p99 over repeated ticks)
and the Redis memory per feed, registered and once every feed has been
polled (its state written through `put_feeds`, as the poller does), with the
due-set's share, measured with INFO memory on a redis-server with the
default config that this script starts on a free port (never a shared one).
Goals: a tick of 500 claims in <= 50 ms, <= 200 bytes of Redis per feed.
The baseline is the previous layout's claim (one global due zset), timed
alternately with ours on the same server.

    .venv/bin/python bench/scheduler_bench.py [--feeds N] [--ticks N] [--cluster]

`--cluster` times the ticks on a private 3-master Redis Cluster instead (no memory figures).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import private_redis
from worker import dispatch
from worker.schedule import tick as scheduler
from worker.sources.feeds import body_hash
from worker.state.codec import feed_id, unpack_feed
from worker.state.redis import RedisStore, layout

FEEDS = 1_000_000
DUE_SHARE = 0.01
TICK_LIMIT = 500
TICKS = 200  # enough for a p99 that is not just the slowest tick
HOSTS = 50_000
CHUNK = 20_000


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


def polled_state(url: str, i: int, now: float, etag: str = "nginx") -> dict[str, Any]:
    """
    Return the state `poll.poll_feed` leaves after a 200 from an nginx-like server.

    `etag="md5"` gives S3's kind of ETag instead (a quoted MD5, packed as bytes),
    `etag="MD5"` the same in uppercase hex, which is kept verbatim: the baseline.
    Both come with an adaptive interval with a fraction, as half a median gap
    between entries often is (the nginx state keeps the round 900 s).
    """
    modified = now - 3600 - i % 86400
    digest = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
    tags = {
        "nginx": f'"{int(modified):x}-{6400 + i % 4096:x}"',
        "md5": f'"{digest}"',
        "MD5": f'"{digest.upper()}"',
    }
    return {
        "spec": spec(url),
        "etag": tags[etag],
        "last_modified": formatdate(modified, usegmt=True),
        "body_hash": body_hash(f"<rss>{url}</rss>".encode()),
        "last_status": 200,
        "last_polled": int(now),
        "interval_s": 900.0 if etag == "nginx" else 1843.5,
        "errors": 0,
        "last_error": None,
        "disabled": None,
        "next_at": now + 900 + i % 90,
    }


def poll_all(store: RedisStore, feeds: int, now: float, etag: str) -> None:
    """Write every feed's state as after a poll with this kind of ETag (see `polled_state`)."""
    for start in range(0, feeds, CHUNK):
        states = [
            (feed_url(i), polled_state(feed_url(i), i, now, etag))
            for i in range(start, min(start + CHUNK, feeds))
        ]
        store.put_feeds([(url, state, state["next_at"]) for url, state in states])


def due_bytes(client: redis.Redis[str], prefix: str) -> int:
    """Return the memory of the due-set: every `due:<bucket>` zset and the shards' indexes (MEMORY USAGE)."""
    keys = [
        *client.scan_iter(match=f"{prefix}{{feeds-*}}:due:????", count=10_000),
        *(layout.index_key(prefix, shard) for shard in range(layout.SHARDS)),
    ]
    total = 0
    for start in range(0, len(keys), 10_000):
        pipe = client.pipeline(transaction=False)
        for key in keys[start : start + 10_000]:
            pipe.memory_usage(key, samples=0)
        total += sum(int(n or 0) for n in pipe.execute())
    return total


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


# The claim of the layout before the buckets (one global due zset of ids), the baseline timed in
# the same run; it builds key names in Lua, as that layout did (single Redis only).
BASELINE_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for i, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id)
  local b = string.sub(id, 1, 4)
  local shard = tonumber(b, 16) % tonumber(ARGV[5])
  out[#out + 1] = redis.call('HGET', ARGV[4] .. '{feeds-' .. shard .. '}:feed:' .. b, id) or ''
end
return out
"""


def time_claims(
    store: RedisStore, client: redis.Redis[str], feeds: int, now: float, ticks: int
) -> dict[str, list[float]]:
    """
    Time claims of `TICK_LIMIT` feeds: ours, and the baseline's on a global zset of the same feeds.

    The two alternate, so both see the same machine load; each claim is put
    back as due, untimed.  The baseline's zset is deleted afterwards.
    """
    due_every = round(1 / DUE_SHARE)
    for start in range(0, feeds, CHUNK):
        rows = range(start, min(start + CHUNK, feeds))
        scores = {feed_id(feed_url(i)): now - 1 if i % due_every == 0 else now + 60 + i % 3600 for i in rows}
        client.zadd("baseline:due", scores)
    baseline = client.register_script(BASELINE_CLAIM)
    times: dict[str, list[float]] = {"claim_ms": [], "baseline_claim_ms": []}
    for _ in range(ticks):
        t0 = time.perf_counter()
        claimed = store.claim_due_feeds(now, TICK_LIMIT, 600)
        times["claim_ms"].append((time.perf_counter() - t0) * 1000)
        store.put_feeds([(u, s, now - 1) for u, s in claimed])
        t0 = time.perf_counter()
        raws = baseline(keys=["baseline:due"], args=[now, TICK_LIMIT, now + 600, "ingest:", layout.SHARDS])
        baseline_claimed = [unpack_feed(str(raw), None) for raw in raws]
        times["baseline_claim_ms"].append((time.perf_counter() - t0) * 1000)
        assert len(claimed) == len(baseline_claimed) == TICK_LIMIT
        leased = client.zrangebyscore("baseline:due", now + 1, now + 600)
        if leased:
            client.zadd("baseline:due", dict.fromkeys(leased, now - 1))
    client.delete("baseline:due")
    return times


def percentile(values: list[float], q: float) -> float:
    """Return the `q` quantile (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(feeds: int = FEEDS, ticks: int = TICKS, polled: bool = True) -> dict[str, Any]:
    """Run the simulation; return the figures (also printed as JSON)."""
    if feeds * DUE_SHARE < TICK_LIMIT:
        least = round(TICK_LIMIT / DUE_SHARE)
        raise SystemExit(f"--feeds must be at least {least}: every tick claims {TICK_LIMIT} due feeds")
    with private_redis() as url:
        store = RedisStore(url, prefix="ingest:")
        client: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
        base = used_memory(client)
        now = time.time()
        started = time.perf_counter()
        register(store, feeds, now)
        register_s = time.perf_counter() - started
        registered = used_memory(client) - base
        due_count = len(range(0, feeds, round(1 / DUE_SHARE)))
        due_structure = due_bytes(client, "ingest:")
        # As the worker does before forking its pool (worker/celery_app.py): what exists now is
        # kept out of the collector's full passes, which otherwise show up as tick outliers.
        gc.collect()
        gc.freeze()
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
            "tick_ms_p90": round(percentile(tick_ms, 0.90), 2),
            "tick_ms_p99": round(percentile(tick_ms, 0.99), 2),
            "claim_all_due_ms_p50": round(statistics.median(claim_ms), 1),
            **{
                f"{name}_p{q}": round(percentile(values, q / 100), 2)
                for name, values in time_claims(store, client, feeds, now, ticks).items()
                for q in (50, 99)
            },
            "bytes_per_feed": round(registered / feeds, 1),
            "due_bytes_per_feed": round(due_structure / feeds, 1),
        }
        if polled:
            poll_all(store, feeds, now, "nginx")
            figures["bytes_per_feed_after_poll"] = round((used_memory(client) - base) / feeds, 1)
            figures["due_bytes_per_feed_after_poll"] = round(due_bytes(client, "ingest:") / feeds, 1)
            # Every feed on an S3-like server: its MD5 ETag packed, then (the baseline) kept verbatim.
            for etag in ("md5", "MD5"):
                poll_all(store, feeds, now, etag)
                figures[f"bytes_per_feed_after_poll_{etag}_etag"] = round(
                    (used_memory(client) - base) / feeds, 1
                )
        figures["goal_tick_ms"] = 50
        figures["goal_bytes_per_feed"] = 200
        store.close()
        client.close()
    return figures


def main_cluster(feeds: int = FEEDS, ticks: int = TICKS) -> dict[str, Any]:
    """
    Time dispatch ticks on a private 3-master Redis Cluster (`tests/support/cluster.py`): no memory figures.

    Memory is the single-node run's (the keys are the same); what a cluster adds is a
    round trip a shard and a script call a shard, which this measures.
    """
    from tests.support.cluster import RedisClusterServer

    with tempfile.TemporaryDirectory() as folder:
        cluster = RedisClusterServer(Path(folder))
        cluster.start()
        try:
            store = RedisStore(cluster.url, prefix="ingest:")
            now = time.time()
            register(store, feeds, now)
            gc.collect()
            gc.freeze()
            tick_ms = time_ticks(store, now, ticks, TICK_LIMIT)
            store.close()
        finally:
            cluster.stop()
    return {
        "cluster_masters": 3,
        "feeds": feeds,
        "tick_limit": TICK_LIMIT,
        "tick_ms_p50": round(statistics.median(tick_ms), 2),
        "tick_ms_p90": round(percentile(tick_ms, 0.90), 2),
        "tick_ms_p99": round(percentile(tick_ms, 0.99), 2),
        "goal_tick_ms": 50,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--ticks", type=int, default=TICKS)
    parser.add_argument("--no-polled", action="store_true", help="skip the after-poll memory figure")
    parser.add_argument(
        "--cluster", action="store_true", help="tick times on a private 3-master Redis Cluster"
    )
    args = parser.parse_args()
    if args.cluster:
        print(json.dumps(main_cluster(args.feeds, args.ticks), indent=2))
    else:
        print(json.dumps(main(args.feeds, args.ticks, polled=not args.no_polled), indent=2))
