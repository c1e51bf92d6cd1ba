"""Hand follow-up work to Celery, or to the in-process loop of `ingest`."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

# The broker's queues, one per stage (`celery_app.task_routes` sends each task to its own).
QUEUES = ("poll", "fetch", "process")


class Dispatcher(Protocol):
    """Something that runs a task later."""

    def send(self, task: str, *args: Any) -> None:
        """Queue `task` with JSON-safe `args`."""
        ...

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        """Queue `task` to run `countdown_s` from now (kept short: see `worker.schedule.politeness`)."""
        ...


class CeleryDispatcher:
    """Send to the broker, on the task's own queue (see `celery_app.task_routes`)."""

    def send(self, task: str, *args: Any) -> None:
        from worker.app.celery_app import app

        app.send_task(task, args=list(args))

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        from worker.app.celery_app import app

        app.send_task(task, args=list(args), countdown=countdown_s if countdown_s > 0 else None)


class LocalDispatcher:
    """Collect tasks for `ingest`, which runs them through Celery in this process."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, tuple[Any, ...]]] = deque()

    def send(self, task: str, *args: Any) -> None:
        self.queue.append((task, args))

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        # In order, at once: `ingest` sleeps until a fetch's slot itself.
        self.queue.append((task, args))


current: ContextVar[Dispatcher | None] = ContextVar("dispatcher", default=None)
_celery = CeleryDispatcher()


def send(task: str, *args: Any) -> None:
    """Queue a task with whatever dispatcher is current (Celery unless `ingest` set its own)."""
    (current.get() or _celery).send(task, *args)


def send_later(task: str, countdown_s: float, *args: Any) -> None:
    """Queue a task to run `countdown_s` from now (at once when it is not positive)."""
    (current.get() or _celery).send_later(task, countdown_s, *args)


_leased: ContextVar[bool] = ContextVar("dispatch_leased", default=False)


@contextmanager
def leased() -> Iterator[None]:
    """Send work that a lease in the state store brings back if it is lost: `worker.app.ledger` skips it."""
    token = _leased.set(True)
    try:
        yield
    finally:
        _leased.reset(token)


def is_leased() -> bool:
    """Return True inside `leased()`."""
    return _leased.get()
