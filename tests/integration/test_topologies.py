"""
The pipeline's promises on each of the three topologies a deployment can choose (issue 13).

- `embedded`: no `REDIS_URL`: the filesystem broker, SQLite state, JSONL only;
- `redis`: one Redis as broker, state store and stream, with the ledger;
- `rabbitmq-cluster`: RabbitMQ as broker (quorum queues, no ledger), state and
  stream on a 3-master Redis Cluster.

The same scenarios run on each, with real worker processes: the seed end to
end (and enqueued again, nothing new), two workers on one feed, and kill -9 of
every worker mid-run.  Each ends with every article once in the JSONL files
and, where there is one, once in the stream.  `make test-topologies` runs
this module alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from tests.conftest import SEED
from tests.integration.conftest import CLI, RabbitVhost, WorkerProcess, in_flight, jsonl_ids, wait_for
from tests.integration.httpserver import HTTPTestServer
from tests.integration.test_faults import idle, write_archive
from tests.integration.test_faults import progress as redis_progress
from tests.integration.test_ingest_e2e import read_jsonl, serve_feed
from tests.integration.test_rabbitmq import done
from worker.ids import article_id
from worker.state.redis.base import close as close_client

pytestmark = [pytest.mark.integration, pytest.mark.topology]

# Small enough that a Redis broker hands a dead worker's unacked tasks back within seconds; the
# task time limit stays below it, as production settings must.  NER is the slow stage and not
# what these tests are about; small batches spread the work over the workers.
QUICK = {
    "INGEST_VISIBILITY_TIMEOUT_S": "10",
    "INGEST_TASK_TIME_LIMIT_S": "8",
    "INGEST_BATCH_SIZE": "4",
    "INGEST_NER_LANGUAGES": "",
    "INGEST_HOST_RATE": "50",
}
TOPOLOGIES = ["embedded", "redis", "rabbitmq-cluster"]


def frozen_holding(workers: list[WorkerProcess], topology: Topology) -> bool:
    """Pause `workers`; return True, leaving them paused, if they hold a message; else resume them."""
    for w in workers:
        w.pause()
    if topology.holding():
        return True
    for w in workers:
        w.resume()
    return False


@dataclass
class Topology:
    """Where a test's workers send, keep and emit: the environment they get, and how to read the result."""

    name: str
    env: dict[str, str]
    out: Path
    stream: Any = None  # a client of the Redis (or cluster) holding the stream; None when embedded
    rabbit: RabbitVhost | None = None
    queue_dir: Path | None = None  # the filesystem broker's messages, when embedded

    def emitted(self) -> int:
        """Return how many records have been emitted (stream entries, or JSONL lines when embedded)."""
        return (
            int(self.stream.xlen("articles"))
            if self.stream is not None
            else len(jsonl_ids(self.out, whole_lines=True))
        )

    def stream_ids(self) -> list[str] | None:
        """Return the `id` of every stream entry, or None when the topology has no stream."""
        if self.stream is None:
            return None
        return [f["id"] for _, f in self.stream.xrange("articles")]

    def settled(self) -> bool:
        """Return True when the broker holds no message, waiting or delivered-but-unacknowledged."""
        if self.rabbit is not None:
            return self.rabbit.settled()
        if self.queue_dir is not None:
            # The filesystem broker deletes a message as a worker takes it: the ledger says what is held.
            return not any(self.queue_dir.glob("*.msg")) and not any(in_flight(self.env).values())
        return idle(self.stream)

    def holding(self) -> bool:
        """Return True when a worker holds a message it took and has not finished (where that can be seen)."""
        if self.queue_dir is not None:
            return sum(in_flight(self.env).values()) > len(list(self.queue_dir.glob("*.msg")))
        if self.rabbit is None:
            return int(self.stream.hlen("unacked")) > 0
        return True  # AMQP does not say what a consumer holds; the workers' prefetch always holds some

    def progress(self) -> dict[str, object]:
        """Say where a run stands: what a timed-out wait shows instead of a bare False."""
        found: dict[str, object] = {"emitted": self.emitted(), "ledger": in_flight(self.env)}
        if self.rabbit is not None:
            found["rabbitmq"] = self.rabbit.counts()
        elif self.queue_dir is not None:
            found["queued_files"] = len(list(self.queue_dir.glob("*.msg")))
        else:
            found.update(redis_progress(self.stream))
        return found

    def assert_exactly_once(self, expected: set[str]) -> None:
        """Every expected article is in JSONL (and the stream, if any), once each, and nothing else is."""
        assert sorted(expected) == sorted(rec["id"] for rec in read_jsonl(self.out))
        in_stream = self.stream_ids()
        if in_stream is not None:
            assert sorted(expected) == sorted(in_stream)


@pytest.fixture(params=TOPOLOGIES)
def topology(request: pytest.FixtureRequest, base_env: dict[str, str], tmp_path: Path) -> Iterator[Topology]:
    """One of the three topologies, with everything it needs started and empty."""
    name = request.param
    out = tmp_path / "out"
    env = {**base_env, **QUICK}
    if name == "embedded":
        yield Topology(name, env, out, queue_dir=Path(base_env["INGEST_STATE_DIR"]) / "broker" / "queue")
        return
    rabbit: RabbitVhost | None = None
    if name == "redis":
        url = request.getfixturevalue("redis_url")
        client: Any = redis.Redis.from_url(url, decode_responses=True)
    else:
        rabbit = request.getfixturevalue("rabbitmq")
        url = request.getfixturevalue("cluster_url")
        client = RedisCluster.from_url(url, decode_responses=True)
        env["BROKER_URL"] = rabbit.url
    try:
        yield Topology(name, {**env, "REDIS_URL": url}, out, stream=client, rabbit=rabbit)
    finally:
        close_client(client)


class TestSeedEndToEnd:
    def test_seed_enqueued_twice_gives_one_record(
        self,
        topology: Topology,
        cli: CLI,
        start_service: Callable[[str, dict[str, str]], WorkerProcess],
        tmp_path: Path,
    ) -> None:
        """`run --no-beat`, then `ingest --enqueue` of the seed: one record; enqueued again, none more."""
        seed_dir = tmp_path / "archive"
        seed_dir.mkdir()
        shutil.copy(SEED, seed_dir / SEED.name)
        worker = start_service("seed", topology.env)

        for n in (1, 2):
            assert 0 == cli("ingest", "--enqueue", str(seed_dir), env=topology.env).returncode
            assert wait_for(lambda n=n: len(done(worker, "poll_source")) == n, timeout=60)
            # Every item a poll queued went through a process task.
            queued = sum(e["queued"] for e in done(worker, "poll_source"))
            assert wait_for(lambda q=queued: sum(e["items"] for e in done(worker, "process_items")) == q)
        assert wait_for(topology.settled, timeout=60), topology.progress()
        records = read_jsonl(topology.out)

        assert ["Top Syrian Diplomat Passes Assad's Thanks to Russia"] == [r["title"] for r in records]
        assert topology.stream_ids() in (None, [records[0]["id"]])
        # The second poll saw the same item and queued it again, or did not; either way nothing more.
        assert {"poll": 0, "fetch": 0, "process": 0} == in_flight(topology.env)


class TestTwoWorkers:
    def test_two_workers_fed_the_same_feed_never_emit_an_article_twice(
        self,
        topology: Topology,
        cli: CLI,
        start_worker: Callable[..., WorkerProcess],
        http_server: HTTPTestServer,
    ) -> None:
        """Two worker processes, the same articles queued four times over (a feed and its mirror, twice)."""
        ids = list(range(200, 216))
        url = serve_feed(http_server, ids)
        http_server.route("/mirror.xml", http_server.routes["/feed.xml"])
        start_worker("w1", env=topology.env)
        start_worker("w2", env=topology.env)

        for feed in (url, http_server.url("/mirror.xml")) * 2:
            assert 0 == cli("ingest", "--enqueue", feed, env=topology.env).returncode
        assert wait_for(lambda: topology.emitted() >= len(ids), timeout=180), topology.progress()
        # A doubled record would come from straggling duplicate work: let it finish before counting.
        assert wait_for(topology.settled, timeout=60), topology.progress()

        topology.assert_exactly_once({article_id(http_server.url(f"/article/{i}")) for i in ids})


class TestKilledWorkers:
    def test_kill_9_of_every_worker_loses_and_doubles_nothing(
        self,
        topology: Topology,
        cli: CLI,
        start_worker: Callable[..., WorkerProcess],
        tmp_path: Path,
    ) -> None:
        """
        SIGKILL of both worker pools mid-run: after two new workers finish, each article is there once.

        What brings the killed workers' tasks back differs: RabbitMQ requeues
        what was unacknowledged; kombu's Redis transport restores its unacked
        messages after the visibility timeout, and the ledger resends what it
        popped without recording; with the filesystem broker, a starting
        worker resends every recorded message whose file is gone.
        """
        expected = write_archive(tmp_path / "archive", range(1000))
        first = [start_worker(f"k{n}", env=topology.env, concurrency=2) for n in (1, 2)]
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=topology.env).returncode
        # Killed while they hold tasks: a worker of the filesystem broker waits for its next poll when
        # idle, and a message being published is in the ledger before its file is written.  So the
        # workers are frozen before the look: what they hold then is what they hold when killed.
        mid_run = lambda: topology.emitted() >= 150 and frozen_holding(first, topology)  # noqa: E731
        assert wait_for(mid_run, timeout=120, interval=0.02), topology.progress()
        ledger_mid_run = in_flight(topology.env)

        for w in first:
            w.kill()
        emitted_at_kill = topology.emitted()
        print(f"{topology.name}: in flight at the kill: {len(expected) - emitted_at_kill} of {len(expected)}")
        assert emitted_at_kill < len(expected)
        later = [start_worker(f"k{n}", env=topology.env, concurrency=2) for n in (3, 4)]
        finished = wait_for(lambda: topology.emitted() >= len(expected), timeout=180)
        assert finished, topology.progress()
        # A doubled record would come from a straggler: give it the chance.
        assert wait_for(topology.settled, timeout=60), topology.progress()

        topology.assert_exactly_once(expected)
        resent = [e for w in first + later for e in w.events("task_resent")]
        if topology.rabbit is not None:
            # The broker's acknowledgements alone: no ledger was kept and nothing was resent.
            assert {"poll": 0, "fetch": 0, "process": 0} == ledger_mid_run
            assert [] == resent
        else:
            assert sum(ledger_mid_run.values()) > 0
        if topology.queue_dir is not None:
            # The killed workers had taken messages (their files gone): the next start sent them again.
            assert resent
