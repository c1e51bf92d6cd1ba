"""The status page's pure parts: rows from feed states, dead-letter groups, the HTML and its SVG charts."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from worker.app import activity
from worker.app.status import (
    MINUTES,
    Snapshot,
    SourceRow,
    group_dead,
    minute_label,
    rate,
    relative,
    render,
    source_row,
    worst_first,
)
from worker.app.status_server import collect
from worker.app.svgchart import Bar, bar_chart, nice_ceiling
from worker.process.pipeline import Outcome
from worker.state import DeadLetter
from worker.state.sqlite import SQLiteStore

NOW = 1_718_000_000.0  # 2024-06-10 06:13:20 UTC
FIRST = int(NOW // 60) - MINUTES + 1


class Page(HTMLParser):
    """Collect every start tag (name, attributes) and the text of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def snapshot(**changes: Any) -> Snapshot:
    """Return a snapshot of two sources, a little traffic and one dead letter, with `changes`."""
    new = [0] * MINUTES
    dup = [0] * MINUTES
    new[10], new[59], dup[59] = 4, 2, 2
    fields: dict[str, Any] = {
        "now": NOW,
        "mode": "embedded SQLite (var)",
        "first_minute": FIRST,
        "new": tuple(new),
        "duplicate": tuple(dup),
        "sources": (
            SourceRow("Broken", "http://h/missing.xml", "feed", 404, "HTTPStatusError: HTTP 404", NOW - 30,
                      errors=2, next_at=NOW + 600),
            SourceRow("Example", "http://h/feed.xml", "feed", 200, None, NOW - 90, NOW - 120, NOW + 840),
        ),
        "sources_total": 2,
        "health_counts": {"failing": 1, "ok": 1},
        "dead": group_dead([DeadLetter("1", "HTTPStatusError: HTTP 404", "fetch", "Example",
                                       {"url": "http://h/article/9"}, "2024-06-10T06:10:00Z")]),
        "dead_total": 1,
    }  # fmt: skip
    fields.update(changes)
    return Snapshot(**fields)


class TestSourceRows:
    @pytest.mark.parametrize(
        ("state", "health"),
        [
            ({}, "waiting"),
            ({"last_polled": 1, "last_status": 200}, "ok"),
            ({"last_polled": 1, "last_status": 304}, "not modified"),
            ({"last_polled": 1, "errors": 1, "last_error": "boom"}, "failing"),
            ({"last_polled": 1, "errors": 5, "disabled": "5 consecutive errors: boom"}, "disabled"),
            ({"last_polled": 1, "spec": {"kind": "archive", "name": "a"}}, "read"),
        ],
        ids=["never-polled", "ok", "304", "failing", "disabled", "archive"],
    )
    def test_a_state_reads_as_one_word(self, state: dict, health: str) -> None:
        """Each kind of stored state gets its word on the page."""
        assert health == source_row("http://h/f", state, None).health

    def test_a_row_takes_the_spec_name_and_a_disabled_source_has_no_next_check(self) -> None:
        """The spec names the source; a disabled one shows no next check even if a due time lingers."""
        state = {"spec": {"name": "Example", "kind": "feed"}, "last_polled": 5, "disabled": "410 Gone"}

        row = source_row("http://h/f", state, 99.0)

        assert ("Example", None, "410 Gone") == (row.name, row.next_at, row.disabled)

    def test_the_worst_come_first(self) -> None:
        """Disabled, then failing (most errors first), then never polled, then the rest by name."""
        rows = [
            SourceRow("b-ok", "u1", "feed", last_polled=1),
            SourceRow("a-ok", "u2", "feed", last_polled=1),
            SourceRow("waiting", "u3", "feed"),
            SourceRow("fail-1", "u4", "feed", last_polled=1, errors=1),
            SourceRow("fail-3", "u5", "feed", last_polled=1, errors=3),
            SourceRow("off", "u6", "feed", last_polled=1, disabled="410 Gone"),
        ]

        names = [r.name for r in worst_first(rows)]

        assert ["off", "fail-3", "fail-1", "waiting", "a-ok", "b-ok"] == names


class TestDeadGroups:
    def test_letters_group_by_reason_biggest_first_with_the_newest_few(self) -> None:
        """Counts per reason, stages named once, the newest letters first and at most `newest` of them."""
        letters = [
            DeadLetter(str(i), "HTTP 404", "fetch", "s", {}, f"2024-06-10T06:0{i}:00Z") for i in range(5)
        ] + [DeadLetter("9", "ParseError: bad", "clean", "s", {}, "2024-06-10T06:09:00Z")]

        groups = group_dead(letters, newest=2)

        assert [("HTTP 404", 5, ("fetch",)), ("ParseError: bad", 1, ("clean",))] == [
            (g.reason, g.count, g.stages) for g in groups
        ]
        assert ["4", "3"] == [d.id for d in groups[0].newest]


class TestRender:
    def test_the_page_names_each_source_its_state_and_error(self) -> None:
        """Names, status words, HTTP codes and the failing source's error are written out."""
        page = render(snapshot())

        assert "Broken" in page
        assert "Example" in page
        assert '<span class="badge failing">failing</span> <span class="code">HTTP 404</span>' in page
        assert '<div class="error">HTTPStatusError: HTTP 404</div>' in page
        assert '<span class="badge ok">ok</span>' in page

    def test_text_from_the_store_is_escaped(self) -> None:
        """A source name or error holding markup is shown as text, never run."""
        row = SourceRow(
            "<script>x()</script>", "http://h/?a=1&b=2", "feed", errors=1, last_error='<b>"e"</b>'
        )
        page = render(snapshot(sources=(row,), sources_total=1))

        assert "<script>x()" not in page
        assert "&lt;script&gt;x()&lt;/script&gt;" in page
        assert "http://h/?a=1&amp;b=2" in page
        assert "&lt;b&gt;&quot;e&quot;&lt;/b&gt;" in page

    def test_charts_draw_a_bar_for_each_minute_with_articles(self) -> None:
        """The new-articles chart has a bar per non-empty minute with its figure; so has the rate chart."""
        page = Page(render(snapshot()))

        bars = [(a["data-label"], a["data-value"]) for a in page.all("rect", "bar")]

        assert [
            (minute_label(FIRST + 10), "4"),
            (minute_label(FIRST + 59), "2"),
            (minute_label(FIRST + 59), "50"),
        ] == bars

    def test_the_figures_are_written_out_as_text(self) -> None:
        """Captions give the hour's totals; the details table holds every minute's figures, newest first."""
        text = "".join(Page(render(snapshot())).text)

        assert "New articles: 6 in the last hour, at most 4 in a minute" in text
        assert "Duplicate rate: 2 duplicates of 8 processed articles (25.0%)." in text
        assert f"{minute_label(FIRST + 59)}2250.0%" in text
        assert f"{minute_label(FIRST)}00—" in text
        assert text.index(f"{minute_label(FIRST + 59)}2250.0%") < text.index(f"{minute_label(FIRST)}00—")

    def test_dead_letters_show_reason_count_and_the_newest(self) -> None:
        """Each reason is a row with its count and the newest letters' stage, source and URL."""
        text = " ".join(Page(render(snapshot())).text)

        assert "HTTPStatusError: HTTP 404" in text
        assert "fetch · Example · http://h/article/9" in text

    def test_an_empty_store_says_so(self) -> None:
        """No sources, no traffic, no dead letters: the page says each in words."""
        quiet = snapshot(
            new=(0,) * MINUTES,
            duplicate=(0,) * MINUTES,
            sources=(),
            sources_total=0,
            health_counts={},
            dead=(),
            dead_total=0,
        )

        page = render(quiet)

        assert "No sources yet" in page
        assert "No dead letters." in page
        assert "no new articles" in page
        assert 'class="bar"' not in page

    def test_the_same_snapshot_gives_the_same_page(self) -> None:
        assert render(snapshot()) == render(snapshot())


class TestHelpers:
    @pytest.mark.parametrize(
        ("delta", "words"),
        [(-5, "just now"), (5, "in under a minute"), (-125, "2 min ago"), (840, "in 14 min"),
         (-7300, "2 h ago"), (-3 * 86400, "3 days ago")],
        ids=["now", "soon", "minutes", "future", "hours", "days"],
    )  # fmt: skip
    def test_relative_times_read_as_words(self, delta: float, words: str) -> None:
        assert words == relative(NOW + delta, NOW)

    @pytest.mark.parametrize(
        ("value", "top"),
        [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (24, 25), (101, 200)],
    )
    def test_the_axis_top_is_a_round_number(self, value: float, top: float) -> None:
        assert top == nice_ceiling(value)

    def test_a_rate_needs_articles(self) -> None:
        assert (None, 25.0) == (rate(0, 0), rate(1, 3))

    def test_a_chart_clips_values_above_its_top(self) -> None:
        """A bar over the axis top is drawn at full height, not past the chart."""
        svg = bar_chart([Bar(150.0, "a", "a"), Bar(50.0, "b", "b")], chart_id="c", title="t", top=100.0)

        heights = [float(a["height"] or 0) for a in Page(svg).all("rect", "bar")]

        assert heights[0] == 2 * heights[1]


class RecordingStore:
    """The two roles `activity.record` writes to, in memory."""

    def __init__(self) -> None:
        self.timelines: dict[tuple[str, int], int] = {}
        self.cache: dict[str, tuple[str, int]] = {}

    def record(self, name: str, minute: int, by: int = 1) -> None:
        self.timelines[name, minute] = self.timelines.get((name, minute), 0) + by

    def cache_set(self, key: str, value: str, ttl_s: int) -> None:
        self.cache[key] = (value, ttl_s)


class TestActivity:
    def test_a_batch_counts_per_minute_and_marks_the_sources_that_gave_new_articles(self) -> None:
        """New and duplicate outcomes add to this minute; each source with a new article is marked once."""
        items = [{"url": f"http://h/a{i}", "source": {"url": f"http://h/feed{i % 2}"}} for i in range(4)]
        outcomes = [
            Outcome("new", "http://h/a0"),
            Outcome("new", "http://h/a2"),
            Outcome("duplicate", "http://h/a1"),
            Outcome("failed", "http://h/a3"),
        ]
        store = RecordingStore()

        activity.record(store, items, outcomes, now=NOW)  # type: ignore[arg-type]

        minute = int(NOW // 60)
        assert {("articles_new", minute): 2, ("articles_duplicate", minute): 1} == store.timelines
        assert {
            activity.last_new_key("http://h/feed0"): (str(int(NOW)), activity.LAST_NEW_TTL_S)
        } == store.cache


class FeedListingRefused(SQLiteStore):
    """A real SQLite store whose calls that load every feed fail: the page must not need them."""

    def feed_urls(self) -> list[str]:
        raise AssertionError("the status page listed every feed")

    def scheduled(self) -> dict[str, float]:
        raise AssertionError("the status page read the whole due-set")

    def get_feeds(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        raise AssertionError("the status page read feed states one by one")


class TestBoundedSources:
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        """50 subscribed sources: 2 disabled, 10 failing (1 to 10 errors), 38 fine; and one one-shot feed."""
        s = FeedListingRefused(tmp_path / "state.sqlite3")
        for i in range(50):
            url = f"http://h/feed{i:02d}"
            errors = i - 1 if 2 <= i < 12 else 0
            disabled = "410 Gone" if i < 2 else None
            state = {"spec": {"name": f"s{i:02d}", "kind": "feed"}, "errors": errors, "disabled": disabled}
            s.put_feed(url, {**state, "last_polled": int(NOW) - 60}, next_at=None if disabled else NOW + i)
        s.put_feed("http://h/one-shot", {"spec": {"name": "once"}, "last_polled": int(NOW)})
        yield s
        s.close()

    def test_at_most_rows_are_read_the_worst_first(self, store: SQLiteStore) -> None:
        """`max_rows` 5 of 50: the 2 disabled, then the 3 with most errors; totals and counts are exact."""
        snap = collect(store, now=NOW, max_rows=5)

        assert ["s00", "s01", "s11", "s10", "s09"] == [r.name for r in snap.sources]
        assert (50, {"failing": 10, "disabled": 2}) == (snap.sources_total, snap.health_counts)

    def test_the_page_says_how_many_are_not_shown(self, store: SQLiteStore) -> None:
        """The table shows 5 rows and a line counts the 45 others; a limit above the total hides none."""
        bounded = Page(render(collect(store, now=NOW, max_rows=5)))
        whole = Page(render(collect(store, now=NOW, max_rows=500)))

        assert 5 == sum(1 for t, a in bounded.tags if t == "tr" and "class" in a)
        assert "45 more sources are not shown" in "".join(bounded.text)
        assert 50 == sum(1 for t, a in whole.tags if t == "tr" and "class" in a)
        assert "not shown" not in "".join(whole.text)
