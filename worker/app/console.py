"""What every command of the command line shares: exit codes, the one-line error, a command's settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from worker import config


def settings_of(args: argparse.Namespace) -> config.Settings:
    """Return the settings `main` loaded, with `--out` and `--state-dir` applied."""
    s: config.Settings = args.settings
    if getattr(args, "out", None):
        s = s.with_(out_dir=Path(args.out))
    if getattr(args, "state_dir", None):
        s = s.with_(state_dir=Path(args.state_dir))
    return s


def celery(settings: config.Settings) -> Any:
    """
    Return the Celery app configured with `settings` and this process prepared to send tasks.

    Raises:
        ConfigError: the broker would be a Redis Cluster (`broker.refuse_cluster_broker`).
    """
    from worker.app import broker, celery_app  # imported on use: admin commands never need Celery

    broker.refuse_cluster_broker(settings)

    celery_app.configure(settings)
    celery_app.install()
    return celery_app.app


# Exit codes of every command (the `--help` epilog and the README say them).
EXIT_OK = 0
EXIT_SOURCE = 1  # a source could not be read, or held nothing to read; a check failed (`health`)
EXIT_USAGE = 2  # a bad argument or setting
EXIT_ITEMS = 3  # `ingest`: every source was read, but some articles failed (dead letters)


def err(message: str) -> int:
    """Print `error: MESSAGE` on stderr; return the usage exit code."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE
