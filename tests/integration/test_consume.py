"""The example consumer reads the stream through a consumer group and takes over a dead consumer's entries."""

from __future__ import annotations

import io
import json

import pytest
import redis

from worker import config
from worker.delivery.consume import consume, ensure_group
from worker.delivery.redis_stream import RedisStreamSink

pytestmark = pytest.mark.integration


def _records(n: int) -> list[dict]:
    return [{"id": f"{i:016x}", "url": f"http://example.org/{i}"} for i in range(n)]


class TestConsume:
    def test_each_entry_is_read_and_acknowledged_once(self, redis_url: str) -> None:
        """Two runs of the same group see every entry once in total and leave nothing pending."""
        RedisStreamSink(redis_url).write(_records(5))
        settings = config.load({"REDIS_URL": redis_url})
        out = io.StringIO()

        first = consume(settings, group="g", consumer="c1", count=3, block_ms=100, out=out)
        second = consume(settings, group="g", consumer="c1", count=10, block_ms=100, out=out)
        r = redis.Redis.from_url(redis_url)

        assert (3, 2) == (first, second)
        assert [rec["id"] for rec in _records(5)] == [
            json.loads(x)["id"] for x in out.getvalue().splitlines()
        ]
        assert 0 == r.xpending("articles", "g")["pending"]

    def test_entries_left_pending_by_a_dead_consumer_are_reclaimed(self, redis_url: str) -> None:
        """Entries read but never acknowledged by a consumer that died are handled by another."""
        RedisStreamSink(redis_url).write(_records(4))
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        ensure_group(r, "articles", "g")
        r.xreadgroup("g", "dead-consumer", {"articles": ">"}, count=4)  # reads, then "dies"
        out = io.StringIO()

        n = consume(
            config.load({"REDIS_URL": redis_url}),
            group="g",
            consumer="c2",
            count=4,
            min_idle_ms=0,
            block_ms=100,
            out=out,
        )

        assert 4 == n
        assert 0 == r.xpending("articles", "g")["pending"]
