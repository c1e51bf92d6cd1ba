"""
Soak the stored state for many simulated days (`make soak-long`, not in CI): does it level off?

Time is compressed by shortening the retention, never by faking a clock:
Redis expires keys on its own clock.  One simulated day lasts `--day-s`
seconds (90), the dedupe retention is `--retention-days` of them (3, so
`INGEST_DEDUP_RETENTION_S=270`), and `--feeds` loopback feeds (1,000) each
publish `--items-per-day` new articles a simulated day (3) and list the
last `--listed` (6), with the full text in the feed (no article fetch, so
no host rate in the way); a feed's entry memory keeps max(4, 2 x 6) keys.
NER is off (`INGEST_NER_LANGUAGES=""`); the rest of the pipeline runs as in
`ingest`, through the same Celery tasks in this process, driven by dispatch
ticks every 2 s (`worker.schedule.tick.run`, its once-a-minute purge
included) and a purge every 5 s (a minute would be most of a simulated day).
The defaults fit two shared cores; more items a day need more CPU (about
5 ms an article without NER), or the ticks fall behind ("busy" > 100 %).

Each mode runs in its own process, in parallel: `redis` (Redis state and
stream, JSONL) on a private `redis-server --save ''`, and `sqlite` (the
embedded mode).  At the end of each simulated day it prints Redis
`used_memory` and the SQLite pages in use (`page_count - freelist_count`),
and at the end whether the last 5 days stay within +-3 % of their mean,
with exit code 1 if not.  The JSONL files and their index rotate by UTC day,
which a 30-minute run cannot compress: their size is printed, not judged.

Usage: `.venv/bin/python bench/soak_long.py [--days 13] [--feeds 1000] [--items-per-day 3]` (20 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import redis_server, server_child  # noqa: E402 - after the path set-up above
from tests.support.corpus import article_text, article_title  # noqa: E402

TICK_S = 2.0
PURGE_EVERY_S = 5
FLAT_DAYS = 5
FLAT_TOLERANCE = 0.03


# -- the feeds: a child process, so their CPU is not the worker's --------------------------------
class Feeds:
    """Feed `k` lists its newest `listed` items; item n appears at t0 + (n + k / feeds) / per_day days."""

    def __init__(self, t0: float, day_s: float, feeds: int, per_day: float, listed: int) -> None:
        self.t0, self.day_s, self.feeds, self.per_day, self.listed = t0, day_s, feeds, per_day, listed
        self._bodies: dict[int, tuple[int, bytes]] = {}  # feed -> (top, body): both modes read each
        self._lock = threading.Lock()

    def newest(self, k: int, now: float) -> int:
        """Return the number of feed `k`'s newest item at `now` (-1: none yet)."""
        return int((now - self.t0) / self.day_s * self.per_day - k / self.feeds)

    def body(self, k: int, top: int, base: str) -> bytes:
        """Return feed `k`'s RSS, its items `top - listed + 1 .. top` with their full text."""
        with self._lock:
            cached = self._bodies.get(k)
        if cached is not None and cached[0] == top:
            return cached[1]
        items = []
        for n in range(max(0, top - self.listed + 1), top + 1):
            i = k * 1_000_000 + n
            html = "".join(f"<p>{escape(p)}</p>" for p in article_text(i, 2).split("\n\n"))
            at = self.t0 + (n + k / self.feeds) / self.per_day * self.day_s
            items.append(
                f"<item><title>{escape(article_title(i))}</title><link>{base}/a/{k}/{n}</link>"
                f'<guid isPermaLink="false">soak-{k}-{n}</guid>'
                f"<pubDate>{formatdate(at, usegmt=True)}</pubDate>"
                f"<content:encoded>{escape(html)}</content:encoded></item>"
            )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Soak {k}</title><link>{base}/</link>{''.join(items)}</channel></rss>"
        ).encode()
        with self._lock:
            self._bodies[k] = (top, body)
        return body


def serve(t0: float, day_s: float, feeds: int, per_day: float, listed: int) -> None:
    """Serve `/feed/<k>.xml` with ETags until stdin closes (`harness.server_child`)."""
    src = Feeds(t0, day_s, feeds, per_day, listed)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm holds the
            # body until the client's delayed ACK, 40 ms a feed.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1].removesuffix(".xml")
            if not self.path.startswith("/feed/") or not name.isdigit():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            k = int(name)
            top = src.newest(k, time.time())
            etag = f'"{top}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = src.body(k, top, f"http://127.0.0.1:{self.server.server_address[1]}")
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(httpd.server_address[1], flush=True)
    sys.stdin.read()
    httpd.shutdown()


# -- one mode: the worker in this process ------------------------------------------------------
def sqlite_pages(path: Path) -> int:
    """Return the pages a SQLite file has in use (`page_count - freelist_count`)."""
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA page_count").fetchone()[0]) - int(
            db.execute("PRAGMA freelist_count").fetchone()[0]
        )


def table_pages(path: Path) -> dict[str, int]:
    """Return the pages in use of each table with its indexes (SQLite's `dbstat`), largest first."""
    with sqlite3.connect(path) as db:
        tables = dict(db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        pages: dict[str, int] = {}
        for name, n in db.execute("SELECT name, COUNT(*) FROM dbstat GROUP BY name"):
            table = tables.get(name, name)
            pages[table] = pages.get(table, 0) + int(n)
    return dict(sorted(pages.items(), key=lambda kv: -kv[1]))


def run_mode(args: argparse.Namespace) -> None:
    """Run one mode for `args.days` simulated days; print one JSON line a day."""
    from worker import config, dispatch
    from worker.app import ingest, runtime
    from worker.app import logging as wlogging
    from worker.models import SourceSpec
    from worker.schedule import tick

    work = Path(tempfile.mkdtemp(prefix=f"soak-long-{args.mode}-"))
    retention_s = round(args.retention_days * args.day_s)
    env = {
        "INGEST_STATE_DIR": str(work / "var"),
        "INGEST_OUT_DIR": str(work / "out"),
        "INGEST_ALLOW_PRIVATE_NETWORKS": "1",
        "INGEST_NER_LANGUAGES": "",
        "INGEST_USE_FEED_CONTENT_CHARS": "100",
        "INGEST_DEDUP_RETENTION_S": str(retention_s),
        "INGEST_EMITTED_RETENTION_S": str(retention_s),
        "INGEST_ENTRY_MEMORY": str(args.entry_memory),
        "INGEST_MIN_INTERVAL_S": "5",
        "INGEST_MAX_INTERVAL_S": str(round(args.day_s)),
        "INGEST_HOST_CAP_PER_TICK": "100000",
        "INGEST_STREAM_MAXLEN": "1000",
        "INGEST_TICK_S": str(TICK_S),
        "INGEST_LOG_LEVEL": "WARNING",
    }
    if args.mode == "redis":
        env["REDIS_URL"] = args.redis_url
    settings = config.load(env)
    wlogging.configure("WARNING", json=True, force=True)
    runtime.use_settings(settings)
    store = runtime.get().store
    # Each item is listed for 4 polls; an interval that is not the day keeps polls and new items
    # from falling into step (a feed polled just before each of its items appears).
    interval = args.listed / args.items_per_day * args.day_s / 4
    specs = [
        SourceSpec("feed", f"{args.feed_url}/feed/{k}.xml", f"soak{k}", interval_s=interval)
        for k in range(args.feeds)
    ]
    # Spread over one interval, as a long-running service's feeds are, rather than all due at once,
    # in another order than the items' times over the day.
    start = time.time()
    phase = [(k * 7919) % args.feeds / args.feeds for k in range(args.feeds)]
    store.put_feeds(
        [(s.location, {"spec": s.to_dict()}, start + phase[k] * interval) for k, s in enumerate(specs)]
    )

    r = None
    if args.mode == "redis":
        import redis

        r = redis.Redis.from_url(args.redis_url)
    t0 = args.t0
    next_purge = 0.0
    for day in range(1, args.days + 1):
        emitted, polls, busy = 0, 0, 0.0
        while (now := time.time()) < t0 + day * args.day_s:
            local = dispatch.LocalDispatcher()
            token = dispatch.current.set(local)
            try:
                tick.run(store, settings, limit=5000)
            finally:
                dispatch.current.reset(token)
            polls += len(local.queue)
            emitted += ingest.drain(local, progress=False).counts.get("new", 0)
            if time.time() >= next_purge:  # the tick's own turn lasts a minute: most of a day here
                store.purge(time.time(), tick.PURGE_LIMIT)
                next_purge = time.time() + PURGE_EVERY_S
            busy += time.time() - now
            time.sleep(max(0.0, now + TICK_S - time.time()))
        row: dict[str, Any] = {
            "mode": args.mode,
            "day": day,
            "emitted": emitted,
            "polls": polls,
            "busy": round(busy / args.day_s, 2),
            "jsonl_index_pages": sqlite_pages(work / "out" / ".jsonl-index.sqlite3"),
        }
        if r is not None:
            row["used_memory"] = int(r.info("memory")["used_memory"])
            row["keys"] = int(r.dbsize())
        else:
            row["sqlite_pages"] = sqlite_pages(work / "var" / "state.sqlite3")
            row["tables"] = table_pages(work / "var" / "state.sqlite3")
        print(json.dumps(row), flush=True)
    runtime.reset()


# -- the run: feeds, Redis, both modes ---------------------------------------------------------
def flat(values: list[int]) -> tuple[bool, float]:
    """Return whether every value is within the tolerance of their mean, and the largest deviation."""
    mean = sum(values) / len(values)
    worst = max(abs(v - mean) / mean for v in values) if mean else 0.0
    return worst <= FLAT_TOLERANCE, worst


def main(argv: list[str] | None = None) -> int:
    """Run the soak; return 0 when both measures are flat over the last days."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    ap.add_argument("--days", type=int, default=13, help="simulated days")
    ap.add_argument("--day-s", type=float, default=90.0, help="seconds a simulated day lasts")
    ap.add_argument("--retention-days", type=float, default=3.0, help="dedupe retention, simulated days")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items-per-day", type=float, default=3.0, help="new items a feed publishes a day")
    ap.add_argument("--listed", type=int, default=6, help="items a feed lists")
    ap.add_argument("--entry-memory", type=int, default=4, help="INGEST_ENTRY_MEMORY")
    ap.add_argument("--modes", default="redis,sqlite")
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--feed-url", help=argparse.SUPPRESS)
    ap.add_argument("--redis-url", help=argparse.SUPPRESS)
    ap.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.t0, args.day_s, args.feeds, args.items_per_day, args.listed)
        return 0
    if args.mode:
        run_mode(args)
        return 0
    return orchestrate(args)


def orchestrate(args: argparse.Namespace) -> int:
    """Start the feeds and Redis, run each mode in a child process, print the days and the verdict."""
    t0 = time.time() + 10  # the modes start together, after they are set up
    modes = args.modes.split(",")
    common = [f"--{k.replace('_', '-')}={getattr(args, k)}" for k in ("days", "day_s", "retention_days")]
    common += [f"--{k.replace('_', '-')}={getattr(args, k)}" for k in ("feeds", "items_per_day", "listed")]
    common += [f"--entry-memory={args.entry_memory}", f"--t0={t0}"]
    feed_args = ["--serve", f"--t0={t0}", f"--day-s={args.day_s}", f"--feeds={args.feeds}"]
    feed_args += [f"--items-per-day={args.items_per_day}", f"--listed={args.listed}"]
    print(
        f"soak-long: {args.feeds} feeds x {args.items_per_day:g} items a day, a day = {args.day_s:g} s, "
        f"retention {args.retention_days:g} days, {args.days} days, modes {', '.join(modes)}",
        flush=True,
    )
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    with server_child(Path(__file__), *feed_args) as feed_url, redis_server() as redis_url:
        if "redis" in modes and redis_url is None:
            raise SystemExit("no redis-server could be started")
        children = {
            m: subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    f"--mode={m}",
                    f"--feed-url={feed_url}",
                    f"--redis-url={redis_url}",
                    *common,
                ],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            for m in modes
        }
        readers = [threading.Thread(target=_collect, args=(p, rows[m])) for m, p in children.items()]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        codes = [p.wait() for p in children.values()]
    return _verdict(rows, args.retention_days) if not any(codes) else 1


def _collect(proc: subprocess.Popen[str], out: list[dict[str, Any]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        row = json.loads(line)
        out.append(row)
        measure = row.get("used_memory", row.get("sqlite_pages"))
        unit = "used_memory bytes" if "used_memory" in row else "SQLite pages in use"
        print(
            f"  {row['mode']:6} day {row['day']:2}: {measure:>10} {unit}; emitted {row['emitted']}, "
            f"polls {row['polls']}, busy {row['busy']:.0%}, JSONL index {row['jsonl_index_pages']} pages",
            flush=True,
        )
        if "tables" in row:
            print("         " + ", ".join(f"{t} {n}" for t, n in row["tables"].items()), flush=True)


def _verdict(rows: dict[str, list[dict[str, Any]]], retention_days: float) -> int:
    ok = True
    for mode, days in rows.items():
        key = "used_memory" if mode == "redis" else "sqlite_pages"
        last = [d[key] for d in days[-FLAT_DAYS:]]
        good, worst = flat(last)
        after = [d["day"] for d in days[-FLAT_DAYS:]]
        ok &= good and len(last) == FLAT_DAYS and after[0] > retention_days
        print(
            f"{mode}: {key} over days {after[0]}-{after[-1]}: {min(last)}..{max(last)}, "
            f"largest deviation from the mean {worst:.1%}: {'flat' if good else 'NOT flat'}",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
