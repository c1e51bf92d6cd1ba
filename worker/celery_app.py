"""
The Celery app: Redis broker when `REDIS_URL` is set, else kombu's filesystem transport.

Delivery is at-least-once (`acks_late`, `task_reject_on_worker_lost`); every
task is idempotent, so a redelivery cannot produce a second record.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from worker import config
from worker import logging as wlogging

settings = config.load()

QUEUES = ("poll", "fetch", "process")


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
    folder = (s.state_dir / "broker").resolve()
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }


def make_app(s: config.Settings) -> Celery:
    """Build the Celery app for the given settings."""
    broker, options = _broker(s)
    app = Celery("worker", broker=broker, include=["worker.tasks"])
    app.conf.update(
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Well below the visibility timeout, so a task is killed before Redis redelivers it.
        task_time_limit=s.task_time_limit_s,
        # The soft limit leaves the task time to give up cleanly (a fifth of the limit, at most 30 s).
        task_soft_time_limit=max(1, s.task_time_limit_s - min(30, max(1, s.task_time_limit_s // 5))),
        task_default_queue="process",
        task_routes={
            "worker.poll_source": {"queue": "poll"},
            "worker.dispatch_tick": {"queue": "poll"},
            "worker.fetch_article": {"queue": "fetch"},
            "worker.process_items": {"queue": "process"},
        },
        beat_schedule={
            "dispatch-due-sources": {"task": "worker.dispatch_tick", "schedule": s.tick_s},
        },
        beat_schedule_filename=str((s.state_dir / "celerybeat-schedule").resolve()),
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
        enable_utc=True,
        timezone="UTC",
    )
    return app


app = make_app(settings)


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    """Route Celery's own logs through structlog's renderer."""
    wlogging.configure(settings.log_level, force=True)


@signals.worker_process_init.connect
def _after_fork(**_: Any) -> None:
    """Drop resources inherited from the parent: connections must not cross a fork."""
    from worker import runtime

    runtime.reset()
