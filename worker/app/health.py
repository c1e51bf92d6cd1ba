"""
`python -m worker health`: are the broker, the state store and the sinks usable, a worker and a beat alive?

Liveness comes from heartbeats in the state store (its `Cache` role): every
worker writes its host name and time every `HEARTBEAT_S` (`beat_worker`, from
a thread of its main process), and each dispatch tick, which the beat sends and
a worker runs, marks itself alive for three ticks (`politeness.mark_tick`).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import redis
from redis.cluster import RedisCluster

from worker import dispatch
from worker.app import broker
from worker.config import Settings
from worker.errors import StoreUnavailable
from worker.schedule import politeness
from worker.state import StateStore, open_store
from worker.state.redis import connect
from worker.state.redis.base import close as close_client
from worker.state.redis.base import is_cluster

# How often a worker says it is alive; it counts as gone after three missed heartbeats.
HEARTBEAT_S = 10.0
LIVENESS_S = 3 * HEARTBEAT_S
# The heartbeat group of the workers: host name -> last heartbeat, epoch seconds (`Heartbeats`).
WORKERS_GROUP = "workers"

# Only this policy guarantees Redis never drops a queued task, a dedupe marker or a feed's state.
SAFE_POLICY = "noeviction"


def _client(settings: Settings, url: str | None = None) -> Any:
    """Return a client that fails fast: a health check must answer even when Redis is gone."""
    url = url or settings.redis_url
    assert url
    try:
        cluster = is_cluster(url, timeout_s=2.0)
    except StoreUnavailable:
        cluster = False  # down: the plain client's ping says so
    if cluster:
        # Each command goes to the node of its key (the stream, the dead letters); none may wait long.
        return RedisCluster.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)
    return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)


def queue_depths(settings: Settings) -> dict[str, int]:
    """
    Return the number of tasks waiting in each queue (filesystem broker: messages in its folder).

    On RabbitMQ, the ready messages of each stage queue and of the dead-letter queue.
    """
    if settings.broker_kind == "amqp":
        return {q: ready for q, (ready, _) in broker.amqp_counts(settings).items()}
    if settings.broker_kind == "redis":
        r = _client(settings, settings.broker)
        try:
            return {q: int(r.llen(q)) for q in dispatch.QUEUES}
        finally:
            close_client(r)
    folder = settings.broker_dir / "queue"
    n = len(list(folder.glob("*.msg"))) if folder.exists() else 0
    return {"all": n}


def dead_count(settings: Settings) -> int:
    """Return the length of the dead-letter stream (Redis mode)."""
    r = _client(settings)
    try:
        return int(r.xlen(settings.dead_stream))
    finally:
        close_client(r)


def eviction_policy(settings: Settings) -> str | None:
    """Return Redis's `maxmemory-policy` (None in the embedded mode)."""
    if not settings.redis_url:
        return None
    r = connect(settings.redis_url)
    try:
        return str(r.config_get("maxmemory-policy").get("maxmemory-policy", "unknown"))
    finally:
        close_client(r)


def workers_seen(store: StateStore, now: float | None = None) -> dict[str, float]:
    """Return the workers that sent a heartbeat within `LIVENESS_S`, with the time of the last one."""
    at = time.time() if now is None else now
    return store.heartbeats(WORKERS_GROUP, at - LIVENESS_S)


def beat_worker(store: StateStore, hostname: str, *, leaving: bool = False, now: float | None = None) -> None:
    """
    Record that `hostname` is alive now (or, `leaving`, that it stopped).

    One atomic write of this worker's own entry (`Heartbeats`): workers
    beating at the same instant never drop each other, as a read-modify-write
    of one shared value could, and entries silent past `LIVENESS_S` go.
    """
    if leaving:
        store.heartbeat_leave(WORKERS_GROUP, hostname)
        return
    at = time.time() if now is None else now
    store.heartbeat(WORKERS_GROUP, hostname, round(at, 1), math.ceil(LIVENESS_S))


def liveness(store: StateStore, *, beat_required: bool = True, now: float | None = None) -> dict[str, Any]:
    """Return the `workers` and `beat` parts of the report: who was seen lately, and whether it is enough."""
    at = time.time() if now is None else now
    workers = workers_seen(store, at)
    ticking = politeness.tick_alive(store)
    return {
        "workers": {
            "ok": bool(workers),
            "seen": {h: round(at - t, 1) for h, t in sorted(workers.items())},
            "within_s": LIVENESS_S,
        },
        "beat": {"ok": ticking or not beat_required, "seen": ticking, "required": beat_required},
    }


def check(settings: Settings, *, beat_required: bool = True) -> dict[str, Any]:
    """Return a JSON-safe report; `ok` is False when anything needed is down or no worker (beat) is alive."""
    report: dict[str, Any] = {"mode": "embedded" if settings.embedded else "redis"}
    down = _redis_down(settings)
    if down is not None:
        # The store's own client retries for seconds (it rides out restarts); a health check must not.
        report["state_store"] = {"ok": False, "error": down}
        unknown = {"ok": False, "error": "state store down"}
        report.update(workers=unknown, beat=dict(unknown))
    else:
        report.update(_store_part(settings, beat_required=beat_required))
    out = settings.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
        report["sink_jsonl"] = {"ok": os.access(out, os.W_OK), "dir": str(out)}
    except OSError as exc:
        report["sink_jsonl"] = {"ok": False, "error": str(exc)}
    if settings.redis_url:
        report.update(_redis_parts(settings))
    if settings.broker_kind == "amqp":
        report["broker"] = _amqp_part(settings)
    elif settings.broker_kind == "filesystem":
        report["broker"] = {"ok": True, "transport": "filesystem", "queue_depths": queue_depths(settings)}
    elif settings.broker != settings.redis_url:
        report["broker"] = _redis_broker_part(settings)
    if isinstance(report.get("broker"), dict):
        report["broker"].setdefault("transport", settings.broker_kind)
    report["ok"] = all(v.get("ok", True) for v in report.values() if isinstance(v, dict))
    return report


def _redis_down(settings: Settings) -> str | None:
    """Return why Redis cannot be reached with one fast attempt, or None (also in the embedded mode)."""
    if not settings.redis_url:
        return None
    r = _client(settings)
    try:
        r.ping()
        return None
    except redis.RedisError as exc:
        return str(exc)
    finally:
        close_client(r)


def _store_part(settings: Settings, *, beat_required: bool) -> dict[str, Any]:
    unknown = {"ok": False, "error": "state store down"}
    try:
        store = open_store(settings)
        try:
            ok = store.ping()
            if not ok:
                return {
                    "state_store": {"ok": False},
                    "counters": {},
                    "workers": unknown,
                    "beat": dict(unknown),
                }
            part: dict[str, Any] = {"ok": True}
            if settings.ledger_enabled:
                # Sent, not ended, per queue (worker.app.ledger): queued, running, or lost, soon resent.
                part["tasks_in_flight"] = {q: store.ledger_count(q) for q in dispatch.QUEUES}
            return {
                "state_store": part,
                **liveness(store, beat_required=beat_required),
                "counters": store.counters(),
            }
        finally:
            store.close()
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        return {"state_store": {"ok": False, "error": str(exc)}, "workers": unknown, "beat": dict(unknown)}


def _redis_parts(settings: Settings) -> dict[str, Any]:
    """The state Redis: its eviction policy, the stream and dead letters, and the broker if it is one."""
    r = _client(settings)
    try:
        r.ping()
        policy = str(r.config_get("maxmemory-policy").get("maxmemory-policy", "unknown"))
        redis_part = {"ok": True, "maxmemory_policy": policy, "eviction_safe": policy == SAFE_POLICY}
        parts = {
            "sink_stream": {"ok": True, "stream": settings.stream, "length": int(r.xlen(settings.stream))},
            "dead_letters": int(r.xlen(settings.dead_stream)),
        }
        if settings.broker == settings.redis_url:
            redis_part["queue_depths"] = {q: int(r.llen(q)) for q in dispatch.QUEUES}
            redis_part["unacked"] = int(r.hlen("unacked"))
            return {"broker": redis_part, **parts}
        return {"redis": redis_part, **parts}
    except redis.RedisError as exc:
        down = {"ok": False, "error": str(exc)}
        part = "broker" if settings.broker == settings.redis_url else "redis"
        return {part: down, "sink_stream": dict(down)}
    finally:
        close_client(r)


def _redis_broker_part(settings: Settings) -> dict[str, Any]:
    """A Redis broker apart from the state Redis (`BROKER_URL=redis://…`)."""
    r = _client(settings, settings.broker)
    try:
        return {
            "ok": True,
            "transport": "redis",
            "queue_depths": {q: int(r.llen(q)) for q in dispatch.QUEUES},
            "unacked": int(r.hlen("unacked")),
        }
    except redis.RedisError as exc:
        return {"ok": False, "transport": "redis", "error": str(exc)}
    finally:
        close_client(r)


def _amqp_part(settings: Settings) -> dict[str, Any]:
    """RabbitMQ: reachable within a short timeout; ready messages and consumers per queue."""
    try:
        counts = broker.amqp_counts(settings)
    except Exception as exc:  # noqa: BLE001 - kombu and socket errors alike: the broker is down
        return {"ok": False, "transport": "amqp", "error": str(exc) or repr(exc)}
    return {
        "ok": True,
        "transport": "amqp",
        "queue_depths": {q: counts[q][0] for q in dispatch.QUEUES},
        "consumers": {q: counts[q][1] for q in dispatch.QUEUES},
        "dead_queue": counts[broker.DEAD_QUEUE][0],
    }
