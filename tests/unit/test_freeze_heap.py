"""`runtime.freeze_heap`: what is alive once the models are loaded leaves the collector's reach."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from worker.app import runtime


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test an unfrozen heap, and leave one behind."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class Node:
    """A tracked object that can hold itself in a cycle."""

    other: Node | None = None


def test_what_is_alive_is_frozen_and_garbage_is_gone(unfrozen: None) -> None:
    """A live object is no longer in any generation a collection walks; a garbage cycle is freed first."""
    alive = Node()
    cycle = Node()
    cycle.other = cycle
    gone = weakref.ref(cycle)
    del cycle
    assert 0 == gc.get_freeze_count()

    runtime.freeze_heap()

    assert gone() is None
    assert gc.get_freeze_count() > 0
    assert not any(o is alive for o in gc.get_objects())
