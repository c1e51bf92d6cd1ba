"""
Keep a fork from copying a state-store call that a thread of the main process is in the middle of.

The worker's main process runs threads that use the store (heartbeats, the
dead-queue drain, metrics scrapes) while the prefork pool and the embedded
beat fork from it.  A fork taken while such a thread is inside SQLite copies
SQLite's process-wide mutexes as held, and the child's first store call then
waits for ever: a pool child that never runs a task, with nothing logged.
So those threads touch the store under `guard`, and every `os.fork` waits
(at most `WAIT_S`) until none is inside it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The longest a fork waits for a thread's store call (a Redis store may retry through a restart).
WAIT_S = 30.0

_lock = threading.Lock()
_held = False


@contextmanager
def guard() -> Iterator[None]:
    """Hold off forks while inside: wrap a thread's store calls in it."""
    with _lock:
        yield


def _before_fork() -> None:
    global _held
    _held = _lock.acquire(timeout=WAIT_S)


def _after_fork_in_parent() -> None:
    global _held
    if _held:
        _held = False
        _lock.release()


def _after_fork_in_child() -> None:
    # The copy of the lock is held (by this very fork); the child has none of the threads.
    global _lock, _held
    _lock = threading.Lock()
    _held = False


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)
