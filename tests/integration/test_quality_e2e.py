"""Article quality end to end: learned chrome, near-duplicates across sources and workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import wait_for
from tests.support.corpus import article_text
from worker import config
from worker.delivery.jsonl import JsonlSink
from worker.models import RawItem, SourceRef
from worker.poll.feed import entry_to_raw
from worker.process.pipeline import Pipeline
from worker.sources.feeds import parse_feed
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
FOOTER = "Sponsored links from our partners appear daily on the Harbour Gazette portal"


def text_article(i: int, *, footer: str | None = FOOTER, edit: int | None = None) -> str:
    """Return article `i` in the archive text format, with a site footer and optionally one edited word."""
    body = article_text(i)
    if edit is not None:
        words = body.split(" ")
        words[20] = f"changed{edit}"
        body = " ".join(words)
    tail = f"\n\n{footer}\n" if footer else "\n"
    return f"Tags: Local | local\n\nStory number {i}\n\nMonday, 09 Sep 2013 04:11 AM\n\n{body}{tail}"


def raw(i: int, source: str = "gazette", **kw: object) -> RawItem:
    """Return article `i` as a raw item of `source`."""
    ref = SourceRef("archive", source, f"file:///{source}")
    return RawItem(
        url=f"file:///{source}/{i}.txt", source=ref, content=text_article(i, **kw), content_type="text"
    )  # type: ignore[arg-type]


@pytest.fixture
def make_pipeline(tmp_path: Path):
    """Factory: a pipeline on a real SQLite store and JSONL sink under tmp_path."""

    def make(**env: str) -> Pipeline:
        settings = config.load({"INGEST_STATE_DIR": str(tmp_path / "var"), **env})
        return Pipeline(
            settings, SQLiteStore(tmp_path / "var" / "state.sqlite3"), [JsonlSink(tmp_path / "out")]
        )

    return make


class TestLearnedChrome:
    def test_a_footer_repeated_across_a_source_is_removed_after_n_articles(self, make_pipeline) -> None:
        """With a minimum count of 3 the footer stays in the first two articles and is gone from the third."""
        pipeline = make_pipeline(INGEST_CHROME_MIN_COUNT="3", INGEST_NER_LANGUAGES="")

        outcomes = pipeline.process([raw(i) for i in range(6)])
        texts = [o.record["text"] for o in outcomes if o.record]

        assert 6 == len(texts)
        assert [True, True, False, False, False, False] == [FOOTER in t for t in texts]
        assert all(article_text(i).split("\n\n")[-1] in t for i, t in enumerate(texts))

    def test_chrome_is_learned_per_source(self, make_pipeline) -> None:
        """The footer counts of one source do not strip another source's text."""
        pipeline = make_pipeline(INGEST_CHROME_MIN_COUNT="3", INGEST_NER_LANGUAGES="")
        pipeline.process([raw(i) for i in range(4)])

        [other] = pipeline.process([raw(10, source="another-site")])

        assert other.record is not None
        assert FOOTER in other.record["text"]


class TestNearDuplicates:
    def test_syndicated_copy_is_caught_and_a_different_story_is_not(self, make_pipeline) -> None:
        """A copy with other chrome and an edited word is a duplicate of the first; story 2 is new."""
        pipeline = make_pipeline()

        outcomes = pipeline.process(
            [
                raw(1),
                raw(1, source="mirror", footer="Read more at the Mirror", edit=1),
                raw(2, source="mirror"),
            ]
        )

        assert ["new", "duplicate", "new"] == [o.status for o in outcomes]
        assert outcomes[0].article_id == outcomes[1].duplicate_of
        assert "near" == outcomes[1].reason

    def test_byte_identical_page_under_another_url_is_an_exact_duplicate(self, make_pipeline) -> None:
        """The same bytes at a new URL are a duplicate of the first, found before cleaning."""
        pipeline = make_pipeline(INGEST_NER_LANGUAGES="")
        first = raw(5)
        mirror = RawItem(
            url="file:///mirror/5.txt", source=first.source, content=first.content, content_type="text"
        )

        outcomes = pipeline.process([first, mirror])

        assert [("new", None), ("duplicate", outcomes[0].article_id)] == [
            (o.status, o.duplicate_of) for o in outcomes
        ]
        assert {"duplicates_exact": 1} == {
            k: v for k, v in pipeline.store.counters().items() if k.startswith("duplicates")
        }

    def test_duplicates_can_be_emitted_with_duplicate_of_and_no_ner(
        self, make_pipeline, tmp_path: Path
    ) -> None:
        """INGEST_EMIT_DUPLICATES=1 emits the copy with duplicate_of set, without running NER on it."""
        pipeline = make_pipeline(INGEST_EMIT_DUPLICATES="1")

        pipeline.process([raw(1), raw(1, source="mirror", footer=None, edit=2)])
        records = [
            json.loads(x) for f in (tmp_path / "out").glob("*.jsonl") for x in f.read_text().splitlines()
        ]

        assert 2 == len(records)
        assert [None, records[0]["id"]] == [r["duplicate_of"] for r in records]
        assert records[0]["entities"]
        assert [] == records[1]["entities"]

    def test_two_workers_racing_on_near_duplicates_emit_exactly_one(
        self, cli, start_worker, redis_url: str, tmp_path: Path
    ) -> None:
        """Two sources carry copies of the same 12 stories; two workers at once emit each story once."""
        stories = range(30, 42)
        for site, edit in (("site-a", None), ("site-b", 3)):
            folder = tmp_path / site
            folder.mkdir()
            for i in stories:
                footer = f"Copyright {site} newsroom, all the news that fits"
                (folder / f"{i}.txt").write_text(text_article(i, footer=footer, edit=edit))
        env = {"REDIS_URL": redis_url, "INGEST_BATCH_SIZE": "1", "INGEST_NER_LANGUAGES": ""}
        start_worker("w1", env=env)
        start_worker("w2", env=env)

        for site in ("site-a", "site-b"):
            assert 0 == cli("ingest", "--enqueue", str(tmp_path / site), env=env).returncode
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        counters = "ingest:counters"

        def settled() -> bool:
            c = r.hgetall(counters)
            return int(c.get("articles_new", 0)) + int(c.get("articles_duplicate", 0)) >= 2 * len(stories)

        assert wait_for(settled, timeout=180)
        titles = [json.loads(f["data"])["title"] for _, f in r.xrange("articles")]

        assert sorted(f"Story number {i}" for i in stories) == sorted(titles)


class TestFeedDates:
    def test_each_entry_of_a_full_content_feed_keeps_its_own_published_date(self, make_pipeline) -> None:
        """
        Entries carrying their HTML in the feed are dated by their `<published>`, not by a date in the text.

        The pages mention other days (2009-01-01 among them) that a search of
        the text would pick; the feed's date is explicit and wins.
        """
        # feedparser's tests/wellformed/sanitize fixture: 15 entries with full HTML content.
        url = "file:///touchnokia/atom.xml"
        feed = parse_feed((FEEDS / "large_atom_feed_that_needs_css_sanitisation.xml").read_bytes(), url=url)
        ref = SourceRef("feed", "touchnokia", url)
        raws = [r for e in feed.entries if (r := entry_to_raw(e, ref, "2024-01-01T00:00:00Z", 500))]
        pipeline = make_pipeline(INGEST_NER_LANGUAGES="")

        records = [o.record for o in pipeline.process(raws) if o.record is not None]
        expected = {e.link: e.published for e in feed.entries}

        assert len(records) >= 11
        assert [expected[r["url"]] for r in records] == [r["published_at"] for r in records]
