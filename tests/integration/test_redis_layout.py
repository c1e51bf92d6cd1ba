"""The Redis store's memory layout: compact encodings, and data of the previous layout still served."""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Iterator

import pytest
import redis

from tests.integration.httpserver import HTTPTestServer, static
from tests.integration.test_state_contract import same_bucket_urls
from tests.support.corpus import article_page, article_text, rss_feed
from worker.process.neardup import near_key, signature
from worker.sources.feeds import body_hash
from worker.state import nearindex
from worker.state.base import TIMELINE_KEEP_MINUTES
from worker.state.codec import feed_id
from worker.state.redis import BOUNDED_KEYS, RedisStore, layout

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
        keys = (layout.feed_key("t:", bucket), layout.due_key("t:", bucket))

        encodings = [raw.object("encoding", key) for key in keys]

        assert ["listpack", "listpack"] == encodings
        assert {k: v for k, v in polled(urls[3], 3).items() if v is not None and k != "next_at"} == (
            store.get_feed(urls[3])
        )
        assert 1_718_000_904.0 == store.scheduled()[urls[3]]
        store.close()


class TestScripts:
    def test_a_lone_script_call_loads_its_script_again_after_a_flush(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """One feed's update runs its script alone (no SCRIPT EXISTS first): a flushed script reloads."""
        url = same_bucket_urls(1)[0]
        store = RedisStore(redis_url, prefix="t:")
        store.put_feed(url, polled(url, 1), next_at=1_718_000_901.5)
        raw.script_flush()

        store.put_feed(url, polled(url, 2), next_at=1_718_000_902.5)

        assert polled(url, 2)["etag"] == store.get_feed(url)["etag"]
        assert 1_718_000_903.0 == store.scheduled()[url]
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

    def test_feeds_in_trouble_stored_before_their_indexes_existed_are_indexed_once(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """Feeds disabled or failing before the `disabled` and `failing` indexes: one scan, then kept."""
        store = RedisStore(redis_url, prefix="t:")
        gone, failing = {"disabled": "410 Gone", "errors": 4}, {"errors": 2}
        states = [gone if n % 3 == 0 else failing if n in (1, 2) else {} for n in range(9)]
        store.put_feeds([(f"http://h{n}/feed", st, 100.0 + n) for n, st in enumerate(states)])
        # As those versions left them: no indexes of the feeds in trouble.
        indexes = [k for k in raw.scan_iter(count=1000) if k.endswith((":disabled", ":failing"))]
        assert indexes, "the feed writes keep the indexes"
        raw.delete(*indexes, "t:disabled-counted", "t:troubles-indexed")

        assert 3 == store.disabled_count()
        assert (1, 2) == (raw.exists("t:troubles-indexed"), store.sources_page(10).failing)
        store.put_feed("http://h1/feed", {"disabled": "too many errors"})
        assert (4, 1) == (store.disabled_count(), store.sources_page(10).failing)
        store.close()


class TestIndex:
    def test_a_stale_index_entry_heals_on_the_next_claim(self, redis_url: str, raw: redis.Redis[str]) -> None:
        """An index score earlier than its bucket's (or a bucket left empty) is corrected by a claim."""
        store = RedisStore(redis_url, prefix="t:")
        store.schedule("http://h/later", 100.0)
        later = feed_id("http://h/later")[:4]
        empty = f"{(int(later, 16) + layout.SHARDS) % 65536:04x}"  # another bucket of the same shard
        index = layout.index_key("t:", layout.shard_of(later))
        raw.zadd(index, {later: 0, empty: 0})

        claimed = store.claim_due(50.0, 10, lease_s=5)

        assert ([], [(later, 100.0)]) == (claimed, raw.zrange(index, 0, -1, withscores=True))
        store.close()

    def test_a_claim_reads_further_into_a_shard_that_holds_most_due_feeds(self, redis_url: str) -> None:
        """Each index is read a share of the limit first; a shard holding the earliest feeds is read on."""
        urls = [
            u
            for u in (f"http://crowded{i}.example/f" for i in range(5000))
            if layout.shard_of(feed_id(u)) == 3
        ]
        others = [
            u for u in (f"http://spread{i}.example/f" for i in range(40)) if layout.shard_of(feed_id(u)) != 3
        ]
        store = RedisStore(redis_url, prefix="t:")
        store.put_feeds(
            [(u, {}, float(i)) for i, u in enumerate(urls[:150])] + [(u, {}, 500.0) for u in others]
        )

        claimed = store.claim_due(1000.0, 120, lease_s=5000)

        assert urls[:120] == claimed
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


class TestBoundedKeys:
    def test_an_entry_memory_takes_8_bytes_a_key_and_expires(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """1,000 remembered keys are one string of 8,000 bytes with a TTL."""
        store = RedisStore(redis_url, prefix="t:", entry_ttl_s=3600)
        store.add_entries(
            "http://h/f", [f"https://h/article/{i}?utm_source=rss" for i in range(1500)], keep=1000
        )

        assert ("string", 8000) == (raw.type("t:entries:http://h/f"), raw.strlen("t:entries:http://h/f"))
        assert 3500 < raw.ttl("t:entries:http://h/f") <= 3600
        assert raw.memory_usage("t:entries:http://h/f") < 8300
        store.close()

    def test_an_entry_set_of_the_previous_layout_is_read_and_converted(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """An old set's keys stay seen (Lua's digest is Python's); the set becomes a string with a TTL."""
        raw.sadd("t:entries:f", "a", "b", "c")
        store = RedisStore(redis_url, prefix="t:")

        fresh = store.add_entries("f", ["c", "d"], keep=10)

        assert ["d"] == fresh
        assert [] == store.add_entries("f", ["a", "b", "c", "d"])
        assert ("string", True) == (raw.type("t:entries:f"), raw.ttl("t:entries:f") > 0)
        store.close()

    def test_an_old_set_cut_to_keep_holds_the_keys_seen_again(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """Converting a set larger than `keep` keeps the keys the feed still lists."""
        raw.sadd("t:entries:f", *[f"old{i}" for i in range(50)], "listed1", "listed2")
        store = RedisStore(redis_url, prefix="t:")

        fresh = store.add_entries("f", ["listed1", "listed2", "new"], keep=3)

        assert (["new"], []) == (fresh, store.add_entries("f", ["listed1", "listed2", "new"], keep=3))
        store.close()

    def test_purge_moves_old_checkpoints_and_gives_old_keys_a_ttl(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """The `checkpoints` hash goes to keys with a TTL; old entry sets and chrome hashes get theirs."""
        raw.hset("t:checkpoints", mapping={"archive:/a": "12", "backfill:http://h/f": ""})
        raw.sadd("t:entries:http://abandoned/f", "x")
        raw.hset("t:chrome:old-site", "fp", 3)
        store = RedisStore(redis_url, prefix="t:", entry_ttl_s=1000, retention_s=500)

        before = store.get_checkpoint("archive:/a")
        moved = store.purge(time.time(), 1000)

        assert ("12", "12") == (before, store.get_checkpoint("archive:/a"))
        assert 4 == moved
        assert 0 == raw.exists("t:checkpoints")
        assert [True, True, True] == [
            0 < raw.ttl(k) <= 1000
            for k in ("t:checkpoint:archive:/a", "t:entries:http://abandoned/f", "t:chrome:old-site")
        ]
        assert 1 == raw.exists("t:legacy-ttl-scanned")
        assert 0 == store.purge(time.time(), 1000)
        store.close()

    def test_every_key_a_small_ingest_writes_expires_or_is_bounded(
        self, cli, redis_url: str, http_server: HTTPTestServer, raw: redis.Redis[str]
    ) -> None:
        """After an ingest every key has a TTL, or is named in `BOUNDED_KEYS`, or is a capped stream."""
        base = http_server.url("").rstrip("/")
        ids = list(range(1, 6))
        http_server.route("/feed.xml", static(rss_feed(base, ids), content_type="application/rss+xml"))
        for i in ids:
            http_server.route(
                f"/article/{i}", static(article_page(i), content_type="text/html; charset=utf-8")
            )
        proc = cli(
            "ingest",
            http_server.url("/feed.xml"),
            "--json",
            env={"REDIS_URL": redis_url, "INGEST_NER_LANGUAGES": "", "INGEST_HOST_RATE": "100"},
        )
        assert 0 == proc.returncode, proc.stderr[-3000:]

        keys = sorted(raw.scan_iter(count=1000))
        unbounded = [
            k
            for k in keys
            if raw.ttl(k) == -1
            and k not in {"articles", "articles:dead"}  # XADD MAXLEN: INGEST_STREAM_MAXLEN, INGEST_DEAD_MAX
            and not any(fnmatch.fnmatchcase(k, f"ingest:{pattern}") for pattern in BOUNDED_KEYS)
        ]

        assert [] == unbounded
        assert 5 == raw.xlen("articles")
        assert [True] == [raw.ttl(k) > 0 for k in keys if k.startswith("ingest:entries:")]


class TestUnshardedLayout:
    def test_buckets_of_the_unsharded_layout_move_into_their_shards_once(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """`feed:<b>`, `due:<b>`, `due-index` and `disabled` are read through the shards, then gone."""
        urls = [f"http://unsharded{i}.example/feed" for i in range(300)]
        for i, url in enumerate(urls):
            fid = feed_id(url)
            raw.hset(f"t:feed:{fid[:4]}", fid, url)
            raw.zadd(f"t:due:{fid[:4]}", {fid[4:]: 100 + i})
            raw.zadd("t:due-index", {fid[:4]: 100})  # one score is enough: the move recomputes it
        raw.sadd("t:disabled", feed_id(urls[5]))
        raw.set("t:disabled-counted", 1)

        store = RedisStore(redis_url, prefix="t:")
        claimed = store.claim_due(101.0, 10, lease_s=1000)

        assert [urls[0], urls[1]] == claimed
        assert {"spec": spec_of(urls[7])} == store.get_feed(urls[7])
        assert (300, 107.0) == (len(store.scheduled()), store.scheduled()[urls[7]])
        old = ("t:feed:", "t:due", "t:disabled:")
        assert [] == [k for k in raw.scan_iter(count=1000) if k.startswith(old) or k == "t:disabled"]
        assert (1, "2") == (store.disabled_count(), raw.get("t:feeds-layout"))
        store.close()


def untagged_article(raw: redis.Redis[str], redis_url: str, plan: nearindex.NearPlan) -> redis.Redis[bytes]:
    """Write article number 7 into the bands and sketches of the untagged layout, as its script did."""
    for shard, field in plan.slots:
        raw.hset(f"t:nd:b:{plan.gens[-1]}:{shard}", field, 7)
    binary = redis.Redis.from_url(redis_url)
    binary.hset("t:nd:s:0", 7, plan.sketch + b"old-id")
    return binary


def command_calls(raw: redis.Redis[str], command: str) -> int:
    """Return how many times the server ran a command, script-internal calls included."""
    return int(raw.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


class TestUntaggedKeys:
    def test_a_near_duplicate_remembered_before_the_tag_is_still_found(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """Bands and sketches of the untagged layout are read (single Redis): a later copy is a duplicate."""
        store = RedisStore(redis_url, prefix="t:")
        text = article_text(3)
        key = near_key(signature(text))
        plan = nearindex.plan(
            key, "old-id", now_s=time.time(), retention_s=86400, shard_bits=store.nd_shard_bits
        )
        assert plan is not None
        binary = untagged_article(raw, redis_url, plan)
        raw.set("t:nd:seq", 7)  # the untagged layout's counter, without a TTL

        found = store.near_claim("copy-id", near_key(signature(text + " One more sentence.")), 86400)

        assert ("old-id", []) == (found, raw.keys("t:{nd}:b:*"))
        # The old counter now lives as long as a band of that layout can: a generation plus the retention.
        assert 86400 + nearindex.generation_s(86400) - 5 <= raw.ttl("t:nd:seq") <= 86400 + 28800
        binary.close()
        store.close()

    def test_without_the_untagged_counter_the_untagged_bands_are_not_read(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """No `nd:seq` (never written, or expired with its last band): a check reads this layout only."""
        store = RedisStore(redis_url, prefix="t:")
        text = article_text(4)
        plan = nearindex.plan(
            near_key(signature(text)),
            "old-id",
            now_s=time.time(),
            retention_s=86400,
            shard_bits=store.nd_shard_bits,
        )
        assert plan is not None
        binary = untagged_article(raw, redis_url, plan)
        before = command_calls(raw, "hget")

        found = store.near_claim("copy-id", near_key(signature(text + " One more sentence.")), 86400)

        # Two scripts, each reading the bands of the live generations of this layout only.
        assert (None, 2 * len(plan.gens) * len(plan.slots)) == (found, command_calls(raw, "hget") - before)
        binary.close()
        store.close()

    def test_parked_fetches_and_the_ledger_move_under_their_tags(
        self, redis_url: str, raw: redis.Redis[str]
    ) -> None:
        """`parked`, `parked:items`, `ledger:<q>` and `ledger-msg` are merged into the tagged keys once."""
        raw.zadd("t:parked", {"p1": 10.0})
        raw.hset("t:parked:items", "p1", json.dumps({"at": 10.0, "p": {"url": "u"}}))
        raw.zadd("t:ledger:fetch", {"task-1": 5.0})
        raw.hset("t:ledger-msg", "task-1", "message")
        store = RedisStore(redis_url, prefix="t:")
        store.park("p2", {"url": "v"}, 20.0)

        claimed = store.claim_parked(30.0, 10, 60.0)

        assert [("p1", {"url": "u"}, 10.0), ("p2", {"url": "v"}, 20.0)] == claimed
        assert ([("task-1", 5.0)], {"task-1": "message"}) == (
            store.ledger_stale("fetch", 6.0, 10),
            store.ledger_messages(["task-1"]),
        )
        assert 0 == raw.exists("t:parked", "t:parked:items", "t:ledger:fetch", "t:ledger-msg")
        store.close()

    def test_a_host_held_before_the_tag_stays_held(self, redis_url: str, raw: redis.Redis[str]) -> None:
        """A slot of the untagged layout is read: the host waits for it, and the old key goes."""
        raw.set("t:slot:h.example", f"{time.time() + 30:.6f}", px=60_000)
        store = RedisStore(redis_url, prefix="t:")

        wait = store.reserve_slot("h.example", 1.0, 1.0)

        assert 28 < wait <= 30
        assert (0, 1) == (raw.exists("t:slot:h.example"), raw.exists("t:slot:{h.example}"))
        store.close()
