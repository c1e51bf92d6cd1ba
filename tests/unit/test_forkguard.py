"""Tests for worker.app.forkguard: a fork waits for a thread's store call, and the child is free."""

from __future__ import annotations

import os
import threading
import time

from worker.app import forkguard


def test_a_fork_waits_until_no_thread_is_inside_the_guard() -> None:
    inside, leave = threading.Event(), threading.Event()
    left_at: list[float] = []

    def thread() -> None:
        with forkguard.guard():
            inside.set()
            leave.wait(5)
            left_at.append(time.monotonic())

    t = threading.Thread(target=thread)
    t.start()
    inside.wait(5)
    threading.Timer(0.3, leave.set).start()
    pid = os.fork()
    if pid == 0:  # the child: the guard is usable at once, though the parent's thread held it
        acquired = forkguard._lock.acquire(timeout=1)
        os._exit(0 if acquired else 1)
    forked_at = time.monotonic()
    _, status = os.waitpid(pid, 0)
    t.join(5)
    assert 0 == os.waitstatus_to_exitcode(status)
    assert left_at
    assert forked_at >= left_at[0]


def test_the_guard_is_free_again_after_a_fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert forkguard._lock.acquire(timeout=1)
    forkguard._lock.release()
