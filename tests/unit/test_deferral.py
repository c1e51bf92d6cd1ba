"""The rules of waiting for a host: what asks to wait, how long, when to give up; robots.txt outages."""

from __future__ import annotations

import pytest

from worker.errors import (
    BlockedURL,
    FetchTimeout,
    HTTPStatusError,
    RobotsUnavailable,
    ServerBusy,
)
from worker.fetch import deferral, robots
from worker.fetch.deferral import Ask
from worker.fetch.retry import asks_to_wait

UA = "news-ingest-worker/0.1 (+https://example.org/news-ingest-worker)"
DAY = 86400.0


class TestAsksToWait:
    @pytest.mark.parametrize(
        ("exc", "expected"),
        [
            (ServerBusy("HTTP 429", status=429), True),
            (ServerBusy("HTTP 503", status=503, retry_after_s=40.0), True),
            (ServerBusy("HTTP 503", status=503, retry_after_s=0.0), True),
            (ServerBusy("HTTP 500", status=500), False),
            (ServerBusy("HTTP 502", status=502, retry_after_s=5.0), False),
            (ServerBusy("HTTP 500", status=500, retry_after_s=3600.0), True),
            (FetchTimeout("timed out"), False),
            (HTTPStatusError("HTTP 404", status=404), False),
        ],
        ids=["429", "503-retry-after", "503-now", "500", "502-short-wait", "500-long-wait", "timeout", "404"],
    )
    def test_only_a_server_asking_to_wait_is_left_to_the_schedule(
        self, exc: Exception, expected: bool
    ) -> None:
        """429 and 503 always, other 5xx only with a Retry-After beyond the retry wait cap (30 s here)."""
        assert expected == asks_to_wait(exc, 30.0)


class TestAsk:
    @pytest.mark.parametrize(
        ("retry_after", "deferrals", "wait"),
        [(40.0, 0, 40.0), (None, 0, 60.0), (None, 1, 120.0), (None, 5, 1920.0), (None, 7, 3600.0)],
        ids=["retry-after", "first-default", "doubled", "fifth", "capped"],
    )
    def test_the_wait_is_retry_after_or_a_doubling_minute(
        self, retry_after: float | None, deferrals: int, wait: float
    ) -> None:
        """Retry-After is the wait; without one, a minute doubled with each deferral, up to an hour."""
        exc = ServerBusy("HTTP 429", status=429, retry_after_s=retry_after)

        ask = deferral.ask_of(exc, {"deferrals": deferrals}, 30.0)

        assert ask is not None
        assert (wait, "server_busy") == (ask.wait_s, ask.cause)

    def test_an_unreachable_robots_txt_asks_until_it_is_asked_for_again(self) -> None:
        """RobotsUnavailable carries the time until robots.txt is requested again."""
        exc = RobotsUnavailable("robots.txt unreachable 1 time (ServerBusy: HTTP 503)", retry_after_s=420.0)

        expected = Ask(420.0, "robots_unavailable", str(exc))
        assert expected == deferral.ask_of(exc, {}, 30.0)

    def test_a_blip_is_not_an_ask(self) -> None:
        """A 500 after tenacity's attempts is a failure, not a request to wait."""
        assert deferral.ask_of(ServerBusy("HTTP 500", status=500), {}, 30.0) is None


class TestCount:
    def test_deferrals_are_counted_in_the_payload(self) -> None:
        """Each deferral adds one; the time of the first is kept."""
        ask = Ask(40.0, "server_busy", "HTTP 429")

        once, none = deferral.count({"url": "u"}, ask, 1000.0, max_deferrals=8, max_total_s=DAY)
        twice, still_none = deferral.count(once, ask, 1045.0, max_deferrals=8, max_total_s=DAY)

        assert (None, None) == (none, still_none)
        expected = {"url": "u", "deferrals": 2, "first_deferred_at": 1000.0}
        assert expected == twice

    def test_past_max_deferrals_the_reason_says_how_often(self) -> None:
        """The ninth ask of 40 s with INGEST_MAX_DEFERRALS=8 gives up, saying so."""
        payload = {"url": "u", "deferrals": 8, "first_deferred_at": 1000.0}

        _, reason = deferral.count(
            payload, Ask(40.0, "server_busy", "HTTP 429"), 1360.0, max_deferrals=8, max_total_s=DAY
        )

        expected = "HTTP 429: server asked to wait 40 s 9 times in 360 s (INGEST_MAX_DEFERRALS is 8)"
        assert expected == reason

    def test_a_wait_past_the_total_cap_gives_up(self) -> None:
        """Waiting that would last more than INGEST_MAX_DEFER_TOTAL_S gives up, even at the first ask."""
        _, reason = deferral.count(
            {"url": "u"}, Ask(2 * DAY, "server_busy", "HTTP 503"), 1000.0, max_deferrals=8, max_total_s=DAY
        )

        expected = (
            "HTTP 503: server asked to wait 172800 s once; waiting would last 172800 s "
            "(INGEST_MAX_DEFER_TOTAL_S is 86400)"
        )
        assert expected == reason

    def test_a_dead_letter_keeps_no_bookkeeping(self) -> None:
        """`dead retry` of a fetch starts with no slot and no count."""
        payload = {"url": "u", "spec": {}, "slot": 1.0, "deferrals": 9, "first_deferred_at": 0.0}

        assert {"url": "u", "spec": {}} == deferral.fresh(payload)


class TestRobotsOutage:
    def test_the_outcome_round_trips_through_the_cache(self) -> None:
        """An unreachable robots.txt is cached as one line that decodes back, error text included."""
        down = robots.Unreachable(3, 1000.0, 1600.0, "ServerBusy: HTTP 503")

        assert down == robots.Unreachable.decode(down.encode())

    @pytest.mark.parametrize(
        "text",
        ["", "User-agent: *\nDisallow:\n", "#!robots.txt-unreachable x y z"],
        ids=["empty", "file", "bad"],
    )
    def test_a_robots_txt_is_never_read_as_an_outage(self, text: str) -> None:
        """Only the whole marker decodes; a file, even one opening like it, stays a file."""
        assert robots.Unreachable.decode(text) is None

    def test_failures_in_a_row_add_up_and_wait_the_error_ttl(self) -> None:
        """Each failure waits INGEST_ROBOTS_ERROR_TTL_S (or a longer Retry-After), counting from the first."""
        first = robots.after_failure(None, 1000.0, "FetchTimeout: timed out", error_ttl_s=600, ttl_s=DAY)
        second = robots.after_failure(first, 1700.0, "ServerBusy: HTTP 503", error_ttl_s=600, ttl_s=DAY)
        third = robots.after_failure(
            second, 2400.0, "ServerBusy: HTTP 429", error_ttl_s=600, ttl_s=DAY, retry_after_s=3600.0
        )

        expected = [(1, 1000.0, 1600.0), (2, 1000.0, 2300.0), (3, 1000.0, 6000.0)]
        assert expected == [(d.failures, d.since, d.retry_at) for d in (first, second, third)]

    def test_until_the_retry_nothing_of_the_host_may_be_fetched(self) -> None:
        """RFC 9309 §2.3.1.4: unreachable means disallow all, until robots.txt is asked for again."""
        down = robots.Unreachable(2, 1000.0, 1600.0, "ServerBusy: HTTP 503")

        with pytest.raises(RobotsUnavailable) as caught:
            robots.verdict(down.encode(), "http://h/a", UA, 1300.0)

        assert 300.0 == caught.value.retry_after_s
        assert "robots.txt unreachable 2 times in a row (ServerBusy: HTTP 503)" == str(caught.value)
        assert robots.verdict(down.encode(), "http://h/a", UA, 1600.0) is True

    def test_after_30_days_unreachable_the_host_is_treated_as_allowing_all(self) -> None:
        """Past UNREACHABLE_ALLOW_S of failures in a row: allowed, asked for again a robots TTL later."""
        since = 1000.0
        now = since + robots.UNREACHABLE_ALLOW_S
        previous = robots.Unreachable(4000, since, now, "FetchTimeout: timed out")

        down = robots.after_failure(previous, now, "FetchTimeout: timed out", error_ttl_s=600, ttl_s=DAY)

        assert (now + DAY, False) == (down.retry_at, robots.verdict(down.encode(), "http://h/a", UA, now + 1))

    @pytest.mark.parametrize(
        ("cached", "expected"),
        [(None, True), ("", False), ("User-agent: *\nDisallow: /private/\n", False)],
        ids=["not-cached", "empty", "allowing"],
    )
    def test_a_cached_file_is_applied(self, cached: str | None, expected: bool) -> None:
        """Nothing cached: request it first; a file that allows the URL: go."""
        assert expected == robots.verdict(cached, "http://h/news/1", UA, 1000.0)

    def test_a_cached_file_disallowing_blocks(self) -> None:
        """A disallowed URL is BlockedURL, permanent."""
        with pytest.raises(BlockedURL):
            robots.verdict("User-agent: *\nDisallow: /private/\n", "http://h/private/1", UA, 1000.0)
