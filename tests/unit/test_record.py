"""Tests for the `article/2` record: building, validating, upgrading `article/1`."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from worker.models import Entity, Extracted, RawItem, SourceRef
from worker.process import record

TEXT = "The harbour council approved a new ferry line.\n\nIt will run every twenty minutes."


def build(raw: RawItem | None = None, ex: Extracted | None = None) -> dict:
    raw = raw or RawItem(
        url="https://ledger.example/a",
        source=SourceRef("feed", "ledger", "https://ledger.example/feed", title="The Ledger: News"),
        content="<p>x</p>",
        content_type="html",
        entry_id="tag:ledger.example,2024:1",
    )
    ex = ex or Extracted(
        title="Ferry line approved",
        text=TEXT,
        image="https://ledger.example/ferry.jpg",
        image_caption="The north pier",
        image_credit="Jane Roe",
        section="Local",
        publisher="Ledger Media",
        updated="2024-05-02T09:00:00+02:00",
        is_accessible_for_free=False,
    )
    return record.build_record(
        raw,
        ex,
        article_id="0123456789abcdef",
        canonical_url=raw.url,
        content_hash="0" * 32,
        fetched_at="2024-05-02T10:00:00Z",
        published_at="2024-05-01T08:00:00Z",
        updated_at="2024-05-02T07:00:00Z",
        language="en",
        tags=["ferries"],
        keywords=["ferry line"],
        entities=[Entity("Ledger", "ORG", 1)],
    )


class TestBuild:
    def test_valid(self):
        """A record built from a feed item validates against article/2."""
        rec = build()

        record.validate(rec)
        assert "article/2" == rec["schema"]

    def test_new_keys(self):
        """The keys new in article/2 carry what the stages found."""
        rec = build()

        assert {
            "entry_id": "tag:ledger.example,2024:1",
            "source": {
                "kind": "feed",
                "name": "ledger",
                "url": "https://ledger.example/feed",
                "title": "The Ledger: News",
            },
            "updated_at": "2024-05-02T07:00:00Z",
            "section": "Local",
            "publisher": "Ledger Media",
            "word_count": 14,
            "image": {
                "url": "https://ledger.example/ferry.jpg",
                "caption": "The north pier",
                "credit": "Jane Roe",
            },
            "is_accessible_for_free": False,
        } == {
            k: rec[k]
            for k in (
                "entry_id",
                "source",
                "updated_at",
                "section",
                "publisher",
                "word_count",
                "image",
                "is_accessible_for_free",
            )
        }

    def test_no_image_is_null(self):
        """Without an image URL the record's image is null, not an empty object."""
        rec = build(ex=Extracted(title="T", text=TEXT))

        assert rec["image"] is None
        record.validate(rec)

    def test_feed_summary_is_plain_text(self):
        """A feed summary loses its markup and entities."""
        raw = RawItem(
            url="https://ledger.example/b",
            source=SourceRef("feed", "ledger", "https://ledger.example/feed"),
            content="",
            content_type="html",
            summary="<p>Ferry&nbsp;line <b>approved</b> &amp; funded</p>",
        )

        rec = build(raw=raw, ex=Extracted(title="T", text=TEXT))

        assert "Ferry line approved & funded" == rec["summary"]

    @pytest.mark.parametrize(
        ("key", "value"),
        [("image", "https://ledger.example/x.jpg"), ("word_count", -1), ("authors", ["a"] * 11)],
        ids=["image-as-string", "negative-word-count", "too-many-authors"],
    )
    def test_schema_rejects(self, key, value):
        """The schema refuses article/1's image string, a negative count and more than 10 authors."""
        rec = {**build(), key: value}

        with pytest.raises(jsonschema.ValidationError):
            record.validate(rec)


class TestUpgrade:
    def article_1(self) -> dict:
        rec = copy.deepcopy(build())
        for key in ("entry_id", "updated_at", "publisher", "section", "word_count", "is_accessible_for_free"):
            del rec[key]
        del rec["source"]["title"]
        return {**rec, "schema": "article/1", "image": "https://ledger.example/ferry.jpg"}

    def test_article_1_becomes_article_2(self):
        """An article/1 record upgrades to a valid article/2 one, image as an object, new keys null."""
        upgraded = record.upgrade(self.article_1())

        record.validate(upgraded)
        assert {"url": "https://ledger.example/ferry.jpg", "caption": None, "credit": None} == upgraded[
            "image"
        ]
        assert (None, None, 14) == (upgraded["entry_id"], upgraded["source"]["title"], upgraded["word_count"])

    def test_article_2_unchanged(self):
        """A current record passes through as it is."""
        rec = build()

        assert rec == record.upgrade(rec)


class TestWordCount:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("", 0), ("one two  three", 3), ("state-of-the-art isn't new", 3), ("Zürich, 3. Mai", 3)],
        ids=["empty", "spaces", "hyphen-apostrophe", "accents-digits"],
    )
    def test_counts(self, text, expected):
        """Words are runs of letters or digits; hyphens and apostrophes join them."""
        assert expected == record.word_count(text)
