"""
Where feeds and the due-set live in Redis: `SHARDS` hash-tagged shards, and the move from the layouts before.

A feed's 4-hex-digit bucket `b` (`codec.feed_id`) belongs to shard
`int(b, 16) % SHARDS`; every key of a shard carries the hash tag
`{feeds-<k>}`, so on a Redis Cluster the shard is one slot on one node and
a script may touch any of its keys:

- `{feeds-<k>}:feed:<b>` hash: the feeds of bucket `b` (`feeds.py` describes the fields);
- `{feeds-<k>}:due:<b>` zset: their next checks;
- `{feeds-<k>}:due-index` zset: member `<b>` scored by the earliest next check in `due:<b>`;
- `{feeds-<k>}:disabled` set: the ids of the shard's disabled feeds;
- `{feeds-<k>}:failing` zset: the ids of its failing feeds (not disabled), scored by consecutive errors.

Sixteen shards spread over any cluster of up to 16 masters, and a claim reads
16 index heads; each index holds 4,096 buckets at most.

The layouts before it (`feed:<b>`, `due:<b>`, `due-index`, `disabled`, and
the single `due` zset before those) are moved into the shards once, on a
single Redis, before the first feed or due-set operation of a process
(`migrate`), then `feeds-layout` says so; a cluster never held them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from redis.commands.core import Script

from worker.state.redis.base import Client

SHARDS = 16
LAYOUT_KEY = "feeds-layout"
LAYOUT = "2"
_BUCKETS = 1 << 16
_BATCH = 1024  # buckets looked at by one EXISTS / one pipeline of moves


def shard_of(bucket: str) -> int:
    """Return the shard (0 to `SHARDS` - 1) of a 4-hex-digit bucket, or of a feed id (its first 4)."""
    return int(bucket[:4], 16) % SHARDS


def tag(p: str, shard: int) -> str:
    """Return the key prefix of a shard: `<p>{feeds-<k>}:`, hash tag included."""
    return f"{p}{{feeds-{shard}}}:"


def feed_key(p: str, bucket: str) -> str:
    """Return the hash of a bucket's feeds."""
    return f"{tag(p, shard_of(bucket))}feed:{bucket}"


def due_key(p: str, bucket: str) -> str:
    """Return the zset of a bucket's next checks."""
    return f"{tag(p, shard_of(bucket))}due:{bucket}"


def index_key(p: str, shard: int) -> str:
    """Return a shard's index of buckets by their earliest next check."""
    return f"{tag(p, shard)}due-index"


def disabled_key(p: str, shard: int) -> str:
    """Return a shard's set of disabled feed ids."""
    return f"{tag(p, shard)}disabled"


def failing_key(p: str, shard: int) -> str:
    """Return a shard's zset of failing feed ids (not disabled), scored by their consecutive errors."""
    return f"{tag(p, shard)}failing"


def by_shard(buckets: list[str]) -> dict[int, list[str]]:
    """Group distinct buckets (or feed ids) by shard, each group in first-seen order."""
    out: dict[int, list[str]] = defaultdict(list)
    for b in dict.fromkeys(buckets):
        out[shard_of(b)].append(b)
    return out


def migrate(r: Client, p: str, script: Any) -> int:
    """
    Move the previous layouts into the shards (single Redis only); return how many buckets moved.

    Idempotent and safe to run in several processes at once: each bucket
    moves in one script (`migrate_bucket.lua`), fields and due times already
    written in the new layout are kept.  `script(name)` returns a registered script.
    """
    if r.get(p + LAYOUT_KEY) == LAYOUT:
        return 0
    moved = 0
    move: Script = script("migrate_bucket")
    names = [f"{b:04x}" for b in range(_BUCKETS)]
    for start in range(0, _BUCKETS, _BATCH):
        batch = names[start : start + _BATCH]
        old = [k for b in batch for k in (f"{p}feed:{b}", f"{p}due:{b}")]
        if not r.exists(*old):
            continue
        pipe = r.pipeline(transaction=False)
        for b in batch:
            keys = [f"{p}feed:{b}", f"{p}due:{b}", feed_key(p, b), due_key(p, b), f"{p}due-index"]
            move(keys=[*keys, index_key(p, shard_of(b))], args=[b], client=pipe)
        moved += sum(int(n) for n in pipe.execute())
    # After the buckets: their due times are newer than the single zset's, and NX keeps the first.
    _migrate_single_due(r, p, script("migrate_due"))
    _migrate_disabled(r, p)
    r.delete(f"{p}due-index")
    r.set(p + LAYOUT_KEY, LAYOUT)
    return moved


def _migrate_single_due(r: Client, p: str, move: Script) -> None:
    """Move the oldest layout's single `due` zset of ids into the shards' due zsets, 1,000 at a time."""
    old = f"{p}due"
    while rows := r.zrange(old, 0, 999, withscores=True):
        groups: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for fid, score in rows:
            groups[shard_of(fid[:4])].append((fid, score))
        for shard, items in groups.items():
            buckets = list(dict.fromkeys(fid[:4] for fid, _ in items))
            keys = [old, index_key(p, shard), *(due_key(p, b) for b in buckets)]
            args: list[Any] = [len(buckets), *buckets]
            for fid, score in items:
                args += [buckets.index(fid[:4]) + 1, fid[4:], fid, repr(score)]
            move(keys=keys, args=args)


def _migrate_disabled(r: Client, p: str) -> None:
    """Split the one `disabled` set of the previous layout over the shards' sets."""
    old = f"{p}disabled"
    ids = list(r.smembers(old))
    groups: dict[int, list[str]] = defaultdict(list)
    for fid in ids:
        groups[shard_of(fid[:4])].append(fid)
    for shard, members in groups.items():
        r.sadd(disabled_key(p, shard), *members)
    r.delete(old)
