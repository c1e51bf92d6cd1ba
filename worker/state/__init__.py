"""State shared by all workers: one interface, a Redis and a SQLite implementation."""

from __future__ import annotations

from worker.config import Settings
from worker.state.base import DeadLetter, StateStore


def open_store(settings: Settings) -> StateStore:
    """Open the Redis store when `REDIS_URL` is set, else the embedded SQLite one."""
    bounds = {
        "retention_s": settings.retention_s,
        "entry_memory": settings.entry_memory,
        "entry_ttl_s": settings.entry_ttl_s,
        "dead_max": settings.dead_max,
    }
    if settings.redis_url:
        from worker.state.redis import RedisStore

        return RedisStore(
            settings.redis_url, prefix=settings.key_prefix, dead_stream=settings.dead_stream, **bounds
        )
    from worker.state.sqlite import SQLiteStore

    return SQLiteStore(settings.state_dir / "state.sqlite3", **bounds)


__all__ = ["DeadLetter", "StateStore", "open_store"]
