"""
The command line: `ingest`, `run`, `consume`, `sources`, `dead`, `health`, `config`.

`ingest` runs the same Celery tasks as the service, in this process
(`Task.apply`), draining the follow-up tasks they queue until nothing is left;
`--enqueue` sends the work to a running worker pool instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from worker import config, dispatch
from worker.app import logging as wlogging
from worker.app import runtime
from worker.errors import ConfigError, IngestError, SourceError
from worker.models import SourceSpec
from worker.schedule.tick import purge_all
from worker.sources.spec import load_schedules, resolve
from worker.state import DeadLetter

log = structlog.get_logger("worker.app.cli")


def _settings(args: argparse.Namespace) -> config.Settings:
    """Return the settings `main` loaded, with `--out` and `--state-dir` applied."""
    s: config.Settings = args.settings
    if getattr(args, "out", None):
        s = s.with_(out_dir=Path(args.out))
    if getattr(args, "state_dir", None):
        s = s.with_(state_dir=Path(args.state_dir))
    return s


def _celery(settings: config.Settings) -> Any:
    """Return the Celery app configured with `settings` and this process prepared to send tasks."""
    from worker.app import celery_app  # imported on use: admin commands never need Celery

    celery_app.configure(settings)
    celery_app.install()
    return celery_app.app


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def drain(local: dispatch.LocalDispatcher, *, progress: bool) -> tuple[Counter[str], list[str]]:
    """
    Run queued tasks in this process until none is left.

    Returns:
        The outcome counts and the one-line errors of sources that could not be read.
    """
    from tqdm import tqdm

    import worker.app.tasks  # noqa: F401 - registers the tasks
    from worker.app.celery_app import app

    counts: Counter[str] = Counter()
    source_errors: list[str] = []
    bar = tqdm(total=0, unit="item", disable=not progress, dynamic_ncols=True)
    token = dispatch.current.set(local)
    try:
        while local.queue:
            name, args = local.queue.popleft()
            result = app.tasks[name].apply(args=list(args))
            value: Any = result.result
            if result.failed():
                if name == dispatch.TASK_POLL:
                    spec = SourceSpec.from_dict(args[0])
                    source_errors.append(f"{spec.location}: {_one_line(value)}")
                else:
                    counts["failed"] += len(args[0]) if name == dispatch.TASK_PROCESS else 1
                continue
            if name == dispatch.TASK_POLL:
                counts["seen"] += value["seen"]
                counts["duplicate"] += value["seen"] - value["queued"]
                bar.total += value["queued"]
                bar.refresh()
            elif name == dispatch.TASK_FETCH and value["status"] != "fetched":
                counts[value["status"]] += 1
                bar.update(1)
            elif name == dispatch.TASK_PROCESS:
                for o in value:
                    counts[o["status"]] += 1
                bar.update(len(value))
    finally:
        dispatch.current.reset(token)
        bar.close()
    return counts, source_errors


def _one_line(exc: BaseException | Any) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    runtime.use_settings(settings)
    try:
        specs = [resolve(a, tz=args.tz or settings.default_tz) for a in args.sources]
    except SourceError as exc:
        return _err(str(exc))
    if args.enqueue:
        _celery(settings)
        for spec in specs:
            dispatch.send(dispatch.TASK_POLL, spec.to_dict())
        print(f"queued {len(specs)} source(s)")
        return 0
    local = dispatch.LocalDispatcher()
    for spec in specs:
        local.send(dispatch.TASK_POLL, spec.to_dict())
    started = time.monotonic()
    counts, source_errors = drain(local, progress=sys.stderr.isatty() and not args.quiet)
    # What expired goes now, off the run's hot path (the service purges from its dispatch tick).
    purge_all(runtime.get().store, time.time())
    runtime.reset()
    summary = {k: counts.get(k, 0) for k in ("seen", "new", "duplicate", "skipped", "failed")}
    if args.json:
        print(json.dumps({**summary, "errors": source_errors, "out": str(settings.out_dir)}))
    else:
        print(
            f"seen {summary['seen']}, new {summary['new']}, duplicate {summary['duplicate']}, "
            f"skipped {summary['skipped']}, failed {summary['failed']} "
            f"in {time.monotonic() - started:.1f}s -> {settings.out_dir}"
        )
    for line in source_errors:
        print(f"error: {line}", file=sys.stderr)
    return 1 if source_errors else 0


def sync_schedules(settings: config.Settings) -> list[SourceSpec]:
    """Register the sources of `schedules/` (new ones are due now; known ones keep their state)."""
    store = runtime.get().store
    specs = load_schedules(settings.schedules_dir)
    now = time.time()
    scheduled = store.scheduled()
    for spec in specs:
        state = store.get_feed(spec.location) or {}
        state["spec"] = spec.to_dict()
        store.put_feed(spec.location, state)
        if spec.location not in scheduled and not state.get("disabled"):
            store.schedule(spec.location, now)
    log.info("schedules_synced", sources=len(specs), directory=str(settings.schedules_dir))
    return specs


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    runtime.use_settings(settings)
    try:
        sync_schedules(settings)
    except SourceError as exc:
        return _err(str(exc))
    runtime.reset()
    app = _celery(settings)
    argv = [
        "worker",
        "-Q",
        ",".join(args.queues or dispatch.QUEUES),
        "--concurrency",
        str(args.concurrency),
        "--loglevel",
        settings.log_level,
        "--hostname",
        args.hostname,
    ]
    if not args.no_beat:
        argv.append("-B")
    log.info("service_starting", mode="embedded" if settings.embedded else "redis", argv=argv)
    app.worker_main(argv)
    return 0


def cmd_consume(args: argparse.Namespace) -> int:
    from worker.delivery.consume import consume

    settings = _settings(args)
    if not settings.redis_url:
        return _err("consume reads the Redis stream: set REDIS_URL")
    n = consume(
        settings,
        group=args.group,
        consumer=args.consumer,
        count=args.max,
        block_ms=args.block_ms,
        min_idle_ms=args.min_idle_ms,
    )
    print(f"consumed {n}", file=sys.stderr)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from worker.fetch.client import Fetcher
    from worker.sources import registry
    from worker.state import open_store

    settings = _settings(args)
    if args.action in {"add", "remove", "import-opml"} and not args.url:
        return _err(f"sources {args.action} needs {'a FILE' if args.action == 'import-opml' else 'a URL'}")
    store = open_store(settings)
    try:
        if args.action == "add":
            with Fetcher(settings) as fetcher:
                specs = registry.add(
                    store,
                    args.url,
                    fetcher=None if args.no_check else fetcher,
                    name=args.name,
                    tz=args.tz or settings.default_tz,
                    interval_s=args.interval,
                )
            for spec in specs:
                print(f"added {spec.kind} {spec.location}")
        elif args.action == "remove":
            if not registry.remove(store, args.url):
                return _err(f"{args.url}: no such source")
            print(f"removed {args.url}")
        elif args.action == "import-opml":
            try:
                data = Path(args.url).read_bytes()
            except OSError as exc:
                return _err(f"{args.url}: {exc.strerror}")
            added = registry.import_opml(store, data, tz=args.tz or settings.default_tz)
            print(f"imported {len(added)} feed(s)")
        elif args.action == "export-opml":
            sys.stdout.write(registry.export_opml(store))
        else:
            for row in registry.rows(store):
                print(json.dumps(row))
    finally:
        store.close()
    return 0


def cmd_dead(args: argparse.Namespace) -> int:
    settings = _settings(args)
    runtime.use_settings(settings)
    store = runtime.get().store
    letters = store.dead_letters(args.limit)
    if args.action == "list":
        for d in letters:
            print(
                json.dumps(
                    {
                        "id": d.id,
                        "at": d.at,
                        "stage": d.stage,
                        "source": d.source,
                        "reason": d.reason,
                        "url": d.payload.get("url"),
                    }
                )
            )
        return 0
    if args.enqueue:
        _celery(settings)
        for d in letters:
            dispatch.send(*_retry_task(d))
            # The broker holds the task now: the letter may go.
            store.remove_dead(d.id)
        print(f"queued {len(letters)} dead letter(s)")
        return 0
    c: Counter[str] = Counter()
    for d in letters:
        local = dispatch.LocalDispatcher()
        local.send(*_retry_task(d))
        counts, _ = drain(local, progress=False)
        c.update(counts)
        # Removed only once its retry ended (in a record, or in a new dead letter), so a crash loses nothing.
        store.remove_dead(d.id)
    print(f"retried {len(letters)}: new {c['new']}, duplicate {c['duplicate']}, failed {c['failed']}")
    runtime.reset()
    return 0


def _retry_task(d: DeadLetter) -> tuple[Any, ...]:
    """Return the task name and arguments that run a dead letter again from its stage."""
    if d.stage == "fetch":
        return dispatch.TASK_FETCH, d.payload
    if d.stage == "poll":
        return (dispatch.TASK_POLL, *d.payload["args"])
    return dispatch.TASK_PROCESS, [d.payload]


def cmd_health(args: argparse.Namespace) -> int:
    from worker.app.health import check

    report = check(_settings(args))
    print(json.dumps(report, indent=None if args.compact else 2))
    return 0 if report["ok"] else 1


def cmd_config(args: argparse.Namespace) -> int:
    rows = config.effective(args.settings, os.environ)
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        print(f"{row['env']}={shlex.quote(row['value'])}  # {row['source']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (one sub-command per verb)."""
    p = argparse.ArgumentParser(
        prog="python -m worker", description=__doc__.strip().splitlines()[0] if __doc__ else None
    )
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="run the pipeline once over feeds and archives")
    ing.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="feed URL or file, archive folder/.tar.gz/.zip/.jsonl/.warc",
    )
    ing.add_argument("--out", help="JSONL output folder (INGEST_OUT_DIR)")
    ing.add_argument("--state-dir", help="state folder of the embedded mode (INGEST_STATE_DIR)")
    ing.add_argument("--tz", help="zone of naive dates in these sources (default INGEST_DEFAULT_TZ)")
    ing.add_argument(
        "--enqueue", action="store_true", help="hand the work to a running worker pool and return"
    )
    ing.add_argument("--json", action="store_true", help="print the summary as JSON")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(fn=cmd_ingest)

    run = sub.add_parser("run", help="the long-running service: worker and scheduler")
    run.add_argument("--concurrency", type=int, default=2)
    run.add_argument("--queues", nargs="*", help="queues to consume (default: all)")
    run.add_argument("--no-beat", action="store_true", help="do not run the scheduler in this process")
    run.add_argument("--hostname", default="worker@%h")
    run.add_argument("--out", help="JSONL output folder")
    run.add_argument("--state-dir", help="state folder")
    run.set_defaults(fn=cmd_run)

    con = sub.add_parser("consume", help="read the stream with a consumer group (example consumer)")
    con.add_argument("--group", required=True)
    con.add_argument("--consumer", default=f"consumer-{os.getpid()}")
    con.add_argument("--max", type=int, default=0, help="stop after this many entries (0: run forever)")
    con.add_argument("--block-ms", type=int, default=5000)
    con.add_argument("--min-idle-ms", type=int, default=60000, help="reclaim entries pending this long")
    con.set_defaults(fn=cmd_consume)

    src = sub.add_parser("sources", help="manage scheduled sources (embedded, or Redis with REDIS_URL)")
    src.add_argument("action", choices=["list", "add", "remove", "import-opml", "export-opml"])
    src.add_argument("url", nargs="?", metavar="URL|FILE", help="source to add/remove, OPML file to import")
    src.add_argument("--name")
    src.add_argument("--tz")
    src.add_argument("--interval", type=float, help="fixed poll interval in seconds (default: adaptive)")
    src.add_argument("--no-check", action="store_true", help="add the URL as a feed without fetching it")
    src.add_argument("--state-dir")
    src.set_defaults(fn=cmd_sources)

    dead = sub.add_parser("dead", help="list or retry dead letters")
    dead.add_argument("action", choices=["list", "retry"])
    dead.add_argument("--limit", type=int, default=100)
    dead.add_argument("--enqueue", action="store_true")
    dead.add_argument("--out")
    dead.add_argument("--state-dir")
    dead.set_defaults(fn=cmd_dead)

    health = sub.add_parser("health", help="check broker, state store and sinks")
    health.add_argument("--compact", action="store_true")
    health.set_defaults(fn=cmd_health)

    conf = sub.add_parser("config", help="print the effective settings and where each came from")
    conf.add_argument("--json", action="store_true", help="print them as one JSON list")
    conf.set_defaults(fn=cmd_config)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    wlogging.configure()  # first, so that load()'s warnings about unknown names are log events
    try:
        args.settings = config.load()
    except ConfigError as exc:
        return _err(str(exc))
    wlogging.configure(args.settings.log_level, force=True)
    if args.command in {"sources"} and args.action in {"add", "remove"} and not args.url:
        return _err(f"sources {args.action} needs a URL")
    try:
        return int(args.fn(args))
    except IngestError as exc:
        return _err(str(exc))
    except KeyboardInterrupt:
        return 130
