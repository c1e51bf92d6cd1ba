"""
The command line: `ingest`, `run`, `consume`, `sources`, `dead`, `health`, `status`, `config`.

The commands live in `worker.app.ingest` (`ingest`, `run`) and
`worker.app.admin` (the rest); this module parses the arguments, loads the
settings once and maps every expected failure to one `error:` line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from worker import config, dispatch
from worker.app import admin, ingest, jobs, status_server
from worker.app import logging as wlogging
from worker.app.console import err
from worker.errors import ConfigError, IngestError

DESCRIPTION = """\
Ingest news: poll RSS/Atom/JSON feeds, sitemaps and article pages, read
archives (folders, tarballs, zip, JSONL, WARC), fetch each article politely,
clean it, drop duplicates, enrich it (tags, entities, keywords, language,
dates) and write one JSON record per article to JSONL files (and a Redis
stream with REDIS_URL).  `ingest` does it once, here; `run` is the service.
"""

EPILOG = """\
settings come from environment variables (INGEST_*, REDIS_URL):
`python -m worker config` prints each with its value and where it came from.

exit codes: 0 done; 1 a source could not be read or held nothing to read
(health: something is down); 2 a bad argument or setting; 3 every source was
read but some articles failed (see `python -m worker dead list`).
"""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults (not the empty ones: None, False) and keep the description's paragraphs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        said = "(default" in (action.help or "")
        if said or action.default in (None, False) or isinstance(action, argparse._StoreConstAction):
            return action.help
        return super()._get_help_string(action)


def _env(name: str) -> str:
    """Return `env NAME, default VALUE` of a setting that an option overrides, for its help."""
    default = _DEFAULTS[name]
    return f"overrides {name}, default {default or 'unset'}"


_DEFAULTS = {row["env"]: row["default"] for row in config.reference()}


def _command(sub: Any, name: str, help: str, description: str, fn: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    parser.set_defaults(fn=fn)
    return parser


def _folders(parser: argparse.ArgumentParser, *, out: bool = True) -> None:
    if out:
        parser.add_argument("--out", metavar="DIR", help=f"JSONL output folder ({_env('INGEST_OUT_DIR')})")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help=f"state of the embedded mode: SQLite, broker, beat schedule ({_env('INGEST_STATE_DIR')})",
    )


def _ingest_parser(sub: Any) -> None:
    ing = _command(
        sub,
        "ingest",
        "read sources once, in this process, to the end",
        "Read each SOURCE once through the same tasks as the service, in this process, and print a\n"
        "summary.  Nothing is subscribed (see `sources add`, or --subscribe); state persists, so the\n"
        "same source read again emits only what is new.",
        ingest.cmd_ingest,
    )
    ing.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="a feed (URL or .xml/.rss/.atom/.json file), an article page (URL or .html file), "
        "a sitemap (URL or file, index or urlset), or an archive (folder, .tar.gz, .zip, .jsonl, .warc)",
    )
    _folders(ing)
    ing.add_argument(
        "--tz", metavar="ZONE", help=f"zone of naive dates in these sources ({_env('INGEST_DEFAULT_TZ')})"
    )
    ing.add_argument(
        "--since",
        metavar="DATE",
        help="sitemaps: leave out pages dated before DATE (ISO 8601, such as 2024-05-01; naive is UTC)",
    )
    ing.add_argument(
        "--subscribe",
        action="store_true",
        help="also subscribe to each source, as `sources add` does, so `run` keeps polling it",
    )
    ing.add_argument(
        "--enqueue", action="store_true", help="hand the work to a running worker pool and return at once"
    )
    ing.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    ing.add_argument("--quiet", action="store_true", help="no progress bar (there is one only on a terminal)")
    ing.add_argument(
        "--jobs",
        type=_positive,
        default=jobs.cores(),
        metavar="N",
        help="worker processes sharing the loaded models (default: the usable cores, %(default)s)",
    )


def _positive(value: str) -> int:
    """Read a whole number of at least 1 (an argparse type)."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return n


def _run_parser(sub: Any) -> None:
    run = _command(
        sub,
        "run",
        "the long-running service: worker and scheduler",
        "Sync the sources of INGEST_SCHEDULES_DIR, then run a Celery worker on the poll, fetch and\n"
        "process queues, with the beat (the scheduler) in this process unless --no-beat.",
        ingest.cmd_run,
    )
    run.add_argument("--concurrency", type=int, default=2, metavar="N", help="worker processes")
    run.add_argument(
        "--queues",
        nargs="*",
        metavar="QUEUE",
        choices=list(dispatch.QUEUES),
        help="queues to consume: poll, fetch, process (default: all)",
    )
    run.add_argument(
        "--no-beat", action="store_true", help="no scheduler here (run one beat per deployment elsewhere)"
    )
    run.add_argument("--hostname", default="worker@%h", help="the worker's node name (%%h: this host's name)")
    _folders(run)


def _consume_parser(sub: Any) -> None:
    con = _command(
        sub,
        "consume",
        "read the article stream with a consumer group (an example consumer)",
        "Print each record of the Redis stream INGEST_STREAM once per consumer group, as a JSON line,\n"
        "and acknowledge it (XACK); take over entries a dead consumer left pending (XAUTOCLAIM).\n"
        "Needs REDIS_URL.",
        admin.cmd_consume,
    )
    con.add_argument("--group", required=True, help="consumer group: each group reads every record once")
    con.add_argument(
        "--consumer",
        default=f"consumer-{os.getpid()}",
        help="this consumer's name within the group (default: consumer-PID)",
    )
    con.add_argument("--max", type=int, default=0, metavar="N", help="stop after N entries (0: run for ever)")
    con.add_argument("--block-ms", type=int, default=5000, metavar="MS", help="longest wait for new entries")
    con.add_argument(
        "--min-idle-ms",
        type=int,
        default=60000,
        metavar="MS",
        help="take over entries pending this long in another consumer",
    )


def _sources_parser(sub: Any) -> None:
    src = _command(
        sub,
        "sources",
        "manage the subscribed sources",
        "Subscribe to sources that `run` polls on their schedule, in the state store of this mode\n"
        "(embedded, or Redis with REDIS_URL).  `add` fetches an http(s) URL first: a feed or a sitemap\n"
        "is added as it is, an HTML page stands for the feeds it links to.",
        admin.cmd_sources,
    )
    src.add_argument(
        "action",
        choices=["list", "add", "remove", "import-opml", "export-opml"],
        help="list (JSON lines), add URL|PATH, remove URL|PATH, import-opml FILE, export-opml (to stdout)",
    )
    src.add_argument("url", nargs="?", metavar="URL|FILE", help="the source to add or remove; the OPML file")
    src.add_argument("--name", help="add: the source's name in records (default: the host or file name)")
    src.add_argument("--tz", metavar="ZONE", help=f"add: zone of naive dates ({_env('INGEST_DEFAULT_TZ')})")
    src.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="add: a fixed poll interval (default: adaptive, from INGEST_POLL_INTERVAL_S)",
    )
    src.add_argument("--no-check", action="store_true", help="add: do not fetch the URL; take it as a feed")
    _folders(src, out=False)


def _dead_parser(sub: Any) -> None:
    dead = _command(
        sub,
        "dead",
        "list, retry or drop dead letters",
        "Dead letters are the articles (and archive chunks) that failed for good, with the reason,\n"
        "the stage and what to run them again with.",
        admin.cmd_dead,
    )
    dead.add_argument(
        "action",
        choices=["list", "retry", "drop"],
        help="list (JSON lines), retry (run again here, or --enqueue), drop ID...|--all (forget)",
    )
    dead.add_argument(
        "ids", nargs="*", metavar="ID", help="drop: the dead letters to forget (ids from `list`)"
    )
    dead.add_argument("--all", action="store_true", help="drop: forget every dead letter")
    dead.add_argument("--limit", type=int, default=100, metavar="N", help="list, retry: the N oldest")
    dead.add_argument("--enqueue", action="store_true", help="retry: hand them to a running worker pool")
    _folders(dead)


def _status_parser(sub: Any) -> None:
    status = _command(
        sub,
        "status",
        f"serve the status page on http://127.0.0.1:{status_server.DEFAULT_PORT}/",
        "Serve one HTML page on 127.0.0.1 (never on another address) until Ctrl-C: each source's\n"
        "health, new articles and the duplicate rate of the last hour per minute, and dead letters\n"
        "by reason.  It reads the shared state store at each load, so it shows every worker.",
        status_server.cmd_status,
    )
    status.add_argument(
        "--port",
        type=int,
        default=status_server.DEFAULT_PORT,
        metavar="N",
        help="port on 127.0.0.1 (0: a free one)",
    )
    status.add_argument(
        "--rows",
        type=int,
        default=status_server.DEFAULT_ROWS,
        metavar="N",
        help="most sources listed, worst first",
    )
    _folders(status, out=False)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (one sub-command per verb), every option with its help and default."""
    p = argparse.ArgumentParser(
        prog="python -m worker", description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _ingest_parser(sub)
    _run_parser(sub)
    _consume_parser(sub)
    _sources_parser(sub)
    _dead_parser(sub)
    health = _command(
        sub,
        "health",
        "check broker, state store, sinks, workers and beat",
        "Print a JSON report and exit 1 when something needed is down: the broker, the state store,\n"
        "the sinks, or no worker or beat seen lately (their heartbeats in the state store: a worker\n"
        "every 10 s, the dispatch tick every INGEST_TICK_S; gone after three missed).",
        admin.cmd_health,
    )
    health.add_argument("--compact", action="store_true", help="print the report on one line")
    health.add_argument(
        "--no-beat-required",
        action="store_true",
        help="ok without a beat (a deployment that runs workers only, or checks them one by one)",
    )
    _status_parser(sub)
    conf = _command(
        sub,
        "config",
        "print the effective settings and where each came from",
        "Print every setting as NAME=VALUE  # env|default (passwords in URLs masked).",
        admin.cmd_config,
    )
    conf.add_argument("--json", action="store_true", help="print them as one JSON list")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    wlogging.configure()  # first, so that load()'s warnings about unknown names are log events
    try:
        args.settings = config.load()
    except ConfigError as exc:
        return err(str(exc))
    wlogging.configure(args.settings.log_level, force=True)
    if args.command in {"sources"} and args.action in {"add", "remove"} and not args.url:
        return err(f"sources {args.action} needs a URL")
    try:
        return int(args.fn(args))
    except IngestError as exc:
        return err(str(exc))
    except KeyboardInterrupt:
        return 130
