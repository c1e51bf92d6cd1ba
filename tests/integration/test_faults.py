"""
Faults injected into a running service: killed workers, a restarted Redis, a full disk.

Each test runs real Celery worker processes on a Redis of its own and
checks the promise of issue 5: every article ends in the stream and in the
JSONL files exactly once, whatever dies on the way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import RedisServer, free_port, wait_for
from tests.integration.test_ingest_e2e import read_jsonl
from tests.support.corpus import article_page
from worker.dedup import article_id

pytestmark = pytest.mark.integration

QUEUES = ("poll", "fetch", "process")

# Small enough that Kombu hands a dead worker's unacked tasks back within
# seconds; the task time limit stays below it, as production settings must.
FAST_REDELIVERY = {
    "INGEST_VISIBILITY_TIMEOUT_S": "10",
    "INGEST_TASK_TIME_LIMIT_S": "8",
    "INGEST_BATCH_SIZE": "4",
    # NER is not what these tests are about and is the slow stage (~60 ms an
    # article on these machines); without it 1,000 articles fit the time budget.
    "INGEST_NER_LANGUAGES": "",
}


def write_archive(folder: Path, ids: range) -> set[str]:
    """Write one distinct HTML article page per id; return their article ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (folder / f"a{i:05d}.html").write_bytes(article_page(i))
    return {article_id(p.absolute().as_uri()) for p in folder.glob("*.html")}


def stream_ids(r: redis.Redis) -> list[str]:
    """Return the `id` field of every stream entry, in stream order."""
    return [f["id"] for _, f in r.xrange("articles")]


def idle(r: redis.Redis) -> bool:
    """Return True when no task is queued or delivered-but-unacked."""
    return all(r.llen(q) == 0 for q in QUEUES) and r.hlen("unacked") == 0


def assert_exactly_once(expected: set[str], r: redis.Redis, out: Path) -> None:
    """Every expected article is in the stream and in JSONL, once each, and nothing else is."""
    in_stream = stream_ids(r)
    in_jsonl = [rec["id"] for rec in read_jsonl(out)]

    assert sorted(expected) == sorted(in_stream)
    assert sorted(expected) == sorted(in_jsonl)


class TestKilledWorkers:
    def test_kill_9_of_every_worker_loses_and_doubles_nothing(
        self, cli, start_worker, redis_url: str, tmp_path: Path
    ) -> None:
        """SIGKILL of both worker pools mid-run: after two new workers finish, each article is there once."""
        expected = write_archive(tmp_path / "archive", range(1000))
        env = {"REDIS_URL": redis_url, **FAST_REDELIVERY}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        first = [start_worker(f"k{n}", env=env, concurrency=2) for n in (1, 2)]
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= 150, timeout=120, interval=0.05)

        for w in first:
            w.kill()
        emitted_at_kill = r.xlen("articles")
        print(f"in flight at the kill: {len(expected) - emitted_at_kill} of {len(expected)}")
        assert emitted_at_kill < len(expected)
        for n in (3, 4):
            start_worker(f"k{n}", env=env, concurrency=2)
        assert wait_for(lambda: r.xlen("articles") >= len(expected) and idle(r), timeout=150)
        time.sleep(1)  # a doubled entry would come from a straggler: give it the chance

        assert_exactly_once(expected, r, tmp_path / "out")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Start a Redis with the append-only file on, for this test alone (it gets stopped and restarted)."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder, appendonly=True)
    server.start()
    yield server
    server.stop()


class TestRedisRestart:
    def test_redis_stopped_and_restarted_mid_run_loses_and_doubles_nothing(
        self, cli, start_worker, own_redis: RedisServer, tmp_path: Path
    ) -> None:
        """Redis goes away for seconds mid-run; the same workers reconnect and finish every article once."""
        expected = write_archive(tmp_path / "archive", range(300))
        env = {"REDIS_URL": own_redis.url, **FAST_REDELIVERY}
        r = redis.Redis.from_url(own_redis.url, decode_responses=True)
        workers = [start_worker(f"r{n}", env=env, concurrency=2) for n in (1, 2)]
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= 40, timeout=120, interval=0.05)

        own_redis.stop()
        time.sleep(4)
        own_redis.start()
        emitted_at_restart = r.xlen("articles")
        print(f"emitted before the restart: {emitted_at_restart} of {len(expected)}")
        assert wait_for(lambda: r.xlen("articles") >= len(expected) and idle(r), timeout=150)
        time.sleep(1)

        assert [None, None] == [w.proc.poll() for w in workers]
        assert emitted_at_restart < len(expected)
        assert_exactly_once(expected, r, tmp_path / "out")
