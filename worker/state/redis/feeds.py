"""
Feeds and the due-set in Redis, laid out compactly (<= 200 bytes a feed at a million feeds).

Feeds are stored compactly for the million-feed goal (<= 200 bytes a feed,
polled or not, with Redis's default config).  A feed's id is a 12-character
hash of its URL (`codec.feed_id`); its first 4 hex digits name one of 65,536
buckets `b`, the other 8 characters `m` name the feed inside its bucket.
Buckets are grouped into `layout.SHARDS` hash-tagged shards (`layout` names
the keys), so every script touches keys of one shard, one slot of a cluster:

- `{feeds-<k>}:feed:<b>` hash: field `<id>` holds the spec value (the URL,
  for a default spec) and field `+<m>` what polling learned
  (`codec.pack_feed`); ~15 feeds a bucket at a million, each value <= 64
  bytes in the common case, so the hash stays listpack-encoded (up to 128
  fields, 64 feeds);
- `{feeds-<k>}:due:<b>` zset: member `<m>` scored by its next check, in whole
  seconds rounded up (an integral score takes 6 bytes of a listpack, one
  with a fraction about 20); small enough to stay a listpack too;
- `{feeds-<k>}:due-index` zset: member `<b>` scored by the earliest next
  check in `due:<b>`, kept exact by every script that writes a `due:<b>`,
  so a claim reads the due buckets of each shard from it in order.

- `entries:<feed>` string: the feed's entry memory, 8 bytes a remembered
  entry key (`codec.entry_digest`), oldest first, cut to the last `keep`
  and expiring `entry_ttl_s` after the last poll that parsed the feed
  (`lua/add_entries.lua`); a set of whole keys, the layout before it, is
  converted when first touched.

A single due zset of a million members would be a skiplist at ~105 bytes a
member; the bucketed one costs ~30.  The layouts before the shards are moved
into them once (`layout.migrate`); the whole state in the `<id>` field, the
oldest value layout, is still read.
"""

from __future__ import annotations

from typing import Any

from worker.state.codec import entry_digest, feed_id, pack_feed, pack_state, unpack_feed
from worker.state.redis import layout
from worker.state.redis.base import RedisBase, due_score


def _errors(state: dict[str, Any]) -> int:
    """Return a feed's consecutive errors, the score of the `failing` index (0 when not failing)."""
    try:
        return max(0, int(state.get("errors") or 0))
    except (TypeError, ValueError):
        return 0


class FeedTables(RedisBase):
    """The `FeedStore` and `DueSet` roles (see `worker.state.base`)."""

    _layout_checked = False
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

    def _ensure_layout(self) -> None:
        """Move the previous layouts into the shards, once per store (`layout.migrate`; none on a cluster)."""
        if self._layout_checked:
            return
        if not self.cluster:
            self._do(lambda: layout.migrate(self.r, self.p, self._script))
        self._layout_checked = True

    def get_feed(self, url: str) -> dict[str, Any] | None:
        # One plain HMGET: a pipeline's own bookkeeping costs more than the command (every poll asks).
        self._ensure_layout()
        fid = feed_id(url)
        spec, poll = self._do(lambda: self.r.hmget(layout.feed_key(self.p, fid[:4]), [fid, f"+{fid[4:]}"]))
        return None if spec is None else unpack_feed(spec, poll)[1]

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        self._ensure_layout()
        pipe = self.r.pipeline(transaction=False)
        for url in urls:
            fid = feed_id(url)
            pipe.hmget(layout.feed_key(self.p, fid[:4]), [fid, f"+{fid[4:]}"])
        raws = self._do(pipe.execute)
        return {
            url: unpack_feed(spec, poll)[1]
            for url, (spec, poll) in zip(urls, raws, strict=True)
            if spec is not None
        }

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        self.put_feeds([(url, state, next_at)])

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        self._ensure_layout()
        # One script a shard per batch keeps each bucket's index score exact without a round trip per feed.
        for start in range(0, len(items), 1000):
            rows: dict[int, list[tuple[str, str, str, str, str, str]]] = {}
            for url, state, next_at in items[start : start + 1000]:
                spec, poll = pack_feed(url, state)
                score = "" if next_at is None else str(due_score(next_at))
                fid = feed_id(url)
                flag = "1" if state.get("disabled") else ""
                row = (fid, spec, poll or "", score, flag, str(_errors(state)))
                rows.setdefault(layout.shard_of(fid[:4]), []).append(row)
            calls = []
            for shard, feeds in rows.items():
                buckets = list(dict.fromkeys(fid[:4] for fid, *_ in feeds))
                place = {b: j for j, b in enumerate(buckets, 1)}
                keys = [
                    layout.index_key(self.p, shard),
                    layout.disabled_key(self.p, shard),
                    layout.failing_key(self.p, shard),
                ]
                keys += [k for b in buckets for k in (layout.feed_key(self.p, b), layout.due_key(self.p, b))]
                args: list[Any] = [len(buckets), *buckets]
                for fid, *values in feeds:
                    args += [place[fid[:4]], fid, *values]
                calls.append(("put_feeds", keys, args))
            self._scripts_run(calls)

    def _feed_keys(self, fid: str) -> list[str]:
        """Return a feed's bucket hash, due zset, and its shard's index, disabled set and failing zset."""
        b, shard = fid[:4], layout.shard_of(fid[:4])
        return [
            layout.feed_key(self.p, b),
            layout.due_key(self.p, b),
            layout.index_key(self.p, shard),
            layout.disabled_key(self.p, shard),
            layout.failing_key(self.p, shard),
        ]

    def delete_feed(self, url: str) -> bool:
        self._ensure_layout()
        fid = feed_id(url)
        existed = self._do(lambda: self._script("delete_feed")(keys=self._feed_keys(fid), args=[fid]))
        self._do(lambda: self.r.delete(f"{self.p}entries:{url}"))
        return bool(existed)

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        """
        Move a feed's state, due time and entry memory to a new URL (a permanent redirect).

        Three steps, as the two feeds may be in different shards (nodes of a cluster): the entry
        memory first, then the new feed, then the old one goes.  A crash between them leaves
        both feeds, and the next poll of the old one moves it again; nothing is lost.
        """
        self._ensure_layout()
        old_id = feed_id(old)
        old_entries, new_entries = f"{self.p}entries:{old}", f"{self.p}entries:{new}"
        moved = str(self._do(lambda: self._script("read_entries")(keys=[old_entries], args=[])) or "")
        if moved:
            args = [self.entry_ttl_s, moved]
            self._do(lambda: self._script("prepend_entries")(keys=[new_entries], args=args))
        score = self._do(lambda: self.r.zscore(layout.due_key(self.p, old_id[:4]), old_id[4:]))
        self.put_feeds([(new, state, None if score is None else float(score))])
        self._do(lambda: self._script("delete_feed")(keys=self._feed_keys(old_id), args=[old_id]))
        self._do(lambda: self.r.delete(old_entries))

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        if entry_keys:
            args = [self.entry_ttl_s, *map(entry_digest, entry_keys)]
            self._do(lambda: self._script("forget_entries")(keys=[f"{self.p}entries:{feed_key}"], args=args))

    def _all_feeds(self) -> dict[str, str]:
        """Return id -> URL of every stored feed (a SCAN of every node: admin commands, not the hot path)."""
        self._ensure_layout()
        out: dict[str, str] = {}
        match = f"{self.p}{{feeds-*}}:feed:*"
        keys = self._do(lambda: list(self.r.scan_iter(match=match, count=1000)))
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
        pipe = self.r.pipeline(transaction=False)
        for k in range(layout.SHARDS):
            pipe.scard(layout.disabled_key(self.p, k))
        return sum(int(n) for n in self._do(pipe.execute))

    def _index_troubles(self) -> None:
        """
        Build the shards' `disabled` sets and `failing` zsets from every feed, once.

        Every feed write keeps both (`put_feeds.lua`); data written before they
        existed is indexed here, one SCAN of the feeds, the first time either is read.
        The `disabled` sets are kept as they are where the version before kept them
        (`disabled-counted`), and only `failing` is built.
        """
        self._ensure_layout()
        if self._do(lambda: self.r.exists(f"{self.p}troubles-indexed")):
            return
        kept = bool(self._do(lambda: self.r.exists(f"{self.p}disabled-counted")))
        feeds = self._all_feeds()
        states = self.get_feeds(list(feeds.values()))
        disabled = {fid for fid, url in feeds.items() if (states.get(url) or {}).get("disabled")}
        errors = {fid: _errors(states.get(url) or {}) for fid, url in feeds.items() if fid not in disabled}
        failing = [fid for fid, n in errors.items() if n > 0]
        pipe = self.r.pipeline(transaction=False)
        for k in range(layout.SHARDS):
            if not kept:
                pipe.delete(layout.disabled_key(self.p, k))
            pipe.delete(layout.failing_key(self.p, k))
        for shard, members in layout.by_shard(sorted(disabled)).items():
            pipe.sadd(layout.disabled_key(self.p, shard), *members)
        for shard, members in layout.by_shard(failing).items():
            pipe.zadd(layout.failing_key(self.p, shard), {fid: errors[fid] for fid in members})
        pipe.set(f"{self.p}troubles-indexed", 1)
        self._do(pipe.execute)

    def _schedule_at(self, url: str, score: str) -> None:
        self._ensure_layout()
        fid = feed_id(url)
        keys = self._feed_keys(fid)[:3]
        # A source scheduled without state still needs its URL stored, or its id could not be read back.
        self._do(lambda: self._script("schedule")(keys=keys, args=[fid, pack_state(url, {}), score]))

    def schedule(self, url: str, next_at: float) -> None:
        self._schedule_at(url, str(due_score(next_at)))

    def unschedule(self, url: str) -> None:
        self._schedule_at(url, "")

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        return [url for url, _ in self.claim_due_feeds(now, limit, lease_s)]

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        """
        Lease the `limit` earliest due feeds, shard by shard; return their (url, state).

        Three round trips, so that every script declares the keys it touches: the shards'
        index heads (the first `limit` buckets over all shards hold the `limit` earliest due
        feeds), those buckets' due feeds (`due_heads.lua`, a script a shard), then a claim
        script a shard (`claim_due.lua`) that leases the chosen feeds still due.
        """
        self._ensure_layout()
        if limit <= 0:
            return []
        at = repr(float(now))
        buckets = self._due_buckets(at, limit)
        chosen = sorted(self._due_members(at, limit, buckets))[:limit]
        groups: dict[int, list[tuple[str, str]]] = {}
        for _, b, m in chosen:
            groups.setdefault(layout.shard_of(b), []).append((b, m))
        claimed: dict[tuple[str, str], tuple[str, str]] = {}
        until = due_score(now + lease_s)
        calls, asked = [], []
        for shard, names in layout.by_shard(buckets).items():
            place = {b: j for j, b in enumerate(names, 1)}
            keys = [layout.index_key(self.p, shard)]
            keys += [k for b in names for k in (layout.due_key(self.p, b), layout.feed_key(self.p, b))]
            feeds = groups.get(shard, [])
            args: list[Any] = [at, until, len(names), *names]
            for b, m in feeds:
                args += [place[b], m]
            calls.append(("claim_due", keys, args))
            asked.append(feeds)
        for feeds, raws in zip(asked, self._scripts_run(calls), strict=True):
            flat = [str(r) for r in raws]
            claimed.update(zip(feeds, zip(flat[::2], flat[1::2], strict=True), strict=True))
        pairs = (claimed[(b, m)] for _, b, m in chosen)
        return [unpack_feed(spec, poll or None) for spec, poll in pairs if spec]

    def _due_buckets(self, at: str, limit: int) -> list[str]:
        """
        Return the `limit` buckets with the earliest due feeds over all shards, earliest first.

        Each shard's index is read a few more than its share of `limit` at first; a shard whose
        read came back full and whose last bucket is not past the `limit`-th is read again up to
        `limit` (rare: the shards spread the buckets evenly), so the merge is exact.
        """
        share = 2 * -(-limit // layout.SHARDS) + 8
        heads: dict[int, list[tuple[float, str]]] = {}
        want = dict.fromkeys(range(layout.SHARDS), min(share, limit))
        while want:
            pipe = self.r.pipeline(transaction=False)
            for shard, n in want.items():
                index = layout.index_key(self.p, shard)
                pipe.zrangebyscore(index, "-inf", at, start=0, num=n, withscores=True, score_cast_func=float)
            for shard, rows in zip(want, self._do(pipe.execute), strict=True):
                heads[shard] = [(score, str(b)) for b, score in rows]
            merged = sorted(row for rows in heads.values() for row in rows)[:limit]
            cut = merged[-1] if len(merged) == limit else None
            full = [shard for shard, n in want.items() if n < limit and len(heads[shard]) == n]
            want = {shard: limit for shard in full if cut is None or heads[shard][-1] <= cut}
        return [b for _, b in merged]

    def _due_members(self, at: str, limit: int, buckets: list[str]) -> list[tuple[float, str, str]]:
        """Return (score, bucket, member) of the due feeds of `buckets`, at most `limit` a bucket."""
        groups = list(layout.by_shard(buckets).values())
        calls = [("due_heads", [layout.due_key(self.p, b) for b in names], [at, limit]) for names in groups]
        found: list[tuple[float, str, str]] = []
        for names, rows in zip(groups, self._scripts_run(calls), strict=True):
            for b, flat in zip(names, rows, strict=True):
                found += [(float(score), b, str(m)) for m, score in zip(flat[::2], flat[1::2], strict=True)]
        return found

    def scheduled(self) -> dict[str, float]:
        self._ensure_layout()
        pipe = self.r.pipeline(transaction=False)
        for shard in range(layout.SHARDS):
            pipe.zrange(layout.index_key(self.p, shard), 0, -1)
        buckets = [str(b) for rows in self._do(pipe.execute) for b in rows]
        pipe = self.r.pipeline(transaction=False)
        for b in buckets:
            pipe.zrange(layout.due_key(self.p, b), 0, -1, withscores=True)
        urls = self._all_feeds()
        out: dict[str, float] = {}
        for bucket, pairs in zip(buckets, self._do(pipe.execute), strict=True):
            for member, score in pairs:
                url = urls.get(bucket + str(member))
                if url is not None:
                    out[url] = float(score)
        return out
