"""
The pipeline on RabbitMQ (`BROKER_URL=amqp://…`): quorum queues, publisher confirms, no ledger.

Real worker processes on a vhost of the session's own, with state and
stream on the session's Redis (or SQLite when `REDIS_URL` is unset).  The
promise of issue 13: the broker's acknowledgements alone lose nothing when
every worker is killed, and a message that kills its worker each time ends
as a dead letter after the delivery limit instead of coming back for ever.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kombu
import pytest
import redis
from redis.cluster import RedisCluster
from structlog.testing import capture_logs

from tests.conftest import ROOT, SEED
from tests.integration.conftest import CLI, RabbitVhost, WorkerProcess, free_port, in_flight, wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response
from tests.integration.test_ingest_e2e import read_jsonl, serve_feed
from tests.integration.test_service import EXPECTED_TITLES, start, stop
from worker.app import deadletters
from worker.app.broker import DEAD_QUEUE
from worker.dispatch import QUEUES
from worker.ids import article_id
from worker.models import default_name
from worker.state.redis.base import close as close_client
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

# NER is the slow stage and not what these tests are about; small batches spread work over workers.
QUICK = {"INGEST_NER_LANGUAGES": "", "INGEST_BATCH_SIZE": "4"}


def done(worker: WorkerProcess, task: str) -> list[dict[str, Any]]:
    """Return the `task_done` events of `task` the worker logged."""
    return [e for e in worker.events("task_done") if e.get("task") == task]


def state_redis(kind: str, request: pytest.FixtureRequest) -> tuple[str, Any]:
    """Return the URL of the state Redis of a topology (one Redis or a 3-master cluster) and a client."""
    if kind == "cluster":
        url = request.getfixturevalue("cluster_url")
        client: Any = RedisCluster.from_url(url, decode_responses=True)
    else:
        url = request.getfixturevalue("redis_url")
        client = redis.Redis.from_url(url, decode_responses=True)
    request.addfinalizer(lambda: close_client(client))
    return url, client


class TestSeedEndToEnd:
    @pytest.mark.parametrize("state", ["redis", "sqlite"])
    def test_seed_enqueued_twice_gives_one_record(
        self,
        state: str,
        cli: CLI,
        start_service: Callable[[str, dict[str, str]], WorkerProcess],
        rabbitmq: RabbitVhost,
        request: pytest.FixtureRequest,
        tmp_path: Path,
    ) -> None:
        """
        `run --no-beat` on RabbitMQ, `ingest --enqueue` of the seed: one record; enqueued again, none.

        With state in one Redis, in SQLite, or in a 3-master Redis Cluster (issue 13's "done when").
        """
        seed_dir = tmp_path / "archive"
        seed_dir.mkdir()
        shutil.copy(SEED, seed_dir / SEED.name)
        env = {"BROKER_URL": rabbitmq.url, **QUICK}
        r = None
        if state != "sqlite":
            env["REDIS_URL"], r = state_redis(state, request)
        worker = start_service("seed", env)

        for n in (1, 2):
            assert 0 == cli("ingest", "--enqueue", str(seed_dir), env=env).returncode
            assert wait_for(lambda n=n: len(done(worker, "poll_source")) == n, timeout=60)
            # Every item a poll queued went through a process task.
            queued = sum(e["queued"] for e in done(worker, "poll_source"))
            assert wait_for(lambda q=queued: sum(e["items"] for e in done(worker, "process_items")) == q)
        assert rabbitmq.settled()
        records = read_jsonl(tmp_path / "out")

        assert ["Top Syrian Diplomat Passes Assad's Thanks to Russia"] == [r["title"] for r in records]
        if r is not None:
            assert [records[0]["id"]] == [f["id"] for _, f in r.xrange("articles")]
        # The workers' own state (base_env names a private INGEST_STATE_DIR), never ./var of the checkout.
        assert {"poll": 0, "fetch": 0, "process": 0} == in_flight(
            {**request.getfixturevalue("base_env"), **env}
        )


def pool_children(worker: WorkerProcess) -> list[int]:
    """Return the pids of a worker's pool processes (the children of its main process)."""
    pid = worker.proc.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.fixture
def delivery_limit(rabbitmq: RabbitVhost) -> Iterator[int]:
    """
    Lower the fetch queue's delivery limit to 2 with a policy (the lower of policy and argument applies).

    A killed pool process is given up on after Celery's `worker_lost_wait`
    (10 s), so the declared limit would take minutes of crashes; the
    argument itself is checked in tests/unit/test_broker.py.
    """
    rabbitmq.set_policy("test-delivery-limit", "^fetch$", {"delivery-limit": 2})
    yield 2
    rabbitmq.clear_policy("test-delivery-limit")


class TestDeliveryLimit:
    def test_a_fetch_that_kills_its_worker_each_time_ends_as_a_dead_letter(
        self,
        cli: CLI,
        start_worker: Callable[..., WorkerProcess],
        http_server: HTTPTestServer,
        rabbitmq: RabbitVhost,
        delivery_limit: int,
        redis_url: str,
    ) -> None:
        """A fetch killing its pool process each time: delivered limit + 1 times, then one dead letter."""
        url = serve_feed(http_server, [1, 666])

        released = threading.Event()

        def hang(_: Request) -> Response:
            def body() -> Iterator[bytes]:
                yield b"<html>"
                released.wait(60)  # never answered in time: the test kills the process fetching it

            return Response(body=body(), headers={"Content-Type": "text/html"})

        def fetches() -> int:
            return len(http_server.requests_to("/article/666"))

        http_server.route("/article/666", hang)
        env = {"BROKER_URL": rabbitmq.url, "REDIS_URL": redis_url, "INGEST_HOST_RATE": "50", **QUICK}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        worker = start_worker("c1", env=env)
        assert 0 == cli("ingest", "--enqueue", url, env=env).returncode

        crashes = 0
        deadline = time.monotonic() + 120
        while not r.exists("articles:dead") and time.monotonic() < deadline:
            if fetches() > crashes:
                crashes = fetches()
                for pid in pool_children(worker):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        time.sleep(2)  # one more delivery would show as one more fetch
        released.set()
        (_, letter), *others = r.xrange("articles:dead")

        assert delivery_limit + 1 == crashes == fetches()
        assert [] == others
        assert ("fetch", default_name(url)) == (letter["stage"], letter["source"])
        assert letter["reason"].startswith("DeliveryLimit: "), letter["reason"]
        assert json.loads(letter["payload"])["url"].startswith(http_server.url("/article/666"))
        assert [article_id(http_server.url("/article/1"))] == [f["id"] for _, f in r.xrange("articles")]
        assert {"poll": 0, "fetch": 0, "process": 0, DEAD_QUEUE: 0} == rabbitmq.ready([*QUEUES, DEAD_QUEUE])


REASON = {"x-first-death-reason": "delivery_limit", "x-first-death-queue": "process"}


class TestDeadQueueRecords:
    """What the worker's drain makes of each kind of message RabbitMQ dead-letters (a real SQLite store)."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "state.sqlite3")
        yield s
        s.close()

    def test_a_process_batch_gives_one_record_per_item(self, store: SQLiteStore) -> None:
        """Each item of the batch is a `process` letter `dead retry` can send again on its own."""
        items = [{"url": f"http://example.org/{i}", "source": {"name": "wire"}} for i in range(3)]
        headers = {"task": "worker.process_items", "id": "t1", **REASON}

        n = deadletters.handle(store, headers, lambda: [[items], {}, {}])
        letters = store.dead_letters(10)

        assert 3 == n
        assert [("process", "wire")] * 3 == [(d.stage, d.source) for d in letters]
        assert sorted(i["url"] for i in items) == sorted(d.payload["url"] for d in letters)
        assert {deadletters.reason_of(REASON)} == {d.reason for d in letters}

    def test_a_feed_poll_is_dropped_as_its_schedule_brings_it_back(self, store: SQLiteStore) -> None:
        """A feed's poll (no archive position) is not a letter: the feed stays due."""
        headers = {"task": "worker.poll_source", **REASON}

        n = deadletters.handle(store, headers, lambda: [[{"location": "http://x/feed"}, None], {}, {}])

        assert (0, []) == (n, store.dead_letters(10))

    @pytest.mark.parametrize(
        ("task", "body"),
        [("worker.fetch_article", None), ("someone.elses_task", [[1, 2], {}, {}])],
        ids=["unreadable-body", "unknown-task"],
    )
    def test_a_message_nobody_can_run_is_kept_as_a_broker_letter(
        self, store: SQLiteStore, task: str, body: object
    ) -> None:
        """Nothing vanishes: an unreadable body or a foreign task is a `broker` letter naming the task."""

        def decode() -> object:
            if body is None:
                raise ValueError("not JSON")
            return body

        deadletters.handle(store, {"task": task, "id": "t2", **REASON}, decode)
        (letter,) = store.dead_letters(10)

        assert ("broker", task, "t2") == (letter.stage, letter.payload["task"], letter.payload["id"])


class TestDrainBackoff:
    def test_a_broker_down_is_tried_less_and_less_often_and_its_return_is_said(
        self, rabbitmq: RabbitVhost, tmp_path: Path
    ) -> None:
        """
        Failures in a row double the drain's wait up to its cap; the first success resets it.

        The broker is real both times: a port nobody listens on, then the test's vhost.
        """
        url = [f"amqp://guest:guest@127.0.0.1:{free_port()}/none"]
        store = SQLiteStore(tmp_path / "state.sqlite3")
        drain = deadletters.Drain(lambda: kombu.Connection(url[0], connect_timeout=2), lambda: store)

        with capture_logs() as logs:
            waits = [drain.run_safely() for _ in range(7)]
            url[0] = rabbitmq.url
            after = [drain.run_safely(), drain.run_safely()]
        drain.close()
        store.close()

        cap = deadletters.DRAIN_MAX_WAIT_S
        assert [10.0, 20.0, 40.0, 80.0, 160.0, cap, cap] == waits
        assert [deadletters.DRAIN_INTERVAL_S] * 2 == after
        events = [e["event"] for e in logs]
        assert ["dead_queue_drain_failed"] * 7 + ["dead_queue_drain_recovered"] == events
        assert 7 == logs[-1]["failures"]


class TestHealth:
    def test_health_reads_the_amqp_broker_queues(
        self, cli: CLI, rabbitmq: RabbitVhost, redis_url: str
    ) -> None:
        """`health` reads each RabbitMQ queue's ready messages (no worker runs: it still exits 1 for that)."""
        env = {"BROKER_URL": rabbitmq.url, "REDIS_URL": redis_url}
        archive = ROOT / "schedules" / "examples" / "archive"
        assert 0 == cli("ingest", "--enqueue", str(archive), env=env).returncode

        proc = cli("health", "--compact", env=env, timeout=60)
        report = json.loads(proc.stdout)

        assert ("amqp", True) == (report["broker"]["transport"], report["broker"]["ok"])
        assert {"poll": 1, "fetch": 0, "process": 0} == report["broker"]["queue_depths"]
        assert (0, True) == (report["broker"]["dead_queue"], report["redis"]["eviction_safe"])
        assert "tasks_in_flight" not in report["state_store"]
        assert report["sink_stream"]["ok"]

    def test_health_fails_fast_when_rabbitmq_is_down(self, cli: CLI, tmp_path: Path) -> None:
        """A broker nobody answers at: exit 1 with the error, within seconds, state (SQLite) still fine."""
        env = {"BROKER_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/none"}

        started = time.monotonic()
        proc = cli("health", "--compact", env=env, timeout=60)
        took = time.monotonic() - started
        report = json.loads(proc.stdout)

        assert 1 == proc.returncode
        assert (False, "amqp") == (report["broker"]["ok"], report["broker"]["transport"])
        assert report["broker"]["error"]
        assert report["state_store"]["ok"]
        assert took < 20


class TestScaleProfile:
    def test_compose_commands_run_worker_and_beat_on_rabbitmq(
        self, base_env: dict[str, str], rabbitmq: RabbitVhost, redis_url: str, tmp_path: Path
    ) -> None:
        """The scale profile's commands (`run --no-beat`, `celery beat`) on RabbitMQ fill the stream once."""
        env = {
            **base_env,
            **QUICK,
            "BROKER_URL": rabbitmq.url,
            "REDIS_URL": redis_url,
            "INGEST_SCHEDULES_DIR": str(ROOT / "schedules"),
            "INGEST_TICK_S": "1",
        }
        worker = start(
            [sys.executable, "-m", "worker", "run", "--no-beat", "--concurrency", "1"],
            env,
            tmp_path / "w.log",
        )
        beat_argv = [
            "celery",
            "-A",
            "worker.app.celery_app",
            "beat",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ]
        beat = start([sys.executable, "-m", *beat_argv], env, tmp_path / "beat.log")
        r = redis.Redis.from_url(redis_url, decode_responses=True)

        def stream_titles() -> set[str]:
            return {json.loads(f["data"])["title"] for _, f in r.xrange("articles")}

        try:
            found = wait_for(lambda: stream_titles() >= EXPECTED_TITLES, timeout=120)
        finally:
            codes = (stop(worker), stop(beat))
        log = (tmp_path / "w.log").read_text(errors="replace")[-3000:]

        assert found, log
        assert len(EXPECTED_TITLES) == r.xlen("articles")
        assert (0, 0) == codes, log
