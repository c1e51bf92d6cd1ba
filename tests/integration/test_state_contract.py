"""One contract, two state stores: every test runs against SQLite and against a real Redis."""

from __future__ import annotations

import multiprocessing as mp
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.support.corpus import article_text
from worker.process.neardup import near_key, signature
from worker.state import StateStore
from worker.state.base import CHROME_MAX_LINES, TIMELINE_KEEP_MINUTES
from worker.state.codec import feed_id
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration


def _open(kind: str, where: str, **bounds: int) -> StateStore:
    return SQLiteStore(where, **bounds) if kind == "sqlite" else RedisStore(where, prefix="t:", **bounds)


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


def race(target: Any, args_each: list[tuple[Any, ...]], timeout: float) -> list[Any]:
    """
    Run `target(*args, barrier, out)` in one spawned process per `args`, all let go at once.

    Returns what each process put on `out`, in the order they came.
    """
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(args_each))
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for args in args_each]
    for p in procs:
        p.start()
    results = [out.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return results


def _race_claim(kind: str, where: str, article: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    barrier.wait()
    out.put((article, s.claim_content("same-hash", article, 60)))


def copy_of(text: str, n: int) -> str:
    """Return a syndicated copy: other chrome around it and one word edited."""
    words = text.split()
    words[10 + n] = f"edited{n}"
    return f"Site {n} header\n\n" + " ".join(words) + f"\n\nFollow site {n} on social media"


def _race_bands(kind: str, where: str, article: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    sig = signature(copy_of(article_text(1), int(article[1:])))
    barrier.wait()
    out.put((article, s.near_claim(article, near_key(sig), 86400)))


class TestDedupe:
    def test_done_marks_are_remembered(self, store: StateStore) -> None:
        """An article is done only after mark_done."""
        before = store.is_done("a1")
        store.mark_done("a1", 60)

        assert (False, True) == (before, store.is_done("a1"))

    def test_content_claim_names_the_first_owner(self, store: StateStore) -> None:
        """The first article owns a hash; a redelivery of it is not a duplicate; another article is."""
        first = store.claim_content("h", "a1", 60)
        again = store.claim_content("h", "a1", 60)
        other = store.claim_content("h", "a2", 60)

        assert (None, None, "a1") == (first, again, other)

    def test_near_claim_finds_syndicated_copies_only(self, store: StateStore) -> None:
        """A copy with other chrome and an edited word is a near-duplicate; another story is not."""
        text = article_text(1)
        first = store.near_claim("a1", near_key(signature(text)), 86400)
        mine = store.near_claim("a1", near_key(signature(text)), 86400)
        copy = store.near_claim("a2", near_key(signature(copy_of(text, 1))), 86400)
        other = store.near_claim("a3", near_key(signature(article_text(2))), 86400)
        short = store.near_claim("a4", near_key(signature("too short to sign")), 86400)

        assert (None, None, "a1", None, None) == (first, mine, copy, other, short)

    def test_expired_claims_are_forgotten(self, store: StateStore) -> None:
        """The retention window bounds memory: an expired claim no longer counts."""
        store.claim_content("h", "a1", 1)
        time.sleep(2.1)

        assert None is store.claim_content("h", "a2", 60)

    @pytest.mark.parametrize("racer", [_race_claim, _race_bands], ids=["content", "bands"])
    def test_racing_processes_see_exactly_one_winner(self, store_spec: tuple[str, str], racer) -> None:
        """Four processes claim the same key at once: exactly one gets None."""
        results = race(racer, [(*store_spec, f"a{i}") for i in range(4)], timeout=60)
        winners = [a for a, owner in results if owner is None]

        assert 1 == len(winners)
        assert all(owner == winners[0] for a, owner in results if owner is not None)


def same_bucket_urls(n: int) -> list[str]:
    """Return `n` feed URLs stored in one bucket of the Redis layout (any URLs would do for SQLite)."""
    seen: dict[str, list[str]] = {}
    i = 0
    while True:
        url = f"http://h{i}.example/feed"
        group = seen.setdefault(feed_id(url)[:4], [])
        group.append(url)
        if len(group) == n:
            return group
        i += 1


def _race_due(kind: str, where: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    barrier.wait()
    claimed: list[str] = []
    while batch := s.claim_due(1000.0, 7, lease_s=600):
        claimed += batch
    out.put(claimed)


class TestFeedsAndArchives:
    def test_entries_are_new_once(self, store: StateStore) -> None:
        """add_entries returns only keys it has not seen for that feed."""
        first = store.add_entries("f", ["a", "b", "a"])
        second = store.add_entries("f", ["b", "c"])
        other_feed = store.add_entries("g", ["a"])

        assert (["a", "b"], ["c"], ["a"]) == (first, second, other_feed)

    def test_feed_state_round_trips(self, store: StateStore) -> None:
        """Feed state is stored and listed."""
        store.put_feed("http://x/feed", {"etag": '"1"', "errors": 2})

        assert {"etag": '"1"', "errors": 2} == store.get_feed("http://x/feed")
        assert ["http://x/feed"] == store.feed_urls()
        assert None is store.get_feed("http://y/feed")

    def test_disabled_feeds_are_counted_through_every_kind_of_write(self, store: StateStore) -> None:
        """Disabling, re-enabling, moving and deleting keep the count a metrics scrape reads."""
        store.put_feeds([(f"http://h{n}/feed", {"errors": n}, None) for n in range(4)])
        store.put_feed("http://h0/feed", {"disabled": "410 Gone", "last_status": 410})
        failing = {"disabled": "too many errors", "errors": 9}
        store.put_feeds([(f"http://h{n}/feed", failing, None) for n in (1, 2)])
        assert 3 == store.disabled_count()

        store.put_feed("http://h1/feed", {"errors": 0})  # enabled again (`sources add`)
        store.delete_feed("http://h2/feed")
        assert 1 == store.disabled_count()

        store.move_feed("http://h0/feed", "http://moved/feed", {"disabled": "410 Gone"})
        store.move_feed("http://h3/feed", "http://moved3/feed", {"errors": 0})
        assert 1 == store.disabled_count()
        store.put_feed("http://moved/feed", {"errors": 0})
        assert 0 == store.disabled_count()

    def test_checkpoints_round_trip(self, store: StateStore) -> None:
        """The last position of an archive is kept."""
        store.set_checkpoint("archive:/a", "12")
        store.set_checkpoint("archive:/a", "13")

        assert ("13", None) == (store.get_checkpoint("archive:/a"), store.get_checkpoint("archive:/b"))


class TestChromeAndScheduler:
    def test_chrome_is_learned_after_min_count(self, store: StateStore) -> None:
        """A fingerprint counts once per call; it is learned at the minimum count, per source."""
        results = [store.learn_chrome("site", ["footer", "footer", f"body{i}"], 3) for i in range(4)]

        assert [frozenset(), frozenset(), {"footer"}, {"footer"}] == results
        assert frozenset() == store.learn_chrome("other-site", ["footer"], 3)

    def test_a_long_page_learns_every_line_it_repeats(self, store: StateStore) -> None:
        """900 lines seen twice are all learned at once, however the store reads their counts back."""
        lines = [f"line{i}" for i in range(900)]

        first = store.learn_chrome("site", lines, 2)
        second = store.learn_chrome("site", lines, 2)

        assert (frozenset(), frozenset(lines)) == (first, second)

    def test_due_sources_are_claimed_once(self, store: StateStore) -> None:
        """A due source is leased by one claim; a second claim finds nothing until the lease ends."""
        now = 1000.0
        store.schedule("a", now - 5)
        store.schedule("b", now - 1)
        store.schedule("c", now + 100)

        first = store.claim_due(now, 10, lease_s=50)
        second = store.claim_due(now, 10, lease_s=50)
        after_lease = store.claim_due(now + 60, 10, lease_s=50)

        assert (["a", "b"], []) == (first, second)
        assert ["a", "b"] == sorted(after_lease)
        store.unschedule("c")
        assert {"a", "b"} == set(store.scheduled())


class TestDueSet:
    def test_claims_follow_many_reschedules(self, store: StateStore) -> None:
        """After random schedules, unschedules and leased claims, every claim takes the earliest due feeds."""
        rng = random.Random(7)
        urls = same_bucket_urls(6) + [f"http://other{i}/f" for i in range(30)]
        model: dict[str, float] = {}
        now = 1000
        for step in range(300):
            url = rng.choice(urls)
            if rng.random() < 0.2:
                store.unschedule(url)
                model.pop(url, None)
            else:
                at = float(now + rng.randrange(-50, 50))
                store.schedule(url, at)
                model[url] = at
            if step % 10 == 9:
                now += 20
                claimed = store.claim_due(now, 4, lease_s=30)
                due = sorted(t for t in model.values() if t <= now)

                assert due[:4] == [model[u] for u in claimed]
                model.update({u: float(now + 30) for u in claimed})
        assert model == store.scheduled()

    def test_a_bucket_with_many_due_feeds_is_claimed_in_order(self, store: StateStore) -> None:
        """Three due feeds of one bucket go over two claims; its later feed is claimed on its own time."""
        a, b, c, later = same_bucket_urls(4)
        for url, at in ((a, 10.0), (b, 11.0), (c, 12.0), (later, 30.0)):
            store.schedule(url, at)

        first = store.claim_due(20.0, 2, lease_s=100)
        second = store.claim_due(20.0, 2, lease_s=100)
        third = store.claim_due(30.0, 2, lease_s=100)

        assert ([a, b], [c], [later]) == (first, second, third)

    def test_unscheduling_the_earliest_feed_of_a_bucket(self, store: StateStore) -> None:
        """The later feeds of a bucket are claimed at their own time, before or after the earliest leaves."""
        a, b, c = same_bucket_urls(3)
        store.schedule(a, 10.0)
        store.schedule(b, 100.0)
        store.unschedule(a)

        early = store.claim_due(50.0, 10, lease_s=5)
        store.schedule(c, 20.0)
        lowered = store.claim_due(50.0, 10, lease_s=5)
        store.unschedule(b)
        store.unschedule(c)

        assert ([], [c], {}) == (early, lowered, store.scheduled())
        assert [] == store.claim_due(1e9, 10, lease_s=5)

    def test_move_keeps_the_due_time_across_buckets(self, store: StateStore) -> None:
        """A feed moved into a bucket whose other feed is due later is still claimed at its own time."""
        late, new = same_bucket_urls(2)
        store.put_feed(late, {"etag": "l"}, next_at=500.0)
        store.put_feed("http://old/f", {"etag": "o"}, next_at=10.0)

        store.move_feed("http://old/f", new, {"etag": "o"})

        assert [(new, {"etag": "o"})] == store.claim_due_feeds(50.0, 10, lease_s=5)
        assert {late: 500.0, new: 55.0} == store.scheduled()

    def test_racing_claims_never_take_a_feed_twice(self, store_spec: tuple[str, str]) -> None:
        """Four processes claim a due backlog in small batches: every feed is taken exactly once."""
        s = _open(*store_spec)
        urls = [f"http://h{i % 50}/f{i}" for i in range(300)]
        s.put_feeds([(u, {}, float(i % 97)) for i, u in enumerate(urls)])
        claimed = [u for batch in race(_race_due, [store_spec] * 4, timeout=120) for u in batch]

        assert sorted(urls) == sorted(claimed)
        assert {1600.0} == set(s.scheduled().values())
        s.close()


class TestDeadLettersAndCounters:
    def test_dead_letters_list_and_remove(self, store: StateStore) -> None:
        """A dead letter keeps reason, stage, source and payload until removed."""
        dead_id = store.dead_letter("ParseError: bad", "clean", "src", {"url": "u", "n": 1})
        [letter] = store.dead_letters()

        assert (dead_id, "ParseError: bad", "clean", "src", {"url": "u", "n": 1}) == (
            letter.id,
            letter.reason,
            letter.stage,
            letter.source,
            letter.payload,
        )
        assert store.remove_dead(dead_id)
        assert [] == store.dead_letters()

    def test_counters_add_up(self, store: StateStore) -> None:
        """Counters start at the first increment and add."""
        store.incr("new")
        store.incr("new", 2)

        assert 3 == store.counters()["new"]
        assert store.ping()


def _race_record(kind: str, where: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    barrier.wait()
    for _ in range(50):
        s.record("articles_new", 1000)
    out.put(True)


class TestTimeline:
    def test_counts_add_up_per_minute_and_name(self, store: StateStore) -> None:
        """Each minute of each name counts on its own; `since_minute` cuts the older ones off."""
        store.record("articles_new", 1000)
        store.record("articles_new", 1000, by=2)
        store.record("articles_new", 1003)
        store.record("articles_duplicate", 1003, by=5)

        assert {1000: 3, 1003: 1} == store.timeline("articles_new", 990)
        assert {1003: 1} == store.timeline("articles_new", 1001)
        assert {1003: 5} == store.timeline("articles_duplicate", 0)
        assert {} == store.timeline("never_recorded", 0)

    def test_minutes_older_than_the_kept_span_are_dropped(self, store: StateStore) -> None:
        """A record drops the minutes of its name more than two hours older; other names keep theirs."""
        store.record("articles_new", 1000)
        store.record("articles_new", 1100)
        store.record("articles_duplicate", 1000)
        store.record("articles_new", 1000 + TIMELINE_KEEP_MINUTES + 1)

        assert {1100: 1, 1121: 1} == store.timeline("articles_new", 0)
        assert {1000: 1} == store.timeline("articles_duplicate", 0)

    def test_racing_processes_lose_no_count(self, store_spec: tuple[str, str]) -> None:
        """Two processes recording the same minute at once add up exactly."""
        race(_race_record, [store_spec, store_spec], timeout=120)
        s = _open(*store_spec)

        assert {1000: 100} == s.timeline("articles_new", 1000)
        s.close()


class TestSourcesAndPoliteness:
    def test_put_feed_with_next_at_schedules_it(self, store: StateStore) -> None:
        """put_feed(next_at=...) stores the state and the due time in one step; claims return the state."""
        spec = {"kind": "feed", "location": "http://h/f", "name": "h", "tz": "UTC", "interval_s": None}
        store.put_feed("http://h/f", {"spec": spec}, next_at=10.0)

        claimed = store.claim_due_feeds(20.0, 10, lease_s=5)

        assert [("http://h/f", {"spec": spec})] == claimed
        assert {"http://h/f": 25.0} == store.scheduled()

    @pytest.mark.parametrize(
        "state",
        [
            {
                "spec": {
                    "kind": "feed",
                    "location": "http://h/f",
                    "name": "h",
                    "tz": "UTC",
                    "interval_s": None,
                }
            },
            {
                "spec": {
                    "kind": "archive",
                    "location": "/a.tar",
                    "name": "a",
                    "tz": "Europe/Oslo",
                    "interval_s": 60.0,
                },
                "etag": '"x"',
                "errors": 3,
                "disabled": "410 Gone",
                "custom": [1, 2],
            },
        ],
        ids=["default-spec", "full-state"],
    )
    def test_feed_states_round_trip_in_bulk(self, store: StateStore, state: dict) -> None:
        """get_feeds returns each stored state exactly, and skips unknown URLs."""
        store.put_feed("http://h/f", state)

        assert {"http://h/f": state} == store.get_feeds(["http://h/f", "http://h/missing"])

    def test_bulk_put_stores_and_schedules(self, store: StateStore) -> None:
        """put_feeds stores every state and schedules those given a time."""
        store.put_feeds([("http://h/1", {"etag": "a"}, 5.0), ("http://h/2", {"etag": "b"}, None)])

        assert {"http://h/1": {"etag": "a"}, "http://h/2": {"etag": "b"}} == store.get_feeds(
            ["http://h/1", "http://h/2"]
        )
        assert {"http://h/1": 5.0} == store.scheduled()

    def test_delete_feed_forgets_everything(self, store: StateStore) -> None:
        """A deleted source has no state, no schedule and no seen entries."""
        store.put_feed("http://h/f", {"etag": "1"}, next_at=1.0)
        store.add_entries("http://h/f", ["e1"])

        existed = store.delete_feed("http://h/f")

        assert (True, None, {}) == (existed, store.get_feed("http://h/f"), store.scheduled())
        assert ["e1"] == store.add_entries("http://h/f", ["e1"])
        assert False is store.delete_feed("http://h/never")

    def test_move_feed_carries_schedule_and_entries(self, store: StateStore) -> None:
        """A moved source keeps its due time and seen entries under the new URL; none stay behind."""
        store.put_feed("http://old/f", {"etag": "1"}, next_at=42.0)
        store.add_entries("http://old/f", ["e1", "e2"])
        store.add_entries("http://new/f", ["e3"])

        store.move_feed("http://old/f", "http://new/f", {"etag": "1", "redirected_from": "http://old/f"})

        assert {"http://new/f": 42.0} == store.scheduled()
        assert None is store.get_feed("http://old/f")
        assert {"etag": "1", "redirected_from": "http://old/f"} == store.get_feed("http://new/f")
        assert ["e4"] == store.add_entries("http://new/f", ["e1", "e2", "e3", "e4"])
        assert ["http://new/f"] == store.feed_urls()

    def test_unseen_entries_reads_without_recording(self, store: StateStore) -> None:
        """unseen_entries names the keys not seen, in order, and records none of them."""
        store.add_entries("f", ["a", "b"])

        assert ["c", "d"] == store.unseen_entries("f", ["a", "c", "b", "d", "c"])
        assert ["c", "d"] == store.unseen_entries("f", ["c", "d"])
        assert [] == store.unseen_entries("f", [])
        assert ["x"] == store.unseen_entries("other", ["x"])

    def test_forgotten_entries_are_new_again(self, store: StateStore) -> None:
        """forget_entries undoes add_entries for the keys given only."""
        store.add_entries("f", ["a", "b"])
        store.forget_entries("f", ["a"])

        assert ["a"] == store.add_entries("f", ["a", "b"])

    def test_cache_values_expire(self, store: StateStore) -> None:
        """A cached value is returned until its TTL passes."""
        store.cache_set("robots:h", "User-agent: *", 1)
        fresh = store.cache_get("robots:h")
        time.sleep(1.2)

        assert ("User-agent: *", None) == (fresh, store.cache_get("robots:h"))

    def test_token_bucket_grants_burst_then_waits(self, store: StateStore) -> None:
        """A bucket grants `burst` tokens at once, then says how long until the next one."""
        granted = [store.take_token("host", 2.0, 3) for _ in range(3)]
        wait = store.take_token("host", 2.0, 3)
        other = store.take_token("other-host", 2.0, 3)

        assert [0.0, 0.0, 0.0] == granted
        assert 0.3 < wait <= 0.5
        assert 0.0 == other

    def test_token_bucket_refills_at_the_rate(self, store: StateStore) -> None:
        """After waiting the time it named, the bucket grants a token again."""
        store.take_token("host", 4.0, 1)
        wait = store.take_token("host", 4.0, 1)
        time.sleep(wait + 0.05)

        assert 0.0 == store.take_token("host", 4.0, 1)


def _race_release(kind: str, where: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    s = _open(kind, where)
    s.parked_count()  # connected (and the tables made) before the race starts
    barrier.wait()
    taken: list[str] = []
    while batch := s.claim_parked(time.time(), 7, 600):
        taken.extend(item_id for item_id, _, _ in batch)
        s.unpark([(item_id, at) for item_id, _, at in batch])
    out.put(taken)


class TestSlotsAndParking:
    def test_slots_are_reserved_one_after_another(self, store: StateStore) -> None:
        """`burst` slots are now, then each reservation gets the next slot, 1/rate later; hosts are apart."""
        waits = [store.reserve_slot("host", 2.0, 3) for _ in range(6)]
        other = store.reserve_slot("other-host", 2.0, 3)

        assert [0.0, 0.0, 0.0, 0.5, 1.0, 1.5] == pytest.approx(waits, abs=0.05)
        assert 0.0 == other

    def test_max_wait_reserves_nothing_when_the_slot_is_later(self, store: StateStore) -> None:
        """Take-or-leave: a slot beyond `max_wait_s` is not reserved, so the next caller gets it."""
        first = store.reserve_slot("host", 1.0, 1, 0.0)
        refused = [store.reserve_slot("host", 1.0, 1, 0.0) for _ in range(3)]
        reserved = store.reserve_slot("host", 1.0, 1)

        assert 0.0 == first
        assert [1.0, 1.0, 1.0] == pytest.approx(refused, abs=0.05)
        assert 1.0 == pytest.approx(reserved, abs=0.05)

    def test_a_held_host_gets_no_slot_and_no_token_before_the_wait(self, store: StateStore) -> None:
        """A server asked to wait 5 s: the held slot is 5 s off, the next one after it, the gate shut."""
        first = store.reserve_slot("host", 2.0, 3)
        held = store.hold_host("host", 2.0, 3, 5.0)
        after = store.reserve_slot("host", 2.0, 3)
        gate = store.take_token("host", 2.0, 3)
        other = (store.reserve_slot("other-host", 2.0, 3), store.take_token("other-host", 2.0, 3))

        assert 0.0 == first
        assert [5.0, 5.5, 5.0] == pytest.approx([held, after, gate], abs=0.05)
        assert (0.0, 0.0) == other

    def test_a_hold_shorter_than_the_queue_keeps_its_place(self, store: StateStore) -> None:
        """With 10 s of slots handed out, a 2 s hold gets the slot after them, not one before."""
        for _ in range(10):
            store.reserve_slot("host", 1.0, 1)

        held = store.hold_host("host", 1.0, 1, 2.0)

        assert 10.0 == pytest.approx(held, abs=0.05)

    def test_parked_items_are_claimed_by_due_time_and_leased(self, store: StateStore) -> None:
        """A claim takes what is due by now + ahead, earliest first; a claimed item is not taken again."""
        store.park("late", {"url": "http://h/late"}, 1100.0)
        store.park("b", {"url": "http://h/b"}, 1004.0)
        store.park("a", {"url": "http://h/a"}, 999.0)

        first = store.claim_parked(1000.0, 10, 60, ahead_s=5)
        again = store.claim_parked(1001.0, 10, 60, ahead_s=5)

        assert [("a", {"url": "http://h/a"}, 999.0), ("b", {"url": "http://h/b"}, 1004.0)] == first
        assert [] == again
        assert 3 == store.parked_count()

    def test_a_claim_never_unparked_comes_back_after_its_lease(self, store: StateStore) -> None:
        """A releaser that died between claim and delete loses nothing: the item is due after the lease."""
        store.park("a", {"url": "http://h/a"}, 999.0)
        store.claim_parked(1000.0, 10, 60)

        before_lease = store.claim_parked(1059.0, 10, 60)
        after_lease = store.claim_parked(1061.0, 10, 60)
        store.unpark([("a", 999.0)])

        assert [] == before_lease
        assert [("a", {"url": "http://h/a"}, 999.0)] == after_lease
        assert (0, []) == (store.parked_count(), store.claim_parked(5000.0, 10, 60))

    def test_an_item_parked_again_after_its_claim_outlives_the_old_release(self, store: StateStore) -> None:
        """The released fetch ran and was parked anew before the release deleted it: the new one stays."""
        store.park("a", {"url": "http://h/a"}, 999.0)
        store.park("b", {"url": "http://h/b"}, 999.5)
        claimed = store.claim_parked(1000.0, 10, 60)
        store.park("a", {"url": "http://h/a", "slot": 1500.0}, 1500.0)

        store.unpark([(item_id, at) for item_id, _, at in claimed])

        assert [("a", {"url": "http://h/a", "slot": 1500.0}, 1500.0)] == store.claim_parked(1500.0, 10, 60)
        assert 1 == store.parked_count()

    def test_parking_an_id_again_replaces_it(self, store: StateStore) -> None:
        """One article is parked once: a second park (a redelivered fetch) replaces the first."""
        store.park("a", {"url": "http://h/a", "n": 1}, 1010.0)
        store.park("a", {"url": "http://h/a", "n": 2}, 1020.0)

        assert [("a", {"url": "http://h/a", "n": 2}, 1020.0)] == store.claim_parked(1030.0, 10, 60)
        assert 1 == store.parked_count()

    def test_two_processes_releasing_at_once_never_take_one_item_twice(
        self, store: StateStore, store_spec: tuple[str, str]
    ) -> None:
        """Two releasers racing over 1,000 due items take each exactly once between them."""
        # A busy machine may run one racer through all items before the other starts: then the
        # race did not happen, and it is run again (up to 3 times) until both took some.
        for attempt in range(3):
            ids = [f"i{attempt}-{n:04d}" for n in range(1000)]
            for n, item_id in enumerate(ids):
                store.park(item_id, {"url": f"http://h/{n}"}, time.time() - 1000 + n)
            taken = race(_race_release, [store_spec] * 2, timeout=120)

            assert sorted(ids) == sorted(taken[0] + taken[1])
            if all(taken):
                break
        assert all(taken), [len(t) for t in taken]
        assert 0 == store.parked_count()


class TestLedger:
    def test_a_recorded_task_is_stale_until_touched_and_gone_when_done(self, store: StateStore) -> None:
        """Entries come back oldest first while silent; a sign of life or the end takes one out."""
        store.ledger_put("fetch", "t1", 100.0, "m1")
        store.ledger_put("fetch", "t2", 90.0, "m2")
        store.ledger_put("process", "t3", 80.0, "m3")

        assert [("t2", 90.0), ("t1", 100.0)] == store.ledger_stale("fetch", 150.0, 10)
        assert [("t2", 90.0)] == store.ledger_stale("fetch", 100.0, 10)  # `before` is exclusive
        assert [("t2", 90.0)] == store.ledger_stale("fetch", 150.0, 1)
        store.ledger_touch("fetch", "t2", 200.0)
        assert [("t1", 100.0)] == store.ledger_stale("fetch", 150.0, 10)
        store.ledger_done("fetch", "t1")
        assert [] == store.ledger_stale("fetch", 150.0, 10)
        assert {"t2": "m2", "t3": "m3"} == store.ledger_messages(["t1", "t2", "t3"])
        assert (1, 1) == (store.ledger_count("fetch"), store.ledger_count("process"))

    def test_touching_a_task_never_recorded_records_nothing(self, store: StateStore) -> None:
        """A task sent without an entry (a leased poll) stays without one when it starts."""
        store.ledger_touch("poll", "never", 100.0)

        assert ([], {}) == (store.ledger_stale("poll", 1e12, 10), store.ledger_messages(["never"]))

    def test_recording_an_id_again_replaces_its_message_and_time(self, store: StateStore) -> None:
        """A retry is published under the same task id: its entry is refreshed, not doubled."""
        store.ledger_put("fetch", "t1", 100.0, "first")
        store.ledger_put("fetch", "t1", 300.0, "retry")

        assert [("t1", 300.0)] == store.ledger_stale("fetch", 1e12, 10)
        assert {"t1": "retry"} == store.ledger_messages(["t1"])

    def test_a_suspect_is_confirmed_only_after_the_wait_and_only_once(self, store: StateStore) -> None:
        """First sighting starts the clock; confirmed after `confirm_s`, it is handed out once."""
        for t in ("a", "b"):
            store.ledger_put("fetch", t, 10.0, t)

        assert [] == store.ledger_suspect("fetch", ["a", "b"], 100.0, 20.0)
        assert [] == store.ledger_suspect("fetch", ["a", "b"], 119.0, 20.0)
        assert ["a", "b"] == store.ledger_suspect("fetch", ["a", "b"], 120.0, 20.0)
        # Handed out: a second sweeper seeing them sees a first sighting.
        assert [] == store.ledger_suspect("fetch", ["a", "b"], 121.0, 20.0)

    def test_a_sign_of_life_or_no_longer_missing_clears_a_suspicion(self, store: StateStore) -> None:
        """A suspect that started, was sent again, or dropped out of the missing list starts over."""
        for t in ("a", "b", "c"):
            store.ledger_put("fetch", t, 10.0, t)
        assert [] == store.ledger_suspect("fetch", ["a", "b", "c"], 100.0, 20.0)

        store.ledger_touch("fetch", "a", 105.0)
        store.ledger_put("fetch", "b", 106.0, "b again")
        assert [] == store.ledger_suspect("fetch", ["a", "b"], 110.0, 20.0)  # c not listed: cleared

        assert [] == store.ledger_suspect("fetch", ["a", "b", "c"], 125.0, 20.0)
        assert ["a", "b", "c"] == sorted(store.ledger_suspect("fetch", ["a", "b", "c"], 145.0, 20.0))

    def test_queues_keep_their_suspects_apart(self, store: StateStore) -> None:
        """A sweep of one queue leaves the suspects of another alone."""
        store.ledger_put("fetch", "f", 10.0, "f")
        store.ledger_put("process", "p", 10.0, "p")
        store.ledger_suspect("fetch", ["f"], 100.0, 20.0)
        store.ledger_suspect("process", ["p"], 100.0, 20.0)

        assert [] == store.ledger_suspect("process", [], 110.0, 20.0)
        assert ["f"] == store.ledger_suspect("fetch", ["f"], 130.0, 20.0)


@pytest.fixture
def bounded(store_spec: tuple[str, str]) -> Iterator[Any]:
    """Factory: open a store of the kind under test with small bounds; each is closed at the end."""
    opened: list[StateStore] = []

    def open_(**bounds: int) -> StateStore:
        s = _open(*store_spec, **bounds)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()


class TestEntryMemory:
    def test_only_the_last_keep_keys_are_remembered(self, store: StateStore) -> None:
        """A feed remembers the `keep` keys recorded last; an older one is new again."""
        first = store.add_entries("f", [f"k{i}" for i in range(10)], keep=5)
        again = store.add_entries("f", ["k0", "k4", "k5", "k9"], keep=5)

        assert [f"k{i}" for i in range(10)] == first
        assert ["k0", "k4"] == again

    def test_without_keep_the_store_default_applies(self, bounded) -> None:
        """`entry_memory` is the memory of a poll that does not say."""
        store = bounded(entry_memory=3)
        store.add_entries("f", ["a", "b", "c", "d"])

        assert ["a"] == store.add_entries("f", ["a", "b", "c", "d"])
        assert ["e"] == store.add_entries("f", ["e"], keep=100)

    def test_keys_seen_again_keep_their_place_and_feeds_are_apart(self, store: StateStore) -> None:
        """Seeing a key again does not make it newer; another feed's keys are not counted."""
        store.add_entries("f", ["a", "b", "c"], keep=3)
        store.add_entries("g", ["x", "y", "z"], keep=3)
        store.add_entries("f", ["a", "d"], keep=3)

        assert ["a"] == store.add_entries("f", ["a", "b", "c", "d"], keep=3)
        assert [] == store.add_entries("g", ["x", "y", "z"], keep=3)

    def test_an_abandoned_feeds_memory_expires(self, bounded) -> None:
        """Without a poll for `entry_ttl_s`, a feed's memory is gone (before any purge, and after one)."""
        store = bounded(entry_ttl_s=1)
        store.add_entries("f", ["a", "b"])
        store.add_entries("g", ["c"])
        time.sleep(2.1)
        store.purge(time.time(), 1000)

        assert ["a", "b"] == store.add_entries("f", ["a", "b"])
        assert ["c"] == store.add_entries("g", ["c"])

    def test_a_poll_keeps_the_memory_alive(self, bounded) -> None:
        """Each add renews the expiry, new keys or not."""
        store = bounded(entry_ttl_s=2)
        store.add_entries("f", ["a"])
        for _ in range(3):
            time.sleep(0.8)
            store.add_entries("f", ["a"])

        assert [] == store.add_entries("f", ["a"])

    def test_a_move_carries_the_trimmed_memory(self, store: StateStore) -> None:
        """A moved feed keeps its last keys under the new URL."""
        store.add_entries("http://old/f", ["a", "b", "c"], keep=2)
        store.move_feed("http://old/f", "http://new/f", {})

        assert ["a"] == store.add_entries("http://new/f", ["a", "b", "c"], keep=10)
        assert ["b"] == store.add_entries("http://old/f", ["b"])


class TestRetention:
    def test_cache_add_stores_only_when_absent(self, store: StateStore) -> None:
        """The first add wins until its value expires."""
        first = store.cache_add("k", "1", 1)
        second = store.cache_add("k", "2", 1)
        time.sleep(1.2)
        after = store.cache_add("k", "3", 60)

        assert (True, False, True) == (first, second, after)
        assert "3" == store.cache_get("k")

    def test_an_empty_checkpoint_forgets_the_key(self, store: StateStore) -> None:
        """Clearing a checkpoint leaves nothing stored."""
        store.set_checkpoint("archive:/a", "12")
        store.set_checkpoint("archive:/a", "")

        assert None is store.get_checkpoint("archive:/a")

    def test_checkpoints_expire(self, bounded) -> None:
        """A checkpoint not written again for `entry_ttl_s` is gone (its source is)."""
        store = bounded(entry_ttl_s=1)
        store.set_checkpoint("backfill:http://h/f", "http://h/page2")
        time.sleep(2.1)
        store.purge(time.time(), 1000)

        assert None is store.get_checkpoint("backfill:http://h/f")

    def test_purge_keeps_what_is_live(self, store: StateStore) -> None:
        """A purge deletes only what expired: every live value reads the same after it."""
        store.mark_done("gone", 1)
        store.claim_content("h-gone", "gone", 1)
        store.near_claim("gone", near_key(signature(article_text(3))), 1)
        store.cache_set("c-gone", "x", 1)
        store.mark_done("live", 600)
        store.claim_content("h-live", "live", 600)
        store.near_claim("live", near_key(signature(article_text(4))), 600)
        store.cache_set("c-live", "x", 600)
        store.set_checkpoint("archive:/a", "7")
        store.add_entries("f", ["e1"])
        time.sleep(2.1)

        purged = store.purge(time.time(), 10_000)

        assert purged >= 0
        assert (False, True) == (store.is_done("gone"), store.is_done("live"))
        assert (None, "live") == (
            store.claim_content("h-gone", "x", 60),
            store.claim_content("h-live", "x", 60),
        )
        assert "live" == store.near_claim("x", near_key(signature(copy_of(article_text(4), 1))), 600)
        assert None is store.near_claim("y", near_key(signature(copy_of(article_text(3), 1))), 600)
        assert (None, "x") == (store.cache_get("c-gone"), store.cache_get("c-live"))
        assert ("7", []) == (store.get_checkpoint("archive:/a"), store.add_entries("f", ["e1"]))

    def test_an_expired_band_is_taken_over_before_any_purge(self, store: StateStore) -> None:
        """A band whose article expired goes to the next article, purged or not (no purge on the hot path)."""
        text = article_text(5)
        store.near_claim("a1", near_key(signature(text)), 1)
        time.sleep(2.1)

        second = store.near_claim("a2", near_key(signature(copy_of(text, 1))), 600)
        third = store.near_claim("a3", near_key(signature(copy_of(text, 2))), 600)

        assert (None, "a2") == (second, third)

    def test_dead_letters_past_the_cap_drop_the_oldest(self, bounded) -> None:
        """Past `dead_max` the oldest dead letters go (at once or at the next purge), with an event."""
        store = bounded(dead_max=3)
        with capture_logs() as logs:
            ids = [store.dead_letter("Boom", "fetch", "src", {"n": n}) for n in range(5)]
            store.purge(time.time(), 1000)

        assert ids[2:] == [d.id for d in store.dead_letters()]
        assert 2 == sum(e["dropped"] for e in logs if e["event"] == "dead_letters_dropped")

    def test_chrome_memory_is_bounded_and_keeps_what_it_learned(self, store: StateStore) -> None:
        """Past `CHROME_MAX_LINES` a source forgets lines not learned yet; learned chrome stays learned."""
        for _ in range(3):
            store.learn_chrome("site", ["footer"], 3)
        store.learn_chrome("site", ["rare", "rare-too"], 3)
        store.learn_chrome("site", ["rare"], 3)
        flood = [f"line{i}" for i in range(CHROME_MAX_LINES)]
        store.learn_chrome("site", flood, 3)

        after = store.learn_chrome("site", ["footer", "rare"], 3)

        assert frozenset({"footer"}) == after  # "rare" would be at 3 had it been kept


def rows(path: Path, table: str) -> int:
    """Return how many rows a table of a SQLite file holds."""
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


class TestSQLiteUpkeep:
    def test_purge_deletes_every_expired_row_in_small_batches(self, tmp_path: Path) -> None:
        """After the retention every table with an end is empty; a batch never exceeds the limit."""
        path = tmp_path / "state.sqlite3"
        store = SQLiteStore(path, retention_s=1, entry_ttl_s=1)
        for n in range(30):
            store.mark_done(f"a{n}", 1)
            store.claim_content(f"h{n}", f"a{n}", 1)
            store.near_claim(f"a{n}", near_key(signature(article_text(n))), 1)
            store.add_entries(f"feed{n % 3}", [f"e{n}"])
        store.cache_set("robots:h", "", 1)
        store.set_checkpoint("archive:/a", "3")
        store.learn_chrome("site", ["footer"], 2)
        store.take_token("host", 1000.0, 1)
        store.reserve_slot("host", 1000.0, 1)
        time.sleep(2.1)

        first = store.purge(time.time(), 10)
        rest = store.purge(time.time(), 100_000)

        tables = ("done", "content", "nd_band", "nd_sketch", "entry_keys", "entry_feeds", "cache")
        tables += ("checkpoints", "chrome", "buckets", "slots")
        assert 10 == first
        assert dict.fromkeys(tables, 0) == {t: rows(path, t) for t in tables}
        assert rest > 30 * 3
        store.close()

    def test_every_purge_finds_its_rows_through_an_index(self, tmp_path: Path) -> None:
        """No purge statement scans a whole table (they run inside the write lock)."""
        from worker.state import sqlite_purge

        store = SQLiteStore(tmp_path / "state.sqlite3")
        db = store._conn()
        plans = {
            sql: [str(r[3]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", (0.0, 10))]
            for sql in sqlite_purge._STATEMENTS
        }

        scans = {sql: [step for step in plan if step.startswith("SCAN")] for sql, plan in plans.items()}

        assert [] == [(sql, scan) for sql, scan in scans.items() if scan]
        store.close()

    def test_tables_of_an_earlier_version_are_read_and_moved_over(self, tmp_path: Path) -> None:
        """Entries without order, checkpoints, chrome and buckets without an end: read, then bounded."""
        path = tmp_path / "state.sqlite3"
        with sqlite3.connect(path) as db:
            db.executescript(
                """
                CREATE TABLE entries (feed TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (feed, key));
                CREATE TABLE checkpoints (key TEXT PRIMARY KEY, position TEXT NOT NULL);
                CREATE TABLE chrome (source TEXT NOT NULL, fp TEXT NOT NULL, n INTEGER NOT NULL,
                                     PRIMARY KEY (source, fp));
                CREATE TABLE buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, ts REAL NOT NULL);
                INSERT INTO entries VALUES ('f', 'a'), ('f', 'b'), ('f', 'c'), ('gone', 'x');
                INSERT INTO checkpoints VALUES ('archive:/a', '12');
                INSERT INTO chrome VALUES ('site', 'footer', 9);
                INSERT INTO buckets VALUES ('host', 0.0, 1.0);
                """
            )
        store = SQLiteStore(path, entry_memory=2)

        fresh = store.add_entries("f", ["c", "d"])
        purged = store.purge(time.time(), 1000)

        assert ["d"] == fresh
        assert ["a", "b"] == store.add_entries("f", ["a", "b", "c"])  # the memory keeps 2: c, d then a, b
        assert "12" == store.get_checkpoint("archive:/a")
        assert frozenset({"footer"}) == store.learn_chrome("site", ["footer"], 5)
        assert purged >= 2  # the old bucket, the abandoned feed's key moved over
        assert (0, 0) == (rows(path, "entries"), rows(path, "buckets"))
        store.close()


def _open_fresh(path: Path, barrier: Any, out: Any) -> None:
    barrier.wait()
    try:
        SQLiteStore(path).close()
        out.put(None)
    except Exception as exc:
        out.put(repr(exc))


class TestOpening:
    def test_processes_opening_a_new_sqlite_file_at_once_all_open_it(self, tmp_path: Path) -> None:
        """
        Eight processes open one new file at the same instant, sixty times: none fails.

        Switching a new file to WAL from two connections at once made SQLite answer one of
        them "database is locked" at once (a worker's threads and pool do this at its first
        start); before the wait for it, about 6 of these 480 openings failed.
        """
        ctx = mp.get_context("fork")
        failures = []
        for n in range(60):
            barrier, out = ctx.Barrier(8), ctx.Queue()
            procs = [
                ctx.Process(target=_open_fresh, args=(tmp_path / f"{n}.sqlite3", barrier, out))
                for _ in range(8)
            ]
            for p in procs:
                p.start()
            failures += [r for r in (out.get(timeout=120) for _ in procs) if r is not None]
            for p in procs:
                p.join(timeout=60)

        assert [] == failures

    def test_opening_an_up_to_date_file_waits_for_no_writer(self, tmp_path: Path) -> None:
        """
        A writer holding the lock (a worker stopped mid-transaction) does not block opening the store.

        Opening used to take the write lock to look for columns added since an earlier version, so a
        reader (`ingest --status`, a test's look at the ledger) waited out the whole busy timeout.
        """
        path = tmp_path / "state.sqlite3"
        SQLiteStore(path).close()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            store = SQLiteStore(path)
            try:
                assert 0 == store.ledger_count("ingest")
            finally:
                store.close()
            assert time.monotonic() - started < 5
        finally:
            writer.execute("ROLLBACK")
            writer.close()

    def test_reads_wait_for_no_writer(self, tmp_path: Path) -> None:
        """
        What only reads (the ledger's stale entries and messages, the counts) answers while a writer,
        even a stopped one, holds the write lock: `ingest --status` and the ledger's sweep read them.
        """
        path = tmp_path / "state.sqlite3"
        store = SQLiteStore(path)
        store.ledger_put("ingest", "task-1", 100.0, '{"task": "fetch_article"}')
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            assert [("task-1", 100.0)] == store.ledger_stale("ingest", 200.0, 10)
            assert {"task-1": '{"task": "fetch_article"}'} == store.ledger_messages(["task-1", "task-2"])
            assert (1, 0) == (store.ledger_count("ingest"), store.parked_count())
            assert time.monotonic() - started < 5
        finally:
            writer.execute("ROLLBACK")
            writer.close()
            store.close()

    def test_a_file_of_an_earlier_version_gets_the_columns_added_since(self, tmp_path: Path) -> None:
        """Near miss: a table without a column added since gets it when the store opens."""
        path = tmp_path / "state.sqlite3"
        SQLiteStore(path).close()
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("DROP INDEX IF EXISTS chrome_expires")
        db.execute("ALTER TABLE chrome DROP COLUMN expires")
        db.close()

        SQLiteStore(path).close()

        db = sqlite3.connect(path)
        assert "expires" in {str(r[1]) for r in db.execute("PRAGMA table_info(chrome)")}
        db.close()
