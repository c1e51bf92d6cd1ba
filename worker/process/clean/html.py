"""Extract an HTML page's article text and metadata: trafilatura, a readability fallback, chrome rules."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from dateutil import parser as date_parser
from dateutil.parser import UnknownTimezoneWarning
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import ParserError, XMLSyntaxError
from readability import Document as ReadabilityDocument
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, decode_file, is_dubious_html, repair_faulty_html

from worker.models import Extracted
from worker.process.clean.captions import drop_captions
from worker.process.clean.chrome import is_date_line
from worker.process.clean.headline import MAX_KICKER
from worker.process.clean.hidden import drop_hidden
from worker.process.clean.lead import find_lead
from worker.process.clean.library_meta import LibraryMetadata
from worker.process.clean.metadata import Hints, resolve
from worker.process.clean.structured import read_page
from worker.process.clean.text import clean_paragraphs, drop_author_bio, join_paragraphs, split_paragraphs

# News archives start with the web; anything older is a parse of some other number.
MIN_DATE = datetime(1990, 1, 1, tzinfo=UTC)
# A naive date is read as UTC, so a page written east of UTC may look up to a
# day ahead: that much of "future" is tolerated.
FUTURE_SLACK = timedelta(days=1)
# Below this many characters trafilatura may have missed the body: ask readability too.
SHORT_TEXT = 500
# Pages shorter than this after cleaning are not articles (teasers, stubs, errors).
MIN_ARTICLE_TEXT = 300
# A feed entry is taken for an article down to a couple of sentences (news briefs).
MIN_FEED_TEXT = 80
# Share of text made of whole link texts above which output is a list of links.
LINK_HEAVY = 0.5
# A web archive's capture address: a 14-digit (or shorter) timestamp, a modifier, then the original URL.
_CAPTURE_RE = re.compile(
    r"/\d{4,14}(?:[a-z]{2}_)?/(https?:)/{1,2}([^/?#\s]+\.[^/?#\s]+(?:[/?#].*)?)$", re.IGNORECASE
)
_ARTICLE_TYPES = re.compile(r"article|posting|report|review", re.IGNORECASE)
_LIST_TYPES = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "website", "webpage", "profilepage"}
)
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption")


# trafilatura's parser settings.  lxml.html's own parser asks a Python function for the class
# of every element it hands out (forms get classes of their own), on each visit of the tree by
# trafilatura or by us; no reader here uses those classes, so every element is an `HtmlElement`,
# chosen in C.  On 168 real pages: trafilatura about 1 ms and the metadata resolver 0.7 ms a
# page faster, trafilatura's output the same.
_PARSER = lxml_html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)
# A kicker before the headline in the text's first line: a few words, then a colon or a dash.
_KICKER_END_RE = re.compile(r"\S\s*(?::|\s[-–—|])\s+$")
# Short lines that may stand above the headline in the extracted text.
_MAX_ABOVE_HEADLINE = 3


def load_html(html: str | bytes) -> Any:
    """
    Parse a page as `trafilatura.utils.load_html` does (decoding, repairs, the byte fallback,
    the rejection of what is not HTML), with the parser above; None when it is not HTML.
    """
    text = decode_file(html)
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    text = repaired_html(text, beginning)
    tree = None
    try:
        tree = lxml_html.fromstring(text, parser=_PARSER)
    except (ValueError, ParserError, XMLSyntaxError):  # ValueError: an encoding declaration in a str
        tree = None
    if tree is None or len(tree) < 1:
        try:
            tree = lxml_html.fromstring(text.encode("utf8", "surrogatepass"), parser=_PARSER)
        except (ParserError, XMLSyntaxError, ValueError):
            return None
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree


# What `repair_faulty_html` deletes (trafilatura's `INVALID_XML_CHARS`), each looked for with a C
# substring search: 0.22 ms a page of 190,000 characters, against 0.55 for its one regex scan.
INVALID_XML = tuple(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF))


def repaired_html(text: str, beginning: str) -> str:
    """Return `repair_faulty_html(text, beginning)`, without its deletion scan where nothing is to delete."""
    if any(c in text for c in INVALID_XML):
        return repair_faulty_html(text, beginning)
    # Its other repairs, with its own patterns: a doctype closed like an XML tag, a self-closed `<html/>`.
    if "doctype" in beginning:
        first, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", first, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            return FAULTY_HTML.sub(r"\1>", text, count=1)
    return text


def _empty(url: str) -> Extracted:
    return Extracted(title=None, text="", canonical_url=url or None, is_article=False)


def _text_of(element: Any) -> str:
    # lxml's `text_content` (XPath `string()`) gives what `itertext` joins, in C.
    return " ".join(element.text_content().split())


def _anchor_texts(tree: Any) -> set[str]:
    return {t for t in (_text_of(a) for a in tree.iter("a")) if t}


def _is_whole_link(paragraph: str, anchors: set[str]) -> bool:
    """Tell whether a paragraph (a list item's bullet aside) is the whole text of one link."""
    return paragraph.lstrip("-• ") in anchors


def link_ratio(paragraphs: list[str], anchors: set[str]) -> float:
    """Return the share of characters in paragraphs that are whole link texts."""
    total = sum(len(p) for p in paragraphs)
    if not total:
        return 0.0
    linked = sum(len(p) for p in paragraphs if _is_whole_link(p, anchors))
    return linked / total


def drop_trailing_links(paragraphs: list[str], anchors: set[str]) -> list[str]:
    """Drop the paragraphs closing the text that are each one whole link: "read also" teasers."""
    end = len(paragraphs)
    while end > 1 and len(paragraphs[end - 1].split()) >= 3 and _is_whole_link(paragraphs[end - 1], anchors):
        end -= 1
    return paragraphs[:end]


def valid_date(value: str | None, now: datetime) -> str | None:
    """Return the date string when it parses to a date from 1990 up to now, else None."""
    if not value or len(value) > 60:
        return None
    try:
        # Zone names dateutil does not know (CET, MESZ) still leave a usable
        # date for the range check; enrichment resolves zones properly.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownTimezoneWarning)
            parsed = date_parser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed < MIN_DATE or parsed > now + FUTURE_SLACK:
        return None
    return value.strip()


def _readability_paragraphs(html: str) -> list[str]:
    """Extract paragraphs with readability-lxml, the second opinion."""
    summary = ReadabilityDocument(html).summary(html_partial=True)
    tree = lxml_html.fromstring(summary)
    paragraphs: list[str] = []
    for element in tree.iter(*_BLOCK_TAGS):
        # Nested blocks (a `p` in an `li`) are read once, at the outer block.
        if any(a.tag in _BLOCK_TAGS for a in element.iterancestors()):
            continue
        if text := _text_of(element):
            paragraphs.append(text)
    return paragraphs


def _choose(first: list[str], anchors: set[str], html: str) -> tuple[list[str], str]:
    """
    Keep trafilatura's paragraphs unless they look unsure and readability does better.

    Unsure means short or link-heavy; readability wins only with clearly more
    text that is less link-heavy, since on short pages both can be right.
    """
    length = sum(len(p) for p in first)
    first_links = link_ratio(first, anchors)
    if length >= SHORT_TEXT and first_links <= LINK_HEAVY:
        return first, "trafilatura"
    try:
        second = _readability_paragraphs(html)
    except (ValueError, TypeError, ParserError, XMLSyntaxError, AttributeError):
        return first, "trafilatura"
    second_length = sum(len(p) for p in second)
    second_links = link_ratio(second, anchors)
    if second_length > 2 * length and second_links < max(first_links, 0.3):
        return second, "readability"
    return first, "trafilatura"


def _drop_title(paragraphs: list[str], title: str | None) -> list[str]:
    """
    Drop the headline from the text's top, alone or after its kicker (`Topic: Headline`).

    Short lines above it (a kicker, a section label, a skip link's "Main Content")
    are page furniture above the headline and go with it; a line that reads as
    text (longer, or a sentence) before it keeps the text as it is.
    """
    if not paragraphs or not title:
        return paragraphs
    headline = " ".join(title.split()).casefold()
    for index, paragraph in enumerate(paragraphs[: _MAX_ABOVE_HEADLINE + 1]):
        line = " ".join(paragraph.split()).casefold()
        if line == headline:
            return paragraphs[index + 1 :]
        kicker = line.removesuffix(headline)
        if kicker != line and len(kicker) <= MAX_KICKER and _KICKER_END_RE.search(kicker):
            return paragraphs[index + 1 :]
        if len(line) > MAX_KICKER or line.endswith((".", "!", "?", "…")):
            break
    return paragraphs


def _drop_date_lines(paragraphs: list[str]) -> list[str]:
    # Stand-alone dates above or below the body are page furniture: the date
    # itself is kept in `published`.
    edge = 3
    n = len(paragraphs)
    return [p for i, p in enumerate(paragraphs) if not ((i < edge or i >= n - edge) and is_date_line(p))]


def not_article_reason(
    paragraphs: list[str],
    *,
    anchors: set[str],
    ld_types: set[str],
    og_type: str,
    teasers: Callable[[], int],
    from_feed: bool = False,
) -> str | None:
    """
    Tell an article from an index, list or stub page: None for an article, else why not.

    An explicit article type wins when there is some text; otherwise list
    markers (list types in JSON-LD, many teaser cards, link-heavy or
    fragmentary text) make it a list page.  A feed entry is an article unless
    the page is clearly not one: too little text, a list of links, or a page
    that declares itself a list and nothing else; `og:type=website` and teaser
    cards beside the story do not count against it.  `teasers` counts the teaser
    cards, asked only when the page does not declare itself an article.
    """
    length = sum(len(p) for p in paragraphs)
    if length < (MIN_FEED_TEXT if from_feed else MIN_ARTICLE_TEXT):
        return f"too little text ({length} characters)"
    ratio = link_ratio(paragraphs, anchors)
    if ratio > LINK_HEAVY:
        return f"a list of links ({ratio:.0%} of the text is link text)"
    declared_article = og_type == "article" or any(_ARTICLE_TYPES.search(t) for t in ld_types)
    if declared_article:
        return None
    listed = sorted(ld_types & _LIST_TYPES - {"website", "webpage"})
    teaser_count = teasers()
    if from_feed:
        return f"a {listed[0]} page" if listed and teaser_count >= 3 else None
    if ld_types & _LIST_TYPES and teaser_count >= 3:
        return f"an index page ({teaser_count} teasers)"
    if teaser_count >= 4:
        return f"an index page ({teaser_count} teasers)"
    short = sum(1 for p in paragraphs if len(p) < 100)
    if len(paragraphs) >= 8 and short / len(paragraphs) > 0.8:
        return "fragments, not running text"
    return None


def _with_lead(paragraphs: list[str], tree: Any, description: str | None, title: str | None) -> list[str]:
    """Put the lead (standfirst) back on top when the extractor skipped it."""
    if not paragraphs:
        return paragraphs
    lead = find_lead(tree, paragraphs[0], description, title)
    if lead is None:
        return paragraphs
    # Spacing is left out of the comparison: a lead read from markup may lose the space at a
    # link's edge ("Samuel Alitois the tip") that the extracted text keeps.
    folded = "".join("".join(paragraphs).split()).casefold()
    if "".join(lead.split()).casefold()[:70] in folded:
        return paragraphs
    return [lead, *paragraphs]


def _teaser_count(tree: Any) -> int:
    """Count teaser cards: `article` elements, or headings that are links."""
    articles = len(tree.xpath("//article"))
    linked_headings = len(tree.xpath("//h2[.//a] | //h3[.//a]"))
    return max(articles, linked_headings // 2)


def trafilatura_options(now: datetime, *, with_metadata: bool = True) -> dict[str, Any]:
    """
    Return the options of a `trafilatura.bare_extraction` call: the library's whole answer (the eval's
    bare trafilatura), or with `with_metadata=False` the text alone, as the pipeline asks for it
    (`LibraryMetadata` gives the metadata fields it reads) and the bench times it.
    """
    return {
        "with_metadata": with_metadata,
        "include_comments": False,
        "include_tables": True,
        "deduplicate": False,
        "date_extraction_params": {
            "extensive_search": True,
            "original_date": True,
            "min_date": MIN_DATE.strftime("%Y-%m-%d"),
            "max_date": now.strftime("%Y-%m-%d"),
        },
    }


def trafilatura_reading(tree: Any, url: str, now: datetime) -> LibraryMetadata:
    """
    Return trafilatura's text and metadata of a parsed page, as `clean_html` asks for them (the bench
    times this call): the text alone from `bare_extraction`, the metadata from `LibraryMetadata`.
    """
    options = trafilatura_options(now, with_metadata=False)
    meta = LibraryMetadata(tree, url or None, options["date_extraction_params"])
    # Given the tree, trafilatura works on a copy of it instead of parsing the page a second time.
    found = trafilatura.bare_extraction(tree, url=url or meta["url"] or None, **options)
    meta.add_text(None if found is None else found["text"] if isinstance(found, dict) else found.text)
    return meta


def _extract(html: str, url: str, learned: frozenset[str], now: datetime, hints: Hints | None) -> Extracted:
    tree = load_html(html)
    if tree is None:
        return _empty(url)
    drop_hidden(tree)
    meta = trafilatura_reading(tree, url, now)
    anchors = _anchor_texts(tree)
    first = split_paragraphs("\n\n".join(str(meta.get("text") or "").splitlines()))
    paragraphs, extractor = _choose(first, anchors, html)
    body_title = _str(meta.get("title"))
    paragraphs = _drop_date_lines(_drop_title(paragraphs, body_title))
    body = clean_paragraphs(paragraphs, learned_chrome=learned)
    # A page read from a file or an archive has no web address of its own: its canonical one
    # names the site (its host is a site name) and may carry the date in its path.
    canonical = _str(meta.get("url"))
    page_url = captured_url(url if urlsplit(url).scheme in {"http", "https"} else canonical or url)
    data = read_page(tree, page_url)
    og_type = (data.first("og:type") or "").strip().casefold()
    kept = list(body.paragraphs)
    resolved = resolve(tree, page_url, now=now, hints=hints, found=meta, body_authors=body.authors, data=data)
    kept = _drop_title(kept, resolved.title)
    kept = drop_author_bio(kept, resolved.authors)
    kept = drop_captions(kept, tree)
    kept = drop_trailing_links(kept, anchors)
    kept = _with_lead(kept, tree, resolved.description, resolved.title)
    not_article = not_article_reason(
        kept,
        anchors=anchors,
        ld_types=data.types,
        og_type=og_type,
        teasers=lambda: _teaser_count(tree),
        from_feed=hints is not None and hints.from_feed,
    )
    image = resolved.image
    return Extracted(
        title=resolved.title,
        text=join_paragraphs(kept),
        summary=resolved.description,
        published=resolved.published,
        authors=resolved.authors,
        dateline=body.dateline,
        credit=body.credit,
        tags=resolved.tags,
        canonical_url=canonical or url or None,
        image=image.url if image else None,
        site_name=resolved.site_name,
        is_article=not_article is None,
        extra={"extractor": extractor, **({"not_article": not_article} if not_article else {})},
        updated=resolved.updated,
        section=resolved.section,
        publisher=resolved.publisher,
        image_caption=image.caption if image else None,
        image_credit=image.credit if image else None,
        is_accessible_for_free=resolved.is_accessible_for_free,
    )


def captured_url(url: str) -> str:
    """
    Return the address a web-archive capture was taken of, else `url` itself.

    Archives that follow the Wayback convention (`…/20110106023242/http://site/path`,
    with an optional `id_`-style modifier) keep the original address whole after
    the capture's timestamp; its host, not the archive's, names the site.
    """
    match = _CAPTURE_RE.search(url)
    return match.group(1) + "//" + match.group(2) if match else url


def _str(value: object) -> str | None:
    return str(value).strip() or None if value else None


def clean_html(
    html: str,
    url: str,
    *,
    learned_chrome: frozenset[str] = frozenset(),
    now: datetime | None = None,
    hints: Hints | None = None,
) -> Extracted:
    """
    Extract an HTML page's article text and metadata; never fetch, never raise.

    Args:
        html: the decoded page.
        url: where it was fetched from, for relative links and the date in the URL.
        learned_chrome: fingerprints of lines learned as chrome for the source.
        now: the reference time for rejecting future dates (default: the clock).
        hints: what the feed entry states (title, date, authors); explicit evidence
            that a heuristic reading of the page never overrides.

    Returns:
        The extracted article; on pages with no readable text, an empty text
        and `is_article=False`.
    """
    if not isinstance(html, str) or not html.strip():
        return _empty(url)
    now = now or datetime.now(UTC)
    try:
        return _extract(html, url, learned_chrome, now, hints)
    # Parsers of arbitrary web pages fail in many library-specific ways
    # (lxml, htmldate, readability); a page that breaks them is just not an article.
    except Exception:  # noqa: BLE001
        return _empty(url)
