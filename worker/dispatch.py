"""
Hand follow-up work to the broker, or to the in-process loop of `ingest`.

Stages send tasks by name through `send`/`send_later`; they never import the
Celery app.  The app layer installs the broker's dispatcher (`install`), and
`ingest` sets its own for the duration of a run (`current`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

# Task names: the contract between the stages that send work and the app layer that runs it.
TASK_POLL = "worker.poll_source"
TASK_FETCH = "worker.fetch_article"
TASK_PROCESS = "worker.process_items"
TASK_TICK = "worker.dispatch_tick"

# The broker's queues, one per stage; each task goes to its own (`QUEUE_OF`).
QUEUES = ("poll", "fetch", "process")
QUEUE_OF = {TASK_POLL: "poll", TASK_TICK: "poll", TASK_FETCH: "fetch", TASK_PROCESS: "process"}


class Dispatcher(Protocol):
    """Something that runs a task later."""

    def send(self, task: str, *args: Any) -> None:
        """Queue `task` with JSON-safe `args`."""
        ...

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        """Queue `task` to run `countdown_s` from now (kept short: see `worker.schedule.politeness`)."""
        ...


# Celery's `app.send_task`, or what a test puts in its place.
SendTask = Callable[..., Any]


class BrokerDispatcher:
    """Send through a publisher with Celery's `send_task` signature (the app layer hands it in)."""

    def __init__(self, send_task: SendTask) -> None:
        self._send_task = send_task

    def send(self, task: str, *args: Any) -> None:
        self._send_task(task, args=list(args))

    def send_later(self, task: str, countdown_s: float, *args: Any) -> None:
        self._send_task(task, args=list(args), countdown=countdown_s if countdown_s > 0 else None)


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
_installed: list[Dispatcher] = []


def install(dispatcher: Dispatcher) -> None:
    """Make `dispatcher` the default of this process (the app layer installs the broker's)."""
    _installed[:] = [dispatcher]


def _dispatcher() -> Dispatcher:
    found = current.get() or (_installed[0] if _installed else None)
    if found is None:
        raise RuntimeError("no dispatcher installed: call worker.app.celery_app.install() first")
    return found


def send(task: str, *args: Any) -> None:
    """Queue a task with whatever dispatcher is current (the broker's unless `ingest` set its own)."""
    _dispatcher().send(task, *args)


def send_later(task: str, countdown_s: float, *args: Any) -> None:
    """Queue a task to run `countdown_s` from now (at once when it is not positive)."""
    _dispatcher().send_later(task, countdown_s, *args)


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
