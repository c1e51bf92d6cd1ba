"""
A ledger of sent tasks, so that a task message the broker loses is sent again.

Every task message is recorded in the state store before it is published,
touched when its task starts and forgotten when it ends.  With Redis, an
entry silent for the visibility timeout, published before the oldest message
still queued (queues are FIFO), and still so after a task time limit, is sent
again (`sweep`); with the filesystem broker, at worker start, every entry whose
message file is gone (`recover_filesystem`).  A false alarm costs one duplicate
run, which the idempotent tasks absorb.  Polls sent by the dispatch tick are
not recorded (`dispatch.leased`): their source's lease brings them back.
README "Delivery guarantees" says why (kombu #1836, celery #7950).  With a
RabbitMQ broker it is off (`INGEST_LEDGER`): the broker's acknowledgements
lose nothing, and an AMQP queue cannot be read to find what is missing.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
import zlib
from pathlib import Path
from typing import Any

import redis
import structlog

from worker import dispatch
from worker.config import Settings
from worker.dispatch import SendTask
from worker.errors import StoreUnavailable
from worker.state import StateStore, open_store

log = structlog.get_logger(__name__)

# The dispatch tick is sent every few seconds by beat: a lost one is replaced by the next.
UNRECORDED = frozenset({dispatch.TASK_TICK})
# Slack for clocks of different hosts when comparing an entry with its queue's oldest message.
CLOCK_SLACK_S = 5.0
SWEEP_LIMIT = 1000

_stores: dict[int, StateStore] = {}


def encode(task: str, args: Any, kwargs: Any) -> str:
    """Pack what it takes to send a task again (zlib, as a process batch holds whole pages; then text)."""
    packed = zlib.compress(json.dumps({"task": task, "args": args, "kwargs": kwargs}).encode(), 1)
    return base64.b64encode(packed).decode("ascii")


def decode(message: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Unpack `encode`'s text into the task name, args and kwargs."""
    doc = json.loads(zlib.decompress(base64.b64decode(message)))
    return str(doc["task"]), list(doc["args"]), dict(doc["kwargs"] or {})


def silent_since(now: float, visibility_timeout_s: float, oldest_queued: float | None) -> float | None:
    """
    Return the time before which a silent entry is no longer queued nor running (None: cannot tell).

    `oldest_queued` is when the queue's oldest message was published, None
    for an empty queue, NaN when unknown (a message without `sent_at`).
    """
    if oldest_queued is not None and math.isnan(oldest_queued):
        return None
    before = now - visibility_timeout_s
    return before if oldest_queued is None else min(before, oldest_queued - CLOCK_SLACK_S)


def confirm_after_s(settings: Settings) -> float:
    """How long an entry must look lost before it is sent again: a task's time limit and a sweep."""
    return settings.task_time_limit_s + sweep_interval_s(settings)


def sweep_interval_s(settings: Settings) -> int:
    """Sweep as often as kombu looks for a dead worker's unacked messages (see celery_app)."""
    return max(1, min(60, settings.visibility_timeout_s // 4))


def store_of(settings: Settings) -> StateStore:
    """This process's store for the ledger (opened on first use, again after a fork)."""
    pid = os.getpid()
    if pid not in _stores:
        _stores.clear()
        _stores[pid] = open_store(settings)
    return _stores[pid]


# -- the hooks (connected in worker.app.celery_app) ---------------------------
def on_publish(settings: Settings, task: str, body: Any, queue: str, headers: dict[str, Any]) -> None:
    """Stamp the message with its send time and record it before it goes to the broker."""
    if not settings.ledger_enabled:
        return
    at = time.time()
    headers["sent_at"] = at
    # Celery's message protocol 2 makes the body (args, kwargs, embed); nothing else could be sent again.
    if task in UNRECORDED or dispatch.is_leased() or not isinstance(body, list | tuple):
        return
    store_of(settings).ledger_put(queue, headers["id"], at, encode(task, body[0], body[1]))
    # Read back as `task.request.recorded`: the start and end hooks of others cost no round trip.
    headers["recorded"] = True


def on_start(settings: Settings, queue: str, task_id: str) -> None:
    """A task started: its entry is alive (and its message now held by kombu's unacked index)."""
    store_of(settings).ledger_touch(queue, task_id, time.time())


def on_end(settings: Settings, queue: str, task_id: str) -> None:
    """A task ended (done, dead-lettered, or deferred as a new message): forget its entry."""
    store_of(settings).ledger_done(queue, task_id)


# -- finding and re-sending lost messages ---------------------------------
def resend(store: StateStore, queue: str, ids: list[str], *, reason: str, send: SendTask) -> int:
    """Send recorded messages again with `send` (Celery's `send_task`), under their own task ids."""
    # Those that ended meanwhile have no message left.
    messages = store.ledger_messages(ids)
    for task_id, message in messages.items():
        task, args, kwargs = decode(message)
        send(task, args=args, kwargs=kwargs, task_id=task_id, queue=queue)
        log.warning("task_resent", task=task, task_id=task_id, queue=queue, reason=reason)
    if messages:
        store.incr("tasks_resent", len(messages))
    return len(messages)


def oldest_queued_at(client: redis.Redis[bytes], queue: str) -> float | None:
    """Return when the oldest message of a kombu Redis queue was sent (None: empty; NaN: unknown)."""
    raw = client.lindex(queue, -1)  # kombu LPUSHes and BRPOPs: the tail is the oldest
    if raw is None:
        return None
    try:
        sent_at = json.loads(raw)["headers"].get("sent_at")
    except (ValueError, KeyError, TypeError, AttributeError):
        return math.nan
    return float(sent_at) if isinstance(sent_at, int | float) else math.nan


def sweep(
    settings: Settings,
    store: StateStore,
    client: redis.Redis[bytes],
    *,
    send: SendTask,
    now: float | None = None,
) -> int:
    """Send again the messages the Redis broker lost (see the module's docstring); return how many."""
    now = time.time() if now is None else now
    sent = 0
    for queue in dispatch.QUEUES:
        before = silent_since(now, settings.visibility_timeout_s, oldest_queued_at(client, queue))
        stale = [] if before is None else store.ledger_stale(queue, before, SWEEP_LIMIT)
        missing = [task_id for task_id, _ in stale]
        # Called with none missing too: that clears the queue's suspects.
        confirmed = store.ledger_suspect(queue, missing, now, confirm_after_s(settings))
        if confirmed:
            sent += resend(store, queue, confirmed, reason="lost by the broker", send=send)
    return sent


def queued_ids(folder: Path) -> set[str]:
    """Return the task ids of the messages waiting in a kombu filesystem queue folder."""
    ids: set[str] = set()
    for path in folder.glob("*.msg"):
        try:
            ids.add(str(json.loads(path.read_bytes())["headers"]["id"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # taken meanwhile, or not a task message
    return ids


def recover_filesystem(store: StateStore, folder: Path, send: SendTask) -> int:
    """At worker start, send again every recorded message missing from the queue folder."""
    queued = queued_ids(folder)
    sent = 0
    for queue in dispatch.QUEUES:
        recorded = store.ledger_stale(queue, math.inf, 1_000_000)
        missing = [task_id for task_id, _ in recorded if task_id not in queued]
        if missing:
            sent += resend(store, queue, missing, reason="held by a worker that stopped", send=send)
    return sent


def sweep_safely(settings: Settings, client: redis.Redis[bytes], send: SendTask) -> None:
    """Run one sweep from the worker's timer: an error is logged, never raised into the event loop."""
    try:
        # One fast try first: the store's client rides out a Redis restart for seconds, which would
        # stall the worker's event loop on every sweep while Redis is down.
        client.ping()
        sweep(settings, store_of(settings), client, send=send)
    except (StoreUnavailable, redis.RedisError) as exc:
        log.warning("ledger_sweep_failed", error=str(exc))
