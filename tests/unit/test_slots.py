"""The pure slot arithmetic (GCRA) and the deferral rules built on it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.schedule import politeness
from worker.state import slots


def reserve_many(n: int, rate: float, burst: float, *, now: float = 1000.0) -> list[float]:
    """Reserve `n` slots at one instant; return the waits."""
    tat: float | None = None
    waits = []
    for _ in range(n):
        wait, tat = slots.reserve(tat, now, rate, burst)
        waits.append(wait)
    return waits


class TestReserve:
    @pytest.mark.parametrize(
        ("rate", "burst", "expected"),
        [
            (1.0, 1.0, [0.0, 1.0, 2.0, 3.0]),
            (2.0, 3.0, [0.0, 0.0, 0.0, 0.5, 1.0]),
            (5.0, 1.0, [0.0, 0.2, 0.4, 0.6]),
            (1.0, 2.5, [0.0, 0.0, 0.5, 1.5]),
        ],
        ids=["one-a-second", "burst-then-rate", "five-a-second", "fractional-burst"],
    )
    def test_each_call_gets_its_own_slot(self, rate: float, burst: float, expected: list[float]) -> None:
        """Calls at one instant get `burst` slots now, then one every 1/rate seconds."""
        assert expected == pytest.approx(reserve_many(len(expected), rate, burst))

    def test_a_rested_host_starts_over(self) -> None:
        """Once the stored TAT has passed, the host may take its burst again."""
        _, tat = slots.reserve(None, 1000.0, 1.0, 2.0)
        _, tat = slots.reserve(tat, 1000.0, 1.0, 2.0)

        assert (0.0, 1011.0) == slots.reserve(tat, 1010.0, 1.0, 2.0)

    def test_key_is_kept_until_the_tat_passes(self) -> None:
        """The stored TAT matters until it has passed (plus a second of margin)."""
        assert (6.0, 1.0) == (slots.keep_s(1005.0, 1000.0), slots.keep_s(990.0, 1000.0))

    @given(
        st.floats(min_value=0.1, max_value=50),
        st.floats(min_value=1, max_value=10),
        st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=60),
    )
    def test_no_window_holds_more_than_burst_plus_rate(
        self, rate: float, burst: float, gaps: list[float]
    ) -> None:
        """However calls arrive, the slots in any window [t1, t2] number at most burst + rate * (t2 - t1)."""
        now, tat = 0.0, None
        times = []
        for gap in gaps:
            now += gap
            wait, tat = slots.reserve(tat, now, rate, burst)
            times.append(now + wait)
        times.sort()

        for i in range(len(times)):
            for j in range(i + 1, len(times)):
                assert j - i + 1 <= burst + rate * (times[j] - times[i]) + 1e-6


class TestHold:
    @pytest.mark.parametrize(
        ("tat", "delay", "expected"),
        [
            (None, 40.0, (40.0, 1041.0)),
            (1002.0, 40.0, (40.0, 1041.0)),
            (1100.0, 40.0, (100.0, 1101.0)),
            (None, 0.0, (0.0, 1001.0)),
        ],
        ids=["rested", "short-queue", "long-queue", "no-delay"],
    )
    def test_the_held_slot_is_at_least_the_delay_away(
        self, tat: float | None, delay: float, expected: tuple[float, float]
    ) -> None:
        """The slot is `delay` away, or the next after a longer queue; the TAT moves past it."""
        assert expected == pytest.approx(slots.reserve_after(tat, 1000.0, 1.0, 1.0, delay))

    def test_after_a_hold_the_host_is_paced_not_bursted(self) -> None:
        """A host with burst 3 that asked to wait 10 s gets its next requests one interval apart."""
        wait, tat = slots.reserve_after(None, 1000.0, 2.0, 3.0, 10.0)
        waits = [wait]
        for _ in range(3):
            wait, tat = slots.reserve(tat, 1000.0, 2.0, 3.0)
            waits.append(wait)

        assert [10.0, 10.5, 11.0, 11.5] == pytest.approx(waits)

    @pytest.mark.parametrize(
        ("bucket", "expected"),
        [(None, -19.0), ((3.0, 1000.0), -19.0), ((-40.0, 1000.0), -40.0)],
        ids=["full", "some-tokens", "already-emptier"],
    )
    def test_the_gate_gives_no_token_before_the_delay(
        self, bucket: tuple[float, float] | None, expected: float
    ) -> None:
        """A held gate's next whole token comes `delay` from now (refilling at the rate), or later."""
        tokens = slots.hold_tokens(bucket, 1000.0, 2.0, 3.0, 10.0)

        assert expected == pytest.approx(tokens)
        assert (1 - tokens) / 2.0 >= 10.0


class TestDeferral:
    @pytest.mark.parametrize(
        ("wait", "max_defer", "mode"),
        [
            (0.0, 10.0, "now"),
            (0.2, 10.0, "countdown"),
            (10.0, 10.0, "countdown"),
            (10.01, 10.0, "park"),
            (3600.0, 10.0, "park"),
            (4.0, 1.0, "countdown"),
            (5.5, 0.0, "park"),
        ],
        ids=["free", "short", "at-the-cap", "past-the-cap", "an-hour", "within-a-tick", "past-a-tick"],
    )
    def test_short_waits_count_down_long_ones_park(self, wait: float, max_defer: float, mode: str) -> None:
        """Waits up to INGEST_MAX_DEFER_S, or a 5 s tick if longer, count down; longer ones park."""
        policy = politeness.Policy(max_defer_s=max_defer, tick_s=5.0)

        assert mode == politeness.defer_mode(wait, policy)

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [
            ({}, None),
            ({"slot": 990.0}, 990.0),
            ({"slot": 1050.0}, 1050.0),
            ({"slot": 1000.0 - politeness.STALE_SLOT_S - 1}, None),
            ({"slot": "soon"}, None),
        ],
        ids=["none", "recent", "ahead", "stale", "not-a-number"],
    )
    def test_a_recent_slot_is_honoured(self, payload: dict, expected: float | None) -> None:
        """A deferred fetch keeps its slot; a stale or malformed one does not count."""
        assert expected == politeness.reserved_slot(payload, 1000.0)

    @pytest.mark.parametrize(
        ("url", "bucket"),
        [("https://Example.org/a", "host:example.org"), ("file:///tmp/a.html", None)],
        ids=["http", "file"],
    )
    def test_the_rate_is_per_host(self, url: str, bucket: str | None) -> None:
        """Every URL of one host shares a bucket; a URL with no host has none."""
        assert bucket == politeness.host_bucket(url)
