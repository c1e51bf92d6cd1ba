"""The admin commands: `consume`, `sources`, `dead`, `health`, `config`."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from worker import config, dispatch
from worker.app import explain, runtime
from worker.app.console import EXIT_OK, EXIT_SOURCE, celery, err, settings_of
from worker.app.ingest import drain
from worker.errors import IngestError
from worker.state import DeadLetter, StateStore


def cmd_consume(args: argparse.Namespace) -> int:
    from worker.delivery.consume import consume

    settings = settings_of(args)
    if not settings.redis_url:
        return err("consume reads the Redis stream: set REDIS_URL")
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

    settings = settings_of(args)
    if args.action in {"add", "remove", "import-opml"} and not args.url:
        return err(f"sources {args.action} needs {'a FILE' if args.action == 'import-opml' else 'a URL'}")
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
                return err(f"{args.url}: {explain.one_line(exc, args.url)}")
            for a in added:
                what = f"{a.spec.kind} {a.spec.location}"
                print(
                    f"already subscribed: {what}"
                    if a.status == "already subscribed"
                    else f"{a.status} {what}"
                )
        elif args.action == "remove":
            if not registry.remove(store, args.url):
                return err(f"{args.url}: no such source")
            print(f"removed {args.url}")
        elif args.action == "import-opml":
            try:
                data = Path(args.url).read_bytes()
            except OSError as exc:
                return err(f"{args.url}: {exc.strerror}")
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
    settings = settings_of(args)
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
        celery(settings)
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
        return err("dead drop needs dead letter IDs (from `dead list`) or --all, not both")
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

    report = check(settings_of(args), beat_required=not args.no_beat_required)
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
