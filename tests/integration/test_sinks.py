"""The sinks write each record exactly once, across instances, restarts and crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from worker.delivery.jsonl import JsonlSink
from worker.delivery.redis_stream import RedisStreamSink

pytestmark = pytest.mark.integration


def rec(i: int) -> dict:
    """Return a small record with id `i`."""
    return {"id": f"{i:016x}", "url": f"http://example.org/{i}", "text": f"article {i}"}


def lines(out: Path) -> list[dict]:
    """Return every record in the JSONL files of `out`."""
    return [json.loads(x) for f in sorted(out.glob("*.jsonl")) for x in f.read_text().splitlines()]


class TestJsonlSink:
    def test_records_are_written_once_across_instances(self, tmp_path: Path) -> None:
        """A second sink on the same folder (a restarted worker) skips what the first wrote."""
        first = JsonlSink(tmp_path).write([rec(1), rec(2), rec(1)])
        second = JsonlSink(tmp_path).write([rec(2), rec(3)])

        assert (2, 1) == (first, second)
        assert [rec(1), rec(2), rec(3)] == lines(tmp_path)

    def test_lines_written_but_not_indexed_are_found_after_a_crash(self, tmp_path: Path) -> None:
        """A writer that died after writing but before indexing leaves no duplicate behind."""
        sink = JsonlSink(tmp_path)
        sink.write([rec(1)])
        path = next(tmp_path.glob("*.jsonl"))
        with path.open("a") as f:  # what the dead writer managed to write
            f.write(json.dumps(rec(2)) + "\n")

        written = JsonlSink(tmp_path).write([rec(2), rec(3)])

        assert 1 == written
        assert [rec(1), rec(2), rec(3)] == lines(tmp_path)

    def test_a_partial_last_line_is_cut(self, tmp_path: Path) -> None:
        """A torn line from a crash mid-write is removed; the record is then written whole."""
        sink = JsonlSink(tmp_path)
        sink.write([rec(1)])
        path = next(tmp_path.glob("*.jsonl"))
        with path.open("a") as f:
            f.write(json.dumps(rec(2))[:10])

        JsonlSink(tmp_path).write([rec(2)])

        assert [rec(1), rec(2)] == lines(tmp_path)
        assert path.read_text().endswith("\n")


class TestRedisStreamSink:
    def test_entries_are_added_once_with_id_url_data(self, redis_url: str) -> None:
        """A record already emitted is not added again, even by another sink instance."""
        a = RedisStreamSink(redis_url, stream="s")
        b = RedisStreamSink(redis_url, stream="s")

        counts = (a.write([rec(1), rec(2)]), b.write([rec(2), rec(3)]))
        entries = redis.Redis.from_url(redis_url, decode_responses=True).xrange("s")

        assert (2, 1) == counts
        assert [rec(1), rec(2), rec(3)] == [json.loads(f["data"]) for _, f in entries]
        assert [(r["id"], r["url"]) for r in (rec(1), rec(2), rec(3))] == [
            (f["id"], f["url"]) for _, f in entries
        ]

    def test_stream_is_trimmed_approximately(self, redis_url: str) -> None:
        """MAXLEN ~ keeps the stream near its configured length."""
        sink = RedisStreamSink(redis_url, stream="s", maxlen=100)
        for start in range(0, 1000, 50):
            sink.write([rec(i) for i in range(start, start + 50)])

        length = redis.Redis.from_url(redis_url).xlen("s")

        assert 100 <= length < 1000
