"""An example downstream consumer: a consumer group on the article stream, with reclaim of stuck entries."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import redis
import structlog

from worker.config import Settings
from worker.state.redis import connect
from worker.state.redis.base import Client

log = structlog.get_logger(__name__)

# Client retries of a lost connection, about 10 s with backoff: this loop is not a Celery task, so
# no retry layer is above it, and it rides out a Redis restart on its own.
CONSUMER_RETRIES = 8


def ensure_group(r: Client, stream: str, group: str) -> None:
    """Create the group at the stream's start (and the stream) unless it exists."""
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def consume(
    settings: Settings,
    *,
    group: str,
    consumer: str,
    count: int = 0,
    block_ms: int = 5000,
    min_idle_ms: int = 60000,
    out: TextIO = sys.stdout,
) -> int:
    """
    Print each record of the stream once per group, as a JSON line, then XACK it.

    Entries another consumer of the group read but never acknowledged (it
    died) are taken over with XAUTOCLAIM once idle `min_idle_ms`.  Stops after
    `count` entries (0: never) or when a blocking read comes back empty and
    `count` is set.

    Returns:
        The number of entries handled.
    """
    assert settings.redis_url
    r = connect(settings.redis_url, retries=CONSUMER_RETRIES)
    stream = settings.stream
    ensure_group(r, stream, group)
    handled = 0

    def handle(entries: list[tuple[str, dict[str, Any]]]) -> None:
        nonlocal handled
        for entry_id, fields in entries:
            if not fields:  # trimmed away by MAXLEN while pending
                r.xack(stream, group, entry_id)
                continue
            out.write(json.dumps(json.loads(fields["data"]), ensure_ascii=False) + "\n")
            out.flush()
            r.xack(stream, group, entry_id)
            handled += 1

    while count == 0 or handled < count:
        want = 50 if count == 0 else min(50, count - handled)
        _, claimed, _ = r.xautoclaim(
            stream, group, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=want
        )
        if claimed:
            log.info("entries_reclaimed", group=group, consumer=consumer, entries=len(claimed))
            handle(claimed)
            continue
        batch = r.xreadgroup(group, consumer, {stream: ">"}, count=want, block=block_ms)
        if not batch:
            if count:
                break
            continue
        for _, entries in batch:
            handle(entries)
    return handled
