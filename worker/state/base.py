"""
The state-store contract, as small role protocols (tests/integration/test_state_contract.py).

Each stage asks for the role it uses (`Dedupe`, `FeedStore`, `DueSet`, ...);
`StateStore` is every role at once, which both stores (`RedisStore`,
`SQLiteStore`) implement.  Every check-and-set is atomic across processes:
two workers racing on the same key see exactly one winner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from worker.state.nearindex import NearKey
from worker.state.overview import Heartbeats, SourceOverview

# Fingerprints of site chrome remembered per source (`ChromeMemory`): boilerplate recurs in every
# article, so a few hundred articles' worth of lines is plenty to find it.
CHROME_MAX_LINES = 1000


@dataclass(frozen=True)
class DeadLetter:
    """One item that failed for good: why, where, and what to retry it with."""

    id: str
    reason: str
    stage: str
    source: str
    payload: dict[str, Any]
    at: str


class Dedupe(Protocol):
    """Which articles and contents were emitted already (process stage)."""

    def is_done(self, article_id: str) -> bool:
        """Return True when the article went through every sink already."""
        ...

    def mark_done(self, article_id: str, ttl_s: int) -> None:
        """Remember that the article is finished (kept `ttl_s`)."""
        ...

    def claim_content(self, content_hash: str, article_id: str, ttl_s: int) -> str | None:
        """
        Claim a content hash for an article.

        Returns:
            None when the hash is new or already belongs to `article_id`
            (a redelivery), else the id of the article that owns it.
        """
        ...

    def near_claim(self, article_id: str, key: NearKey, ttl_s: int) -> str | None:
        """
        Look the text's band keys up in the MinHash-LSH index and insert them, atomically.

        Candidates share an LSH band; one is a near-duplicate when its stored
        sketch agrees enough (`worker.state.nearindex`).  A key without bands
        (a text too short) is never a near-duplicate.

        Returns:
            None when no earlier article is near enough (the signature is now
            indexed), else the id of the earlier article.  An article's own
            entry (a redelivery) is not a duplicate of it.
        """
        ...


class FeedStore(Protocol):
    """What polling learned of each feed and which entries it has seen (poll stage, sources)."""

    def add_entries(self, feed_key: str, entry_keys: list[str], keep: int | None = None) -> list[str]:
        """
        Record entry keys as seen; return those that were not seen before.

        Only the `keep` keys recorded last stay remembered per feed (the
        store's `entry_memory` when None), so a poll passes at least twice the
        feed's length; a feed's memory expires after the store's `entry_ttl_s`
        without a new key.
        """
        ...

    def unseen_entries(self, feed_key: str, entry_keys: list[str]) -> list[str]:
        """
        Return the entry keys not recorded as seen, in order, without recording them.

        A poll sends the work of these first and records them (`add_entries`) after:
        a poll that dies between the two sends them again, never loses them.
        """
        ...

    def forget_entries(self, feed_key: str, entry_keys: list[str]) -> None:
        """Mark entry keys as not seen (undo `add_entries` after a failed read)."""
        ...

    def get_feed(self, url: str) -> dict[str, Any] | None:
        """Return the stored polling state of a feed."""
        ...

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """Return the stored state of each of `urls` that has one (one round trip)."""
        ...

    def put_feed(self, url: str, state: dict[str, Any], *, next_at: float | None = None) -> None:
        """
        Replace the stored polling state of a feed; with `next_at`, schedule it in the same step.

        Values of None may be dropped, and `next_at` kept only as the due time
        (the Redis store does both, to stay compact: `scheduled()` has it).
        """
        ...

    def put_feeds(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        """Store many (url, state, next_at or None) at once, pipelined (OPML import, benchmarks)."""
        ...

    def delete_feed(self, url: str) -> bool:
        """Forget a source: its state, its place in the due-set and its seen entries."""
        ...

    def move_feed(self, old: str, new: str, state: dict[str, Any]) -> None:
        """
        Move a source to a new URL (a permanent redirect), atomically.

        The state is stored under `new`, the due-set entry and the seen
        entries follow, and nothing is left under `old`.
        """
        ...

    def feed_urls(self) -> list[str]:
        """Return every source with stored state (disabled ones included)."""
        ...

    def disabled_count(self) -> int:
        """Return how many stored feeds are disabled (cheap: a metrics scrape asks at every scrape)."""
        ...


class DueSet(Protocol):
    """When each source is polled next, claimed under a lease (schedule stage)."""

    def schedule(self, url: str, next_at: float) -> None:
        """Put a source in the due-set at `next_at` (epoch seconds; Redis keeps whole seconds, rounded up)."""
        ...

    def unschedule(self, url: str) -> None:
        """Remove a source from the due-set."""
        ...

    def claim_due(self, now: float, limit: int, lease_s: float) -> list[str]:
        """
        Atomically take up to `limit` sources due at `now`.

        A taken source is pushed `lease_s` into the future, so a second tick
        does not take it again before its poll writes the real next check.
        """
        ...

    def claim_due_feeds(self, now: float, limit: int, lease_s: float) -> list[tuple[str, dict[str, Any]]]:
        """Like `claim_due`, returning each source's state along with its URL."""
        ...

    def scheduled(self) -> dict[str, float]:
        """Return every scheduled source with its next check."""
        ...


class Checkpoints(Protocol):
    """How far an archive was read (poll stage)."""

    def get_checkpoint(self, key: str) -> str | None:
        """Return the last position processed in an archive."""
        ...

    def set_checkpoint(self, key: str, position: str) -> None:
        """
        Store the last position processed in an archive; an empty position forgets the key.

        A checkpoint not written again for the store's `entry_ttl_s` expires (its source is gone).
        """
        ...


class ChromeMemory(Protocol):
    """Lines learned as site chrome per source (process stage)."""

    def learn_chrome(self, source: str, fingerprints: list[str], min_count: int) -> frozenset[str]:
        """
        Count each fingerprint once more for `source`.

        The memory is bounded: past `CHROME_MAX_LINES` fingerprints of a source,
        those not learned are forgotten (a source's boilerplate is learned
        again within `min_count` articles), and a source silent for the
        store's retention is forgotten.

        Returns:
            The fingerprints of this call seen in at least `min_count` articles.
        """
        ...


class Cache(Protocol):
    """Small values with a lifetime: robots.txt, the tick's sign of life."""

    def cache_get(self, key: str) -> str | None:
        """Return a cached value (robots.txt of a host), or None when absent or expired."""
        ...

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        """Cache a value for `ttl_s` seconds."""
        ...

    def cache_add(self, key: str, value: str, ttl_s: int) -> bool:
        """Cache a value for `ttl_s` seconds unless one is cached; True when this call stored it."""
        ...


class HostRate(Protocol):
    """One request rate per host shared by every worker: slots and the gate (schedule stage)."""

    def take_token(self, bucket: str, rate_per_s: float, burst: float) -> float:
        """
        Take one token from a rate-limit bucket shared by every worker.

        The bucket refills at `rate_per_s` up to `burst` tokens.

        Returns:
            0.0 when a token was taken, else the seconds until one will be there
            (nothing is taken then).
        """
        ...

    def reserve_slot(
        self, bucket: str, rate_per_s: float, burst: float, max_wait_s: float | None = None
    ) -> float:
        """
        Reserve the next request slot of a rate shared by every worker (`worker.state.slots`).

        Unlike `take_token` a reservation does not fail: each call gets its
        own slot, `1 / rate_per_s` after the previous one (`burst` at once
        after a rest), so a deferred request knows when it may go and never
        has to ask again.

        Returns:
            The seconds until the reserved slot (0.0: go now).  With
            `max_wait_s`, a wait above it reserves nothing (take-or-leave).
        """
        ...

    def hold_host(self, bucket: str, rate_per_s: float, burst: float, delay_s: float) -> float:
        """
        Hold a host that asked us to wait `delay_s` (429, 503): reserve the first slot that far off.

        Both steps are atomic and use the store's clock (`worker.state.slots`):
        the schedule moves past the slot, so later reservations come after it,
        and the gate (`take_token`) has no token until `delay_s` from now, so
        fetches holding earlier slots stop there and reserve again.

        Returns:
            The seconds until the reserved slot (at least `delay_s`).
        """
        ...


class Parking(Protocol):
    """Fetches waiting for a slot too far off for a broker countdown (schedule stage)."""

    def park(self, item_id: str, payload: dict[str, Any], at: float) -> None:
        """Keep a payload until `at` (epoch seconds); parking the same id again replaces it."""
        ...

    def claim_parked(
        self, now: float, limit: int, lease_s: float, *, ahead_s: float = 0.0
    ) -> list[tuple[str, dict[str, Any], float]]:
        """
        Atomically take up to `limit` parked items due by `now + ahead_s`, earliest first.

        A taken item stays stored, leased until `now + lease_s`: it is removed
        by `unpark` once released, and comes back to a later claim if the
        releaser died first.  Two processes claiming at once never take the
        same item.

        Returns:
            (id, payload, at) of each item taken.
        """
        ...

    def unpark(self, items: list[tuple[str, float]]) -> None:
        """
        Delete parked items (id, at) after their release was sent.

        An id parked again since its claim (with another `at`: the fetch came
        back and was deferred anew) is left alone.
        """
        ...

    def parked_count(self) -> int:
        """Return how many items are parked (leased ones included)."""
        ...


class DeadLetters(Protocol):
    """Items that failed for good, with the reason and what to retry them with."""

    def dead_letter(self, reason: str, stage: str, source: str, payload: dict[str, Any]) -> str:
        """Store a failed item; return its id (past the store's `dead_max`, the oldest are dropped)."""
        ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Return the oldest dead letters."""
        ...

    def remove_dead(self, dead_id: str) -> bool:
        """Remove one dead letter (after a retry); True when it existed."""
        ...


class Maintenance(Protocol):
    """Deleting what expired, off the hot path (`worker.schedule.tick.maybe_purge`)."""

    def purge(self, now: float, limit: int) -> int:
        """
        Delete up to `limit` stored items that expired by `now`, in small batches; return how many.

        Dead letters past the store's `dead_max` go too, oldest first.  A
        store whose every key expires by itself (Redis) has little to do.
        """
        ...


class Counters(Protocol):
    """Named counters shown by `health`."""

    def incr(self, counter: str, by: int = 1) -> None:
        """Add to a named counter."""
        ...

    def counters(self) -> dict[str, int]:
        """Return all counters."""
        ...


# Minutes a timeline keeps at least: the status page charts the last hour, with room to spare.
TIMELINE_KEEP_MINUTES = 120


class Timeline(Protocol):
    """Per-minute counts of a few named events (new articles, duplicates), kept about two hours."""

    def record(self, name: str, minute: int, by: int = 1) -> None:
        """
        Add `by` to the count of `name` in `minute` (epoch seconds // 60).

        Counts of that name older than `TIMELINE_KEEP_MINUTES` before `minute` are
        dropped on the way, so a timeline stays bounded however long it runs.
        """
        ...

    def timeline(self, name: str, since_minute: int) -> dict[int, int]:
        """Return minute -> count of `name` for the kept minutes from `since_minute` on (zeros absent)."""
        ...


class Ledger(Protocol):
    """Task messages sent and not ended (`worker.app.ledger`)."""

    def ledger_put(self, queue: str, task_id: str, at: float, message: str) -> None:
        """Record a task message about to be published; `at` is its last sign of life."""
        ...

    def ledger_touch(self, queue: str, task_id: str, at: float) -> None:
        """Give a recorded task a sign of life (it started); a task not recorded stays unrecorded."""
        ...

    def ledger_done(self, queue: str, task_id: str) -> None:
        """Forget a recorded task (it ended)."""
        ...

    def ledger_stale(self, queue: str, before: float, limit: int) -> list[tuple[str, float]]:
        """Return up to `limit` recorded tasks (id, last sign of life) silent since `before`, oldest first."""
        ...

    def ledger_suspect(self, queue: str, task_ids: list[str], now: float, confirm_s: float) -> list[str]:
        """
        Note that these tasks look lost now; return the ones that have for `confirm_s`.

        Atomically: suspects of the queue not in `task_ids` are cleared, and
        the returned ones too, so two sweepers never both confirm a task.
        A sign of life, a new record or the end of a task clears it as well.
        """
        ...

    def ledger_messages(self, task_ids: list[str]) -> dict[str, str]:
        """Return the recorded messages of these tasks (those still recorded)."""
        ...

    def ledger_count(self, queue: str) -> int:
        """Return how many tasks of a queue are recorded (sent and not ended)."""
        ...


class StateStore(
    Dedupe,
    FeedStore,
    DueSet,
    Checkpoints,
    ChromeMemory,
    Cache,
    HostRate,
    Parking,
    DeadLetters,
    Counters,
    Timeline,
    Ledger,
    Maintenance,
    Heartbeats,
    SourceOverview,
    Protocol,
):
    """Every role at once: what one worker process opens (`worker.state.open_store`)."""

    def ping(self) -> bool:
        """Return True when the store answers."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
