"""The sinks write each record exactly once, across instances, restarts and crashes."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
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


def day(n: int, hour: int = 12, minute: int = 0) -> datetime:
    """Return a time on day `n` of a fixed month (UTC)."""
    return datetime(2024, 5, 1, hour, minute, tzinfo=UTC) + timedelta(days=n)


def indexed(out: Path) -> list[tuple[str, str]]:
    """Return the (id, file) rows of a sink's index."""
    with sqlite3.connect(out / ".jsonl-index.sqlite3") as db:
        return sorted(db.execute("SELECT id, file FROM written"))


def dead_writer(path: Path, *records: dict) -> None:
    """Append lines the way a writer does that dies before it updates the index."""
    with path.open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))


class TestJsonlRotation:
    def test_the_index_keeps_the_ids_of_the_last_days_files(self, tmp_path: Path) -> None:
        """With 2 days kept, the ids of older files are forgotten as the days pass; the files stay."""
        sink = JsonlSink(tmp_path, index_days=2)
        for n in range(4):
            sink.write([rec(n)], now=day(n))

        rows = indexed(tmp_path)
        again = sink.write([rec(0), rec(2), rec(3)], now=day(3))

        assert [(rec(n)["id"], f"articles-2024-05-0{n + 1}.jsonl") for n in (2, 3)] == rows
        assert 1 == again  # rec(0) is past the index: dedupe's own memory is the guard then
        assert 4 == len(list(tmp_path.glob("*.jsonl")))

    def test_a_large_backlog_is_pruned_a_batch_a_write(self, tmp_path: Path, monkeypatch) -> None:
        """An index far behind its days loses its old ids a batch per write, never all under one lock."""
        from worker.delivery import jsonl

        monkeypatch.setattr(jsonl, "_PRUNE_BATCH", 3)
        JsonlSink(tmp_path, index_days=2).write([rec(n) for n in range(7)], now=day(0))
        sink = JsonlSink(tmp_path, index_days=2)

        left = []
        for n in range(4):
            sink.write([rec(100 + n)], now=day(5))
            left.append(len([r for r in indexed(tmp_path) if r[1].endswith("05-01.jsonl")]))

        assert [4, 1, 0, 0] == left

    def test_a_crash_before_midnight_is_repaired_after_it(self, tmp_path: Path) -> None:
        """Lines a dead writer left in yesterday's file are indexed before today's first write."""
        JsonlSink(tmp_path).write([rec(1)], now=day(0, 23, 59))
        dead_writer(JsonlSink(tmp_path).path_for(day(0)), rec(2))

        written = JsonlSink(tmp_path).write([rec(2), rec(3)], now=day(1, 0, 1))

        assert 1 == written
        assert [rec(1), rec(2), rec(3)] == lines(tmp_path)

    def test_the_file_written_last_is_repaired_days_later(self, tmp_path: Path) -> None:
        """A service down for days still finds the lines its last write left unindexed."""
        JsonlSink(tmp_path).write([rec(1)], now=day(0))
        dead_writer(JsonlSink(tmp_path).path_for(day(0)), rec(2))

        written = JsonlSink(tmp_path).write([rec(2)], now=day(9))

        assert 0 == written
        assert [rec(1), rec(2)] == lines(tmp_path)


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
