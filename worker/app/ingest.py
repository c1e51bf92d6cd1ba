"""
`ingest` and `run`: read sources once in this process, or start the service.

`ingest` runs the same Celery tasks as the service, in this process
(`Task.apply`), draining the follow-up tasks they queue until nothing is left;
`--enqueue` sends the work to a running worker pool instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog

from worker import config, dispatch
from worker.app import explain, jobs, runtime
from worker.app import logging as wlogging
from worker.app.console import EXIT_ITEMS, EXIT_OK, EXIT_SOURCE, celery, err, settings_of
from worker.errors import IngestError, SourceError
from worker.models import SourceSpec
from worker.poll.result import ReadOptions, parse_since
from worker.schedule.tick import purge_all
from worker.sources.spec import load_schedules, resolve

log = structlog.get_logger(__name__)


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


def _in_given_order(lines: list[str], specs: list[SourceSpec]) -> list[str]:
    """
    Return lines that start with their source in the order the sources were given.

    `--jobs` workers finish sources in any order; a line of no given source
    (a child sitemap) keeps its place after them.
    """
    order = {spec.location: i for i, spec in enumerate(specs)}
    return sorted(lines, key=lambda line: order.get(line.split(": ", 1)[0], len(order)))


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
    settings = settings_of(args)
    runtime.use_settings(settings)
    try:
        since = parse_since(args.since)
    except (ValueError, OverflowError):
        return err(f"--since {args.since!r}: not a date (expected ISO 8601, such as 2024-05-01)")
    specs, unnamed = _ingest_specs(args, settings)
    # A one-shot read never subscribes: `--subscribe` did that above, and the polls then schedule.
    options = ReadOptions(once=not args.subscribe, since=since.isoformat() if since else None).to_dict()
    if args.enqueue:
        celery(settings)
        for spec in specs:
            dispatch.send(dispatch.TASK_POLL, spec.to_dict(), None, None, options)
        print(f"queued {len(specs)} source(s)")
        for line in unnamed:
            print(f"error: {line}", file=sys.stderr)
        return 1 if unnamed else 0
    progress = sys.stderr.isatty() and not args.quiet
    tasks = [(dispatch.TASK_POLL, (spec.to_dict(), None, None, options)) for spec in specs]
    # Models load before the clock starts, and before `--jobs` forks, so the workers share them;
    # nothing to read (every argument refused) loads nothing.
    if tasks:
        runtime.get().pipeline.warm()
        runtime.freeze_heap()
    started = time.monotonic()
    if args.jobs > 1:
        run = Drained()
        try:
            jobs.run_pool(
                tasks,
                args.jobs,
                progress=progress,
                on_done=lambda name, task_args, outcome, bar: _count(run, bar, name, task_args, outcome),
            )
        except jobs.WorkerDied as exc:
            # What was done is kept: a second run goes on from there.
            print(f"error: {exc}; run the command again to go on", file=sys.stderr)
            return EXIT_SOURCE
    else:
        local = dispatch.LocalDispatcher()
        local.queue.extend(tasks)
        run = drain(local, progress=progress)
    elapsed_s = time.monotonic() - started
    # What expired goes now, off the run's hot path (the service purges from its dispatch tick); a run
    # that read nothing wrote nothing, and leaves it to the next one.
    if tasks:
        purge_all(runtime.get().store, time.time())
    runtime.reset()
    empty, skipped = _archive_lines(specs, run, since=since is not None)
    errors = unnamed + _in_given_order(run.errors, specs) + empty
    notes = _in_given_order(run.notes, specs) + skipped
    summary = {k: run.counts.get(k, 0) for k in ("seen", "new", "duplicate", "skipped", "failed")}
    # `failed` counts articles; a source that could not be read at all is counted apart, so
    # "failed 0" beside an `error:` line is no contradiction.
    sources_failed = len(errors)
    if summary["failed"]:
        errors.append(
            f"{summary['failed']} article(s) failed: `python -m worker dead list` says why, "
            "`python -m worker dead retry` runs them again"
        )
    if args.json:
        figures = {"out": str(settings.out_dir), "jobs": args.jobs, "elapsed_s": round(elapsed_s, 3)}
        print(
            json.dumps(
                {**summary, "sources_failed": sources_failed, "errors": errors, "notes": notes, **figures}
            )
        )
    else:
        sources = (
            f"; sources failed {sources_failed} of {len(specs) + len(unnamed)}" if sources_failed else ""
        )
        print(
            f"seen {summary['seen']}, new {summary['new']}, duplicate {summary['duplicate']}, "
            f"skipped {summary['skipped']}, failed {summary['failed']}{sources} "
            f"in {elapsed_s:.1f}s -> {settings.out_dir}"
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
    settings = settings_of(args)
    # First: a broker that cannot be (a Redis Cluster) stops the command before anything is synced.
    app = celery(settings)
    runtime.use_settings(settings)
    try:
        sync_schedules(settings)
    except SourceError as exc:
        return err(str(exc))
    runtime.reset()
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
