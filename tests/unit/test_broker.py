"""The broker choice: `BROKER_URL` apart from `REDIS_URL`, the Celery config each gives, the ledger switch."""

from __future__ import annotations

import pytest
from kombu import Connection

from worker import config
from worker.app import broker, deadletters
from worker.app.celery_app import app_config
from worker.dispatch import QUEUES
from worker.errors import ConfigError

AMQP = "amqp://guest:guest@127.0.0.1:5672/ingest"
REDIS = "redis://127.0.0.1:6379/0"


class TestBrokerChoice:
    @pytest.mark.parametrize(
        ("env", "kind", "ledger", "embedded"),
        [
            ({}, "filesystem", True, True),
            ({"REDIS_URL": REDIS}, "redis", True, False),
            ({"BROKER_URL": AMQP}, "amqp", False, True),
            ({"BROKER_URL": AMQP, "REDIS_URL": REDIS}, "amqp", False, False),
            ({"BROKER_URL": "redis://broker:6379/1"}, "redis", True, True),
            ({"REDIS_URL": REDIS, "INGEST_LEDGER": "off"}, "redis", False, False),
            ({"BROKER_URL": AMQP, "INGEST_LEDGER": "Off"}, "amqp", False, True),
            ({"INGEST_LEDGER": "on"}, "filesystem", True, True),
        ],
        ids=[
            "embedded",
            "redis",
            "amqp-sqlite-state",
            "amqp-redis-state",
            "redis-broker-sqlite-state",
            "redis-ledger-off",
            "amqp-ledger-off",
            "filesystem-ledger-on",
        ],
    )
    def test_broker_and_state_are_chosen_apart(
        self, env: dict[str, str], kind: str, ledger: bool, embedded: bool
    ) -> None:
        """BROKER_URL picks the broker, REDIS_URL the state; the ledger is on unless the broker is amqp."""
        settings = config.load(env)

        assert (kind, ledger, embedded) == (
            settings.broker_kind,
            settings.ledger_enabled,
            settings.embedded,
        )

    def test_the_ledger_cannot_be_forced_on_with_rabbitmq(self) -> None:
        """Its sweep reads the broker's queues, which AMQP does not allow: a one-line ConfigError."""
        with pytest.raises(ConfigError) as info:
            config.load({"BROKER_URL": AMQP, "INGEST_LEDGER": "on"})

        assert str(info.value).startswith("INGEST_LEDGER='on': ")
        assert "amqp" in str(info.value)

    @pytest.mark.parametrize(
        ("name", "value"),
        [("BROKER_URL", "sqs://queue"), ("BROKER_URL", "filesystem://"), ("INGEST_LEDGER", "sometimes")],
    )
    def test_other_brokers_and_modes_are_refused(self, name: str, value: str) -> None:
        """Only amqp(s):// and redis(s):// brokers; the ledger is auto, on or off."""
        with pytest.raises(ConfigError) as info:
            config.load({name: value})

        assert str(info.value).startswith(f"{name}={value!r}: ")


class TestCeleryConfig:
    def test_rabbitmq_gets_quorum_queues_with_a_delivery_limit_and_confirms(self) -> None:
        """Each stage queue is a quorum queue on a topic exchange, dead-lettered after the limit."""
        conf = app_config(config.load({"BROKER_URL": AMQP, "REDIS_URL": REDIS}))
        queues = {q.name: q for q in conf["task_queues"]}

        assert AMQP == conf["broker_url"]
        assert {"confirm_publish": True} == conf["broker_transport_options"]
        assert list(QUEUES) == list(queues)
        for name, q in queues.items():
            assert (broker.EXCHANGE, "topic", name) == (q.exchange.name, q.exchange.type, q.routing_key)
            assert "quorum" == q.queue_arguments["x-queue-type"]
            assert 10 == q.queue_arguments["x-delivery-limit"]
            assert broker.DEAD_EXCHANGE == q.queue_arguments["x-dead-letter-exchange"]
            assert "at-least-once" == q.queue_arguments["x-dead-letter-strategy"]
        assert "quorum" == conf["broker_native_delayed_delivery_queue_type"]
        assert conf["task_acks_late"]
        assert conf["task_reject_on_worker_lost"]

    @pytest.mark.parametrize("env", [{"REDIS_URL": REDIS}, {}], ids=["redis", "embedded"])
    def test_redis_and_the_filesystem_keep_their_plain_queues(self, env: dict[str, str]) -> None:
        """No quorum queues off RabbitMQ: Celery declares plain ones, routed by name."""
        conf = app_config(config.load(env))

        assert "task_queues" not in conf
        assert "confirm_publish" not in conf["broker_transport_options"]

    def test_a_redis_broker_apart_from_the_state_gets_the_visibility_timeout(self) -> None:
        """BROKER_URL=redis://… is the broker; REDIS_URL stays the state store."""
        conf = app_config(
            config.load(
                {"BROKER_URL": "redis://broker:6379/1", "REDIS_URL": REDIS, "INGEST_TASK_TIME_LIMIT_S": "8"}
            )
        )

        assert "redis://broker:6379/1" == conf["broker_url"]
        assert 3600 == conf["broker_transport_options"]["visibility_timeout"]

    def test_only_the_filesystem_broker_has_folders(self) -> None:
        """The embedded mode's folders are not made for a networked broker."""
        assert [] == broker.folders(config.load({"BROKER_URL": AMQP}))
        assert 3 == len(broker.folders(config.load({})))

    def test_the_filesystem_broker_looks_at_its_folder_often(self, tmp_path) -> None:
        """kombu takes the polling interval from the options (its 1 s left a busy pool idle between tasks)."""
        url, options = broker.transport(config.load({"INGEST_STATE_DIR": str(tmp_path)}))
        with Connection(url, transport_options=options) as conn:
            assert broker.FILESYSTEM_POLL_S == conn.transport.polling_interval
        assert broker.FILESYSTEM_POLL_S <= 0.1


class TestDeadLetterReason:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            (
                {"x-first-death-reason": "delivery_limit", "x-first-death-queue": "fetch"},
                "DeliveryLimit: delivered more times than the queue's delivery limit and never acknowledged"
                " (queue fetch)",
            ),
            (
                {"x-first-death-reason": "rejected", "x-first-death-queue": "process"},
                "Rejected: rejected by a worker (queue process)",
            ),
            ({}, "Unknown: dead-lettered by the broker (queue ?)"),
        ],
        ids=["delivery-limit", "rejected", "no-headers"],
    )
    def test_the_reason_names_why_and_where(self, headers: dict[str, str], expected: str) -> None:
        """RabbitMQ's x-first-death headers become the one-line reason of the record."""
        assert expected == deadletters.reason_of(headers)
