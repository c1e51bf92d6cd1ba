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


@pytest.fixture(params=["sqlite", "redis", "cluster"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Return (kind, location) of a fresh store of each kind: SQLite, one Redis, a 3-master Redis Cluster."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "state.sqlite3")
    if request.param == "cluster":
        return "cluster", request.getfixturevalue("cluster_url")
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


def _subscribe(
    store: StateStore, url: str, *, errors: int = 0, disabled: str | None = None, at: float
) -> None:
    """Store a subscribed source as polling leaves it: scheduled at `at`, or disabled and unscheduled."""
    state = {"spec": {"kind": "feed", "location": url, "name": url}, "errors": errors, "disabled": disabled}
    store.put_feed(url, state, next_at=None if disabled else at)


class TestSourcesPage:
    @pytest.fixture
    def sources(self, store: StateStore) -> StateStore:
        """Three sources in good health, two failing, one disabled, and a one-shot feed never subscribed."""
        for i in range(3):
            _subscribe(store, f"http://h/ok{i}", at=2000.0 + i)
        _subscribe(store, "http://h/fail1", errors=1, at=3000.0)
        _subscribe(store, "http://h/fail3", errors=3, at=3100.0)
        _subscribe(store, "http://h/gone", errors=5, disabled="410 Gone", at=0)
        store.put_feed("http://h/one-shot", {"spec": {"kind": "feed"}, "errors": 0})
        return store

    def test_the_worst_come_first_within_the_limit(self, sources: StateStore) -> None:
        """Three rows: the disabled, then the failing by errors; the totals count every subscribed source."""
        page = sources.sources_page(3)

        assert ["http://h/gone", "http://h/fail3", "http://h/fail1"] == [u for u, _, _ in page.rows]
        assert [None, 3100.0, 3000.0] == [at for _, _, at in page.rows]
        assert (6, 1, 2) == (page.total, page.disabled, page.failing)

    def test_a_large_limit_gives_every_subscribed_source_once(self, sources: StateStore) -> None:
        """With room for all, each subscribed source is one row, with its state; the one-shot feed is none."""
        page = sources.sources_page(100)

        urls = [u for u, _, _ in page.rows]
        assert 6 == len(urls) == len(set(urls))
        assert "http://h/one-shot" not in urls
        assert {"http://h/ok0": 2000.0, "http://h/ok2": 2002.0}.items() <= {
            u: at for u, _, at in page.rows
        }.items()
        assert 3 == next(st for u, st, _ in page.rows if u == "http://h/fail3")["errors"]

    def test_recovering_moving_and_removing_keep_the_counts(self, sources: StateStore) -> None:
        """A failing source that recovers, a moved one and a removed one leave the counts exact."""
        _subscribe(sources, "http://h/fail1", errors=0, at=3000.0)
        state = sources.get_feed("http://h/fail3") or {}
        sources.move_feed("http://h/fail3", "http://h/fail3-moved", state)
        sources.delete_feed("http://h/gone")

        page = sources.sources_page(1)

        assert ["http://h/fail3-moved"] == [u for u, _, _ in page.rows]
        assert (5, 0, 1) == (page.total, page.disabled, page.failing)
