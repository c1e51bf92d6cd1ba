"""
Bytes an item of each stored structure takes, for sizing Redis and the SQLite file (README's sizing table).

Writes a known number of items of one structure at a time through the real
stores, on a private `redis-server` with the default config and on a fresh
SQLite file, and divides the growth by the count: Redis `used_memory`
(what the allocator holds, as `MEMORY USAGE` sums it), SQLite pages in use
(`page_count - freelist_count`) times the page size.  Keys and values have
the sizes of real ones (16-hex ids and hashes, 12-hex band keys, URLs).

Usage: `.venv/bin/python bench/state_sizing.py` (about a minute).
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402 - after the path set-up above

from bench.harness import private_redis  # noqa: E402
from worker.delivery.jsonl import JsonlSink  # noqa: E402
from worker.delivery.redis_stream import RedisStreamSink  # noqa: E402
from worker.state.nearindex import BANDS, SKETCH_BITS, SKETCH_SIZE, NearKey  # noqa: E402
from worker.state.redis import RedisStore  # noqa: E402
from worker.state.sqlite import SQLiteStore  # noqa: E402

rng = random.Random(12)


def hex16() -> str:
    """Return a random id of 16 hex digits, like an article id or a content hash."""
    return f"{rng.getrandbits(64):016x}"


def near_key() -> NearKey:
    """Return random band keys and sketch of the real sizes."""
    bands = tuple(f"{rng.getrandbits(48):012x}" for _ in range(BANDS))
    return NearKey(bands, rng.randbytes(SKETCH_SIZE * SKETCH_BITS // 8))


def redis_bytes(r: redis.Redis[str], n: int, write: Callable[[int], object]) -> float:
    """Return the `used_memory` growth per item of `write(i)` for i < n, from an empty database."""
    r.flushdb()
    before = int(r.info("memory")["used_memory"])
    for i in range(n):
        write(i)
    return (int(r.info("memory")["used_memory"]) - before) / n


def sqlite_bytes(path: Path, n: int, write: Callable[[int], object]) -> float:
    """Return the growth per item, in bytes of pages in use, of the SQLite file at `path`."""

    def used() -> int:
        with sqlite3.connect(path) as db:
            size = int(db.execute("PRAGMA page_size").fetchone()[0])
            pages = int(db.execute("PRAGMA page_count").fetchone()[0])
            return (pages - int(db.execute("PRAGMA freelist_count").fetchone()[0])) * size

    before = used()
    for i in range(n):
        write(i)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (used() - before) / n


def main() -> None:
    """Measure each structure; print one Markdown row each."""
    day = 86400
    rows: list[tuple[str, str, float | None, float | None]] = []
    with private_redis() as url, tempfile.TemporaryDirectory() as tmp:
        r: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
        n_articles = 20_000
        rs = RedisStore(url, nd_articles_per_generation=n_articles)
        ids = [hex16() for _ in range(n_articles)]
        recs = [{"id": i, "url": f"https://news.example/{i}"} for i in ids]

        def sq(name: str) -> SQLiteStore:
            return SQLiteStore(Path(tmp) / f"{name}.sqlite3")

        s = sq("done")
        rows.append(
            (
                "`done:<id>` / `done`",
                "an article emitted",
                redis_bytes(r, n_articles, lambda i: rs.mark_done(ids[i], 30 * day)),
                sqlite_bytes(s.path, n_articles, lambda i: s.mark_done(ids[i], 30 * day)),
            )
        )
        s = sq("content")
        rows.append(
            (
                "`content:<hash>` / `content`",
                "a content hash (2 an article: raw page, text)",
                redis_bytes(r, n_articles, lambda i: rs.claim_content(ids[i], ids[i], 30 * day)),
                sqlite_bytes(s.path, n_articles, lambda i: s.claim_content(ids[i], ids[i], 30 * day)),
            )
        )
        keys = [near_key() for _ in range(n_articles)]
        s = sq("near")
        rows.append(
            (
                "`{nd}:b:*`, `{nd}:s:*` / `nd_band`, `nd_sketch`",
                "an article's 16 LSH bands and sketch",
                redis_bytes(r, n_articles, lambda i: rs.near_claim(ids[i], keys[i], 30 * day)),
                sqlite_bytes(s.path, n_articles, lambda i: s.near_claim(ids[i], keys[i], 30 * day)),
            )
        )
        feeds, per_feed = 200, 1000
        s = sq("entries")
        entry = [
            f"https://news{f}.example/{y}/story-{y * 7919 % 100_000}"
            for f in range(feeds)
            for y in range(per_feed)
        ]

        def add_r(f: int) -> None:
            rs.add_entries(
                f"https://news{f}.example/feed", entry[f * per_feed : (f + 1) * per_feed], keep=per_feed
            )

        def add_s(f: int) -> None:
            s.add_entries(
                f"https://news{f}.example/feed", entry[f * per_feed : (f + 1) * per_feed], keep=per_feed
            )

        rows.append(
            (
                "`entries:<feed>` / `entry_keys`, `entry_feeds`",
                "a remembered entry key (up to max(INGEST_ENTRY_MEMORY, 2 x feed length) a feed)",
                redis_bytes(r, feeds, add_r) / per_feed,
                sqlite_bytes(s.path, feeds, add_s) / per_feed,
            )
        )
        # A stream kept near-empty (MAXLEN ~ 1): what stays is the marker.
        sink = RedisStreamSink(url, stream="sizing", maxlen=1)
        rows.append(
            (
                "`emitted:{<stream>}:<id>`",
                "an article on the stream (INGEST_EMITTED_RETENTION_S)",
                redis_bytes(r, n_articles // 100, lambda i: sink.write(recs[i * 100 : (i + 1) * 100])) / 100,
                None,
            )
        )
        n_feeds = 5000
        urls = [f"https://news{i}.example.com/rss/world.xml" for i in range(n_feeds)]
        spec = {"kind": "feed", "location": "", "name": "news", "tz": "UTC", "interval_s": None}
        state: dict[str, object] = {
            "etag": '"6654a1c2-1f3a"',
            "last_modified": "Mon, 27 May 2024 14:05:22 GMT",
            "body_hash": "9f86d081884c7d65",
            "last_status": 200,
            "last_polled": 1_718_000_000,
            "interval_s": 900.0,
            "errors": 0,
        }
        s = sq("feeds")
        rows.append(
            (
                "`{feeds-<k>}:feed:<b>`, `{feeds-<k>}:due:<b>`, `{feeds-<k>}:due-index` / `feeds`, `due`",
                "a polled feed (Redis: at a million feeds, `bench/scheduler_bench.py`)",
                None,
                sqlite_bytes(
                    s.path,
                    n_feeds // 100,
                    lambda i: s.put_feeds(
                        [
                            (u, {**state, "spec": {**spec, "location": u}}, 1_718_000_900.0)
                            for u in urls[i * 100 : (i + 1) * 100]
                        ]
                    ),
                )
                / 100,
            )
        )
        s = sq("checkpoints")
        rows.append(
            (
                "`checkpoint:<key>` / `checkpoints`",
                "a backfill frontier or archive position (one URL)",
                redis_bytes(
                    r, n_feeds, lambda i: rs.set_checkpoint(f"backfill:{urls[i]}", urls[i] + "?page=2")
                ),
                sqlite_bytes(
                    s.path, n_feeds, lambda i: s.set_checkpoint(f"backfill:{urls[i]}", urls[i] + "?page=2")
                ),
            )
        )
        s = sq("hosts")
        hosts = [u.split("/")[2] for u in urls]

        def rate_r(i: int) -> None:
            rs.take_token(hosts[i], 1.0, 3)
            rs.reserve_slot(hosts[i], 1.0, 3)

        def rate_s(i: int) -> None:
            s.take_token(hosts[i], 1.0, 3)
            s.reserve_slot(hosts[i], 1.0, 3)

        rows.append(
            (
                "`bucket:{<host>}`, `slot:{<host>}` / `buckets`, `slots`",
                "a host fetched from in the last seconds",
                redis_bytes(r, n_feeds, rate_r),
                sqlite_bytes(s.path, n_feeds, rate_s),
            )
        )
        fps = [hex16() for _ in range(1000)]
        s = sq("chrome")
        rows.append(
            (
                "`chrome:<source>` / `chrome`",
                "a line fingerprint (up to 1,000 a source)",
                redis_bytes(r, 1, lambda i: rs.learn_chrome("site", fps, 5)) / len(fps),
                sqlite_bytes(s.path, 1, lambda i: s.learn_chrome("site", fps, 5)) / len(fps),
            )
        )
        jsonl = JsonlSink(Path(tmp) / "out")
        jsonl.write(recs[:1])
        rows.append(
            (
                "JSONL index `written`",
                "an article written (INGEST_JSONL_INDEX_DAYS)",
                None,
                sqlite_bytes(
                    Path(tmp) / "out" / ".jsonl-index.sqlite3",
                    100,
                    lambda i: jsonl.write(recs[1 + i * 100 : 101 + i * 100]),
                )
                / 100,
            )
        )
        rs.close()
    print("| structure (Redis / SQLite) | item | Redis bytes | SQLite bytes |")
    print("|---|---|---:|---:|")
    for name, item, rb, sb in rows:
        print(
            f"| {name} | {item} | {'' if rb is None else f'{rb:.0f}'} | {'' if sb is None else f'{sb:.0f}'} |"
        )


if __name__ == "__main__":
    main()
