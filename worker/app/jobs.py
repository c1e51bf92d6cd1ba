"""
Run `ingest`'s tasks in this process (`drain`) or in N worker processes (`run_pool`).

Either way each task is the service's own Celery task, run by `Task.apply`;
the tasks it sends are collected by a `LocalDispatcher` and run next.  The
pool is private to one `ingest`: the parent loads the models, forks the
workers (which share those pages of memory), hands each idle worker the next
task over a pipe, and gets back the task's outcome and the tasks it sent,
which it counts (`on_done`) as `drain` counts its own.
State is shared through the state store, which takes concurrent writers
(SQLite in WAL mode, or Redis), and the sinks, which lock their writes.

Two rules keep a parallel run equivalent to the in-order one:

* A poll that continues an archive (`resume_after` set) starts only once
  every task sent before it has finished: it stores the archive's checkpoint
  when it starts, which must never pass items not yet processed.
* A process batch is split into pieces of `PIECE` items, so that the last
  batches of an archive chunk do not leave workers idle (NER gains nothing
  from bigger batches: `bench/eval_entities.py`).

Ctrl-C (SIGINT to the parent, or to the whole group from a terminal)
interrupts every worker's task as it interrupts `drain`'s; the parent waits
for the workers to exit (killing any that does not within `STOP_TIMEOUT_S`)
and re-raises `KeyboardInterrupt`, so nothing outlives the command.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import pickle
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from worker import dispatch
from worker.app import logging as wlogging
from worker.app import runtime

# Items per process task in the pool (see the module docstring).
PIECE = 4
# Seconds the workers get to exit after Ctrl-C before they are killed.
STOP_TIMEOUT_S = 10.0

Task = tuple[str, tuple[Any, ...]]


class WorkerDied(RuntimeError):
    """A worker process ended without being asked (killed, out of memory); the others were stopped."""


class Finished:
    """
    A finished task as the parent sees it: its value, or the exception that failed it.

    It answers `result` and `failed()` as Celery's `EagerResult` does, so
    `ingest` counts a pooled task with the very code that counts its own.
    """

    def __init__(self, result: Any, failed: bool) -> None:
        self.result = result
        self._failed = failed

    def failed(self) -> bool:
        """Tell whether the task raised."""
        return self._failed

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception crosses the pipe as its class, arguments and attributes: pickling
        # it whole calls `cls(*args)`, which fails for those with keyword-only arguments.
        if self._failed and isinstance(self.result, BaseException):
            exc = self.result
            return (_restore_failure, (type(exc), exc.args, _picklable(vars(exc))))
        return (Finished, (self.result, self._failed))


def _picklable(attributes: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in attributes.items():
        with contextlib.suppress(Exception):
            pickle.dumps(value)
            kept[key] = value
    return kept


def _restore_failure(cls: type[BaseException], args: tuple[Any, ...], attributes: dict[str, Any]) -> Finished:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(attributes)
    return Finished(exc, failed=True)


def run_task(name: str, args: Sequence[Any]) -> tuple[Finished, list[Task]]:
    """Run one task through Celery here; return its outcome (never raised) and the tasks it sent."""
    import worker.app.tasks  # noqa: F401 - registers the tasks
    from worker.app.celery_app import app

    local = dispatch.LocalDispatcher()
    token = dispatch.current.set(local)
    try:
        result = app.tasks[name].apply(args=list(args))
    finally:
        dispatch.current.reset(token)
    return Finished(result.result, result.failed()), list(local.queue)


def cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _is_continuation(task: Task) -> bool:
    name, args = task
    return name == dispatch.TASK_POLL and len(args) > 1 and args[1] is not None


def pieces(task: Task, size: int = PIECE) -> list[Task]:
    """Split a process task into tasks of at most `size` items; return any other task as it is."""
    name, args = task
    if name != dispatch.TASK_PROCESS or len(args[0]) <= size:
        return [task]
    items = args[0]
    return [(name, (items[i : i + size], *args[1:])) for i in range(0, len(items), size)]


class Queue:
    """
    The tasks waiting and running, in the order they were sent.

    `take` hands out the first task that may start: any task, except an
    archive's continuation while a task sent before it waits or runs.
    """

    def __init__(self) -> None:
        self.pending: deque[tuple[int, Task]] = deque()
        self.running: set[int] = set()
        self._seq = 0

    def push(self, tasks: Sequence[Task]) -> None:
        """Queue tasks in the order they were sent, process batches split into `pieces`."""
        for task in tasks:
            for piece in pieces(task):
                self.pending.append((self._seq, piece))
                self._seq += 1

    def take(self) -> tuple[int, Task] | None:
        """Return the next task that may start (its number and itself), now running; None if none may."""
        oldest_running = min(self.running, default=self._seq)
        for index, (seq, task) in enumerate(self.pending):
            if _is_continuation(task) and (index > 0 or oldest_running < seq):
                continue
            del self.pending[index]
            self.running.add(seq)
            return seq, task
        return None

    def finish(self, seq: int) -> None:
        """Mark a task done."""
        self.running.discard(seq)

    def __bool__(self) -> bool:
        return bool(self.pending or self.running)


def _worker(conn: Connection, capture: bool, parents: list[Connection]) -> None:
    """
    Run the tasks the parent sends until it sends None or goes away; exit 130 on Ctrl-C.

    With `capture` (a progress bar in the parent) the log lines of a task go
    back with its outcome, for the parent to print above the bar: written here,
    they would land on the bar's line.
    `parents` are the parent's ends of the pipes, this worker's and the earlier
    ones', copied by the fork: closed here, so that when the parent dies (even
    by SIGKILL) its ends are closed everywhere and each worker reads EOF and exits.
    """
    for end in parents:
        end.close()
    code = 0
    lines = _capture_logs() if capture else None
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the parent is gone
                break
            if message is None:
                break
            name, args = message
            finished, sent = run_task(name, args)
            try:
                conn.send((finished, sent, _take(lines)))
            except OSError:  # the parent is gone: what the task did is stored, the next run goes on
                break
    except KeyboardInterrupt:
        signal.signal(
            signal.SIGINT, signal.SIG_IGN
        )  # the parent's forwarded SIGINT may follow the terminal's
        code = 130
    finally:
        runtime.reset()  # flush the sinks, close the store
        conn.close()
    raise SystemExit(code)


def _capture_logs() -> io.StringIO:
    """Point this process's log handlers at a buffer; return it."""
    buffer = io.StringIO()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(buffer)
    return buffer


def _take(buffer: io.StringIO | None) -> list[str]:
    """Return the lines logged into `buffer` since the last call, and empty it."""
    if buffer is None:
        return []
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.splitlines()


class _Pool:
    """The parent's side: the worker processes, their pipes and the task each runs."""

    def __init__(self, jobs: int, *, capture: bool) -> None:
        context = multiprocessing.get_context("fork")
        self.conns: dict[Connection, multiprocessing.process.BaseProcess] = {}
        for _ in range(jobs):
            parent, child = context.Pipe()
            parents = [*self.conns, parent]
            proc = context.Process(target=_worker, args=(child, capture, parents), daemon=True)
            proc.start()
            child.close()
            self.conns[parent] = proc
        self.queue = Queue()
        self.running: dict[Connection, tuple[int, Task]] = {}

    def assign(self) -> None:
        """Give each idle worker a task, while there are tasks that may start."""
        for conn in self.conns:
            if conn in self.running:
                continue
            found = self.queue.take()
            if found is None:
                return
            seq, task = found
            conn.send(task)
            self.running[conn] = (seq, task)

    def results(self) -> list[tuple[Task, Finished, list[Task], list[str]]]:
        """Wait for the next finished tasks: each task, its outcome, what it sent, the lines it logged."""
        done = []
        for conn in wait(list(self.running), timeout=1.0):
            assert isinstance(conn, Connection)
            try:
                finished, sent, lines = conn.recv()
            except EOFError:
                proc = self.conns[conn]
                proc.join(timeout=STOP_TIMEOUT_S)
                raise WorkerDied(f"worker process {proc.pid} exited with code {proc.exitcode}") from None
            seq, task = self.running.pop(conn)
            self.queue.finish(seq)
            done.append((task, finished, sent, lines))
        return done

    def close(self) -> None:
        """Tell idle workers to stop and wait for them."""
        for conn in self.conns:
            with contextlib.suppress(OSError):  # a worker that already exited
                conn.send(None)
        self.join()

    def interrupt(self) -> None:
        """Interrupt every worker's task (as Ctrl-C does) and wait for all to exit."""
        for proc in self.conns.values():
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGINT)
        self.join()

    def join(self) -> None:
        """Wait for the workers; kill those still running after `STOP_TIMEOUT_S`."""
        for proc in self.conns.values():
            proc.join(timeout=STOP_TIMEOUT_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


# Called in the parent for each finished task: its name, arguments, outcome, and the progress bar.
OnDone = Callable[[str, tuple[Any, ...], Finished, Any], None]


def run_pool(tasks: Sequence[Task], jobs: int, *, progress: bool, on_done: OnDone) -> None:
    """
    Run the tasks and all they send in `jobs` worker processes until none is left.

    Args:
        tasks: The first tasks, (name, args) as `dispatch` sends them.
        jobs: The number of worker processes.
        progress: Show a progress bar (on stderr).
        on_done: Counts each finished task, in the parent, in the order they finish.

    Raises:
        KeyboardInterrupt: Ctrl-C; every worker has exited.
        WorkerDied: a worker process died (killed, out of memory); the others have exited.
    """
    from tqdm import tqdm

    import worker.app.tasks  # noqa: F401 - registers the tasks
    from worker.app.celery_app import app

    # Finalised once here rather than on each worker's first task.
    app.tasks.keys()
    # Entered before the fork, so the workers inherit per-item events at DEBUG too.
    quiet = wlogging.progress_bar() if progress else contextlib.nullcontext()
    with quiet:
        pool = _Pool(jobs, capture=progress)
        # The bar's monitor thread starts after the fork: a forked child never inherits a thread.
        bar = tqdm(total=0, unit="item", disable=not progress, dynamic_ncols=True)
        finished = False
        try:
            pool.queue.push(tasks)
            pool.assign()
            while pool.running:
                for (name, args), outcome, sent, lines in pool.results():
                    for line in lines:
                        bar.write(line, file=sys.stderr)
                    on_done(name, args, outcome, bar)
                    pool.queue.push(sent)
                pool.assign()
            finished = True
        finally:
            bar.close()
            if finished:
                pool.close()
            else:
                pool.interrupt()
