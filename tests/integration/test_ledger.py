"""
The ledger of sent tasks (worker.app.ledger): a message the broker loses is sent again.

The loss is made the way it happens: a message taken off its queue (what
kombu's BRPOP does) and never recorded as unacked (the worker died before
it could), or, with the filesystem broker, a message file gone with the
worker that held it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.conftest import wait_for
from tests.integration.test_faults import FAST_REDELIVERY, assert_exactly_once, idle, write_archive
from tests.integration.test_ingest_e2e import read_jsonl
from worker.app import ledger
from worker.config import Settings
from worker.dispatch import QUEUES
from worker.state import StateStore
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

SETTINGS = Settings(visibility_timeout_s=10, task_time_limit_s=8)
CONFIRM_S = ledger.confirm_after_s(SETTINGS)


def kombu_message(task_id: str, sent_at: float | None) -> str:
    """A queued message as kombu's Redis transport stores it (only the fields the sweep reads)."""
    headers: dict[str, Any] = {"id": task_id, "task": "worker.process_items"}
    if sent_at is not None:
        headers["sent_at"] = sent_at
    return json.dumps({"body": "", "headers": headers, "properties": {"delivery_tag": task_id}})


class Sent:
    """Collects what a sweep sends, in place of `app.send_task`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any], str, str]] = []

    def __call__(self, task: str, *, args: list[Any], task_id: str, queue: str, **_: Any) -> None:
        self.calls.append((task, args, task_id, queue))


@pytest.fixture
def store(redis_url: str) -> RedisStore:
    return RedisStore(redis_url, prefix="t:")


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def record(store: RedisStore, task_id: str, at: float, queue: str = "process") -> None:
    store.ledger_put(queue, task_id, at, ledger.encode("worker.process_items", [[{"n": task_id}]], {}))


def recorded(store: StateStore) -> dict[str, int]:
    """Return how many tasks each queue still has in the ledger (none, once a run is over)."""
    return {q: n for q in QUEUES if (n := store.ledger_count(q))}


class TestSweep:
    def test_only_a_message_neither_queued_nor_alive_is_sent_again_after_the_wait(
        self, store: RedisStore, client: redis.Redis
    ) -> None:
        """Popped long ago and silent: sent once, after the confirmation wait; the others never."""
        now = 10_000.0
        record(store, "lost", now - 100)  # published before the oldest queued one, never started
        record(store, "queued", now - 50)
        client.lpush("process", kombu_message("queued", now - 50))
        record(store, "running", now - 100)
        store.ledger_touch("process", "running", now - 2)
        record(store, "just-popped", now - 48)  # after the queue's oldest (minus the clock slack)
        sent = Sent()

        assert 0 == ledger.sweep(SETTINGS, store, client, now=now, send=sent)
        assert 0 == ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S - 1, send=sent)
        assert 1 == ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S, send=sent)
        assert [("worker.process_items", [[{"n": "lost"}]], "lost", "process")] == sent.calls
        # Handed out once: the next sweep starts the wait anew rather than sending it twice.
        assert 0 == ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S + 1, send=sent)
        assert 1 == store.counters()["tasks_resent"]

    def test_an_empty_queue_holds_nothing_so_every_silent_entry_is_lost(
        self, store: RedisStore, client: redis.Redis
    ) -> None:
        """With nothing queued, any entry silent for the visibility timeout is sent again."""
        now = 10_000.0
        record(store, "a", now - 11, queue="fetch")
        record(store, "young", now - 5, queue="fetch")
        sent = Sent()

        ledger.sweep(SETTINGS, store, client, now=now, send=sent)
        ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S, send=sent)

        assert ["a"] == [task_id for _, _, task_id, _ in sent.calls]
        assert {"fetch"} == {queue for *_, queue in sent.calls}

    def test_a_queue_whose_oldest_message_has_no_send_time_is_left_alone(
        self, store: RedisStore, client: redis.Redis
    ) -> None:
        """A message from before the ledger (no `sent_at`): nothing can be told, nothing is sent."""
        now = 10_000.0
        record(store, "old", now - 1000)
        client.lpush("process", kombu_message("pre-ledger", None))
        sent = Sent()

        ledger.sweep(SETTINGS, store, client, now=now, send=sent)
        ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S, send=sent)

        assert [] == sent.calls

    def test_an_entry_that_ended_while_suspected_is_not_sent(
        self, store: RedisStore, client: redis.Redis
    ) -> None:
        """A task that ends between two sweeps (its message was only slow) is not sent again."""
        now = 10_000.0
        record(store, "slow", now - 100)
        sent = Sent()

        ledger.sweep(SETTINGS, store, client, now=now, send=sent)
        store.ledger_done("process", "slow")
        ledger.sweep(SETTINGS, store, client, now=now + CONFIRM_S, send=sent)

        assert [] == sent.calls


class TestLostMessages:
    def test_a_message_popped_by_a_worker_that_died_is_sent_again_and_its_articles_land_once(
        self, cli, start_worker, redis_url: str, tmp_path: Path
    ) -> None:
        """One process batch is taken off its queue and dropped; its four articles still land, once."""
        expected = write_archive(tmp_path / "archive", range(40))
        env = {"REDIS_URL": redis_url, **FAST_REDELIVERY}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        reader = start_worker("reader", env=env, queues="poll")
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.llen("process") == 10, timeout=120)
        store = RedisStore(redis_url)
        assert 10 == store.ledger_count("process")

        stolen = json.loads(r.rpop("process"))["headers"]["id"]  # BRPOP's pop, and no unacked record
        worker = start_worker("w", env=env)
        finished = wait_for(
            lambda: r.xlen("articles") >= len(expected) and idle(r) and not recorded(store),
            timeout=150,
        )

        assert finished, {"emitted": r.xlen("articles"), "recorded": recorded(store)}
        assert_exactly_once(expected, r, tmp_path / "out")
        # Any worker sweeps, whatever its queues.
        assert [stolen] == [e["task_id"] for w in (reader, worker) for e in w.events("task_resent")]
        assert 1 == store.counters()["tasks_resent"]


class TestEmbeddedBroker:
    def test_a_message_file_gone_with_a_stopped_worker_is_sent_again_at_start(
        self, cli, start_worker, base_env: dict[str, str], tmp_path: Path
    ) -> None:
        """Embedded mode: a process message lost with its worker is sent by the next worker's start."""
        ids = write_archive(tmp_path / "archive", range(40))
        env = {k: v for k, v in FAST_REDELIVERY.items() if k != "INGEST_VISIBILITY_TIMEOUT_S"}
        queue = Path(base_env["INGEST_STATE_DIR"]) / "broker" / "queue"
        reader = start_worker("reader", env=env, queues="poll")
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: len(list(queue.glob("*.process.msg"))) == 10, timeout=120)
        reader.stop()

        gone = sorted(queue.glob("*.process.msg"))[3]
        stolen = json.loads(gone.read_bytes())["headers"]["id"]
        gone.unlink()  # what the filesystem transport does as it hands a message to a worker
        worker = start_worker("w", env=env)
        store = SQLiteStore(Path(base_env["INGEST_STATE_DIR"]) / "state.sqlite3")
        finished = wait_for(
            lambda: len(read_jsonl(tmp_path / "out")) >= len(ids) and not recorded(store),
            timeout=150,
        )

        assert finished, {"records": len(read_jsonl(tmp_path / "out"))}
        assert sorted(ids) == sorted(rec["id"] for rec in read_jsonl(tmp_path / "out"))
        assert [stolen] == [e["task_id"] for e in worker.events("task_resent")]
