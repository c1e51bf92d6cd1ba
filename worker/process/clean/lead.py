"""
Find an article's lead (standfirst) when the extractor left it out.

Extractors often skip the lead paragraph because it sits in its own styled
block above the body.  A lead is an element classed as one (lead, intro,
standfirst, abstract, deck, chapo, …), one showing the page's own
description, or a plain paragraph in whole sentences under the headline in the
article's header; placed before the body text and outside page chrome.
"""

from __future__ import annotations

import re
from typing import Any

from worker.process.clean.chrome import in_chrome_markup

_LEAD_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:lead|leadtext|lede|intro|introduction|standfirst|abstract|deck|dek|chapo|summary"
    r"|excerpt|vorspann|bajada|entradilla|sumario|sottotitolo|occhiello|teaser-?text|article-?teaser)"
    r"(?:$|[\s_-])",
    re.IGNORECASE,
)
_CHROME_RE = re.compile(
    r"related|sidebar|footer|comment|recommend|popular|trending|newsletter|promo|nav|menu|teaser-?list"
    r"|more-|widget|cookie|consent",
    re.IGNORECASE,
)
_BLOCKS = ("p", "div", "h2", "section", "span")
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "button", "svg"})
# Code-like text (a script printed as text, JSON) is no lead.
_CODE_RE = re.compile(r"[{};=<>]|//|\(\)")
_MIN_CHARS = 40
_MAX_CHARS = 1000
_WORD_RE = re.compile(r"\w+")
# Blocks that may hold the body's first paragraph, and the inline markup a paragraph may open with
# (`<p><b>First sentence…</b></p>`): there the paragraph's text starts inside the inline element.
_PARAGRAPH_BLOCKS = ("p", "div", "span", "section", "article")
_OPENING_INLINE = ("b", "strong", "em", "i")
# An article's header, and the blocks below its headline there that may be its standfirst.
_HEADER_TAGS = frozenset({"header", "hgroup"})
_UNDER_HEADLINE_TAGS = frozenset({"p", "h2"})
_MIN_STANDFIRST = 60
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”“»«)]*$")


def _text(element: Any) -> str:
    """Return an element's visible text: scripts, styles and hidden copies left out."""
    return " ".join(_raw_text(element).split())


def _raw_text(element: Any) -> str:
    # Spaces at a child's edges are kept: `<a>Samuel Alito </a>is` reads "Samuel Alito is".
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _INVISIBLE:
            parts.append(_raw_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _words(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.casefold()))


def _shows(text: str, description: str | None) -> bool:
    if not description:
        return False
    a, b = _words(text), _words(description)
    return bool(a and b) and len(a & b) / len(a | b) >= 0.6


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def find_lead(
    tree: Any, first_paragraph: str, description: str | None, title: str | None = None
) -> str | None:
    """
    Return the lead shown above the body, or None.

    Args:
        tree: the parsed page.
        first_paragraph: the body's first paragraph as extracted, which the lead must precede.
        description: the page's declared description, which a shown lead often repeats.
        title: the headline; a block repeating it (a headline's classed span, a sticky bar's copy)
            is no lead, and the search goes on past it to the lead below.
    """
    headline = _folded(title) if title else None
    anchor = _locate(tree, first_paragraph)
    if anchor is None:
        return None
    ancestors = set(anchor.iterancestors())
    # Classed blocks in document order, up to the body's start (nothing after it is looked at).
    for element in tree.iter(*_BLOCKS):
        if element is anchor:
            break
        # An unclassed block counts only as the standfirst under the headline in the article's header.
        classed = element.get("class") is not None
        under_headline = not classed and _under_headline(element)
        if not (classed or under_headline) or element in ancestors:
            continue
        # The cheap tests first (all must hold, so their order changes nothing): lxml's own text,
        # scripts included, bounds the visible text from above.
        if len(element.text_content()) < _MIN_CHARS:
            continue
        by_class = under_headline or bool(_LEAD_CLASS_RE.search(element.get("class") or ""))
        if not (by_class or description):
            continue
        # A block of several paragraphs or links, or one with its own heading, is a teaser box or
        # the whole header, not a lead.
        if len(element.xpath(".//p | .//a")) > 2 or element.xpath(".//h1 | .//h2 | .//h3 | .//h4"):
            continue
        # A block around a picture (a "lede" image with its caption and credit) is no lead.
        if next(element.iter("img", "picture", "figcaption", "video"), None) is not None:
            continue
        text = _text(element)
        if not _MIN_CHARS <= len(text) <= _MAX_CHARS:
            continue
        if not (by_class or _shows(text, description)) or _folded(text) == headline:
            continue
        if under_headline and not _reads_as_standfirst(element, text):
            continue
        if len(_CODE_RE.findall(text)) > 2 or in_chrome_markup(element, _CHROME_RE) or _in_banner(element):
            continue
        return text
    return None


def _under_headline(element: Any) -> bool:
    """
    Tell whether an element is a standfirst under the headline: a `p` or `h2` that follows the `h1`
    in the `header` or `hgroup` around both (the article's header, where the lead sits unclassed).
    """
    if element.tag not in _UNDER_HEADLINE_TAGS:
        return False
    parent = element.getparent()
    if parent is None or parent.tag not in _HEADER_TAGS:
        return False
    return any(sibling.tag == "h1" for sibling in element.itersiblings(preceding=True))


def _reads_as_standfirst(element: Any, text: str) -> bool:
    """
    Tell an unclassed block under the headline that reads as a standfirst: whole sentences with no
    link, in the article (`article` or `main`); a blog's tagline under its site name sits in the
    site's header, a byline or dateline has no sentence end or links to the author.
    """
    return (
        len(text) >= _MIN_STANDFIRST
        and _SENTENCE_END_RE.search(text) is not None
        and next(element.iter("a"), None) is None
        and next(element.iterancestors("article", "main"), None) is not None
    )


def _in_banner(element: Any) -> bool:
    """
    Tell whether an element sits in the site's banner: a `header` holding a `nav` but no headline.

    The article's own header holds the headline (`h1`), perhaps beside a breadcrumb `nav`; the
    page's banner holds the menu, a login box and teasers whose "intro" blocks are no lead.
    """
    header = next(element.iterancestors("header"), None)
    return (
        header is not None
        and next(header.iter("nav"), None) is not None
        and next(header.iter("h1"), None) is None
    )


def _locate(tree: Any, paragraph: str) -> Any:
    """
    Return the element holding the start of the body's first paragraph (the lead must come before).

    A paragraph that opens in bold or italics (`<p><b>First sentence…</b>`) has its start in
    the inline element: the block around it is returned.
    """
    probe = " ".join(paragraph.split()[:8])
    if len(probe) < 20:
        return None
    for element in tree.iter(*_PARAGRAPH_BLOCKS, *_OPENING_INLINE):
        if element.text and probe[:20] in " ".join(element.text.split()):
            if element.tag in _OPENING_INLINE:
                return _opened_block(element)
            return element
    return None


def _opened_block(inline: Any) -> Any:
    """Return the block an inline element opens (no text before it), else the inline element itself."""
    parent = inline.getparent()
    opens = parent is not None and parent.tag in _PARAGRAPH_BLOCKS and parent[0] is inline
    return parent if opens and not (parent.text or "").strip() else inline
