"""
The task broker: which transport, its options and queues, and what a health check reads from it.

`BROKER_URL` picks the broker independently of `REDIS_URL` (state and
stream): RabbitMQ (`amqp://`) or Redis; with neither set, kombu's filesystem
transport of the embedded mode.  On RabbitMQ the stage queues are quorum
queues (replicated; a message leaves only when a worker acknowledges it)
bound to one topic exchange, so that Celery's native delayed delivery can
carry countdowns; every publish is confirmed by the broker; and a message
delivered more than `DELIVERY_LIMIT` times without an acknowledgement (a
task that kills its worker each time) moves to `DEAD_QUEUE`, which the
worker's main process turns into dead-letter records (`worker.app.deadletters`).
README "Scaling out" says why.  For a Redis broker, `survive_kombu_reconnect_race`
is the kombu patch a worker needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from worker import dispatch
from worker.config import Settings
from worker.errors import ConfigError, StoreUnavailable
from worker.settings_types import masked
from worker.state.redis.base import is_cluster

EXCHANGE = "ingest"
DEAD_EXCHANGE = "ingest.dead"
DEAD_QUEUE = "ingest.dead"
# Deliveries a message may get back unacknowledged before it is dead-lettered.  A redelivery after
# a killed worker counts too, so this leaves room for crashes that are not the message's fault.
# Fixed when a queue is first declared (RabbitMQ refuses other arguments later); a policy with a
# lower `delivery-limit` lowers it on a live broker (the lower of the two applies).
DELIVERY_LIMIT = 10
# The filesystem broker's wait between looks at its folder when a pool slot is free and nothing was there.
FILESYSTEM_POLL_S = 0.1
QUEUE_ARGUMENTS: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-delivery-limit": DELIVERY_LIMIT,
    "x-dead-letter-exchange": DEAD_EXCHANGE,
    # The message leaves the stage queue only once the dead-letter queue has confirmed it
    # (RabbitMQ 3.10+); that strategy needs the reject-publish overflow mode.
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}
# A health check or a drain must answer quickly when the broker is gone.
CONNECT_TIMEOUT_S = 2.0


def transport(s: Settings) -> tuple[str, dict[str, Any]]:
    """Return the broker URL and kombu's transport options for it."""
    if s.broker_kind == "amqp":
        # Publisher confirms: a task's follow-up messages are on the broker before the task is acked.
        return s.broker, {"confirm_publish": True}
    if s.broker_kind == "redis":
        return s.broker, {
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
        # How long a worker with a free pool slot waits before it looks at the folder again (kombu: 1 s).
        # A task takes tens of milliseconds, so at 1 s a busy backlog ran with its pool idle most of the time.
        "polling_interval": FILESYSTEM_POLL_S,
        # Broadcast/pidbox exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(folder / "control"),
    }


def refuse_cluster_broker(s: Settings) -> None:
    """
    Refuse a Redis Cluster as the broker: kombu's Redis transport keeps a queue in keys of many slots.

    Its queues, unacked hash and fanout keys need one node; with `REDIS_URL` of a
    cluster the broker has to be elsewhere (`BROKER_URL`, RabbitMQ above all).
    A Redis that cannot be reached is not refused here: connecting will say so.

    Raises:
        ConfigError: the broker would be a cluster node (exit 2, one line).
    """
    if s.broker_kind != "redis":
        return
    try:
        cluster = is_cluster(s.broker, timeout_s=2.0)
    except StoreUnavailable:
        return
    if cluster:
        name = "BROKER_URL" if s.broker_url else "REDIS_URL"
        raise ConfigError(
            f"{name}={masked(s.broker)!r}: a Redis Cluster cannot be the broker "
            "(kombu's Redis transport needs a single node); set BROKER_URL=amqp://… (RabbitMQ)"
        )


def folders(s: Settings) -> list[Path]:
    """Return the folders of the filesystem broker (none for a networked one)."""
    if s.broker_kind != "filesystem":
        return []
    return [s.broker_dir / sub for sub in ("queue", "processed", "control")]


def amqp_queues() -> tuple[Queue, ...]:
    """Return the stage queues on RabbitMQ: quorum queues with a delivery limit, on a topic exchange."""
    exchange = Exchange(EXCHANGE, type="topic", durable=True)  # type: ignore[no-untyped-call]
    return tuple(
        Queue(q, exchange, routing_key=q, durable=True, queue_arguments=dict(QUEUE_ARGUMENTS))  # type: ignore[no-untyped-call]
        for q in dispatch.QUEUES
    )


def dead_queue() -> Queue:
    """Return the queue RabbitMQ moves a message to once its delivery limit is used up (or it is rejected)."""
    exchange = Exchange(DEAD_EXCHANGE, type="fanout", durable=True)  # type: ignore[no-untyped-call]
    return Queue(  # type: ignore[no-untyped-call]
        DEAD_QUEUE,
        exchange,
        routing_key="",
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def connect(s: Settings) -> Connection:
    """Return a connection to an amqp broker that gives up after `CONNECT_TIMEOUT_S` (not yet open)."""
    url, options = transport(s)
    return Connection(url, connect_timeout=CONNECT_TIMEOUT_S, transport_options=options)  # type: ignore[no-untyped-call]


def amqp_counts(s: Settings) -> dict[str, tuple[int, int]]:
    """
    Return (ready messages, consumers) of each stage queue and of the dead-letter queue.

    A passive declare reads them without creating anything; a queue no
    worker has declared yet counts as empty.  Messages a worker holds
    unacknowledged are not counted (AMQP does not say).

    Raises:
        OSError, kombu's connection errors: the broker cannot be reached.
    """
    counts: dict[str, tuple[int, int]] = {}
    with connect(s) as conn:
        conn.connect()
        for name in (*dispatch.QUEUES, DEAD_QUEUE):
            channel = conn.channel()
            try:
                _, ready, consumers = channel.queue_declare(queue=name, passive=True)
                counts[name] = (int(ready), int(consumers))
            except conn.channel_errors:  # 404: not declared yet; the broker closed this channel
                counts[name] = (0, 0)
            finally:
                channel.close()
    return counts


def survive_kombu_reconnect_race() -> None:
    """
    Keep a worker alive through a kombu race when a Redis connection drops (`celery_app.install` applies it).

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
