"""
Tell what a fetched source is (feed, sitemap, page), and find the feeds of a web page.

`sniff_kind`, `feed_links` and `common_candidates` are pure; `discover`
fetches, through the one `Fetcher`, the page and (when it declares nothing)
the candidates: `<link>` declarations first, then the paths feeds usually live at.
"""

from __future__ import annotations

import re
import zlib
from typing import Literal
from urllib.parse import urljoin, urlsplit

import lxml.html
import structlog
from lxml.etree import ParserError

from worker.errors import IngestError, ParseError
from worker.fetch.client import FEED_ACCEPT, Fetcher, FetchResult
from worker.sources.feeds import parse_feed

log = structlog.get_logger(__name__)

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "application/x-rss+xml",
        "text/xml",
        "application/xml",
    }
)

# Where blogs and news CMSs (WordPress, Ghost, Hugo, Jekyll, Blogger) put their feed.
COMMON_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/feeds/posts/default",
)


def feed_links(html: str, base_url: str) -> list[str]:
    """
    Return the absolute feed URLs a page declares, in document order.

    Counted: `<link rel="alternate">` with a feed media type, and
    `rel="feed"` (which needs no type).  A `<base href>` changes the base.
    """
    if not html.strip():
        return []
    try:
        doc = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return []
    base = base_url
    for tag in doc.iter("base"):
        href = (tag.get("href") or "").strip()
        if href:
            base = urljoin(base_url, href)
            break
    found: dict[str, None] = {}
    for link in doc.iter("link", "a"):
        rels = set((link.get("rel") or "").lower().split())
        mime = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if not href:
            continue
        declared = link.tag == "link" and "alternate" in rels and mime in FEED_TYPES
        if declared or ("feed" in rels and mime in FEED_TYPES | {""}):
            found[urljoin(base, href)] = None
    return list(found)


def common_candidates(url: str) -> list[str]:
    """Return the usual feed locations on `url`'s site."""
    parts = urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc}"
    return [root + path for path in COMMON_PATHS]


Kind = Literal["feed", "sitemap", "page"]

_SITEMAP_ROOT = re.compile(rb"<(?:[\w.-]+:)?(?:urlset|sitemapindex)[\s>/]")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HEAD = 4096


def _head(body: bytes) -> bytes:
    """Return the first bytes of a body, gunzipped when it is gzip (a `.xml.gz` sitemap)."""
    if body.startswith(b"\x1f\x8b"):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body[: 64 * 1024], _HEAD)
        except zlib.error:
            return b""
    return body[:_HEAD].lstrip(b"\xef\xbb\xbf")


def sniff_kind(res: FetchResult) -> Kind | None:
    """
    Return what a fetched source is: a feed, a sitemap (`<urlset>`, `<sitemapindex>`), an HTML page, or None.

    A sitemap is told by its root element before feedparser is asked (it
    would parse one as an empty feed of no version); a page by its content
    type, or by its first tag when the type says nothing (a local file).
    """
    head = _head(res.body)
    if _SITEMAP_ROOT.search(head):
        return "sitemap"
    if _is_feed(res):
        return "feed"
    if res.content_type in _HTML_TYPES or _HTML_START.match(head):
        return "page"
    return None


def _is_feed(res: FetchResult) -> bool:
    ctype = (
        f"{res.content_type}; charset={res.charset}" if res.content_type and res.charset else res.content_type
    )
    try:
        parsed = parse_feed(res.body, url=res.url, content_type=ctype)
    except ParseError:
        return False
    return bool(parsed.version)


def discover(url: str, fetcher: Fetcher) -> list[tuple[Kind, str]]:
    """
    Return the (kind, URL) to subscribe to for `url`: itself if a feed or sitemap, else the feeds it leads to.

    A page's feeds are the ones it declares, else the first usual path that
    holds one; a page with neither gives nothing.

    Raises:
        IngestError: `url` itself cannot be fetched.
    """
    # The operator's own URL: `file:` is fine, and a gzip file (`sitemap.xml.gz`) is read gunzipped.
    res = fetcher.fetch_retrying(url, accept=FEED_ACCEPT, allow_file=True, gunzip=True)
    kind = sniff_kind(res)
    if kind in {"feed", "sitemap"}:
        return [(kind, res.url)]
    declared = feed_links(res.text(), res.url)
    if declared:
        log.info("feeds_discovered", url=url, how="link", feeds=declared)
        return [("feed", u) for u in declared]
    for candidate in common_candidates(res.url):
        try:
            found = fetcher.fetch(candidate, accept=FEED_ACCEPT)
        except IngestError:
            continue
        if found.status == 200 and _is_feed(found):
            log.info("feeds_discovered", url=url, how="common_path", feeds=[found.url])
            return [("feed", found.url)]
    return []
