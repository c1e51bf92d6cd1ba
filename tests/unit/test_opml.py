"""OPML reading and writing: nested outlines, odd attribute case, hostile XML, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.errors import ParseError
from worker.sources.opml import OpmlFeed, parse_opml, render_opml


class TestParse:
    def test_nested_outlines_and_attribute_case(self) -> None:
        """Feeds inside categories are found; xmlurl/htmlurl in any case count; repeats are dropped."""
        data = b"""<?xml version="1.0"?><opml version="1.0"><body>
        <outline text="Tech"><outline text="A" xmlurl="http://a/feed" HTMLURL="http://a/"/></outline>
        <outline title="B" text="b-text" xmlUrl="http://b/rss"/>
        <outline text="no feed here"/>
        <outline text="A twice" xmlUrl="http://a/feed"/></body></opml>"""

        assert [
            OpmlFeed("http://a/feed", "A", "http://a/"),
            OpmlFeed("http://b/rss", "B", None),
        ] == parse_opml(data)

    @pytest.mark.parametrize(
        "data",
        [
            b"not xml at all",
            b"<rss version='2.0'><channel/></rss>",
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body>&a;</body></opml>',
        ],
        ids=["not-xml", "not-opml", "entity-declaration"],
    )
    def test_unreadable_documents_raise_parse_error(self, data: bytes) -> None:
        """Malformed XML, another format and entity tricks are all ParseError."""
        with pytest.raises(ParseError):
            parse_opml(data)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda t: t.strip() == t
)


class TestRoundTrip:
    @given(
        st.lists(
            st.builds(
                OpmlFeed,
                st.from_regex(r"https?://[a-z]{1,10}\.example/[a-z0-9/&?=]{0,20}", fullmatch=True),
                st.none() | _TEXT,
                st.none() | st.just("http://site.example/"),
            ),
            max_size=8,
            unique_by=lambda f: f.url,
        )
    )
    def test_render_then_parse_gives_the_feeds_back(self, feeds: list[OpmlFeed]) -> None:
        """Whatever the titles and URLs hold (ampersands, quotes, accents), they survive a round trip."""
        assert feeds == parse_opml(render_opml(feeds).encode("utf-8"))
