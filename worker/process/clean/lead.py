"""
Find an article's lead (standfirst) when the extractor left it out.

Extractors often skip the lead paragraph because it sits in its own styled
block above the body.  A lead is an element classed as one (lead, intro,
standfirst, abstract, deck, chapo, …) or one showing the page's own
description, placed before the body text and outside page chrome.
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


def find_lead(tree: Any, first_paragraph: str, description: str | None) -> str | None:
    """
    Return the lead shown above the body, or None.

    Args:
        tree: the parsed page.
        first_paragraph: the body's first paragraph as extracted, which the lead must precede.
        description: the page's declared description, which a shown lead often repeats.
    """
    anchor = _locate(tree, first_paragraph)
    if anchor is None:
        return None
    ancestors = set(anchor.iterancestors())
    # Classed blocks in document order, up to the body's start (nothing after it is looked at).
    for element in tree.iter(*_BLOCKS):
        if element is anchor:
            break
        if element.get("class") is None or element in ancestors:
            continue
        # The cheap tests first (all must hold, so their order changes nothing): lxml's own text,
        # scripts included, bounds the visible text from above.
        if len(element.text_content()) < _MIN_CHARS:
            continue
        by_class = bool(_LEAD_CLASS_RE.search(element.get("class") or ""))
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
        if not (by_class or _shows(text, description)):
            continue
        if len(_CODE_RE.findall(text)) > 2 or in_chrome_markup(element, _CHROME_RE):
            continue
        return text
    return None


def _locate(tree: Any, paragraph: str) -> Any:
    """Return the element holding the start of the body's first paragraph (the lead must come before)."""
    probe = " ".join(paragraph.split()[:8])
    if len(probe) < 20:
        return None
    for element in tree.iter("p", "div", "span", "section", "article"):
        if element.text and probe[:20] in " ".join(element.text.split()):
            return element
    return None
