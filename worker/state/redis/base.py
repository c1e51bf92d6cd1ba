"""The shared part of the Redis store: the client, error translation, the Lua scripts."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.retry import Retry

from worker.errors import StoreUnavailable
from worker.state import scripts

T = TypeVar("T")


# One retry layer per failure kind (STYLE §3).  The client retries a lost connection once, for a
# blip: a pooled connection Redis closed (a restart, an idle timeout) is opened again at once.
# An outage is not waited out here but by the task: `StoreUnavailable` makes Celery retry the
# whole task with backoff for up to half an hour (`worker.app.tasks._STORE_RETRY`), the layer
# that also waits out a full disk or a busy SQLite file.
BLIP_RETRIES = 1


def connect(url: str, *, retries: int = BLIP_RETRIES) -> redis.Redis[str]:
    """Open a client that retries a lost connection `retries` times with backoff (see `BLIP_RETRIES`)."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
        socket_connect_timeout=5,
        socket_timeout=30,
    )


def due_score(at: float) -> int:
    """Return a due-set score: whole seconds, rounded up so a feed is never polled before it asked."""
    return math.ceil(at)


class RedisBase:
    """A client under one key prefix, with its scripts registered on first use."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self.r = connect(url)
        self.p = prefix
        self._scripts: dict[str, Script] = {}

    def _do(self, fn: Callable[[], T]) -> T:
        """Run a Redis call; a connection lost twice becomes `StoreUnavailable` (retried by the task)."""
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc

    def _script(self, name: str) -> Script:
        """Return the script of `lua/<name>.lua`, registered with this client."""
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = self.r.register_script(scripts.source(name))
        return found
