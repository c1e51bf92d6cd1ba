"""The SQLite store's `Heartbeats` and `SourceOverview` roles (see `worker.state.overview`)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from typing import Any

from worker.state.overview import SourcesPage

# The same expressions as the partial indexes `feeds_disabled` and `feeds_failing` (sqlite.sql): SQLite
# uses such an index only for a query whose WHERE names its very expression.
_DISABLED = "json_extract(f.state, '$.disabled') IS NOT NULL"
_ERRORS = "json_extract(f.state, '$.errors')"
_FAILING = f"{_ERRORS} > 0 AND json_extract(f.state, '$.disabled') IS NULL"
_SOURCE_QUERIES = {
    "disabled": f"SELECT f.url, f.state, NULL FROM feeds f WHERE {_DISABLED} LIMIT ?",  # noqa: S608
    "failing": (
        f"SELECT f.url, f.state, d.next_at FROM feeds f JOIN due d ON d.url = f.url "  # noqa: S608
        f"WHERE {_FAILING} ORDER BY {_ERRORS} DESC LIMIT ?"
    ),
    # Through the due index, earliest first: stops after `limit` rows, however many are scheduled.
    "others": (
        "SELECT d.url, f.state, d.next_at FROM due d LEFT JOIN feeds f ON f.url = d.url "
        "WHERE f.state IS NULL OR NOT (COALESCE(json_extract(f.state, '$.errors'), 0) > 0) "
        "ORDER BY d.next_at LIMIT ?"
    ),
}


class OverviewTables:
    """Heartbeats in the `heartbeats` table; the sources' overview through partial indexes on `feeds`."""

    def sources_page(self, limit: int) -> SourcesPage:
        db = self._conn()
        rows: dict[str, tuple[str, dict[str, Any], float | None]] = {}
        for name in ("disabled", "failing", "others"):
            if len(rows) >= limit:
                break
            for url, state, next_at in db.execute(_SOURCE_QUERIES[name], (limit - len(rows),)):
                rows.setdefault(str(url), (str(url), json.loads(state) if state else {}, next_at))
        disabled = db.execute(f"SELECT COUNT(*) FROM feeds f WHERE {_DISABLED}").fetchone()[0]  # noqa: S608
        unscheduled_disabled = db.execute(
            f"SELECT COUNT(*) FROM feeds f WHERE {_DISABLED} "  # noqa: S608
            "AND NOT EXISTS (SELECT 1 FROM due d WHERE d.url = f.url)"
        ).fetchone()[0]
        failing = db.execute(
            f"SELECT COUNT(*) FROM feeds f JOIN due d ON d.url = f.url WHERE {_FAILING}"  # noqa: S608
        ).fetchone()[0]
        scheduled = db.execute("SELECT COUNT(*) FROM due").fetchone()[0]
        return SourcesPage(
            rows=tuple(rows.values()),
            total=int(scheduled) + int(unscheduled_disabled),
            disabled=int(disabled),
            failing=int(failing),
        )

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
