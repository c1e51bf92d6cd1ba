"""State shared by all workers: one interface, a Redis and a SQLite implementation."""

from __future__ import annotations

from worker.config import Settings
from worker.state.base import DeadLetter, StateStore


def open_store(settings: Settings) -> StateStore:
    """Open the Redis store when `REDIS_URL` is set, else the embedded SQLite one."""
    if settings.redis_url:
        from worker.state.redis import RedisStore

        return RedisStore(settings.redis_url, prefix=settings.key_prefix, dead_stream=settings.dead_stream)
    from worker.state.sqlite import SQLiteStore

    return SQLiteStore(settings.state_dir / "state.sqlite3")


__all__ = ["DeadLetter", "StateStore", "open_store"]
