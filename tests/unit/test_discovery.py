"""Feed discovery in HTML: declared links, rel=feed, base URLs, and the usual paths."""

from __future__ import annotations

import gzip

import pytest

from worker.fetch.client import FetchResult
from worker.sources.discovery import COMMON_PATHS, common_candidates, feed_links, sniff_kind


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


def fetched(body: bytes, content_type: str | None) -> FetchResult:
    """Return a 200 answer with `body` and `content_type`."""
    return FetchResult(
        url="http://s/x",
        status=200,
        body=body,
        content_type=content_type,
        charset=None,
        etag=None,
        last_modified=None,
        max_age_s=None,
        expires=None,
        retry_after_s=None,
        permanent_redirect_url=None,
        fetched_at="2024-01-01T00:00:00Z",
    )


RSS = (
    b'<?xml version="1.0"?><rss version="2.0">'
    b"<channel><title>t</title><item><title>a</title></item></channel></rss>"
)
URLSET = (
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>http://s/1</loc></url></urlset>"
)


class TestSniffKind:
    @pytest.mark.parametrize(
        ("body", "content_type", "expected"),
        [
            (RSS, "application/rss+xml", "feed"),
            (RSS, None, "feed"),
            (URLSET, "application/xml", "sitemap"),
            (gzip.compress(URLSET), None, "sitemap"),
            (
                b"<sitemapindex><sitemap><loc>http://s/a.xml</loc></sitemap></sitemapindex>",
                "text/xml",
                "sitemap",
            ),
            (b"<html><body><p>story</p></body></html>", "text/html", "page"),
            (b"\xef\xbb\xbf<!-- x -->\n<!DOCTYPE html><html><p>story</p></html>", None, "page"),
            (b"just words", "text/plain", None),
            (b"{}", "application/json", None),
        ],
        ids=[
            "rss",
            "rss-untyped",
            "urlset",
            "urlset-gzip",
            "index",
            "html",
            "html-untyped-bom",
            "text",
            "json",
        ],
    )
    def test_kind_from_body_and_type(
        self, body: bytes, content_type: str | None, expected: str | None
    ) -> None:
        """A sitemap by its root, a feed by feedparser, a page by its type or first tag."""
        assert expected == sniff_kind(fetched(body, content_type))
