"""Worker heartbeats and liveness (`worker.app.health`), over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.app import health
from worker.schedule import politeness
from worker.state.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A SQLite store of the test's own."""
    s = SQLiteStore(tmp_path / "state.sqlite3")
    yield s
    s.close()


class TestHeartbeats:
    def test_every_worker_seen_lately_is_listed(self, store: SQLiteStore) -> None:
        """Two workers beating are both seen; one silent for three periods is not."""
        health.beat_worker(store, "a@h", now=1000.0)
        health.beat_worker(store, "b@h", now=1005.0)

        assert {"a@h": 1000.0, "b@h": 1005.0} == health.workers_seen(store, now=1010.0)
        assert {"b@h": 1005.0} == health.workers_seen(store, now=1000.0 + health.LIVENESS_S + 1)

    def test_a_worker_leaving_is_gone_at_once(self, store: SQLiteStore) -> None:
        """The last heartbeat of a stopping worker removes it and keeps the others."""
        health.beat_worker(store, "a@h", now=1000.0)
        health.beat_worker(store, "b@h", now=1001.0)

        health.beat_worker(store, "a@h", now=1002.0, leaving=True)

        assert ["b@h"] == list(health.workers_seen(store, now=1003.0))


class TestLiveness:
    def test_no_worker_and_no_beat_is_not_ok(self, store: SQLiteStore) -> None:
        """Nothing seen: neither part is ok; without a required beat, its part is."""
        strict = health.liveness(store)
        lenient = health.liveness(store, beat_required=False)

        assert (False, False) == (strict["workers"]["ok"], strict["beat"]["ok"])
        assert (True, False) == (lenient["beat"]["ok"], lenient["beat"]["seen"])

    def test_a_worker_and_a_tick_are_ok(self, store: SQLiteStore) -> None:
        """A heartbeat and a dispatch tick in the last three periods: both ok, with the worker's age."""
        health.beat_worker(store, "a@h", now=1000.0)
        politeness.mark_tick(store, tick_s=5)

        found = health.liveness(store, now=1002.0)

        assert ({"a@h": 2.0}, True, True) == (
            found["workers"]["seen"],
            found["workers"]["ok"],
            found["beat"]["ok"],
        )
