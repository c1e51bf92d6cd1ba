"""Redis Cluster: detected from the server, refused as a broker, carrying state and stream (with RabbitMQ)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from tests.integration.conftest import free_port
from tests.support.cluster import RedisClusterServer
from worker import config
from worker.app import broker, health
from worker.delivery.redis_stream import RedisStreamSink
from worker.errors import ConfigError, StoreUnavailable
from worker.state.codec import feed_id
from worker.state.redis import RedisStore, layout
from worker.state.redis.base import _CLUSTER, is_cluster
from worker.state.redis.base import close as close_client

pytestmark = pytest.mark.integration


class TestDetection:
    def test_a_cluster_node_gets_a_cluster_client_and_a_single_node_a_plain_one(
        self, cluster_url: str, redis_url: str
    ) -> None:
        """INFO's `cluster_enabled` picks the client: the store on a cluster node routes by slot."""
        on_cluster, on_single = RedisStore(cluster_url), RedisStore(redis_url)

        assert (True, False) == (is_cluster(cluster_url), is_cluster(redis_url))
        assert isinstance(on_cluster.r, RedisCluster)
        assert not isinstance(on_single.r, RedisCluster)
        on_cluster.close()
        on_single.close()

    @pytest.mark.parametrize(
        "args",
        [("run", "--no-beat"), ("ingest", "--enqueue", "tests/fixtures")],
        ids=["run", "ingest-enqueue"],
    )
    def test_a_cluster_without_broker_url_exits_2_with_one_line(self, cli, cluster_url: str, args) -> None:
        """kombu's Redis transport cannot use a cluster: the command says so in one line, exit 2."""
        proc = cli(*args, env={"REDIS_URL": cluster_url}, timeout=60)

        assert 2 == proc.returncode, proc.stderr[-2000:]
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert 1 == len(lines), proc.stderr
        assert "Redis Cluster cannot be the broker" in lines[0]
        assert "BROKER_URL" in lines[0]
        assert "Traceback" not in proc.stderr


def record(article_id: str) -> dict:
    """Return the smallest record the stream sink writes."""
    return {"id": article_id, "url": f"https://example.com/{article_id}", "title": article_id}


class TestSeeds:
    def test_seeds_on_a_single_redis_are_refused_with_one_line(self, redis_url: str) -> None:
        """`?seeds=` names more nodes of a cluster: on a single Redis it is a mistake, said as such."""
        with pytest.raises(ConfigError, match="seeds= names nodes of a Redis Cluster"):
            is_cluster(f"{redis_url}?seeds=127.0.0.1:1")

    def test_a_command_with_seeds_on_a_single_redis_exits_2_with_one_line(self, cli, redis_url: str) -> None:
        """The worker's commands say so before they start: exit 2, one `error:` line, no traceback."""
        proc = cli(
            "ingest", "tests/fixtures", env={"REDIS_URL": f"{redis_url}?seeds=127.0.0.1:1"}, timeout=60
        )

        assert 2 == proc.returncode, proc.stderr[-2000:]
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert 1 == len(lines), proc.stderr
        assert "seeds= names nodes of a Redis Cluster" in lines[0]
        assert "Traceback" not in proc.stderr

    def test_a_dead_first_node_is_passed_over_for_a_seed(self, cluster_url: str, redis_cluster) -> None:
        """The URL's node refuses connections: the cluster is found through a seed."""
        dead = f"redis://127.0.0.1:{free_port()}/0"
        seeds = ",".join(f"127.0.0.1:{p}" for p in redis_cluster.ports)

        store = RedisStore(f"{dead}?seeds={seeds}", prefix="t:")
        store.mark_done("seeded", 60)

        assert (True, True) == (store.cluster, store.is_done("seeded"))
        store.close()


class TestOperations:
    def test_health_reads_the_store_the_stream_and_the_policy_on_a_cluster(
        self, cluster_url: str, tmp_path: Path
    ) -> None:
        """`health` on a cluster: the store answers, the stream and dead letters are read where they live."""
        env = {
            "REDIS_URL": cluster_url,
            "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",  # reachable or not: not what is checked
            "INGEST_STATE_DIR": str(tmp_path),
            "INGEST_OUT_DIR": str(tmp_path),
        }
        sink = RedisStreamSink(cluster_url)
        sink.write([record("h1")])
        sink.close()

        report = health.check(config.load(env), beat_required=False)

        assert True is report["state_store"]["ok"]
        assert (True, 1) == (report["sink_stream"]["ok"], report["sink_stream"]["length"])
        assert True is report["redis"]["eviction_safe"]

    def test_a_cluster_named_as_broker_url_is_refused_by_that_name(
        self, cluster_url: str, redis_url: str
    ) -> None:
        """`BROKER_URL=redis://<cluster node>` is refused too, naming BROKER_URL; a single Redis is not."""
        cluster = config.load({"REDIS_URL": redis_url, "BROKER_URL": cluster_url})
        single = config.load({"REDIS_URL": cluster_url, "BROKER_URL": redis_url})

        with pytest.raises(ConfigError, match=r"^BROKER_URL="):
            broker.refuse_cluster_broker(cluster)
        assert None is broker.refuse_cluster_broker(single)


class TestStreamSink:
    def test_a_record_is_added_once_on_a_cluster(self, cluster_url: str, redis_cluster) -> None:
        """The marker shares the stream's slot, so the check-and-add script runs on one node."""
        sink = RedisStreamSink(cluster_url, prefix="t:")

        first = sink.write([record("a1"), record("a2")])
        again = sink.write([record("a2"), record("a3")])

        client = redis_cluster.client()
        assert (2, 1, 3) == (first, again, client.xlen("articles"))
        assert 1 == client.exists("t:emitted:{articles}:a1")
        sink.close()
        close_client(client)

    def test_a_marker_of_the_previous_layout_still_counts_on_a_single_redis(self, redis_url: str) -> None:
        """An article emitted before the markers moved into the stream's slot is not emitted again."""
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        raw.set("t:emitted:articles:old", 1, ex=600)
        sink = RedisStreamSink(redis_url, prefix="t:")

        written = sink.write([record("old"), record("new")])

        assert (1, ["new"]) == (written, [f["id"] for _, f in raw.xrange("articles")])
        sink.close()
        raw.close()


class TestResharding:
    def test_claims_and_writes_follow_a_feed_shard_moved_to_another_node(
        self, cluster_url: str, redis_cluster
    ) -> None:
        """
        A store that knew the old slot map claims every due feed once after a shard's slot moved.

        The claim pipelines its shard scripts a node: the moved shard's scripts are
        answered MOVED by their old node and run again where the slot now lives.
        """
        store = RedisStore(cluster_url, prefix="t:")
        urls = [f"http://moved{i}.example/feed" for i in range(64)]
        for i, url in enumerate(urls[:32]):
            store.schedule(url, 10.0 + i)
        assert urls[:4] == store.claim_due(20.0, 4, lease_s=10_000)  # the client has read the slot map
        moved = layout.shard_of(feed_id(urls[4]))
        source, target = redis_cluster.move_slot(f"{{feeds-{moved}}}")

        for i, url in enumerate(urls[32:]):
            store.schedule(url, 50.0 + i)
        claimed = store.claim_due(1000.0, 100, lease_s=600)

        assert source != target
        assert urls[4:] == claimed
        assert [] == store.claim_due(1000.0, 100, lease_s=600)
        store.close()

    def test_a_pipelined_script_answered_moved_runs_again_where_its_slot_went(
        self, cluster_url: str, redis_cluster
    ) -> None:
        """Scripts pipelined a node by a client with a stale slot map: each answer is still right."""
        store = RedisStore(cluster_url, prefix="t:")
        urls = [f"http://stale{i}.example/feed" for i in range(48)]
        for i, url in enumerate(urls):
            store.schedule(url, 10.0 + i)
        buckets = sorted({feed_id(url)[:4] for url in urls})
        calls = [("due_heads", [layout.due_key("t:", b)], ["1000.0", 100]) for b in buckets]
        before = store._scripts_run(calls)
        moved = layout.shard_of(buckets[0])
        source, target = redis_cluster.move_slot(f"{{feeds-{moved}}}")
        stale = store.r.get_node_from_key(layout.due_key("t:", buckets[0])).port

        after = store._scripts_run(calls)

        assert (source, target) == (stale, store.r.get_node_from_key(layout.due_key("t:", buckets[0])).port)
        assert before == after
        assert 2 * len(urls) == sum(len(flat) for rows in after for flat in rows)  # member, score
        store.close()


@pytest.fixture
def replicated_cluster(tmp_path: Path) -> Iterator[RedisClusterServer]:
    """A cluster of its own (a test kills a master): 3 masters, a replica each, 2 s node timeout."""
    cluster = RedisClusterServer(tmp_path, replicas=1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


class TestFailover:
    def test_a_running_store_and_stream_go_on_after_the_seed_master_is_killed(
        self, replicated_cluster: RedisClusterServer
    ) -> None:
        """
        SIGKILL of the master `REDIS_URL` names: its replica takes over and nothing replicated is lost.

        The store and the sink were opened from that node and keep a slot map naming
        it; their next calls follow the cluster to the promoted replica: every due
        feed is claimed once, done articles and content claims are still there, and
        an emitted record is not emitted again.
        """
        url = replicated_cluster.url
        store, sink = RedisStore(url, prefix="t:"), RedisStreamSink(url, prefix="t:")
        urls = [f"http://failover{i}.example/feed" for i in range(64)]
        for i, feed in enumerate(urls):
            store.schedule(feed, 10.0 + i)
        for i in range(40):
            store.mark_done(f"done{i}", 3600)
            assert None is store.claim_content(f"hash{i}", f"done{i}", 3600)
        assert 2 == sink.write([record("s1"), record("s2")])
        seed = replicated_cluster.ports[0]
        shards = [layout.shard_of(feed_id(feed)) for feed in urls]
        on_seed = [s for s in shards if replicated_cluster.serves(seed, f"{{feeds-{s}}}")]
        assert on_seed, "no feed shard on the seed node: the test would kill nothing it reads"
        replicated_cluster.wait_replicated()

        killed, promoted = replicated_cluster.kill_master(f"{{feeds-{on_seed[0]}}}")

        claimed = store.claim_due(1000.0, 100, lease_s=600)
        assert (seed, True) == (killed, promoted != seed)
        assert sorted(urls) == sorted(claimed)
        assert [] == store.claim_due(1000.0, 100, lease_s=600)
        assert all(store.is_done(f"done{i}") for i in range(40))
        assert [f"done{i}" for i in range(40)] == [
            store.claim_content(f"hash{i}", f"other{i}", 3600) for i in range(40)
        ]
        assert 1 == sink.write([record("s2"), record("s3")])
        client = replicated_cluster.client()
        assert 3 == client.xlen("articles")
        for opened in (store, sink):
            opened.close()
        close_client(client)

        # A process starting now cannot find the cluster through the dead node alone; with seeds it can.
        _CLUSTER.clear()
        with pytest.raises(StoreUnavailable):
            RedisStore(url, prefix="t:").ping()
        _CLUSTER.clear()
        seeds = ",".join(f"127.0.0.1:{p}" for p in replicated_cluster.masters())
        later = RedisStore(f"{url}?seeds={seeds}", prefix="t:")
        assert (True, True) == (later.cluster, later.is_done("done0"))
        assert [] == later.claim_due(1500.0, 100, lease_s=600)  # still leased by the first claim
        later.close()


def test_a_node_whose_port_was_taken_starts_again_on_another(tmp_path: Path) -> None:
    """A port found free and taken before its node binds it (another server, a leftover) moves the node."""
    from tests.support.cluster import cluster_ports

    ports = cluster_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[0]))
        taken.listen()
        cluster = RedisClusterServer(tmp_path, ports=list(ports))
        try:
            cluster.start()
            client = cluster.client()
            client.set("k", "v")

            assert ports[0] not in cluster.ports
            assert ports[1:] == cluster.ports[1:]
            assert "v" == client.get("k")
            assert "Address already in use" in (tmp_path / f"node-{ports[0]}.log").read_text()
            client.close()
        finally:
            cluster.stop()
