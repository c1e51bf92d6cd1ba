"""
Prometheus metrics: per-stage counters and latencies, queue depths, disabled feeds, dead letters.

How it works under Celery's prefork pool (the simplest correct way):
the main worker process, in `worker_init` and so before any pool child is
forked, points `PROMETHEUS_MULTIPROC_DIR` at a folder of its own
(`<state_dir>/metrics/<pid>`), so every child records its counters and
histograms in memory-mapped files there.  At `worker_ready` the main process
serves `INGEST_METRICS_PORT` (0, the default, means off) with
`start_http_server`, summing the children's files (`MultiProcessCollector`)
and reading the gauges (queue depths, disabled feeds, dead letters) from the
broker and state store at scrape time, so they are never stale.
`prometheus_client` is imported lazily because it picks its value storage
when first imported: the variable must be set before that.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from worker import dispatch
from worker.config import Settings

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

log = structlog.get_logger(__name__)

_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STAGES = {dispatch.TASK_POLL: "poll", dispatch.TASK_FETCH: "fetch", dispatch.TASK_PROCESS: "process"}
# Seconds: a fetch is ~0.05-30 s, a process batch ~0.1-10 s with NER.
_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

_metrics: dict[str, Any] = {}


def _get() -> dict[str, Any]:
    """Create the metric objects on first use (after the multiprocess folder is set)."""
    if not _metrics:
        from prometheus_client import Counter, Histogram

        _metrics["items"] = Counter(
            "ingest_items_total", "Items leaving a stage, by outcome.", ["stage", "outcome"]
        )
        _metrics["tasks"] = Counter(
            "ingest_tasks_total", "Tasks run, by stage and state.", ["stage", "state"]
        )
        _metrics["seconds"] = Histogram(
            "ingest_stage_seconds", "Wall time of one task of a stage.", ["stage"], buckets=_BUCKETS
        )
        _metrics["dead"] = Counter(
            "ingest_dead_letters_total", "Items put on the dead-letter stream.", ["stage"]
        )
    return _metrics


def observe_task(task: str, seconds: float, state: str, retval: Any) -> None:
    """Count one finished task and the outcomes of the items it handled."""
    stage = STAGES.get(task)
    if stage is None:
        return
    m = _get()
    m["tasks"].labels(stage, state.lower()).inc()
    m["seconds"].labels(stage).observe(seconds)
    for outcome in _outcomes(stage, retval):
        m["items"].labels(stage, outcome).inc()
        if outcome == "failed" and stage != "poll":
            m["dead"].labels(stage).inc()


def _outcomes(stage: str, retval: Any) -> Iterator[str]:
    if stage == "process" and isinstance(retval, list):
        for o in retval:
            if isinstance(o, dict):
                yield str(o.get("status", "unknown"))
    elif stage == "fetch" and isinstance(retval, dict):
        yield str(retval.get("status", "unknown"))
    elif stage == "poll" and isinstance(retval, dict):
        yield "not_modified" if retval.get("not_modified") else "polled"


def count_dead(stage: str, n: int = 1) -> None:
    """Count items dead-lettered outside a normal task result (a task that raised)."""
    _get()["dead"].labels(stage).inc(n)


def prepare(settings: Settings) -> Path | None:
    """
    Point this process and its future children at a fresh multiprocess folder.

    Call in the worker's main process before the pool forks; returns the
    folder, or None when metrics are off.
    """
    if settings.metrics_port == 0:
        return None
    folder = (settings.state_dir / "metrics" / str(os.getpid())).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[_MULTIPROC_ENV] = str(folder)
    return folder


def serve(settings: Settings) -> int | None:
    """Serve the metrics over HTTP from this (main) process; return the port, or None when off."""
    p = settings.metrics_port
    folder = os.environ.get(_MULTIPROC_ENV)
    if p == 0 or not folder:
        return None
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    registry.register(_gauges(settings))
    start_http_server(p, registry=registry)
    log.info("metrics_serving", port=p, multiprocess_dir=folder)
    return p


def cleanup() -> None:
    """Remove this worker's multiprocess folder at shutdown."""
    folder = os.environ.get(_MULTIPROC_ENV)
    if folder and Path(folder).name == str(os.getpid()):
        shutil.rmtree(folder, ignore_errors=True)


def _gauges(settings: Settings) -> Collector:
    from prometheus_client.core import GaugeMetricFamily

    from worker.app.health import queue_depths

    class Gauges:
        """Read the gauges from the broker and state store when scraped."""

        def collect(self) -> Iterator[GaugeMetricFamily]:
            depth = GaugeMetricFamily("ingest_queue_depth", "Tasks waiting in a queue.", labels=["queue"])
            disabled = GaugeMetricFamily("ingest_feeds_disabled", "Feeds disabled after errors or 410.")
            dead = GaugeMetricFamily("ingest_dead_letters", "Entries on the dead-letter stream now.")
            up = GaugeMetricFamily("ingest_store_up", "1 when the state store answered this scrape.")
            try:
                for q, n in queue_depths(settings).items():
                    depth.add_metric([q], n)
                stats = _store_stats(settings)
                disabled.add_metric([], stats["disabled"])
                dead.add_metric([], stats["dead"])
                up.add_metric([], 1)
            except Exception as exc:  # noqa: BLE001 - a scrape must answer even when Redis is down
                log.warning("metrics_collect_failed", error=str(exc))
                up.add_metric([], 0)
            yield from (depth, disabled, dead, up)

    return Gauges()


def _store_stats(settings: Settings) -> dict[str, int]:
    from worker.app import forkguard
    from worker.state import open_store

    with forkguard.guard():  # scraped from a thread of the worker's main process, which forks
        store = open_store(settings)
        try:
            disabled = store.disabled_count()
            if settings.redis_url:
                from worker.app.health import dead_count

                dead = dead_count(settings)
            else:
                dead = len(store.dead_letters(100_000))
            return {"disabled": disabled, "dead": dead}
        finally:
            store.close()
