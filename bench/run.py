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

BENCHES = ("real_pipeline_bench", "pipeline_bench", "sink_bench")
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


def real_pipeline_table(p: dict[str, Any]) -> list[str]:
    """Return the lines of the real-page table: stages, bare libraries, `--jobs`, cleaning, memory."""
    if "error" in p:
        return [f"real pages: FAILED: {p['error']}"]
    m = p["in_process"]
    goals = p["goals"]
    bare = m["bare_ms_per_article"]
    lines = [
        f"Real pages: {p['pages']} English pages of extraction-dev from 127.0.0.1, "
        f"{m['counts'].get('new', 0)} new articles ({p['cpu_clock']}); "
        f"load average {p['load_average_at_start'][0]:.1f} -> {p['load_average_at_end'][0]:.1f}"
        f" on {p['cores']} cores",
        "",
        "  CPU ms per new article, by stage (median round):",
    ]
    lines += [f"    {name:<28}{value:>10.2f}" for name, value in m["stages_ms"].items()]
    lines.append(
        f"  total {m['stages_ms']['total']:.1f} ms (goal <= {goals['cpu_ms_per_article']:.0f})"
        f"  {verdict(m['stages_ms']['total'], goals['cpu_ms_per_article'])}"
        f"  (rounds: {', '.join(f'{r:.1f}' for r in m['cpu_ms_every_round'])})"
    )
    lines += ["", "  bare libraries, CPU ms per new article (same pages and texts, runs around the round):"]
    summed = {name: value for name, value in bare.items() if name != "trafilatura_with_metadata"}
    lines += [f"    {name:<28}{value:>10.2f}" for name, value in summed.items()]
    lines.append(f"    {'(spacy_ner, batches of 16)':<28}{m['bare_spacy_ner_batch_16_ms']:>10.2f}")
    if "trafilatura_with_metadata" in bare:
        lines.append(f"    {'(trafilatura, all metadata)':<28}{bare['trafilatura_with_metadata']:>10.2f}")
    after_only = ", ".join(f"{r:.2f}" for r in m["ratio_to_bare_after_every_round"])
    lines.append(
        f"  x bare {m['ratio_to_bare']:.2f} (goal <= {goals['ratio_to_bare']})"
        f"  {verdict(m['ratio_to_bare'], goals['ratio_to_bare'])}"
        f"  (rounds: {', '.join(f'{r:.2f}' for r in m['ratio_every_round'])};"
        f" against the bare run after alone: {after_only})"
    )
    if "ratio_to_bare_with_metadata" in m:
        lines.append(
            f"  x bare with trafilatura's whole metadata search, as earlier stops called it:"
            f" {m['ratio_to_bare_with_metadata']:.2f}"
        )
    dups = m.get("duplicates")
    if dups:
        lines.append(
            f"  duplicates, CPU ms each and share of a new article of the round"
            f" (goal <= {goals['duplicate_ratio']}):"
        )
        for kind, label in (("seen_url", "same link, other feed"), ("same_content", "same page, new link")):
            d = dups[kind]
            every = ", ".join(f"{r:.3f}" for r in m["duplicate_ratio_every_round"][kind])
            lines.append(
                f"    {label:<26}{d['cpu_ms_per_duplicate']:>8.2f} ms{d['ratio']:>8.3f}"
                f"  {verdict(d['ratio'], goals['duplicate_ratio'])}  (rounds: {every})"
            )
    warm = p.get("warm_up_round")
    if warm:
        lines.append(
            f"  warm-up round, not counted: {warm['cpu_ms_per_article']:.1f} ms,"
            f" x bare {warm['ratio_to_bare_after']:.2f} against the run after it"
        )
    for key, what in (("jobs", "the feed"), ("jobs_folder", "the same pages as a folder")):
        if p.get(key):
            lines += ["", *jobs_lines(p[key], what, goals["jobs_speedup"])]
    lines += ["", f"  memory of this process after each round: {m['memory_after_every_round']}"]
    cleaning = p.get("cleaning")
    if cleaning:
        lines += ["", "  cleaning, CPU ms per page:"]
        lines += [f"    {k}: {v}" for k, v in cleaning.items()]
    return lines


def jobs_lines(jobs: dict[str, Any], what: str, goal: float) -> list[str]:
    """Return the lines of one `ingest --jobs` comparison."""
    n = jobs["n"]
    lines = [f"  ingest {what} --jobs 1 and {n} (wall rate after start-up, median of rounds):"]
    for key in ("1", str(n)):
        j = jobs[key]
        rounds = ", ".join(f"{r:.1f}" for r in j["articles_per_s_every_round"])
        lines.append(
            f"    --jobs {key:<4}{j['articles_per_s']:>8.1f} articles/s"
            f"  ({j['articles_per_s_with_startup']:.1f} with start-up;"
            f" CPU {j['cpu_ms_per_article']:.1f} ms/article; rounds {rounds})"
        )
        lines.append(
            f"      workers' CPU s {j['workers_cpu_s']}, waiting for a core s {j['workers_runqueue_wait_s']}"
        )
        busy = ", ".join(f"{b:.0%}" for b in j["cores_busy_every_round"])
        lines.append(f"      cores busy, start-up included: {j['cores_busy']:.0%} (rounds {busy})")
    speedup = jobs["speedup"] or 0.0
    lines.append(
        f"    speed-up {speedup:.2f} (goal >= {goal})  {'ok' if speedup >= goal else 'BELOW GOAL'}"
        f"  (rounds: {', '.join(f'{r:.2f}' for r in jobs['speedup_every_round'])})"
    )
    checks = ", ".join(f"{r:.2f}" for r in jobs["machine_speedup_every_check"])
    lines.append(
        f"    the machine's own speed-up for {n} processes of pure arithmetic, same moments:"
        f" {jobs['machine_speedup']:.2f} (checks: {checks})"
    )
    for j in jobs[str(n)]["memory_mb"]:
        lines.append(f"    worker memory MB, start -> end: {j['start']} -> {j['end']}")
    parent = jobs[str(n)].get("parent_memory_mb")
    if parent:
        lines.append(f"    parent (models loaded, forks the workers): {parent['start']} -> {parent['end']}")
    return lines


def pipeline_table(p: dict[str, Any]) -> list[str]:
    """Return the lines of the pipeline table."""
    if "error" in p:
        return [f"pipeline: FAILED: {p['error']}"]
    bare = p["bare_ms_per_article"]
    goals = p["goals"]
    lines = [
        f"Synthetic corpus (duplicates, overhead on tiny pages): {p['articles']} distinct articles"
        f" from 127.0.0.1 ({p['cpu_clock']})",
        "",
        "  bare libraries, CPU ms per article (same pages, same texts; measured after the embedded run):",
    ]
    for name in ("trafilatura", "spacy_ner", "py3langid", "yake"):
        if name in bare:
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
        "  duplicates, CPU ms each and share of a new article of these tiny pages"
        " (the fixed cost of a fetch weighs 3-4x what it does on real pages;"
        f" the goal <= {goals['duplicate_ratio']} is read on the real pages above):"
    )
    for mode in ("embedded", "redis"):
        m = p.get(mode)
        if not m:
            continue
        for kind, label in (("seen_url", "same URL"), ("same_content", "new URL, same page")):
            d = m[kind]
            lines.append(f"    {mode:<10}{label:<20}{d['cpu_ms_per_duplicate']:>8.2f} ms{d['ratio']:>8.3f}")
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
    parser.add_argument("--real-limit", type=int, help="measure only the first N English real pages")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    names = list(BENCHES) + [n for n in OPTIONAL if (ROOT / "bench" / f"{n}.py").is_file()]
    results: dict[str, Any] = {}
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        bench_argv = OPTIONAL.get(name)
        if name in BENCHES:
            bench_argv = ["--articles", str(args.articles)] if name == "pipeline_bench" else []
            if name == "real_pipeline_bench" and args.real_limit:
                bench_argv = ["--limit", str(args.real_limit)]
        results[name] = run_bench(name, bench_argv)
    lines: list[str] = []
    lines += real_pipeline_table(results["real_pipeline_bench"])
    lines += ["", *pipeline_table(results["pipeline_bench"])]
    lines += ["", *sink_table(results["sink_bench"])]
    for name in names[len(BENCHES) :]:
        lines += ["", *other_table(name, results[name])]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
