"""
Run every bench (`make bench`) and print its figures next to the baselines of the same run.

Each bench module exposes `main() -> dict`.  Optional benches
(`scheduler_bench`, `poll_cost_bench`, `defer_bench`) run only when their file exists, and a
bench that fails is reported and skipped, so one broken bench never hides the
others.  Nothing here asserts on timings: the table states the goals and
whether this run met them, for a person to read.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCHES = ("pipeline_bench", "sink_bench")
# Optional benches and the argv their `main` takes (None: keyword defaults, called bare).
OPTIONAL: dict[str, list[str] | None] = {
    "scheduler_bench": None,
    "poll_cost_bench": None,
    "defer_bench": [],
    "ledger_bench": [],
}


def run_bench(name: str, argv: list[str] | None) -> dict[str, Any]:
    """Import `bench.<name>` and run its `main`; a failure becomes an `error` entry."""
    try:
        module = importlib.import_module(f"bench.{name}")
        main = module.main
        # Our benches parse an argv list; the others take keyword defaults: call them bare.
        return dict(main() if argv is None else main(argv))
    except Exception as exc:  # one broken bench must not stop the rest
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {exc}"}
    except SystemExit as exc:  # a bench's argparse rejecting its arguments
        return {"error": f"exited with {exc.code}"}


def verdict(value: float, goal: float) -> str:
    """Return `ok` or `ABOVE GOAL` for a figure that should stay at or below `goal`."""
    return "ok" if value <= goal else "ABOVE GOAL"


def pipeline_table(p: dict[str, Any]) -> list[str]:
    """Return the lines of the pipeline table."""
    if "error" in p:
        return [f"pipeline: FAILED: {p['error']}"]
    bare = p["bare_ms_per_article"]
    goals = p["goals"]
    lines = [
        f"Pipeline, {p['articles']} distinct articles from 127.0.0.1 ({p['cpu_clock']})",
        "",
        "  bare libraries, CPU ms per article (same pages, same texts; measured after the embedded run):",
    ]
    for name in ("trafilatura", "spacy_ner", "py3langid", "yake"):
        lines.append(f"    {name:<28}{bare[name]:>10.2f}")
    lines.append(f"    {'sum':<28}{bare['sum']:>10.2f}")
    lines.append(f"    {'(spacy_ner one text a pipe)':<28}{bare['spacy_ner_one_per_pipe']:>10.2f}")
    lines.append("")
    header = (
        f"  {'mode':<10}{'articles/s':>11}{'CPU ms/art':>12}{'bare sum':>10}{'x bare':>8}"
        f"  goal <= {goals['ratio_to_bare']}"
    )
    lines.append(header)
    for mode in ("embedded", "redis"):
        m = p.get(mode)
        if not m:
            lines.append(f"  {mode:<10}  not run (no redis-server could be started)")
            continue
        lines.append(
            f"  {mode:<10}{m['articles_per_s']:>11.1f}{m['cpu_ms_per_article']:>12.2f}"
            f"{m['bare_ms_per_article']['sum']:>10.2f}{m['ratio_to_bare']:>8.2f}"
            f"  {verdict(m['ratio_to_bare'], goals['ratio_to_bare'])}"
            + (
                f"  (rounds: {', '.join(f'{r:.2f}' for r in m['ratio_every_round'])})"
                if "ratio_every_round" in m
                else ""
            )
        )
        if m["counts"].get("failed"):
            lines.append(f"  {'':<10}WARNING: {m['counts']['failed']} article(s) failed in this run")
    lines.append("")
    lines.append(
        f"  duplicates, CPU ms each and share of a new article (goal <= {goals['duplicate_ratio']}):"
    )
    for mode in ("embedded", "redis"):
        m = p.get(mode)
        if not m:
            continue
        for kind, label in (("seen_url", "same URL"), ("same_content", "new URL, same page")):
            d = m[kind]
            lines.append(
                f"    {mode:<10}{label:<20}{d['cpu_ms_per_duplicate']:>8.2f} ms{d['ratio']:>8.3f}"
                f"  {verdict(d['ratio'], goals['duplicate_ratio'])}"
            )
    return lines


def sink_table(s: dict[str, Any]) -> list[str]:
    """Return the lines of the sink table."""
    if "error" in s:
        return [f"sinks: FAILED: {s['error']}"]
    lines = [f"Sinks, {s['records']} records of about 4 kB each, {s['unit']}", ""]
    redis_figures = s.get("redis")
    if redis_figures:
        base = redis_figures["xadd_unpipelined"]
        lines.append(f"  {'variant':<28}{'records/s':>11}{'x unpipelined XADD':>20}")
        for name, value in redis_figures.items():
            lines.append(f"  {name:<28}{value:>11.0f}{value / base:>20.2f}")
    else:
        lines.append("  redis: not run (no redis-server could be started)")
    for name, value in s["jsonl"].items():
        lines.append(f"  {name:<28}{value:>11.0f}")
    return lines


def other_table(name: str, figures: dict[str, Any]) -> list[str]:
    """Return a bench's figures as `key: value` lines (benches this file does not know)."""
    if "error" in figures:
        return [f"{name}: FAILED: {figures['error']}"]
    return [name, *(f"  {k}: {json.dumps(v)}" for k, v in figures.items())]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benches, print the tables; return every figure."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=200, help="articles for the pipeline bench")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    names = list(BENCHES) + [n for n in OPTIONAL if (ROOT / "bench" / f"{n}.py").is_file()]
    results: dict[str, Any] = {}
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        bench_argv = OPTIONAL.get(name)
        if name in BENCHES:
            bench_argv = ["--articles", str(args.articles)] if name == "pipeline_bench" else []
        results[name] = run_bench(name, bench_argv)
    lines: list[str] = []
    lines += pipeline_table(results["pipeline_bench"])
    lines += ["", *sink_table(results["sink_bench"])]
    for name in names[len(BENCHES) :]:
        lines += ["", *other_table(name, results[name])]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
