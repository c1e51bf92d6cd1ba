"""
Soak the service (`make soak`, not in CI): `python -m worker run` on hundreds of changing local feeds.

Everything is local and private to the run: a `redis-server` on a free port,
an HTTP server on 127.0.0.1 whose feeds gain one new article every
`--period` seconds each, and the service itself, started exactly as in
production (`python -m worker run`, scheduler included) with the feeds in a
`schedules/` file.  After `--minutes` the feeds stop changing, the service is
given time to drain, and the script prints throughput, the RSS memory of the
worker's process tree at start and end, and the lost and doubled article
counts, which must both be 0 (exit code 1 otherwise).

With `--kill-every S` the whole service (main process, pool, beat) gets a
SIGKILL every S seconds and is started again: what each kill held comes back
through acks-late redelivery and the ledger of sent tasks (`worker.app.ledger`),
whose re-sends the figures count.  The visibility timeout is then 30 s, so
that the run shows recovery rather than waits for it.

Usage: `.venv/bin/python bench/soak.py --minutes 1 --feeds 100`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402 - after the path set-up above

from tests.integration.conftest import RedisServer, free_port  # noqa: E402
from tests.integration.httpserver import HTTPTestServer, Request, Response  # noqa: E402
from tests.support.corpus import article_page, rss_feed  # noqa: E402
from worker.ids import article_id  # noqa: E402

WINDOW = 3  # articles a feed lists at once


class ChangingFeeds:
    """Feeds `/feed/<k>.xml` that list their newest `WINDOW` articles; a new one every `period` seconds."""

    def __init__(self, server: HTTPTestServer, feeds: int, period_s: float) -> None:
        self.server = server
        self.feeds = feeds
        self.period_s = period_s
        self.t0 = time.monotonic()
        self.frozen_at: float | None = None
        self.listed: set[str] = set()
        self.lock = threading.Lock()
        for k in range(feeds):
            server.route(f"/feed/{k}.xml", self._feed(k))

    def newest(self, k: int) -> int:
        """Return the newest article number of feed `k` now (feeds are staggered across a period)."""
        now = self.frozen_at if self.frozen_at is not None else time.monotonic()
        return int((now - self.t0) / self.period_s + k / self.feeds)

    def freeze(self) -> None:
        """Stop the feeds from changing, so the service can catch up."""
        self.frozen_at = time.monotonic()

    def _feed(self, k: int) -> Any:
        def handler(request: Request) -> Response:
            top = self.newest(k)
            ids = [k * 100_000 + n for n in range(max(0, top - WINDOW + 1), top + 1)]
            base = self.server.url("").rstrip("/")
            for i in ids:
                page = article_page(i)
                self.server.route(
                    f"/article/{i}",
                    lambda _, page=page: Response(body=page, headers={"Content-Type": "text/html"}),
                )
                with self.lock:
                    self.listed.add(article_id(f"{base}/article/{i}"))
            return Response(body=rss_feed(base, ids), headers={"Content-Type": "application/rss+xml"})

        return handler


def tree_rss_kib(pid: int) -> int:
    """Return the summed RSS of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


def idle(r: redis.Redis[str]) -> bool:
    """Return True when nothing is queued or unacked."""
    return all(r.llen(q) == 0 for q in ("poll", "fetch", "process")) and r.hlen("unacked") == 0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the soak; print and return its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--feeds", type=int, default=300)
    ap.add_argument("--period", type=float, default=120.0, help="seconds between new articles of a feed")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--drain-minutes", type=float, default=5.0, help="time allowed to catch up at the end")
    ap.add_argument("--kill-every", type=float, default=0.0, help="SIGKILL, restart the service every S s")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    (work / "redis").mkdir()
    (work / "schedules").mkdir()
    server_redis = RedisServer(free_port(), work / "redis", appendonly=True)
    server_redis.start()
    http = HTTPTestServer().start()
    feeds = ChangingFeeds(http, args.feeds, args.period)
    (work / "schedules" / "soak.toml").write_text(
        "".join(
            f'[[source]]\nurl = "{http.url(f"/feed/{k}.xml")}"\nname = "feed{k}"\n'
            f"interval = {args.period / 2}\n"
            for k in range(args.feeds)
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_") and k != "REDIS_URL"}
    env.update(
        REDIS_URL=server_redis.url,
        INGEST_STATE_DIR=str(work / "var"),
        INGEST_OUT_DIR=str(work / "out"),
        INGEST_SCHEDULES_DIR=str(work / "schedules"),
        INGEST_ALLOW_PRIVATE_NETWORKS="1",
        INGEST_MIN_INTERVAL_S="5",
        # Every feed and article lives on 127.0.0.1: the per-host politeness caps
        # (1 article/s, 10 polls a tick) would measure them rather than the service.
        INGEST_TICK_S="1",
        INGEST_HOST_RATE="200",
        INGEST_HOST_BURST="50",
        INGEST_HOST_CAP_PER_TICK="100",
        INGEST_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if args.kill_every:
        env.update(INGEST_VISIBILITY_TIMEOUT_S="30", INGEST_TASK_TIME_LIMIT_S="20")
    log = open(work / "service.log", "w")  # noqa: SIM115 - closed in the finally below

    def start_service() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "worker", "run", "--concurrency", str(args.concurrency)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    service = start_service()
    kills = 0
    r = redis.Redis.from_url(server_redis.url, decode_responses=True)
    try:
        started = time.monotonic()
        while r.xlen("articles") == 0 and time.monotonic() - started < 180:
            time.sleep(0.5)
        rss_start = tree_rss_kib(service.pid)
        print(
            f"service up; first record after {time.monotonic() - started:.0f} s; RSS {rss_start} KiB",
            flush=True,
        )
        end = started + args.minutes * 60
        peak = rss_start
        step = min(15.0, args.kill_every) if args.kill_every else 15.0
        last_kill = time.monotonic()
        while time.monotonic() < end:
            time.sleep(min(step, max(0.0, end - time.monotonic())))
            peak = max(peak, tree_rss_kib(service.pid))
            if args.kill_every and time.monotonic() - last_kill >= args.kill_every and time.monotonic() < end:
                last_kill = time.monotonic()
                os.killpg(service.pid, signal.SIGKILL)
                service.wait()
                service = start_service()
                kills += 1
            print(f"  {(time.monotonic() - started) / 60:4.1f} min: {r.xlen('articles')} records", flush=True)
        emitted_in_run = r.xlen("articles")
        run_s = time.monotonic() - started
        rss_end = tree_rss_kib(service.pid)
        feeds.freeze()
        # Let every feed be polled once more after the freeze, then drain.
        time.sleep(args.period / 2 + 5)
        deadline = time.monotonic() + args.drain_minutes * 60
        while time.monotonic() < deadline:
            with feeds.lock:
                want = set(feeds.listed)
            if r.xlen("articles") >= len(want) and idle(r):
                break
            time.sleep(2)
        time.sleep(2)
        with feeds.lock:
            expected = set(feeds.listed)
        stream = [f["id"] for _, f in r.xrange("articles")]
        jsonl = [
            json.loads(line)["id"]
            for f in sorted((work / "out").glob("*.jsonl"))
            for line in f.read_text("utf-8").splitlines()
        ]
        figures = {
            "minutes": round(run_s / 60, 2),
            "feeds": args.feeds,
            "articles_listed": len(expected),
            "records": len(stream),
            "throughput_per_min": round(emitted_in_run / (run_s / 60), 1),
            "rss_start_kib": rss_start,
            "rss_end_kib": rss_end,
            "rss_peak_kib": peak,
            "lost_stream": len(expected - set(stream)),
            "lost_jsonl": len(expected - set(jsonl)),
            "doubled_stream": sum(n - 1 for n in Counter(stream).values()),
            "doubled_jsonl": sum(n - 1 for n in Counter(jsonl).values()),
            "dead_letters": r.xlen("articles:dead"),
            "kills": kills,
            "tasks_resent": int(r.hget("ingest:counters", "tasks_resent") or 0),
        }
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGTERM)
            try:
                service.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
                service.wait()
        log.close()
        http.stop()
        r.close()
        server_redis.stop()
    print(json.dumps(figures, indent=2))
    if not os.environ.get("SOAK_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    return figures


if __name__ == "__main__":
    result = main()
    bad = result["lost_stream"] + result["lost_jsonl"] + result["doubled_stream"] + result["doubled_jsonl"]
    sys.exit(1 if bad else 0)
