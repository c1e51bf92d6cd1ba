"""The Redis store's memory layout: compact encodings, and data of the previous layout still served."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from tests.integration.test_state_contract import same_bucket_urls
from worker.sources.feeds import body_hash
from worker.state.base import TIMELINE_KEEP_MINUTES
from worker.state.codec import feed_id
from worker.state.redis import RedisStore

pytestmark = pytest.mark.integration


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis[str]]:
    """Return a plain client on the test's database."""
    client: redis.Redis[str] = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def spec_of(url: str) -> dict:
    """Return the default spec `sources add` stores for a feed URL."""
    return {"kind": "feed", "location": url, "name": url.split("/")[2], "tz": "UTC", "interval_s": None}


def polled(url: str, i: int) -> dict:
    """Return the state a 200 poll of an nginx-served feed leaves."""
    return {
        "spec": spec_of(url),
        "etag": f'"6654a1c2-{i:x}"',
        "last_modified": "Mon, 27 May 2024 14:05:22 GMT",
        "body_hash": body_hash(url.encode()),
        "last_status": 200,
        "last_polled": 1_718_000_000 + i,
        "interval_s": 900.0,
        "errors": 0,
        "last_error": None,
        "disabled": None,
        "next_at": 1_718_000_900.5 + i,
    }


class TestEncodings:
    def test_polled_feeds_keep_their_bucket_small(self, redis_url: str, raw: redis.Redis[str]) -> None:
        """A bucket of polled feeds and its due zset stay listpacks, with the default config."""
        urls = same_bucket_urls(20)
        store = RedisStore(redis_url, prefix="t:")
        store.put_feeds([(u, polled(u, i), 1_718_000_900.5 + i) for i, u in enumerate(urls)])
        bucket = feed_id(urls[0])[:4]

        encodings = [raw.object("encoding", key) for key in (f"t:feed:{bucket}", f"t:due:{bucket}")]

        assert ["listpack", "listpack"] == encodings
        assert {k: v for k, v in polled(urls[3], 3).items() if v is not None and k != "next_at"} == (
            store.get_feed(urls[3])
        )
        assert 1_718_000_904.0 == store.scheduled()[urls[3]]
        store.close()


class TestPreviousLayout:
    def test_old_values_and_due_zset_are_served_and_migrated_once(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """Single-value states are read; the old `due` zset moves to the sharded one, then is gone."""
        urls = [f"http://old{i}.example/feed" for i in range(2500)]
        for i, url in enumerate(urls):
            fid = feed_id(url)
            doc = {"u": url, "e": f'"e{i}"', "t": 200, "n": 100.5 + i, "s": {}}
            raw.hset(f"t:feed:{fid[:4]}", fid, json.dumps(doc))
        raw.zadd("t:due", {feed_id(u): 100.5 + i for i, u in enumerate(urls)})

        first = RedisStore(redis_url, prefix="t:")
        claimed = first.claim_due_feeds(102.0, 10, lease_s=1000)
        again = RedisStore(redis_url, prefix="t:")
        due = again.scheduled()

        assert [
            (urls[i], {"etag": f'"e{i}"', "last_status": 200, "spec": spec_of(urls[i])}) for i in (0, 1)
        ] == claimed
        assert {"etag": '"e7"', "last_status": 200, "spec": spec_of(urls[7])} == again.get_feed(urls[7])
        assert 0 == raw.exists("t:due")
        assert (2500, 1102.0, 108.0) == (len(due), due[urls[0]], due[urls[7]])
        first.close()
        again.close()

    def test_a_feed_rescheduled_in_the_new_layout_keeps_its_new_time(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """A stale entry left in the old zset never overrides a due time written in the new layout."""
        url = "http://h/f"
        store = RedisStore(redis_url, prefix="t:")
        store.schedule(url, 500.0)
        raw.zadd("t:due", {feed_id(url): 5.0})

        fresh = RedisStore(redis_url, prefix="t:")

        assert ({url: 500.0}, []) == (fresh.scheduled(), fresh.claim_due(100.0, 10, lease_s=5))
        store.close()
        fresh.close()

    def test_disabled_feeds_stored_before_the_count_existed_are_counted_once(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """Feeds disabled by a version without the `disabled` set are found by one scan, then kept."""
        store = RedisStore(redis_url, prefix="t:")
        gone = {"disabled": "410 Gone"}
        store.put_feeds([(f"http://h{n}/feed", gone if n % 3 == 0 else {}, None) for n in range(9)])
        raw.delete("t:disabled", "t:disabled-counted")  # as that version left them

        assert 3 == store.disabled_count()
        assert 1 == raw.exists("t:disabled-counted")
        store.put_feed("http://h1/feed", {"disabled": "too many errors"})
        assert 4 == store.disabled_count()
        store.close()


class TestIndex:
    def test_a_stale_index_entry_heals_on_the_next_claim(self, redis_url: str, raw: redis.Redis[str]) -> None:
        """An index score earlier than its bucket's (or a bucket left empty) is corrected by a claim."""
        store = RedisStore(redis_url, prefix="t:")
        store.schedule("http://h/later", 100.0)
        later = feed_id("http://h/later")[:4]
        empty = next(b for b in ("0000", "0001") if b != later)
        raw.zadd("t:due-index", {later: 0, empty: 0})

        claimed = store.claim_due(50.0, 10, lease_s=5)

        assert ([], [(later, 100.0)]) == (claimed, raw.zrange("t:due-index", 0, -1, withscores=True))
        store.close()


class TestTimeline:
    def test_a_timeline_is_one_small_hash_that_expires(self, redis_url: str, raw: redis.Redis[str]) -> None:
        """A timeline recorded for 5 hours keeps about 2 hours of fields, a listpack with a lifetime."""
        store = RedisStore(redis_url, prefix="t:")
        for minute in range(1000, 1300):
            store.record("articles_new", minute)

        fields = raw.hlen("t:timeline:articles_new")
        ttl = raw.ttl("t:timeline:articles_new")

        assert (TIMELINE_KEEP_MINUTES + 1, "listpack") == (
            fields,
            raw.object("encoding", "t:timeline:articles_new"),
        )
        assert 0 < ttl <= (TIMELINE_KEEP_MINUTES + 1) * 60
        store.close()
