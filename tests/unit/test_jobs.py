"""Tests for `ingest --jobs`: the queue's order, the continuation barrier, split batches, outcomes."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from worker import dispatch
from worker.app.ingest import _in_given_order
from worker.app.jobs import PIECE, Finished, Queue, pieces
from worker.errors import HTTPStatusError, ParseError
from worker.models import SourceSpec

SPEC: dict[str, Any] = {"kind": "archive", "location": "/data/archive"}


def process(n: int) -> tuple[str, tuple[Any, ...]]:
    return dispatch.TASK_PROCESS, ([{"url": f"u{i}"} for i in range(n)],)


def continuation(position: str) -> tuple[str, tuple[Any, ...]]:
    return dispatch.TASK_POLL, (SPEC, position)


class TestPieces:
    @pytest.mark.parametrize(
        ("items", "expected"),
        [(PIECE, [PIECE]), (PIECE + 1, [PIECE, 1]), (16, [4, 4, 4, 4] if PIECE == 4 else None)],
        ids=["one-piece", "remainder", "batch-of-16"],
    )
    def test_process_batches_are_split_in_order(self, items: int, expected: list[int] | None) -> None:
        """A process batch becomes pieces of at most `PIECE` items, in the order of its items."""
        split = pieces(process(items))

        if expected is not None:
            assert expected == [len(args[0]) for _, args in split]
        assert [f"u{i}" for i in range(items)] == [item["url"] for _, args in split for item in args[0]]

    def test_other_tasks_are_kept_whole(self) -> None:
        """A poll or a fetch is never split."""
        task = (dispatch.TASK_FETCH, ({"url": "u"},))

        assert [task] == pieces(task)


class TestQueue:
    def test_tasks_come_in_the_order_sent(self) -> None:
        """Without continuations the queue is first in, first out."""
        queue = Queue()
        queue.push([process(1), (dispatch.TASK_FETCH, ({"url": "a"},)), process(2)])

        taken = [queue.take() for _ in range(3)]

        assert [0, 1, 2] == [t[0] for t in taken if t is not None]
        assert queue.take() is None
        assert queue

    def test_continuation_waits_for_everything_sent_before_it(self) -> None:
        """An archive's continuation starts only when every earlier task finished; later tasks may pass it."""
        queue = Queue()
        queue.push([process(2), process(2), continuation("p1")])
        first, second = queue.take(), queue.take()
        assert first is not None
        assert second is not None

        assert queue.take() is None
        queue.finish(first[0])
        assert queue.take() is None
        queue.push([process(1)])
        later = queue.take()
        assert later is not None
        assert dispatch.TASK_PROCESS == later[1][0]
        queue.finish(second[0])
        went = queue.take()

        assert went is not None
        assert continuation("p1") == went[1]

    def test_a_first_poll_is_no_continuation(self) -> None:
        """A source's first poll (no resume position) starts at once, whatever runs."""
        queue = Queue()
        queue.push([process(1), (dispatch.TASK_POLL, (SPEC,)), (dispatch.TASK_POLL, (SPEC, None))])

        assert [0, 1, 2] == [t[0] for t in (queue.take(), queue.take(), queue.take()) if t is not None]

    def test_empty_once_all_finished(self) -> None:
        """The queue is false once nothing waits or runs."""
        queue = Queue()
        queue.push([process(1)])
        taken = queue.take()
        assert taken is not None
        queue.finish(taken[0])

        assert not queue


class TestFinished:
    @pytest.mark.parametrize(
        "exc",
        [
            HTTPStatusError("404 Not Found", url="http://h/a", status=404),
            ParseError("not a feed", url="http://h/f"),
            ValueError("plain"),
        ],
        ids=["keyword-only-argument", "ingest-error", "builtin"],
    )
    def test_a_failure_crosses_the_pipe_whole(self, exc: BaseException) -> None:
        """A failed task's exception comes back with class, message and attributes, whatever its signature."""
        back = pickle.loads(pickle.dumps(Finished(exc, failed=True)))  # noqa: S301 - our own bytes

        assert back.failed()
        assert type(exc) is type(back.result)
        assert str(exc) == str(back.result)
        assert vars(exc) == vars(back.result)

    def test_a_value_crosses_the_pipe(self) -> None:
        """A task's value comes back as it was."""
        back = pickle.loads(pickle.dumps(Finished({"seen": 3, "queued": 2}, failed=False)))  # noqa: S301

        assert not back.failed()
        assert {"seen": 3, "queued": 2} == back.result


def test_errors_are_said_in_the_order_the_sources_were_given() -> None:
    """Workers finish sources in any order; the summary lists their lines as the sources were given."""
    specs = [SourceSpec("feed", "http://h/a.xml", "a"), SourceSpec("feed", "http://h/b.xml", "b")]
    finished = ["http://h/child.xml: HTTP 500", "http://h/b.xml: HTTP 404", "http://h/a.xml: HTTP 404"]

    assert [finished[2], finished[1], finished[0]] == _in_given_order(finished, specs)
