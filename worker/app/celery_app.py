"""
The Celery app: Redis broker when `REDIS_URL` is set, else kombu's filesystem transport.

Delivery is at-least-once (`acks_late`, `task_reject_on_worker_lost`); every
task is idempotent, so a redelivery cannot produce a second record.  Importing
this module only builds the app object (`celery -A worker.app.celery_app`
names it); `install` prepares the process that runs it: broker folders, the
kombu patch, the dispatcher the stages send through.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import redis
import structlog
from celery import Celery, bootsteps, signals, states

from worker import config, dispatch
from worker.app import health, ledger, metrics, runtime
from worker.app import logging as wlogging
from worker.app.health import SAFE_POLICY, eviction_policy
from worker.state import open_store

settings = config.load()


def broker_folders(s: config.Settings) -> list[Path]:
    """Return the folders of the embedded mode's filesystem broker (none with Redis)."""
    if s.redis_url:
        return []
    return [s.broker_dir / sub for sub in ("queue", "processed", "control")]


def _broker(s: config.Settings) -> tuple[str, dict[str, Any]]:
    if s.redis_url:
        return s.redis_url, {
            # Must exceed the longest task, or Redis hands a running task to another worker.
            "visibility_timeout": s.visibility_timeout_s,
            # Sweep for a dead worker's unacked tasks every quarter of the
            # timeout (Kombu's default waits ~100 s between real sweeps).
            "unacked_restore_interval": max(1, min(60, s.visibility_timeout_s // 4)),
            "unacked_restore_throttle": 1,
            "retry_on_timeout": True,
        }
    folder = s.broker_dir
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # Broadcast/pidbox exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(folder / "control"),
    }


def app_config(s: config.Settings) -> dict[str, Any]:
    """Return the Celery configuration for the given settings (pure)."""
    broker, options = _broker(s)
    return {
        "broker_url": broker,
        "broker_transport_options": options,
        "broker_connection_retry_on_startup": True,
        # A task that queues follow-up work while Redis restarts keeps trying for
        # about a minute instead of failing (a failed task is acked: its work lost).
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 30,
            "interval_start": 0.5,
            "interval_step": 0.5,
            "interval_max": 3.0,
        },
        "broker_connection_max_retries": None,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Well below the visibility timeout, so a task is killed before Redis redelivers it.
        "task_time_limit": s.task_time_limit_s,
        # The soft limit leaves the task time to give up cleanly (a fifth of the limit, at most 30 s).
        "task_soft_time_limit": max(1, s.task_time_limit_s - min(30, max(1, s.task_time_limit_s // 5))),
        "task_default_queue": "process",
        "task_routes": {task: {"queue": queue} for task, queue in dispatch.QUEUE_OF.items()},
        "beat_schedule": {
            "dispatch-due-sources": {"task": dispatch.TASK_TICK, "schedule": s.tick_s},
        },
        "beat_schedule_filename": str((s.state_dir / "celerybeat-schedule").resolve()),
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "enable_utc": True,
        "timezone": "UTC",
    }


def make_app(s: config.Settings) -> Celery:
    """Build the Celery app for the given settings (nothing is created or connected yet)."""
    app = Celery("worker", include=["worker.app.tasks"])
    app.conf.update(app_config(s))
    return app


def _survive_kombu_reconnect_race() -> None:
    """
    Keep a worker alive through a kombu race when the Redis connection drops (applied by `install`).

    Upstream: celery/kombu#659 (a channel's connection is set to None while it is still in use).

    During a reconnect kombu may still use a channel whose connection it
    already released (a late ack, or restoring unacked messages on close);
    building a client then fails with `AttributeError` and Celery stops the
    worker as "unrecoverable".  Raising a connection error instead lets
    kombu's own handling log it and go on: the message stays in kombu's
    unacked index and comes back with the visibility-timeout sweep, and every
    task is idempotent (tests/integration/test_faults.py restarts Redis).
    """
    from kombu.transport import redis as kombu_redis

    channel: Any = kombu_redis.Channel
    original = channel._connparams
    if getattr(original, "_survives_race", False):
        return

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("kombu channel used after its connection was released")
        return original(self, asynchronous=asynchronous)

    _connparams._survives_race = True  # type: ignore[attr-defined]
    channel._connparams = _connparams


class LedgerSweep(bootsteps.StartStopStep):  # type: ignore[misc]
    """
    Send again the task messages the broker lost (worker.app.ledger), from the worker's main process.

    With Redis, a sweep every few seconds (as often as kombu restores a dead
    worker's unacked messages); with the filesystem broker, once at start.
    """

    requires: ClassVar[set[str]] = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        if settings.redis_url:
            client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=10)
            self.tref = parent.timer.call_repeatedly(
                ledger.sweep_interval_s(settings),
                ledger.sweep_safely,
                (settings, client, app.send_task),
                priority=10,
            )
        else:
            ledger.recover_filesystem(ledger.store_of(settings), settings.broker_dir / "queue", app.send_task)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


class Heartbeat(bootsteps.StartStopStep):  # type: ignore[misc]
    """
    Say in the state store that this worker is alive, every `health.HEARTBEAT_S`, and that it left at stop.

    From a thread of the main process rather than the worker's timer: a
    store that retries through a Redis restart must not stall the event loop.
    """

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        self.stopped.clear()
        self.thread = threading.Thread(
            target=self._run, args=(str(parent.hostname),), name="heartbeat", daemon=True
        )
        self.thread.start()

    def _run(self, hostname: str) -> None:
        log = structlog.get_logger("worker.app.celery_app")
        store = None
        while True:
            try:
                store = store or open_store(settings)
                health.beat_worker(store, hostname, leaving=self.stopped.is_set())
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat must not stop the worker
                log.warning("heartbeat_failed", error=repr(exc))
            if self.stopped.is_set():
                break
            self.stopped.wait(health.HEARTBEAT_S)
        if store is not None:
            store.close()

    def stop(self, parent: Any) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=15)
            self.thread = None


app = make_app(settings)
app.steps["worker"].add(LedgerSweep)
app.steps["worker"].add(Heartbeat)
_prepared: set[int] = set()


def configure(s: config.Settings) -> None:
    """Rebuild the app's configuration from `s` (the CLI's `--state-dir`, `--out`), before it connects."""
    global settings
    settings = s
    app.conf.update(app_config(s))
    _prepared.clear()


def install() -> None:
    """
    Prepare this process to run or send tasks: broker folders, the kombu patch, the dispatcher.

    Idempotent and cheap; the CLI calls it, and the worker and beat signals below.
    """
    if os.getpid() in _prepared:
        return
    for folder in broker_folders(settings):
        folder.mkdir(parents=True, exist_ok=True)
    if settings.redis_url:
        _survive_kombu_reconnect_race()
    dispatch.install(dispatch.BrokerDispatcher(app.send_task))
    _prepared.add(os.getpid())


@signals.beat_init.connect
def _beat_init(**_: Any) -> None:
    """Prepare a beat process (`celery -A worker.app.celery_app beat`)."""
    install()


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    """Route Celery's own logs through structlog's renderer."""
    wlogging.configure(settings.log_level, force=True)


@signals.worker_process_init.connect
def _after_fork(**_: Any) -> None:
    """Drop resources inherited from the parent: connections must not cross a fork."""

    runtime.reset()


@signals.worker_init.connect
def _before_pool(**_: Any) -> None:
    """
    Create the state and metrics folders, and import the NLP stack, before forking.

    Imported once in the parent, the pipeline's modules are shared by every
    pool child.  Then everything alive is frozen out of the garbage
    collector's reach (`gc.freeze`, as the gc docs advise before a fork): a
    full collection no longer walks them (in `bench/scheduler_bench.py` that
    took a dispatch tick's p99 from about 70 to under 40 ms), and never
    writes to the shared pages, so they stay shared.
    """
    import gc

    import worker.process.pipeline  # noqa: F401

    install()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    metrics.prepare(settings)
    gc.collect()
    gc.freeze()


def _warn_on_eviction_policy() -> None:
    """Log `redis_eviction_unsafe` when Redis could evict a queued task or a state key."""

    log = structlog.get_logger("worker.app.celery_app")
    try:
        policy = eviction_policy(settings)
    except redis.RedisError as exc:
        log.warning("redis_eviction_policy_unknown", error=str(exc))
        return
    if policy is not None and policy != SAFE_POLICY:
        log.warning(
            "redis_eviction_unsafe",
            maxmemory_policy=policy,
            expected=SAFE_POLICY,
            hint="CONFIG SET maxmemory-policy noeviction: evicted keys are lost tasks or duplicates",
        )


@signals.worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    """Warn when Redis may evict our keys, and serve Prometheus metrics from the main process."""

    # Here rather than at init: logging is configured by now, so the warning is a JSON event.
    _warn_on_eviction_policy()
    metrics.serve(settings)


@signals.worker_shutdown.connect
def _main_shutdown(**_: Any) -> None:
    """Remove this worker's metrics folder."""

    metrics.cleanup()


@signals.worker_process_shutdown.connect
def _child_shutdown(**_: Any) -> None:
    """Flush and close the sinks and connections of a pool child that is exiting."""

    runtime.reset()
    structlog.get_logger("worker.app.celery_app").info("worker_process_stopped", pid=os.getpid())


_started: dict[str, float] = {}


@signals.before_task_publish.connect
def _record_sent(
    sender: str | None = None, body: Any = None, routing_key: str | None = None, headers: Any = None, **_: Any
) -> None:
    """Write the task to the ledger before the broker has it (see worker.app.ledger)."""
    install()  # the filesystem broker's folders, for a process that only sends (a script, a test)
    if sender and routing_key and isinstance(headers, dict) and "id" in headers:
        ledger.on_publish(settings, sender, body, routing_key, headers)


def _ledger_queue(task: Any) -> str | None:
    """Return the queue of a task the ledger holds; None for others (a leased poll, an `ingest` run)."""
    request = getattr(task, "request", None)
    if request is None or request.is_eager or not getattr(request, "recorded", False):
        return None
    return (request.delivery_info or {}).get("routing_key")


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Give the task's ledger entry a sign of life; start its timer for the metrics."""
    if task_id:
        _started[task_id] = time.monotonic()
        queue = _ledger_queue(task)
        if queue:
            ledger.on_start(settings, queue, task_id)


@signals.task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, retval: Any = None, state: str | None = None, **_: Any
) -> None:
    """Forget the task's ledger entry (unless a retry of it is queued); record it in the metrics."""

    queue = _ledger_queue(task)
    if task_id and queue and state != states.RETRY:
        ledger.on_end(settings, queue, task_id)
    began = _started.pop(task_id or "", None)
    if began is not None and task is not None:
        metrics.observe_task(task.name, time.monotonic() - began, state or "unknown", retval)


@signals.task_failure.connect
def _dead_letter_failed_task(
    sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any
) -> None:
    """
    Put the items of a task that raised (a bug, a time limit, retries used up) on the dead-letter stream.

    Celery acks a failed task, so without this its articles would be lost
    without a trace; `python -m worker dead retry` runs them again.
    """
    name = getattr(sender, "name", "")
    try:
        _dead_letter_items(name, list(args or ()), exception)
    except Exception as exc:  # noqa: BLE001 - the store itself may be what failed
        structlog.get_logger("worker.app.celery_app").error(
            "dead_letter_failed", task=name, error=repr(exc), cause=repr(exception)
        )


def _dead_letter_items(name: str, args: list[Any], exception: BaseException | None) -> None:

    reason = f"{type(exception).__name__}: {exception}"
    store = runtime.get().store
    if name == dispatch.TASK_PROCESS and args:
        for item in args[0]:
            store.dead_letter(reason, "process", (item.get("source") or {}).get("name", ""), item)
        metrics.count_dead("process", len(args[0]))
    elif name == dispatch.TASK_FETCH and args:
        payload = args[0]
        store.dead_letter(reason, "fetch", (payload.get("spec") or {}).get("name", ""), payload)
        metrics.count_dead("fetch")
    elif name == dispatch.TASK_POLL and len(args) > 1 and args[1] is not None:
        # An archive continuation: without it the rest of the archive would never be read.
        spec = args[0]
        store.dead_letter(reason, "poll", spec.get("name", ""), {"url": spec.get("location"), "args": args})
        metrics.count_dead("poll")
    else:
        return
    structlog.get_logger("worker.app.celery_app").error("task_dead_lettered", task=name, error=reason)
