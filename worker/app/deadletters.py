"""
Turn a task that will not run again into dead-letter records: a task that raised, or a broker dead letter.

`record` maps a task's arguments to the records of `StateStore.dead_letter`
(reason, stage, source, payload), one per article, in the shape
`python -m worker dead retry` sends again.  `Drain` empties RabbitMQ's
dead-letter queue (`worker.app.broker.DEAD_QUEUE`) into those records, from
a worker's main process every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from worker import dispatch
from worker.app import broker, metrics
from worker.state import StateStore

log = structlog.get_logger(__name__)

DRAIN_INTERVAL_S = 5.0
# After failures in a row the next try waits twice as long each time, up to this: a broker down
# for hours costs a connection attempt and a log line every five minutes, not every five seconds.
DRAIN_MAX_WAIT_S = 300.0
# Messages moved per drain: a burst is spread over a few timer calls, so the main loop stays responsive.
DRAIN_BATCH = 200
# The `x-first-death-reason` RabbitMQ gives, in words for `dead list`.
_WHY = {
    "delivery_limit": "delivered more times than the queue's delivery limit and never acknowledged",
    "rejected": "rejected by a worker",
    "expired": "expired in the queue",
    "maxlen": "over the queue's length limit",
}


def record(store: StateStore, task: str, args: list[Any], reason: str) -> int:
    """
    Put the work of a task that will not run again on the dead letters; return how many records.

    Returns 0 for a task whose work comes back by itself: a feed's poll (its
    source stays scheduled) and the dispatch tick (beat sends the next one).
    """
    if task == dispatch.TASK_PROCESS and args:
        for item in args[0]:
            store.dead_letter(reason, "process", (item.get("source") or {}).get("name", ""), item)
        metrics.count_dead("process", len(args[0]))
        return len(args[0])
    if task == dispatch.TASK_FETCH and args:
        payload = args[0]
        store.dead_letter(reason, "fetch", (payload.get("spec") or {}).get("name", ""), payload)
        metrics.count_dead("fetch")
        return 1
    if task == dispatch.TASK_POLL and len(args) > 1 and args[1] is not None:
        # An archive continuation: without it the rest of the archive would never be read.
        spec = args[0]
        store.dead_letter(reason, "poll", spec.get("name", ""), {"url": spec.get("location"), "args": args})
        metrics.count_dead("poll")
        return 1
    return 0


def reason_of(headers: dict[str, Any]) -> str:
    """Return the one-line reason of a broker dead letter from its `x-first-death-*` headers."""
    why = str(headers.get("x-first-death-reason") or "unknown")
    queue = str(headers.get("x-first-death-queue") or "?")
    name = "".join(part.capitalize() for part in why.split("_"))
    return f"{name}: {_WHY.get(why, 'dead-lettered by the broker')} (queue {queue})"


def handle(store: StateStore, headers: dict[str, Any], decode: Callable[[], Any]) -> int:
    """Record one message of the dead-letter queue; return how many records it gave."""
    task = str(headers.get("task") or "")
    reason = reason_of(headers)
    try:
        body = decode()
        args = list(body[0])  # Celery's message protocol 2: [args, kwargs, embed]
    except Exception as exc:  # noqa: BLE001 - whatever the body is, the message must not loop
        log.error("dead_message_unreadable", task=task, task_id=headers.get("id"), error=repr(exc))
        store.dead_letter(reason, "broker", "", {"task": task, "id": headers.get("id"), "error": repr(exc)})
        return 1
    if task not in dispatch.QUEUE_OF:
        # Not one of ours (another producer, an old task name): kept for a person to look at.
        log.error("dead_message_unknown", task=task, task_id=headers.get("id"), error=reason)
        store.dead_letter(reason, "broker", "", {"task": task, "id": headers.get("id"), "args": args})
        return 1
    n = record(store, task, args, reason)
    if n:
        log.error("task_dead_lettered", task=task, task_id=headers.get("id"), error=reason, letters=n)
    else:
        log.warning("dead_message_dropped", task=task, task_id=headers.get("id"), error=reason)
    return n


class Drain:
    """
    Move RabbitMQ's dead-letter queue into dead-letter records (call `run_safely` from a timer).

    Each message is recorded before it is acknowledged, so a crash between
    the two records it twice rather than never.
    """

    def __init__(self, connect: Callable[[], Any], store: Callable[[], StateStore]) -> None:
        self._connect = connect
        self._store = store
        self._conn: Any = None
        self._queue: Any = None
        self._failures = 0

    def run(self) -> int:
        """Declare the dead-letter exchange and queue if needed, then move up to `DRAIN_BATCH` messages."""
        if self._conn is None:
            conn = self._connect()
            conn.connect()
            queue = broker.dead_queue().bind(conn.default_channel)  # type: ignore[no-untyped-call]
            queue.declare()
            self._conn, self._queue = conn, queue
        store = self._store()
        moved = 0
        started = time.monotonic()
        while moved < DRAIN_BATCH:
            message = self._queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            handle(store, dict(message.headers or {}), message.decode)
            message.ack()
            moved += 1
        if moved:
            ms = round((time.monotonic() - started) * 1000)
            log.info("dead_queue_drained", messages=moved, duration_ms=ms)
        return moved

    def run_safely(self) -> float:
        """
        Run once and return the seconds to wait before the next run.

        An error is logged and the connection dropped, never raised into the event
        loop; failures in a row double the wait, from `DRAIN_INTERVAL_S` up to
        `DRAIN_MAX_WAIT_S`, and the first success after them says so.
        """
        try:
            self.run()
        except Exception as exc:  # noqa: BLE001 - broker or store down: try again later
            self._failures += 1
            # The exponent is capped too: months of failures must not overflow the float.
            wait = min(DRAIN_INTERVAL_S * 2.0 ** min(self._failures, 16), DRAIN_MAX_WAIT_S)
            log.warning("dead_queue_drain_failed", error=repr(exc), failures=self._failures, retry_in_s=wait)
            self.close()
            return wait
        if self._failures:
            log.info("dead_queue_drain_recovered", failures=self._failures)
            self._failures = 0
        return DRAIN_INTERVAL_S

    def close(self) -> None:
        """Close the connection (the next run opens a new one)."""
        conn, self._conn, self._queue = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception as exc:  # noqa: BLE001 - closing a broken connection may fail too
                log.debug("dead_queue_close_failed", error=repr(exc))
