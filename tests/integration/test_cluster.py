"""Redis Cluster: detected from the server, refused as a broker, carrying state and stream (with RabbitMQ)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from worker import config
from worker.app import broker, health
from worker.delivery.redis_stream import RedisStreamSink
from worker.errors import ConfigError
from worker.state.redis import RedisStore
from worker.state.redis.base import close as close_client
from worker.state.redis.base import is_cluster

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
