"""
Feeds and the due-set in Redis, laid out compactly (<= 200 bytes a feed at a million feeds).

Feeds are stored compactly for the million-feed goal (<= 200 bytes a feed,
polled or not, with Redis's default config).  A feed's id is a 12-character
hash of its URL (`codec.feed_id`); its first 4 hex digits name one of 65,536
buckets `b`, the other 8 characters `m` name the feed inside its bucket:

- `feed:<b>` hash: field `<id>` holds the spec value (the URL, for a default
  spec) and field `+<m>` what polling learned (`codec.pack_feed`); ~15 feeds
  a bucket at a million, each value <= 64 bytes in the common case, so the
  hash stays listpack-encoded (up to 128 fields, 64 feeds);
- `due:<b>` zset: member `<m>` scored by its next check, in whole seconds
  rounded up (an integral score takes 6 bytes of a listpack, one with a
  fraction about 20);
  small enough to stay a listpack too (up to 128 members);
- `due-index` zset: member `<b>` scored by the earliest next check in
  `due:<b>`, kept exact by every script that writes a `due:<b>`, so a claim
  reads the due buckets from it in order.

- `entries:<feed>` string: the feed's entry memory, 8 bytes a remembered
  entry key (`codec.entry_digest`), oldest first, cut to the last `keep`
  and expiring `entry_ttl_s` after the last poll that parsed the feed
  (`lua/add_entries.lua`); a set of whole keys, the layout before it, is
  converted when first touched.

A single due zset of a million members would be a skiplist at ~105 bytes a
member; the sharded one costs ~30.  The layout before it (one `due` zset of
ids; the whole state in the `<id>` field) is still read, and an old `due`
zset is moved into the new one, once, before the first due-set operation.
Scripts that touch several buckets derive their keys from ids (single-node
Redis only, like the claim always did).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from worker.state.codec import entry_digest, feed_id, pack_feed, pack_state, unpack_feed
from worker.state.redis.base import RedisBase, due_score


def _errors(state: dict[str, Any]) -> int:
    """Return a feed's consecutive errors, the score of the `failing` index (0 when not failing)."""
    try:
        return max(0, int(state.get("errors") or 0))
    except (TypeError, ValueError):
        return 0


class FeedTables(RedisBase):
    """The `FeedStore` and `DueSet` roles (see `worker.state.base`)."""

    _due_migrated = False
    # Entry keys remembered per feed unless a poll asks for more, and how long a memory outlives its
    # last poll (`RedisStore` sets both from the settings).
    entry_memory = 1000
    entry_ttl_s = 60 * 86400

    def add_entries(self, feed_key: str, entry_keys: list[str], keep: int | None = None) -> list[str]:
        if not entry_keys:
            return []
        keys = list(dict.fromkeys(entry_keys))
        args = [max(1, keep or self.entry_memory), self.entry_ttl_s, *map(entry_digest, keys)]
        fresh = self._do(lambda: self._script("add_entries")(keys=[f"{self.p}entries:{feed_key}"], args=args))
        return [keys[int(i) - 1] for i in fresh]

    def unseen_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        keys = list(dict.fromkeys(entry_keys))
        if not keys:
            return []
        script, key = self._script("unseen_entries"), f"{self.p}entries:{feed_key}"
        fresh = self._do(lambda: script(keys=[key], args=[entry_digest(k) for k in keys]))
        return [keys[int(i) - 1] for i in fresh]

    def _bucket(self, fid: str) -> str:
        return f"{self.p}feed:{fid[:4]}"

    def _due(self, fid: str) -> str:
        return f"{self.p}due:{fid[:4]}"

    def _ensure_due_layout(self) -> None:
        """Move an old single `due` zset into the sharded one, once per store (idempotent, batch by batch)."""
        if self._due_migrated:
            return
        old = f"{self.p}due"
        while int(self._do(lambda: self._script("migrate_due")(keys=[old], args=[self.p, 1000]))) > 0:
            pass
        self._due_migrated = True

    def get_feed(self, url: str) -> dict[str, Any] | None:
        # One plain HMGET: a pipeline's own bookkeeping costs more than the command (every poll asks).
        fid = feed_id(url)
        spec, poll = self._do(lambda: self.r.hmget(self._bucket(fid), [fid, f"+{fid[4:]}"]))
        return None if spec is None else unpack_feed(spec, poll)[1]

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.r.pipeline(transaction=False)
        for url in urls:
            fid = feed_id(url)
            pipe.hmget(self._bucket(fid), [fid, f"+{fid[4:]}"])
        raws = self._do(pipe.execute)
        return {
            url: unpack_feed(spec, poll)[1]
            for url, (spec, poll) in zip(urls, raws, strict=True)
            if spec is not None
        }

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        self.put_feeds([(url, state, next_at)])

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        if any(next_at is not None for _, _, next_at in items):
            self._ensure_due_layout()
        # One script per batch keeps each bucket's index score exact without a round trip per feed.
        for start in range(0, len(items), 1000):
            args: list[str] = [self.p]
            for url, state, next_at in items[start : start + 1000]:
                spec, poll = pack_feed(url, state)
                score = "" if next_at is None else str(due_score(next_at))
                flag = "1" if state.get("disabled") else ""
                args += [feed_id(url), spec, poll or "", score, flag, str(_errors(state))]
            self._do(partial(self._script("put_feeds"), keys=[], args=args))

    def delete_feed(self, url: str) -> bool:
        self._ensure_due_layout()
        fid = feed_id(url)
        keys = [
            self._bucket(fid),
            self._due(fid),
            f"{self.p}due-index",
            f"{self.p}entries:{url}",
            f"{self.p}disabled",
            f"{self.p}failing",
        ]
        return bool(self._do(lambda: self._script("delete_feed")(keys=keys, args=[fid])))

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        self._ensure_due_layout()
        old_id, new_id = feed_id(old), feed_id(new)
        keys = [
            self._bucket(old_id),
            self._bucket(new_id),
            self._due(old_id),
            self._due(new_id),
            f"{self.p}due-index",
            f"{self.p}entries:{old}",
            f"{self.p}entries:{new}",
            f"{self.p}disabled",
            f"{self.p}failing",
        ]
        spec, poll = pack_feed(new, state)
        flag = "1" if state.get("disabled") else ""
        args = [old_id, new_id, spec, poll or "", flag, self.entry_ttl_s, _errors(state)]
        self._do(lambda: self._script("move_feed")(keys=keys, args=args))

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        if entry_keys:
            args = [self.entry_ttl_s, *map(entry_digest, entry_keys)]
            self._do(lambda: self._script("forget_entries")(keys=[f"{self.p}entries:{feed_key}"], args=args))

    def _all_feeds(self) -> dict[str, str]:
        """Return id -> URL of every stored feed (a SCAN: for admin commands, not the hot path)."""
        out: dict[str, str] = {}
        keys = self._do(lambda: list(self.r.scan_iter(match=f"{self.p}feed:*", count=1000)))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for bucket in self._do(pipe.execute):
            for fid, raw in bucket.items():
                if not str(fid).startswith("+"):
                    out[str(fid)] = unpack_feed(raw, None)[0]
        return out

    def feed_urls(self) -> list[str]:
        return sorted(self._all_feeds().values())

    def disabled_count(self) -> int:
        self._index_troubles()
        return int(self._do(lambda: self.r.scard(f"{self.p}disabled")))

    def _index_troubles(self) -> None:
        """
        Build the `disabled` set and the `failing` zset from every feed, once.

        Every feed write keeps both (`put_feeds.lua`); data written before they
        existed is indexed here, one SCAN of the feeds, the first time either is read.
        """
        if self._do(lambda: self.r.exists(f"{self.p}troubles-indexed")):
            return
        feeds = self._all_feeds()
        states = self.get_feeds(list(feeds.values()))
        disabled = [fid for fid, url in feeds.items() if (states.get(url) or {}).get("disabled")]
        failing: dict[str | bytes, bytes | float | int | str] = {
            fid: _errors(states.get(url) or {})
            for fid, url in feeds.items()
            if fid not in set(disabled) and _errors(states.get(url) or {}) > 0
        }
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(f"{self.p}disabled", f"{self.p}failing")
        if disabled:
            pipe.sadd(f"{self.p}disabled", *disabled)
        if failing:
            pipe.zadd(f"{self.p}failing", failing)
        pipe.set(f"{self.p}troubles-indexed", 1)
        self._do(pipe.execute)

    def _schedule_at(self, url: str, score: str) -> None:
        self._ensure_due_layout()
        fid = feed_id(url)
        keys = [self._bucket(fid), self._due(fid), f"{self.p}due-index"]
        # A source scheduled without state still needs its URL stored, or its id could not be read back.
        self._do(lambda: self._script("schedule")(keys=keys, args=[fid, pack_state(url, {}), score]))

    def schedule(self, url: str, next_at: float) -> None:
        self._schedule_at(url, str(due_score(next_at)))

    def unschedule(self, url: str) -> None:
        self._schedule_at(url, "")

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        return [url for url, _ in self.claim_due_feeds(now, limit, lease_s)]

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        self._ensure_due_layout()
        args = [repr(float(now)), limit, due_score(now + lease_s), self.p]
        raws = [str(r) for r in self._do(lambda: self._script("claim_due")(keys=[], args=args))]
        pairs = zip(raws[::2], raws[1::2], strict=True)
        return [unpack_feed(spec, poll or None) for spec, poll in pairs if spec]

    def scheduled(self) -> dict[str, float]:
        self._ensure_due_layout()
        keys = self._do(lambda: list(self.r.scan_iter(match=f"{self.p}due:????", count=1000)))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, 0, -1, withscores=True)
        urls = self._all_feeds()
        out: dict[str, float] = {}
        for key, pairs in zip(keys, self._do(pipe.execute), strict=True):
            bucket = str(key)[-4:]
            for member, score in pairs:
                url = urls.get(bucket + str(member))
                if url is not None:
                    out[url] = float(score)
        return out
