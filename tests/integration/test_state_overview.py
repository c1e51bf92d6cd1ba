"""The operator's roles of both state stores (`worker.state.overview`): heartbeats, the sources' overview."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_state_contract import _open, race
from worker.app import health
from worker.state import StateStore

pytestmark = pytest.mark.integration

BEATS_EACH = 100


@pytest.fixture(params=["sqlite", "redis"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Return (kind, location) of a fresh store of each kind."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "state.sqlite3")
    return "redis", request.getfixturevalue("redis_url")


@pytest.fixture
def store(store_spec: tuple[str, str]) -> Iterator[StateStore]:
    """Open the store under test."""
    s = _open(*store_spec)
    yield s
    s.close()


def _race_beats(kind: str, where: str, name: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    barrier.wait()
    now = time.time()
    for i in range(BEATS_EACH):
        health.beat_worker(s, f"{name}{i}", now=now)
    s.close()
    out.put(name)


class TestHeartbeats:
    def test_each_member_keeps_its_latest_beat(self, store: StateStore) -> None:
        """A beat sets its member's time only; an older one never replaces a newer one."""
        store.heartbeat("workers", "a@h", 1000.0, 30)
        store.heartbeat("workers", "b@h", 1005.0, 30)
        store.heartbeat("workers", "a@h", 1010.0, 30)
        store.heartbeat("workers", "a@h", 1002.0, 30)

        assert {"a@h": 1010.0, "b@h": 1005.0} == store.heartbeats("workers", 990.0)
        assert {"a@h": 1010.0} == store.heartbeats("workers", 1006.0)
        assert {} == store.heartbeats("beats-of-another-group", 0.0)

    def test_a_beat_drops_the_silent_and_leaving_drops_one(self, store: StateStore) -> None:
        """Members silent past the lifetime go at the next beat; `heartbeat_leave` forgets one member."""
        store.heartbeat("workers", "old@h", 1000.0, 30)
        store.heartbeat("workers", "a@h", 1020.0, 30)
        store.heartbeat("workers", "b@h", 1031.0, 30)
        store.heartbeat_leave("workers", "a@h")

        assert {"b@h": 1031.0} == store.heartbeats("workers", 0.0)

    def test_racing_workers_lose_no_heartbeat(self, store_spec: tuple[str, str]) -> None:
        """Two processes beating for 100 workers each at the same instant: all 200 are seen alive."""
        race(_race_beats, [(*store_spec, "a"), (*store_spec, "b")], timeout=120)
        s = _open(*store_spec)

        seen = health.workers_seen(s)
        s.close()

        assert 2 * BEATS_EACH == len(seen)
