"""
Deferral cost of a one-host backlog: fetch task runs until every article has gone, on a virtual clock.

Compares the previous design (take a token or re-send yourself with a
countdown of at most `INGEST_MAX_DEFER_S`, the baseline) with reserved slots
(`worker.state.slots`: each article deferred once to its slot), using the same
arithmetic as the stores.  Pure simulation: workers are never the bottleneck.

    .venv/bin/python bench/defer_bench.py [--articles N] [--rate R] [--burst B]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.state import slots


def token_bucket_runs(n: int, rate: float, burst: float, max_defer_s: float, seed: int = 1) -> int:
    """Return the task runs of the baseline: take-or-fail, then a capped, jittered countdown."""
    rng = random.Random(seed)
    tokens, ts = burst, 0.0
    queue = [(0.0, i) for i in range(n)]
    runs = 0
    while queue:
        now, i = heapq.heappop(queue)
        runs += 1
        tokens = min(burst, tokens + (now - ts) * rate)
        ts = now
        if tokens >= 1:
            tokens -= 1
            continue
        wait = (1 - tokens) / rate
        delay = min(max_defer_s, wait + rng.uniform(0, min(1.0, 0.25 * wait + 0.05)))
        heapq.heappush(queue, (now + delay, i))
    return runs


def reserved_slot_runs(n: int, rate: float, burst: float) -> int:
    """Return the task runs with reserved slots: one run, plus one more for each deferred article."""
    tat: float | None = None
    runs = 0
    for _ in range(n):
        wait, tat = slots.reserve(tat, 0.0, rate, burst)
        runs += 2 if wait > 0 else 1
    return runs


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print and return the task runs of both designs for one backlog."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=2_000)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--burst", type=float, default=3.0)
    ap.add_argument("--max-defer", type=float, default=10.0)
    args = ap.parse_args(argv)
    drain_s = max(0.0, (args.articles - args.burst) / args.rate)
    baseline = token_bucket_runs(args.articles, args.rate, args.burst, args.max_defer)
    reserved = reserved_slot_runs(args.articles, args.rate, args.burst)
    out = {
        "articles": args.articles,
        "drain_s": drain_s,
        "baseline_runs": baseline,
        "baseline_runs_per_s": round(baseline / drain_s, 1) if drain_s else 0.0,
        "reserved_runs": reserved,
        "reserved_runs_per_s": round(reserved / drain_s, 2) if drain_s else 0.0,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
