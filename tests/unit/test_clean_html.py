"""Tests for HTML cleaning: text, metadata, page type, dates and robustness."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.process.clean.chrome import fingerprint
from worker.process.clean.html import clean_html, valid_date

FIXTURES = Path(__file__).parent.parent / "fixtures" / "html"
URL = "https://ledger.example/news/harbour-ferry"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def article():
    return clean_html(read("article.html"), URL, now=NOW)


class TestArticle:
    def test_is_article(self, article):
        """An article page is recognised as one."""
        assert article.is_article

    def test_text(self, article):
        """The body is found without dateline, byline, credit or page chrome."""
        assert article.text.startswith("The harbour council on Thursday approved")
        assert article.text.endswith("inspected by the port authority.")
        for chrome in ("Share this", "Follow us", "About us", "All rights reserved", "©", "By Jane Doe"):
            assert chrome not in article.text

    def test_paragraphs(self, article):
        """Paragraphs are separated by one blank line."""
        assert 5 == len(article.text.split("\n\n"))

    def test_metadata(self, article):
        """Title, date, author, dateline, credit and page metadata are read."""
        assert "Harbour Council Approves New Ferry Line" == article.title
        assert "2021-03-04T10:15:00+00:00" == article.published
        assert ("Jane Doe",) == article.authors
        assert ("PORTSMOUTH", "AP") == (article.dateline, article.credit)
        assert "https://ledger.example/news/harbour-ferry" == article.canonical_url
        assert "https://ledger.example/img/ferry.jpg" == article.image
        assert "The Coastal Ledger" == article.site_name

    def test_learned_chrome(self):
        """A paragraph learned as chrome for the source is dropped."""
        line = (
            "Opponents argued that the money would be better spent on repairing the old bridge, which has "
            "been closed to vehicles since a storm damaged its supports three winters ago."
        )
        learned = frozenset({fingerprint(line)})

        extracted = clean_html(read("article.html"), URL, now=NOW, learned_chrome=learned)

        assert line not in extracted.text
        assert 4 == len(extracted.text.split("\n\n"))


class TestListPage:
    def test_index_not_article(self):
        """An index page of teasers is not an article."""
        assert not clean_html(read("index.html"), "https://ledger.example/news", now=NOW).is_article


class TestDates:
    @pytest.mark.parametrize(
        ("date", "expected"),
        [
            ("2999-01-01T00:00:00+00:00", None),
            ("1985-05-05T00:00:00+00:00", None),
            ("2021-03-04T10:15:00+00:00", "2021-03-04T10:15:00+00:00"),
        ],
        ids=["future", "before-1990", "valid"],
    )
    def test_published_range(self, date, expected):
        """Dates in the future or before 1990 are rejected."""
        # The footer years go too, so no other date on the page can stand in.
        html = read("article.html").replace("2021-03-04T10:15:00+00:00", date).replace("2021 ", "")

        assert expected == clean_html(html, URL, now=NOW).published

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2024-06-02", "2024-06-02"),
            ("2024-06-03", None),
            ("1989-12-31", None),
            ("not a date", None),
            (None, None),
        ],
        ids=["within-slack", "future", "too-old", "junk", "none"],
    )
    def test_valid_date(self, value, expected):
        """A day of slack is allowed for time zones; junk is rejected."""
        assert expected == valid_date(value, NOW)


class TestRobust:
    @pytest.mark.parametrize(
        "html",
        [
            "",
            "   ",
            "\x00\x01\x02",
            "<html>",
            "<" * 1000,
            "<div>" * 5000 + "deep" + "</div>" * 5000,
            "plain words",
        ],
        ids=["empty", "blank", "binary", "unclosed", "brackets", "deep-nesting", "no-tags"],
    )
    def test_junk(self, html):
        """Junk input gives an empty non-article, not an exception."""
        extracted = clean_html(html, "https://example.org/")

        assert not extracted.is_article

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(max_size=300))
    def test_never_raises(self, html):
        """Any text is handled without raising."""
        extracted = clean_html(html, "https://example.org/a")

        assert isinstance(extracted.text, str)
