"""
Measure what one article and one poll cost the shared engines, and how the process stage scales.

On a private redis-server (`INFO commandstats`, reset before each case):
Redis commands and network bytes per new article, per duplicate and per
unchanged feed poll, as the worker runs them (the pipeline with its sinks, the
counters the task adds; a poll with the state its claim read); broker messages
per article and per poll as the stages send them.  Then the process stage on
pre-fetched real pages in 1 and in 2 processes against one Redis, wall time.
These figures feed the capacity table of README "Scaling out".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_extraction import DEFAULT_DIR, load, page_bytes
from bench.harness import log_to_devnull, private_redis
from bench.poll_cost_bench import feed_server
from worker import dispatch
from worker.config import Settings
from worker.delivery import open_sinks
from worker.fetch.client import Fetcher
from worker.models import RawItem, SourceRef, SourceSpec
from worker.poll import feed as poll
from worker.process.pipeline import Pipeline
from worker.state.redis import RedisStore

PAGES = 240
BATCH = 16
# Pages each scaling process runs before the timed part (model and connection warm-up).
WARM = 2


def real_pages(limit: int) -> list[RawItem]:
    """Return up to `limit` distinct real article pages of extraction-dev as raw items."""
    from trafilatura.utils import decode_file

    evaldata, files = load(DEFAULT_DIR)
    ref = SourceRef("feed", "bench", "http://bench.example/feed.xml")
    out: list[RawItem] = []
    for url, item in evaldata.items():
        raw = page_bytes(files, item["file"])
        if raw is None or url.startswith(("hard::", "recall::")):
            continue
        out.append(RawItem(url=url, source=ref, content=decode_file(raw), content_type="html"))
        if len(out) >= limit:
            break
    return out


def commandstats(client: redis.Redis[str]) -> tuple[int, int, int]:
    """Return (commands, bytes in, bytes out) since the last CONFIG RESETSTAT (a script's commands count)."""
    stats = client.info("commandstats")
    calls = sum(int(v["calls"]) for k, v in stats.items() if not k.startswith("cmdstat_config"))
    net = client.info("stats")
    return calls, int(net["total_net_input_bytes"]), int(net["total_net_output_bytes"])


def cpu_s(client: redis.Redis[str]) -> float:
    """Return the CPU seconds the redis-server process has used (user + system), networking included."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def reset(client: redis.Redis[str]) -> float:
    """Reset the command statistics; return the server's CPU seconds so far, for `per_item`."""
    client.config_resetstat()
    return cpu_s(client)


def per_item(client: redis.Redis[str], n: int, cpu_at_reset: float) -> dict[str, float]:
    """Return commands, bytes and Redis CPU microseconds per item of what ran since the reset."""
    calls, bytes_in, bytes_out = commandstats(client)
    return {
        "commands": round(calls / n, 1),
        "redis_cpu_us": round((cpu_s(client) - cpu_at_reset) * 1e6 / n, 1),
        "bytes_in": round(bytes_in / n),
        "bytes_out": round(bytes_out / n),
    }


def settings_for(url: str, folder: Path) -> Settings:
    """Redis-mode settings with every stage on, private folders."""
    return Settings(
        redis_url=url, state_dir=folder / "var", out_dir=folder / "out", allow_private_networks=True
    )


def process(pipeline: Pipeline, store: RedisStore, items: list[RawItem]) -> dict[str, int]:
    """Run the process stage as the task does (batches, then its outcome counters)."""
    counts: dict[str, int] = {}
    for start in range(0, len(items), BATCH):
        for outcome in pipeline.process(items[start : start + BATCH]):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            store.incr(f"articles_{outcome.status}")
    return counts


def engine_costs(url: str, folder: Path, items: list[RawItem]) -> dict[str, Any]:
    """Measure Redis commands and bytes per new article, per duplicate and per unchanged poll."""
    client = redis.Redis.from_url(url, decode_responses=True)
    settings = settings_for(url, folder)
    store = RedisStore(url, prefix=settings.key_prefix, dead_stream=settings.dead_stream)
    pipeline = Pipeline(settings, store, open_sinks(settings))
    process(pipeline, store, items[:BATCH])  # warm-up: models loaded, scripts registered
    fresh = items[BATCH:]
    at = reset(client)
    counts = process(pipeline, store, fresh)
    new = per_item(client, max(1, counts.get("new", 0)), at)
    at = reset(client)
    process(pipeline, store, fresh)
    duplicate = per_item(client, len(fresh), at)
    figures: dict[str, Any] = {"outcomes": counts, "per_new_article": new, "per_duplicate": duplicate}
    local = dispatch.LocalDispatcher()
    token = dispatch.current.set(local)
    try:
        with feed_server(50) as base, Fetcher(settings) as fetcher:
            spec = SourceSpec("feed", f"{base}/304.xml", "bench")
            poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)
            claimed = {k: v for k, v in (store.get_feed(spec.location) or {}).items() if k != "spec"}
            at = reset(client)
            for _ in range(100):
                poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher, state=claimed)
            figures["per_unchanged_poll"] = per_item(client, 100, at)
            local.queue.clear()
            spec = SourceSpec("feed", f"{base}/same.xml", "bench-new")
            result = poll.poll_feed(spec, settings=settings, store=store, fetcher=fetcher)
            sent = [task for task, _ in local.queue]
    finally:
        dispatch.current.reset(token)
    # A feed entry without content is one fetch message, and its page one process message.
    figures["broker_messages"] = {
        "per_poll": 1,
        "per_new_article_from_a_feed": round(
            (sent.count(dispatch.TASK_FETCH) * 2) / max(1, result.queued), 2
        ),
        "per_new_article_from_an_archive": round(1 / BATCH, 3),
    }
    store.close()
    client.close()
    return figures


# The scaling run hands out pages four at a time to whichever process is free, as a broker
# hands out process tasks; a fixed half each would time the unluckier half of the long pages.
SCALING_BATCH = 4
ROUNDS = 3


def _worker(url: str, folder: str, items: list[RawItem], barrier: Any, taken: Any, out: Any) -> None:
    """One process of the scaling run: its own pipeline and connections, the next pages while any are left."""
    log_to_devnull()
    settings = settings_for(url, Path(folder))
    store = RedisStore(url, prefix=settings.key_prefix, dead_stream=settings.dead_stream)
    pipeline = Pipeline(settings, store, open_sinks(settings))
    process(pipeline, store, items[:WARM])  # warm-up outside the timed part
    barrier.wait()
    started = time.monotonic()
    while True:
        with taken.get_lock():
            first = taken.value
            taken.value += SCALING_BATCH
        if first >= len(items):
            break
        process(pipeline, store, items[first : first + SCALING_BATCH])
    out.put(time.monotonic() - started)


def scaling(url: str, items: list[RawItem], procs: int) -> float:
    """Return the wall seconds `procs` processes take for the pages past the warm-up, shared as they go."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    ctx = multiprocessing.get_context("fork")
    barrier, taken, out = ctx.Barrier(procs), ctx.Value("i", WARM), ctx.Queue()
    with tempfile.TemporaryDirectory() as folder:
        workers = [
            ctx.Process(target=_worker, args=(url, folder, items, barrier, taken, out)) for _ in range(procs)
        ]
        for w in workers:
            w.start()
        times = [out.get(timeout=900) for _ in workers]
        for w in workers:
            w.join(timeout=60)
    return max(times)


def main(pages: int = PAGES, rounds: int = ROUNDS) -> dict[str, Any]:
    """Run every measurement; return the figures (also printed as JSON)."""
    from bench.real_pipeline_bench import machine_speedup

    log_to_devnull()
    items = real_pages(pages)
    speedups, walls, machine = [], [], []
    with ExitStack() as stack:
        url = stack.enter_context(private_redis())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        figures = engine_costs(url, folder, items)
        for _ in range(rounds):
            one, two = scaling(url, items, 1), scaling(url, items, 2)
            speedups.append(round(one / two, 2))
            walls.append((round(one, 2), round(two, 2)))
            machine.append(machine_speedup(2))
    figures["process_stage"] = {
        "pages": len(items) - WARM,
        "wall_s_1_and_2_processes_every_round": walls,
        "speedup_every_round": speedups,
        "speedup": statistics.median(speedups),
        # Pure arithmetic in 1 and 2 processes, each round: the most this machine gives then.
        "machine_speedup_every_round": machine,
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="scaling rounds, the median reported")
    args = parser.parse_args()
    main(args.pages, args.rounds)
