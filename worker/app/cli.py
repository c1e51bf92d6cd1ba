"""
The command line: `ingest`, `run`, `consume`, `sources`, `dead`, `health`, `config`.

`ingest` runs the same Celery tasks as the service, in this process
(`Task.apply`), draining the follow-up tasks they queue until nothing is left;
`--enqueue` sends the work to a running worker pool instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from worker import config, dispatch
from worker.app import explain, runtime
from worker.app import logging as wlogging
from worker.errors import ConfigError, IngestError, SourceError
from worker.models import SourceSpec
from worker.poll.result import ReadOptions, parse_since
from worker.sources.spec import load_schedules, resolve
from worker.state import DeadLetter, StateStore

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


# Exit codes of every command (the `--help` epilog and the README say them).
EXIT_OK = 0
EXIT_SOURCE = 1  # a source could not be read, or held nothing to read; a check failed (`health`)
EXIT_USAGE = 2  # a bad argument or setting
EXIT_ITEMS = 3  # `ingest`: every source was read, but some articles failed (dead letters)


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


@dataclass
class Drained:
    """
    What an in-process run did: outcome counts, one-line errors and notes, and what each source held.

    `read` counts the items each source (by location) gave, `children` the
    child sitemaps it handed on, `skipped` the files of each archive that are
    not articles, by suffix.
    """

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read: Counter[str] = field(default_factory=Counter)
    children: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, Counter[str]] = field(default_factory=dict)


def drain(local: dispatch.LocalDispatcher, *, progress: bool) -> Drained:
    """Run queued tasks in this process until none is left; return what they did."""
    from tqdm import tqdm

    import worker.app.tasks  # noqa: F401 - registers the tasks
    from worker.app.celery_app import app

    run = Drained()
    bar = tqdm(total=0, unit="item", disable=not progress, dynamic_ncols=True)
    token = dispatch.current.set(local)
    quiet = wlogging.progress_bar() if progress else contextlib.nullcontext()
    try:
        with quiet:
            while local.queue:
                name, args = local.queue.popleft()
                result = app.tasks[name].apply(args=list(args))
                _count(run, bar, name, args, result)
    finally:
        dispatch.current.reset(token)
        bar.close()
    return run


def _count(run: Drained, bar: Any, name: str, args: tuple[Any, ...], result: Any) -> None:
    """Count what one task did, and move the progress bar."""
    value: Any = result.result
    if result.failed():
        if name == dispatch.TASK_POLL:
            run.errors.append(_poll_failure(args, value))
        else:
            run.counts["failed"] += len(args[0]) if name == dispatch.TASK_PROCESS else 1
        return
    if name == dispatch.TASK_POLL:
        _poll_done(run, SourceSpec.from_dict(args[0]).location, value)
        bar.total += value["queued"]
        bar.refresh()
    elif name == dispatch.TASK_FETCH and value["status"] != "fetched":
        run.counts[value["status"]] += 1
        bar.update(1)
    elif name == dispatch.TASK_PROCESS:
        for o in value:
            run.counts[o["status"]] += 1
        bar.update(len(value))


def _poll_done(run: Drained, location: str, value: dict[str, Any]) -> None:
    """Count what a poll read; note the feeds a page links to."""
    run.counts["seen"] += value["seen"]
    run.counts["duplicate"] += value["seen"] - value["queued"]
    run.read[location] += value["seen"]
    run.children[location] += value.get("pages", 0)
    if value.get("skipped"):
        run.skipped.setdefault(location, Counter()).update(value["skipped"])
    if value.get("feeds"):
        feeds = ", ".join(value["feeds"])
        run.notes.append(
            f"{location} is a page; it links to feeds: {feeds} (subscribe with: sources add URL)"
        )


def _poll_failure(args: tuple[Any, ...], exc: Any) -> str:
    """Return the error line of a failed poll: the source (or the child sitemap that failed) and why."""
    spec = SourceSpec.from_dict(args[0])
    options = ReadOptions.from_dict(args[3] if len(args) > 3 else None)
    location = options.document or spec.location
    return f"{location}: {_failure(exc, location)}"


def _failure(exc: BaseException | Any, location: str) -> str:
    """Return the reason of a failed poll; an exception outside our tree is a bug, said as one."""
    if isinstance(exc, IngestError):
        return explain.one_line(exc, location)
    return f"internal error {type(exc).__name__}: {explain.reason(exc)} (a bug: the traceback is above)"


def _ingest_specs(args: argparse.Namespace, settings: config.Settings) -> tuple[list[SourceSpec], list[str]]:
    """
    Return the sources to read and the error lines of those that cannot even be named.

    With `--subscribe` each one is subscribed first, as `sources add` does
    (a page stands for the feeds it leads to).
    """
    tz = args.tz or settings.default_tz
    specs: list[SourceSpec] = []
    errors: list[str] = []
    for arg in args.sources:
        try:
            if args.subscribe:
                from worker.sources import registry

                rt = runtime.get()
                added = registry.add(rt.store, arg, fetcher=rt.fetcher, tz=tz)
                specs += [a.spec for a in added]
                for a in added:
                    log.info("source_subscribed", status=a.status, kind=a.spec.kind, url=a.spec.location)
            else:
                specs.append(resolve(arg, tz=tz))
        except IngestError as exc:
            errors.append(f"{arg}: {explain.one_line(exc, arg)}")
    return specs, errors


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    runtime.use_settings(settings)
    try:
        since = parse_since(args.since)
    except (ValueError, OverflowError):
        return _err(f"--since {args.since!r}: not a date (expected ISO 8601, such as 2024-05-01)")
    specs, unnamed = _ingest_specs(args, settings)
    # A one-shot read never subscribes: `--subscribe` did that above, and the polls then schedule.
    options = ReadOptions(once=not args.subscribe, since=since.isoformat() if since else None).to_dict()
    if args.enqueue:
        _celery(settings)
        for spec in specs:
            dispatch.send(dispatch.TASK_POLL, spec.to_dict(), None, None, options)
        print(f"queued {len(specs)} source(s)")
        for line in unnamed:
            print(f"error: {line}", file=sys.stderr)
        return 1 if unnamed else 0
    local = dispatch.LocalDispatcher()
    for spec in specs:
        local.send(dispatch.TASK_POLL, spec.to_dict(), None, None, options)
    started = time.monotonic()
    run = drain(local, progress=sys.stderr.isatty() and not args.quiet)
    runtime.reset()
    empty, skipped = _archive_lines(specs, run, since=since is not None)
    errors, notes = unnamed + run.errors + empty, run.notes + skipped
    summary = {k: run.counts.get(k, 0) for k in ("seen", "new", "duplicate", "skipped", "failed")}
    if summary["failed"]:
        errors.append(
            f"{summary['failed']} article(s) failed: `python -m worker dead list` says why, "
            "`python -m worker dead retry` runs them again"
        )
    if args.json:
        print(json.dumps({**summary, "errors": errors, "notes": notes, "out": str(settings.out_dir)}))
    else:
        print(
            f"seen {summary['seen']}, new {summary['new']}, duplicate {summary['duplicate']}, "
            f"skipped {summary['skipped']}, failed {summary['failed']} "
            f"in {time.monotonic() - started:.1f}s -> {settings.out_dir}"
        )
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if len(errors) > (1 if summary["failed"] else 0):
        return EXIT_SOURCE
    return EXIT_ITEMS if summary["failed"] else EXIT_OK


# Feeds are sources of their own: a folder of them is not an archive.
_FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".json"}


def _archive_lines(specs: list[SourceSpec], run: Drained, *, since: bool) -> tuple[list[str], list[str]]:
    """
    Return the error lines of archives that held no article, and notes on the files archives skipped.

    An archive whose every file was left out (191 `.xml` feeds in a folder)
    is an error, since nothing was read; one that held articles besides gets a note.
    """
    failed = {line.split(": ", 1)[0] for line in run.errors}
    errors, notes = [], []
    for spec in specs:
        where = spec.location
        if spec.kind != "archive" or where in failed:
            continue
        skipped = run.skipped.get(where, Counter())
        left_out = f"skipped {sum(skipped.values())} file(s) that are not articles"
        what = ", ".join(f"{n} {suffix}" for suffix, n in skipped.most_common())
        if run.read[where] == 0 and not run.children[where] and not since:
            hint = "an archive holds .txt and .html articles, .jsonl records or WARC records"
            if _FEED_SUFFIXES & set(skipped):
                hint += "; feeds are sources of their own, given one by one"
            reason = f"{left_out} ({what})" if skipped else "no article in it"
            errors.append(f"{where}: nothing read: {reason} [{hint}]")
        elif skipped:
            notes.append(f"{where}: {left_out} ({what})")
    return errors, notes


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
            try:
                with Fetcher(settings) as fetcher:
                    added = registry.add(
                        store,
                        args.url,
                        fetcher=None if args.no_check else fetcher,
                        name=args.name,
                        tz=args.tz or settings.default_tz,
                        interval_s=args.interval,
                    )
            except IngestError as exc:
                return _err(f"{args.url}: {explain.one_line(exc, args.url)}")
            for a in added:
                what = f"{a.spec.kind} {a.spec.location}"
                print(
                    f"already subscribed: {what}"
                    if a.status == "already subscribed"
                    else f"{a.status} {what}"
                )
        elif args.action == "remove":
            if not registry.remove(store, args.url):
                return _err(f"{args.url}: no such source")
            print(f"removed {args.url}")
        elif args.action == "import-opml":
            try:
                data = Path(args.url).read_bytes()
            except OSError as exc:
                return _err(f"{args.url}: {exc.strerror}")
            imported = registry.import_opml(store, data, tz=args.tz or settings.default_tz)
            print(f"imported {len(imported.added)} feed(s)")
            if imported.known:
                print(f"already subscribed: {imported.known} feed(s), left as they are")
            if imported.local:
                print(
                    f"skipped {imported.local} outline(s) that are not http(s) feeds (file: or relative): "
                    "subscribe to a local file with `sources add PATH`"
                )
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
    if args.action in {"list", "drop"}:
        # Admin actions: the store alone, not the pipeline (whose NLP stack takes seconds to import).
        from worker.state import open_store

        store = open_store(settings)
        try:
            return _dead_list(store, args.limit) if args.action == "list" else _dead_drop(store, args)
        finally:
            store.close()
    runtime.use_settings(settings)
    store = runtime.get().store
    letters = store.dead_letters(args.limit)
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
        c.update(drain(local, progress=False).counts)
        # Removed only once its retry ended (in a record, or in a new dead letter), so a crash loses nothing.
        store.remove_dead(d.id)
    print(f"retried {len(letters)}: new {c['new']}, duplicate {c['duplicate']}, failed {c['failed']}")
    runtime.reset()
    return 0


def _dead_list(store: StateStore, limit: int) -> int:
    """Print the oldest dead letters, one JSON object a line."""
    for d in store.dead_letters(limit):
        row = {"id": d.id, "at": d.at, "stage": d.stage, "source": d.source, "reason": d.reason}
        print(json.dumps({**row, "url": d.payload.get("url")}))
    return EXIT_OK


def _dead_drop(store: StateStore, args: argparse.Namespace) -> int:
    """Remove dead letters for good: the ones named, or every one with `--all`."""
    if args.all == bool(args.ids):
        return _err("dead drop needs dead letter IDs (from `dead list`) or --all, not both")
    dropped, missing = 0, []
    if args.all:
        while letters := store.dead_letters(1000):
            dropped += sum(store.remove_dead(d.id) for d in letters)
    else:
        for dead_id in args.ids:
            if store.remove_dead(dead_id):
                dropped += 1
            else:
                missing.append(dead_id)
    print(f"dropped {dropped} dead letter(s)")
    for dead_id in missing:
        print(f"error: {dead_id}: no such dead letter", file=sys.stderr)
    return EXIT_SOURCE if missing else EXIT_OK


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
    ing.add_argument(
        "--since",
        metavar="DATE",
        help="sitemaps: leave out pages dated before DATE (ISO 8601, such as 2024-05-01; naive is UTC)",
    )
    ing.add_argument(
        "--subscribe",
        action="store_true",
        help="also subscribe to each source, as `sources add` does (ingest alone never subscribes)",
    )
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

    dead = sub.add_parser("dead", help="list, retry or drop dead letters")
    dead.add_argument("action", choices=["list", "retry", "drop"])
    dead.add_argument(
        "ids", nargs="*", metavar="ID", help="drop: the dead letters to remove (ids from `list`)"
    )
    dead.add_argument("--all", action="store_true", help="drop: remove every dead letter")
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
