"""
Record what the status page shows of the output: articles per minute, each source's last new article.

`process_items` calls `record` once per batch, beside the pipeline's `articles_<status>`
counters; `worker.app.status` reads it back.  Everything recorded here is
bounded: the timelines keep about two hours (`worker.state.base.Timeline`),
and the last-new marks are cache values with a lifetime.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the status page reads the names here without loading the pipeline
    from worker.process.pipeline import Outcome
    from worker.state import StateStore

# The outcomes charted per minute; the timeline of each is named like its counter.
CHARTED = ("new", "duplicate")
# A source with no new article for this long shows none (the mark expires with the cache entry).
LAST_NEW_TTL_S = 30 * 86400


def timeline_name(status: str) -> str:
    """Return the timeline (and counter) name of an outcome status: `articles_new`, ..."""
    return f"articles_{status}"


def last_new_key(source_url: str) -> str:
    """Return the cache key holding when a source last gave a new article (epoch seconds)."""
    return f"last-new:{source_url}"


def record(
    store: StateStore,
    items: Sequence[dict[str, Any]],
    outcomes: Sequence[Outcome],
    *,
    now: float | None = None,
) -> None:
    """
    Count a processed batch in this minute's buckets and mark the sources that gave new articles.

    Args:
        store: the shared state store (`Timeline` and `Cache` roles).
        items: the raw items of the batch, as the task received them (their `source.url`).
        outcomes: what the pipeline made of them (`Outcome.url` is the item's URL).
        now: the time to record at (epoch seconds; default: now).
    """
    at = time.time() if now is None else now
    minute = int(at // 60)
    counts: Counter[str] = Counter(o.status for o in outcomes)
    for status in CHARTED:
        if counts[status]:
            store.record(timeline_name(status), minute, counts[status])
    source_of = {str(d.get("url")): (d.get("source") or {}).get("url") for d in items}
    fresh = {source_of.get(o.url) for o in outcomes if o.status == "new"}
    # One write per source and batch, not per article.
    for url in sorted(u for u in fresh if u):
        store.cache_set(last_new_key(url), str(int(at)), LAST_NEW_TTL_S)
