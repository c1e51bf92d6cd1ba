"""Read and write OPML subscription lists: pure functions over bytes and records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring
from xml.etree.ElementTree import ParseError as XMLParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from worker.errors import ParseError


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription: the feed URL, its title and the site it belongs to."""

    url: str
    title: str | None = None
    html_url: str | None = None


def _attr(outline: Element, name: str) -> str | None:
    # Exporters disagree on case (xmlUrl, xmlurl, XMLURL); OPML 2.0 says xmlUrl.
    for key, value in outline.attrib.items():
        if key.lower() == name.lower() and value.strip():
            return value.strip()
    return None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """
    Return every feed of an OPML document, nested categories included, first occurrence of each URL.

    defusedxml refuses entity declarations and external references, so an
    imported file cannot expand or read anything.

    Raises:
        ParseError: the bytes are not well-formed XML or not OPML.
    """
    try:
        root = safe_fromstring(data)
    except (XMLParseError, DefusedXmlException, ValueError) as exc:
        raise ParseError(f"not a readable OPML file: {exc}") from exc
    if root.tag.lower() != "opml":
        raise ParseError(f"not OPML: the root element is <{root.tag}>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        url = _attr(outline, "xmlUrl")
        if url and url not in feeds:
            title = _attr(outline, "title") or _attr(outline, "text")
            # `text` is required, so exporters (this one too) repeat the URL there when there is no title.
            feeds[url] = OpmlFeed(url, None if title == url else title, _attr(outline, "htmlUrl"))
    return list(feeds.values())


def render_opml(feeds: Iterable[OpmlFeed], *, title: str = "news-ingest-worker sources") -> str:
    """Return an OPML 2.0 document listing `feeds` (ElementTree escapes every attribute)."""
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title
    body = SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.html_url:
            attrs["htmlUrl"] = feed.html_url
        SubElement(body, "outline", attrs)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="unicode") + "\n"
