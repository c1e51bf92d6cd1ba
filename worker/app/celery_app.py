"""
The Celery app on the broker `BROKER_URL` names (RabbitMQ or Redis), else on `REDIS_URL`, else the filesystem.

Delivery is at-least-once (`acks_late`, `task_reject_on_worker_lost`); every
task is idempotent, so a redelivery cannot produce a second record.  Importing
this module only builds the app object (`celery -A worker.app.celery_app`
names it); `install` prepares the process that runs it: broker folders, the
kombu patch, the dispatcher the stages send through.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import redis
import structlog
from celery import Celery, bootsteps, signals, states

from worker import config, dispatch
from worker.app import broker, deadletters, forkguard, health, ledger, metrics, runtime
from worker.app import logging as wlogging
from worker.app.health import SAFE_POLICY, eviction_policy
from worker.state import StateStore, open_store

settings = config.load()


def broker_folders(s: config.Settings) -> list[Path]:
    """Return the folders of the embedded mode's filesystem broker (none for Redis or RabbitMQ)."""
    return broker.folders(s)


def _queues(s: config.Settings) -> dict[str, Any]:
    """
    Return the queue settings of the broker: on RabbitMQ, quorum queues and native delayed delivery.

    Celery's native delayed delivery (5.5+) carries a countdown through a
    chain of TTL queues to a topic exchange, since a quorum queue cannot
    hold a message back; its worker bootstep declares that chain and binds
    our queues to it.
    """
    if s.broker_kind != "amqp":
        return {}
    return {
        "task_queues": broker.amqp_queues(),
        "task_default_exchange": broker.EXCHANGE,
        "task_default_exchange_type": "topic",
        "task_default_routing_key": "process",
        "task_create_missing_queues": False,
        "broker_native_delayed_delivery_queue_type": "quorum",
    }


def app_config(s: config.Settings) -> dict[str, Any]:
    """Return the Celery configuration for the given settings (pure)."""
    url, options = broker.transport(s)
    return {
        **_queues(s),
        "broker_url": url,
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
        # Well below the visibility timeout, so a task is killed before Redis redelivers it
        # (and below RabbitMQ's consumer_timeout, 30 min by default).
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


class LedgerSweep(bootsteps.StartStopStep):  # type: ignore[misc]
    """
    Send again the task messages the broker lost (worker.app.ledger), from the worker's main process.

    With Redis, a sweep every few seconds (as often as kombu restores a dead
    worker's unacked messages); with the filesystem broker, once at start;
    with RabbitMQ, none unless `INGEST_LEDGER` says so (its acks lose nothing).
    """

    requires: ClassVar[set[str]] = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        if not settings.ledger_enabled:
            return
        if settings.broker_kind == "redis":
            # The sweep reads the broker's queues (their oldest message), wherever the state lives.
            client = redis.Redis.from_url(settings.broker, socket_connect_timeout=2, socket_timeout=10)
            self.tref = parent.timer.call_repeatedly(
                ledger.sweep_interval_s(settings),
                ledger.sweep_safely,
                (settings, client, app.send_task),
                priority=10,
            )
        elif settings.broker_kind == "filesystem":
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
                with forkguard.guard():
                    store = store or open_store(settings)
                    health.beat_worker(store, hostname, leaving=self.stopped.is_set())
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat must not stop the worker
                log.warning("heartbeat_failed", error=repr(exc))
            if self.stopped.is_set():
                break
            self.stopped.wait(health.HEARTBEAT_S)
        if store is not None:
            with forkguard.guard():
                store.close()

    def stop(self, parent: Any) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=15)
            self.thread = None


class DeadQueueDrain(bootsteps.StartStopStep):  # type: ignore[misc]
    """
    Turn RabbitMQ's dead-lettered messages into dead-letter records, from the worker's main process.

    Declares the dead-letter exchange and queue at start, then drains the
    queue every `DRAIN_INTERVAL_S` (worker.app.deadletters; less often while the broker fails); nothing on
    other brokers, where a task that kills its worker comes back for ever.
    From a thread, as `Heartbeat`: a broker or store slow to answer must
    not stall the event loop.
    """

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        if settings.broker_kind != "amqp":
            return
        self.stopped.clear()
        self.thread = threading.Thread(target=self._run, name="dead-queue-drain", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        stores: list[StateStore] = []  # opened in this thread: a SQLite connection stays in its thread

        def store() -> StateStore:
            if not stores:
                stores.append(open_store(settings))
            return stores[0]

        drain = deadletters.Drain(lambda: broker.connect(settings), store)
        try:
            while not self.stopped.is_set():
                with forkguard.guard():
                    wait = drain.run_safely()
                self.stopped.wait(wait)
        finally:
            with forkguard.guard():
                drain.close()
                for s in stores:
                    s.close()

    def stop(self, parent: Any) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=15)
            self.thread = None


app = make_app(settings)
app.steps["worker"].add(LedgerSweep)
app.steps["worker"].add(Heartbeat)
app.steps["worker"].add(DeadQueueDrain)
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
    if settings.broker_kind == "redis":
        broker.survive_kombu_reconnect_race()
    dispatch.install(dispatch.BrokerDispatcher(_send_task))
    _prepared.add(os.getpid())


def _send_task(name: str, *args: Any, countdown: float | None = None, **kwargs: Any) -> Any:
    """
    Send a task through the app, with a countdown RabbitMQ's native delayed delivery can take.

    That delivery counts whole seconds, and Celery 5.7 raises on a countdown
    under one (`calculate_routing_key`): round up, so a fetch never comes
    before its host's slot.
    """
    if countdown is not None and settings.broker_kind == "amqp":
        countdown = float(math.ceil(countdown))
    return app.send_task(name, *args, countdown=countdown, **kwargs)


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
    pool child; then everything alive is frozen out of the garbage
    collector's reach (`runtime.freeze_heap`).
    """
    import worker.process.pipeline  # noqa: F401

    install()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    metrics.prepare(settings)
    runtime.freeze_heap()


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
    if deadletters.record(runtime.get().store, name, args, reason):
        structlog.get_logger("worker.app.celery_app").error("task_dead_lettered", task=name, error=reason)
