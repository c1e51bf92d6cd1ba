"""The ledger's pure parts: what a recorded message holds, and when a silent entry is lost."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from worker.app import ledger
from worker.config import Settings

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.text(min_size=1), st.lists(JSON, max_size=4), st.dictionaries(st.text(), JSON, max_size=4))
def test_a_recorded_message_gives_back_the_task_and_its_args(task: str, args: list, kwargs: dict) -> None:
    assert (task, args, kwargs) == ledger.decode(ledger.encode(task, args, kwargs))


def test_a_recorded_page_takes_a_fraction_of_its_size() -> None:
    """A process batch holds whole pages: compressed, the ledger's copy costs far less than the queue's."""
    page = "<p>" + " ".join(f"word{i % 300}" for i in range(20_000)) + "</p>"
    assert len(ledger.encode("worker.process_items", [[{"content": page}]], {})) < len(page) / 4


def test_an_empty_queue_leaves_the_visibility_timeout_as_the_only_bound() -> None:
    assert 990.0 == ledger.silent_since(1000.0, 10, None)


def test_entries_published_after_the_oldest_queued_message_may_still_be_queued() -> None:
    """Only entries published before the queue's oldest message (less the clock slack) were popped."""
    assert 900.0 - ledger.CLOCK_SLACK_S == ledger.silent_since(1000.0, 10, 900.0)
    assert 990.0 == ledger.silent_since(1000.0, 10, 999.0 + ledger.CLOCK_SLACK_S)


def test_a_queue_that_cannot_be_read_tells_nothing() -> None:
    assert ledger.silent_since(1000.0, 10, math.nan) is None


def test_a_lost_message_is_confirmed_after_a_task_time_limit_and_a_sweep() -> None:
    """A popped message waiting for a pool process has started by then."""
    s = Settings(visibility_timeout_s=3600, task_time_limit_s=300)
    assert 60 == ledger.sweep_interval_s(s)
    assert 360 == ledger.confirm_after_s(s)
    assert 2 == ledger.sweep_interval_s(Settings(visibility_timeout_s=10, task_time_limit_s=8))
