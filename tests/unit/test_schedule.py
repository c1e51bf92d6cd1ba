"""The pure scheduling rules: next check, adaptive interval, per-host cap."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.schedule import intervals as schedule


class TestNextCheck:
    @pytest.mark.parametrize(
        ("errors", "factor"), [(0, 1), (1, 2), (3, 8)], ids=["no-error", "one-error", "three-errors"]
    )
    def test_errors_double_the_interval(self, errors: int, factor: int) -> None:
        """Each consecutive error doubles the wait, before jitter."""
        at = schedule.next_check(1000.0, 60.0, errors=errors, jitter=0.0)

        assert 1000.0 + 60.0 * factor == at

    def test_backoff_is_capped(self) -> None:
        """The wait never exceeds `max_s` (before the server's own floor)."""
        assert 1000.0 + 3600.0 == schedule.next_check(1000.0, 600.0, errors=20, max_s=3600.0, jitter=0.0)

    @pytest.mark.parametrize(
        "hint_s", [86400.0 * 365, 86400.0 * 2, 86401.0], ids=["max-age a year", "two days", "just over"]
    )
    def test_server_floor_is_capped_at_the_longest_interval(self, hint_s: float) -> None:
        """A server hint beyond the max interval (max-age=31536000) delays the poll by the max only."""
        at = schedule.next_check(1000.0, 60.0, not_before=[1000.0 + hint_s], max_s=86400.0, jitter=0.0)

        assert 1000.0 + 86400.0 == at

    def test_server_floor_wins(self) -> None:
        """Retry-After, max-age, Expires and ttl are floors: the check is never earlier."""
        at = schedule.next_check(1000.0, 60.0, not_before=[None, 5000.0, 2000.0], jitter=0.0)

        assert 5000.0 == at

    @given(st.floats(min_value=1, max_value=1e5), st.integers(min_value=0, max_value=2**32))
    def test_jitter_stays_within_ten_percent(self, interval: float, seed: int) -> None:
        """Jitter only delays, by at most a tenth of the interval."""
        at = schedule.next_check(0.0, interval, max_s=1e6, rng=random.Random(seed))

        assert interval <= at <= interval * 1.1 + 1e-6


class TestAdaptiveInterval:
    def test_half_the_median_gap(self) -> None:
        """Entries an hour apart give a half-hour interval."""
        assert 1800.0 == schedule.adaptive_interval([0, 3600, 7200, 10800], 900, 60, 86400)

    @pytest.mark.parametrize(
        ("times", "expected"),
        [([], 900.0), ([5.0, 10.0], 900.0), ([0, 1, 2, 3], 60.0), ([0, 1e6, 2e6, 3e6], 86400.0)],
        ids=["no-dates", "too-few", "clamped-low", "clamped-high"],
    )
    def test_bounds_and_defaults(self, times: list[float], expected: float) -> None:
        """Too few dates give the default; the result is clamped to the bounds."""
        assert expected == schedule.adaptive_interval(times, 900, 60, 86400)


class TestCapPerHost:
    def test_cap_keeps_order_and_defers_the_rest(self) -> None:
        """The first `cap` sources of each host go now, in order; local paths are never held back."""
        due = ["http://a/1", "http://a/2", "https://b/1", "http://a/3", "/data/x.tar", "http://A/4"]

        now, later = schedule.cap_per_host(due, 2)

        assert (["http://a/1", "http://a/2", "https://b/1", "/data/x.tar"], ["http://a/3", "http://A/4"]) == (
            now,
            later,
        )

    @given(
        st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 99)), max_size=40),
        st.integers(min_value=1, max_value=5),
    )
    def test_nothing_lost_and_cap_holds(self, pairs: list[tuple[str, int]], cap: int) -> None:
        """Every source lands in exactly one part, and no host exceeds the cap now."""
        due = [f"http://{h}.example/{n}" for h, n in pairs]

        now, later = schedule.cap_per_host(due, cap)

        assert sorted(due) == sorted(now + later)
        for host in "abc":
            assert sum(1 for u in now if u.startswith(f"http://{host}.")) <= cap
