"""Feed discovery in HTML: declared links, rel=feed, base URLs, and the usual paths."""

from __future__ import annotations

import pytest

from worker.sources.discovery import COMMON_PATHS, common_candidates, feed_links


class TestFeedLinks:
    @pytest.mark.parametrize(
        ("head", "expected"),
        [
            ('<link rel="alternate" type="application/rss+xml" href="/rss">', ["http://s/rss"]),
            (
                '<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="a.xml">',
                ["http://s/blog/a.xml"],
            ),
            (
                '<link rel="alternate" type="application/feed+json" href="//cdn.s/f.json">',
                ["http://cdn.s/f.json"],
            ),
            ('<link rel="feed" href="/all">', ["http://s/all"]),
            ('<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">', []),
            ('<link rel="stylesheet" type="text/css" href="/s.css">', []),
            ('<link rel="alternate" type="application/rss+xml">', []),
        ],
        ids=[
            "rss",
            "atom-relative-with-params",
            "json-protocol-relative",
            "rel-feed",
            "translation",
            "css",
            "no-href",
        ],
    )
    def test_declared_feeds_are_found(self, head: str, expected: list[str]) -> None:
        """Only feed media types under rel=alternate, or rel=feed, count; hrefs are made absolute."""
        html = f"<html><head>{head}</head><body></body></html>"

        assert expected == feed_links(html, "http://s/blog/post")

    def test_base_href_and_duplicates(self) -> None:
        """A <base href> sets the base; the same feed declared twice is listed once, in order."""
        html = """<html><head><base href="http://other/x/">
        <link rel="alternate" type="application/rss+xml" href="one.xml">
        <link rel="alternate" type="application/atom+xml" href="two.xml">
        <link rel="alternate" type="application/rss+xml" href="one.xml"></head></html>"""

        assert ["http://other/x/one.xml", "http://other/x/two.xml"] == feed_links(html, "http://s/")

    @pytest.mark.parametrize("html", ["", "   ", "\x00\x00"], ids=["empty", "blank", "nul"])
    def test_empty_or_garbage_pages_have_no_feeds(self, html: str) -> None:
        """Nothing to parse is no feed, not an error."""
        assert [] == feed_links(html, "http://s/")


class TestCommonCandidates:
    def test_paths_are_on_the_site_root(self) -> None:
        """Candidates keep scheme and host (and port) and drop the page's own path."""
        got = common_candidates("https://news.example:8443/section/page?x=1")

        assert [f"https://news.example:8443{p}" for p in COMMON_PATHS] == got
