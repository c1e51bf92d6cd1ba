"""The SQLite store's `Heartbeats` and `SourceOverview` roles (see `worker.state.overview`)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager


class OverviewTables:
    """Heartbeats in the `heartbeats` table; the sources' overview through partial indexes on `feeds`."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def heartbeat(self, group: str, member: str, at: float, ttl_s: int) -> None:
        # One transaction: the member's row is upserted on its own, never rewritten from a read.
        with self._tx() as db:
            db.execute(
                "INSERT INTO heartbeats (grp, member, at) VALUES (?, ?, ?) "
                "ON CONFLICT (grp, member) DO UPDATE SET at = max(at, excluded.at)",
                (group, member, at),
            )
            db.execute("DELETE FROM heartbeats WHERE grp = ? AND at < ?", (group, at - ttl_s))

    def heartbeat_leave(self, group: str, member: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM heartbeats WHERE grp = ? AND member = ?", (group, member))

    def heartbeats(self, group: str, since: float) -> dict[str, float]:
        rows = self._conn().execute(
            "SELECT member, at FROM heartbeats WHERE grp = ? AND at >= ?", (group, since)
        )
        return {str(m): float(t) for m, t in rows.fetchall()}
