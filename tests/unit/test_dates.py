"""Tests for date parsing into UTC ISO 8601, and for the publication date a page shows."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process.clean import pubdate
from worker.process.clean.headline import shown_headline
from worker.process.clean.html import load_html
from worker.process.clean.pubdate import _shown_stamp, headline_stamp, resolve_dates
from worker.process.clean.structured import read_page
from worker.process.enrich.dates import EARLIEST, to_utc_iso

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class TestSeedDates:
    @pytest.mark.parametrize(
        ("tz", "expected"),
        [("UTC", "2013-09-09T04:11:00Z"), ("America/New_York", "2013-09-09T08:11:00Z")],
        ids=["utc", "new-york-edt"],
    )
    def test_seed_date_line(self, tz: str, expected: str) -> None:
        """The seed file's naive date line is read in the source's zone."""
        assert expected == to_utc_iso("Monday, 09 Sep 2013 04:11 AM", tz=tz, now=NOW)

    def test_winter_time(self) -> None:
        """A naive January date in New York is five hours behind UTC, not four."""
        expected = "2013-01-09T09:11:00Z"

        assert expected == to_utc_iso("Wednesday, 09 Jan 2013 04:11 AM", tz="America/New_York")


class TestFormats:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("Mon, 09 Sep 2013 04:11:00 GMT", "2013-09-09T04:11:00Z"),
            ("Mon, 09 Sep 2013 04:11:00 +0000", "2013-09-09T04:11:00Z"),
            ("Mon, 09 Sep 2013 04:11:00 EST", "2013-09-09T09:11:00Z"),
            ("Mon, 09 Sep 2013 04:11:00 PDT", "2013-09-09T11:11:00Z"),
            ("Mon, 09 Sep 2013 04:11:00 +0200", "2013-09-09T02:11:00Z"),
            ("2013-09-09T04:11:00Z", "2013-09-09T04:11:00Z"),
            ("2013-09-09T04:11:00.987+05:30", "2013-09-08T22:41:00Z"),
        ],
        ids=[
            "rfc822-gmt",
            "rfc822-offset-zero",
            "rfc822-est",
            "rfc822-pdt",
            "rfc822-offset",
            "iso-z",
            "iso-fraction-offset",
        ],
    )
    def test_strings(self, value: str, expected: str) -> None:
        """Feed and page date strings with an explicit zone ignore the source's zone."""
        assert expected == to_utc_iso(value, tz="Asia/Tokyo", now=NOW)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2013-09-09", "2013-09-08T15:00:00Z"),
            ("  2013-09-09 04:11  ", "2013-09-08T19:11:00Z"),
            ("9/10/2013 4:11 PM", "2013-09-10T07:11:00Z"),
        ],
        ids=["date-only", "padded", "us-month-first"],
    )
    def test_naive_strings(self, value: str, expected: str) -> None:
        """A string without zone is read in the source's zone; a date alone means its midnight."""
        assert expected == to_utc_iso(value, tz="Asia/Tokyo", now=NOW)

    def test_unknown_abbreviation_uses_source_zone(self) -> None:
        """An abbreviation we cannot resolve leaves the date in the source's zone, without a warning."""
        expected = "2013-09-09T08:11:00Z"

        assert expected == to_utc_iso("09 Sep 2013 04:11 XYZ", tz="America/New_York", now=NOW)

    def test_struct_time_is_utc(self) -> None:
        """feedparser's struct_time is UTC whatever the source's zone."""
        value = time.gmtime(datetime(2013, 9, 9, 4, 11, tzinfo=UTC).timestamp())

        expected = "2013-09-09T04:11:00Z"

        assert expected == to_utc_iso(value, tz="America/New_York", now=NOW)

    def test_struct_time_leap_second(self) -> None:
        """A leap second in a struct_time is clamped rather than rejected."""
        value = time.struct_time((2016, 12, 31, 23, 59, 60, 5, 366, 0))

        expected = "2016-12-31T23:59:59Z"

        assert expected == to_utc_iso(value, now=NOW)

    @pytest.mark.parametrize(
        ("value", "tz", "expected"),
        [
            (datetime(2013, 9, 9, 4, 11), "America/New_York", "2013-09-09T08:11:00Z"),
            (datetime(2013, 9, 9, 4, 11, tzinfo=timezone(timedelta(hours=2))), "UTC", "2013-09-09T02:11:00Z"),
        ],
        ids=["naive", "aware"],
    )
    def test_datetime(self, value: datetime, tz: str, expected: str) -> None:
        """A naive datetime is read in the source's zone, an aware one keeps its offset."""
        assert expected == to_utc_iso(value, tz=tz, now=NOW)

    def test_unknown_zone_reads_utc(self) -> None:
        """A misconfigured source zone falls back to UTC instead of losing the date."""
        expected = "2013-09-09T04:11:00Z"

        assert expected == to_utc_iso("2013-09-09 04:11", tz="No/Such_Zone", now=NOW)


class TestRejected:
    @pytest.mark.parametrize(
        "value",
        [None, "", "   ", "Monday", "Sep 9", "yesterday", "not a date", "0", "99999999999999999999"],
        ids=["none", "empty", "blank", "weekday-only", "no-year", "relative", "words", "zero", "huge-number"],
    )
    def test_not_a_date(self, value: str | None) -> None:
        """Missing, incomplete and unparseable dates give None."""
        assert to_utc_iso(value, now=NOW) is None

    def test_offset_out_of_range(self) -> None:
        """An impossible UTC offset gives None instead of an error."""
        assert to_utc_iso("2013-09-09 04:11 +9999", now=NOW) is None

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1989-12-31T23:59:59Z", None),
            ("1990-01-01T00:00:00Z", "1990-01-01T00:00:00Z"),
            ("2024-06-02T12:00:00Z", "2024-06-02T12:00:00Z"),
            ("2024-06-02T12:00:01Z", None),
        ],
        ids=["before-1990", "first-of-1990", "one-day-ahead", "past-one-day-ahead"],
    )
    def test_range(self, value: str, expected: str | None) -> None:
        """Dates before 1990 or more than a day after now are rejected."""
        assert expected == to_utc_iso(value, now=NOW)

    def test_default_now_is_the_clock(self) -> None:
        """Without `now`, a date a week ahead of the real clock is rejected and one a week ago kept."""
        ahead = datetime.now(UTC) + timedelta(days=7)
        ago = datetime.now(UTC) - timedelta(days=7)

        assert to_utc_iso(ahead) is None
        assert ago.strftime("%Y-%m-%dT%H:%M:%SZ") == to_utc_iso(ago)


class TestProperties:
    @given(st.text(), st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Bad/Zone"]))
    def test_never_raises_on_text(self, value: str, tz: str) -> None:
        """Any text gives None or a UTC timestamp, never an exception."""
        result = to_utc_iso(value, tz=tz, now=NOW)

        assert result is None or ISO.match(result)

    @given(st.from_regex(r"[0-9A-Za-z ,:+\-./]{0,40}", fullmatch=True))
    def test_never_raises_on_date_like_text(self, value: str) -> None:
        """Text made of date characters gives None or a UTC timestamp, never an exception."""
        result = to_utc_iso(value, now=NOW)

        assert result is None or ISO.match(result)

    @given(st.datetimes(timezones=st.timezones()))
    def test_aware_datetimes(self, value: datetime) -> None:
        """An aware datetime in range converts to its UTC second; out of range gives None."""
        utc = value.astimezone(UTC)
        expected = utc.strftime("%Y-%m-%dT%H:%M:%SZ") if EARLIEST <= utc <= NOW + timedelta(days=1) else None

        assert expected == to_utc_iso(value, now=NOW)

    @given(st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2024, 1, 1)))
    def test_output_round_trips(self, value: datetime) -> None:
        """Our own output parses back to itself."""
        once = to_utc_iso(value, tz="Europe/Paris", now=NOW)

        assert once is not None
        assert once == to_utc_iso(once, tz="Asia/Tokyo", now=NOW)


PAGE_URL = "https://news.example/es/el_salvador/26136/asamblea.htm"
LONG = (
    "Tras la intensificación de ataques a periodistas en El Salvador, que ha llevado a algunos a "
    "exiliarse preventivamente, y la aprobación de una ley que penaliza a quienes hagan cobertura, "
    "el presidente de la Asamblea exigió a los periodistas críticos que se vayan del país."
)
TITLE = "Tras una semana de acoso, el presidente de la Asamblea exige a periodistas que se vayan"


def shown_day(body: str, title: str = TITLE) -> str | None:
    """Return the date shown under the headline of a page with `body`, as ISO 8601."""
    tree = load_html(f"<!doctype html><html><head></head><body>{body}</body></html>")
    stamp = headline_stamp(shown_headline(tree, title), NOW, dayfirst=True)
    return stamp.iso() if stamp else None


def published(body: str, title: str = TITLE) -> str | None:
    """Return the publication date `resolve_dates` finds on a page with `body` and nothing stated."""
    tree = load_html(f"<!doctype html><html><head></head><body>{body}</body></html>")
    return resolve_dates(tree, read_page(tree, PAGE_URL), PAGE_URL, now=NOW, title=title).published


class TestShownDates:
    @pytest.mark.parametrize("text", ["2022 01:52 PM", "© 2020 Acme", "November 2022", "2020 at 08:45:10 AM"])
    def test_no_day_beside_the_year_and_the_clock_is_no_date_and_no_parse(self, text, monkeypatch) -> None:
        """A text with no number but its year and clock time is passed over before dateparser."""

        def refuse(*args, **kwargs):
            raise AssertionError(f"dateparser asked to read {args[0]!r}")

        monkeypatch.setattr(pubdate.dateparser, "parse", refuse)

        assert _shown_stamp(text, NOW, dayfirst=True, source="shown") is None

    @pytest.mark.parametrize(
        ("text", "day"),
        [
            ("12.03.2020 14:05", "2020-03-12"),
            ("May 10, 2022 01:52 PM", "2022-05-10"),
            ("2020年3月12日", "2020-03-12"),
        ],
    )
    def test_a_day_beside_the_year_is_read(self, text, day) -> None:
        """Near miss: a day's number beside the year and the clock time is still read."""
        stamp = _shown_stamp(text, NOW, dayfirst=True, source="shown")

        assert stamp is not None
        assert day == stamp.when.date().isoformat()

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Published On May 10, 2022 01:52 PM", "2022-05-10T13:52:00"),
            ("Posted on September 21, 2020 by Adi Tzlil", "2020-09-21T00:00:00"),
            ("January 13, 2020 at 08:45 AM | categories:", "2020-01-13T08:45:00"),
            ("Veröffentlicht am 12.03.2020 um 14:05 Uhr", "2020-03-12T14:05:00"),
            ("Wednesday, 21 Sep 2011 | 4:35 PM ET", "2011-09-21T16:35:00"),
        ],
    )
    def test_a_label_without_colon_and_a_byline_after_the_date(self, text, expected) -> None:
        """ "Published on …", "… by Jane Doe", "… | categories:": the date between them is read."""
        stamp = _shown_stamp(text, NOW, dayfirst=True, source="shown")

        assert stamp is not None
        assert expected == stamp.when.replace(tzinfo=None).isoformat()

    def test_a_lone_paragraph_under_the_headline_is_its_deck(self) -> None:
        """An unmarked deck (the only paragraph of its block) between headline and date line is passed."""
        body = (
            f'<div class="row"><h1 class="main--name"><div>{TITLE}</div></h1></div>'
            f'<div class="row"><div class="madera_content"><p dir="ltr">{LONG}</p></div></div>'
            '<div class="credits"><a href="/user/profile/rmonge">Rebeca Monge</a></div>'
            "<hgroup><h3><time>Jueves, 21 de Abril de 2022</time></h3></hgroup>"
            f'<div class="body"><p>{LONG}</p><p>{LONG}</p></div>'
        )

        assert "2022-04-21" == shown_day(body)

    def test_the_first_paragraph_of_the_text_ends_the_search(self) -> None:
        """The text's first paragraph (one of several in its block) is no deck: a later date is not read."""
        body = (
            f'<h1>{TITLE}</h1><div class="text"><p>{LONG}</p><p>Berlin, 21. April 2022</p><p>{LONG}</p></div>'
        )

        assert shown_day(body) is None

    def test_a_date_with_its_month_in_an_element_of_its_own(self) -> None:
        """ "Jueves, 21 de <span>Abril</span> de 2022": the element around the year's piece shows the date."""
        body = (
            f"<h1>{TITLE}</h1>"
            '<p class="date">Jueves, 21 de <span class="text-lowercase">Abril</span> de 2022</p>'
            f"<div><p>{LONG}</p><p>{LONG}</p></div>"
        )

        assert "2022-04-21" == shown_day(body)

    def test_a_date_and_time_right_above_the_headline_stand_alone(self) -> None:
        """With nothing stated, the date and clock time printed just over the headline are the date."""
        title = "Nicaragua cerró 2021 con deuda externa de 14.372,4 millones de dólares"
        body = (
            '<div class="story-meta top-meta"><span><img src="/location.svg">Managua, Nicaragua</span>'
            '<span><img src="/calendar.svg"> 26, Abril, 2022</span>'
            '<span><img src="/clock.svg"> 7:43 p.m.</span>'
            f'</div><h1>{title}</h1><div class="story-body"><p>{LONG}</p><p>{LONG}</p></div>'
        )

        assert "2022-04-26T19:43:00" == published(body, title)

    @pytest.mark.parametrize(
        ("shown", "expected"),
        [
            ("06 Dicembre 2020", "2020-12-06T00:15:00+01:00"),
            ("05 Dicembre 2020", "2020-12-05T23:15:00+00:00"),
        ],
        ids=["next-day-shown", "same-day-shown"],
    )
    def test_a_utc_statement_is_shown_on_the_day_the_page_shows(self, shown, expected) -> None:
        """`2020-12-05T23:15Z` under a headline dated "06 Dicembre 2020" is 00:15 at +01:00."""
        stated = (
            '<script type="application/ld+json">'
            '{"@type": "NewsArticle", "datePublished": "2020-12-05T23:15:0Z"}</script>'
        )
        body = f'{stated}<h1>{TITLE}</h1><p class="data">{shown}</p><div><p>{LONG}</p><p>{LONG}</p></div>'

        assert expected == published(body)

    def test_a_date_bar_above_the_headline_without_a_time_is_not_the_date(self) -> None:
        """A day alone over the headline may be the site's date bar: it is not taken by itself."""
        body = (
            '<div class="date-bar">Viernes, 22 de Abril de 2022</div>'
            f'<h1>{TITLE}</h1><div class="body"><p>{LONG}</p><p>{LONG}</p></div>'
        )

        assert published(body) is None
