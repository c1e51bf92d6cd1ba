"""
The roles behind what an operator reads: who is alive (`Heartbeats`), and a bounded view of the sources.

`health` and the status page read them; both stores implement them
(`worker.state.sqlite_overview`, `worker.state.redis.overview`) and pass the
contract suite.  Each write is one atomic step of the store, and each read
is bounded, however many workers or sources there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Heartbeats(Protocol):
    """The last sign of life of each member of a group (the workers), kept as long as it is recent."""

    def heartbeat(self, group: str, member: str, at: float, ttl_s: int) -> None:
        """
        Record that `member` of `group` was alive at `at`, atomically.

        One store step sets the member's time and drops members silent for
        `ttl_s`, so two members beating at the same instant never drop each
        other (a read-modify-write of one shared value would); the group
        expires `ttl_s` after its last heartbeat.
        """
        ...

    def heartbeat_leave(self, group: str, member: str) -> None:
        """Forget `member` of `group` (it stopped)."""
        ...

    def heartbeats(self, group: str, since: float) -> dict[str, float]:
        """Return member -> time of its last heartbeat, for those heard from at or after `since`."""
        ...


@dataclass(frozen=True)
class SourcesPage:
    """
    A bounded view of the subscribed sources: at most `limit` rows, the worst first, and the totals.

    `rows` holds (URL, stored state, next check or None): the disabled ones,
    then the failing ones (most consecutive errors first), then others by
    their next check.  `total` counts every subscribed source (scheduled or
    disabled), `disabled` and `failing` theirs, without reading their states.
    """

    rows: tuple[tuple[str, dict[str, Any], float | None], ...]
    total: int
    disabled: int
    failing: int


class SourceOverview(Protocol):
    """The sources an operator should look at first, read without loading every feed."""

    def sources_page(self, limit: int) -> SourcesPage:
        """Return up to `limit` subscribed sources, the disabled and failing first, and the totals."""
        ...
