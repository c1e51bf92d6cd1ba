"""
What the ledger of sent tasks (`worker.app.ledger`) costs a task, against publishing without it.

Publishes fetch tasks and process batches (four pages of about 40 kB) to a
private redis-server through the worker's own Celery app, first without a
ledger entry (inside `dispatch.leased()`, the baseline, same run), then with
one; then times what a worker adds around each task (the touch at start and
the delete at the end).  CPU time of this process; the publishing runs in a
child process so that the app is built for the private Redis.

    .venv/bin/python bench/ledger_bench.py [--tasks N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import private_redis  # noqa: E402

TASKS = 2000


def _cpu_ms_each(n: int, fn: Any) -> float:
    start = time.process_time()
    for i in range(n):
        fn(i)
    return (time.process_time() - start) * 1000 / n


def child(n: int) -> dict[str, Any]:
    """Measure in this process (REDIS_URL set by the parent); return CPU ms per operation."""
    from tests.support.corpus import article_page
    from worker import dispatch
    from worker.app import ledger
    from worker.app.celery_app import app, settings

    fetch = {
        "url": "https://example.org/news/1",
        "spec": {"name": "bench", "location": "https://example.org/feed"},
    }
    page = article_page(7).decode()
    batch = [[{"url": f"https://example.org/{i}", "content": page * 8, "type": "html"} for i in range(4)]]

    def send(task: str, args: list[Any]) -> Any:
        return lambda i: app.send_task(task, args=args, task_id=f"{task}-{i}-{time.monotonic_ns()}")

    figures: dict[str, Any] = {"page_bytes": len(page) * 8}
    kinds = (("fetch", "worker.fetch_article", [fetch]), ("process_batch", "worker.process_items", batch))
    for label, task, args in kinds:
        with dispatch.leased():
            bare = _cpu_ms_each(n, send(task, args))
        recorded = _cpu_ms_each(n, send(task, args))
        figures[label] = {"publish_ms": round(bare, 4), "publish_recorded_ms": round(recorded, 4)}
        figures[label]["ratio"] = round(recorded / bare, 2)
    ids = [tid for tid, _ in ledger.store_of(settings).ledger_stale("fetch", float("inf"), n)]

    def start_and_end(i: int) -> None:
        ledger.on_start(settings, "fetch", ids[i])
        ledger.on_end(settings, "fetch", ids[i])

    figures["start_and_end_ms"] = round(_cpu_ms_each(len(ids), start_and_end), 4)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the measurement in a child process against a private redis-server; print and return it."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--tasks", type=int, default=TASKS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.tasks)
    with private_redis() as url:
        env = {**os.environ, "REDIS_URL": url, "INGEST_LOG_LEVEL": "WARNING"}
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--tasks", str(args.tasks)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["tasks"] = args.tasks
    figures["unit"] = "CPU ms per task, publisher and worker processes"
    return figures


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(main(sys.argv[1:])))
    else:
        print(json.dumps(main(sys.argv[1:]), indent=2))
