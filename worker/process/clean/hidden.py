"""
Remove what a page hides from readers before its text is read.

Pop-ups, pull-downs and collapsed prompts ("only subscribers can save articles")
sit in the page hidden by an inline style or the `hidden` attribute; no reader
sees them, so they are none of the story's text.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

# An inline style that hides an element from readers.
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# Classes that hide an element, three readings for three questions the readers ask:
#
# - A byline or a name is hidden by a class token that says so ("hidden", "js-hide", "d-none",
#   "invisible"), but not by Drupal's `field--label-hidden` (a field whose label is hidden, the
#   field itself shown) nor by the utility classes `overflow-hidden`, `tw-overflow-x-hidden`,
#   which only clip what overflows a box, often the page's whole `<main>`.
HIDDEN_CLASS_RE = re.compile(
    r"(?:^|\s)(?![\w-]*(?:label|overflow(?:-[xy])?)-hidden\b)(?:[\w-]*-)?(?:hidden|hide|d-none|invisible)(?:\s|$)",
    re.IGNORECASE,
)
# - A headline is the one a reader sees: one read only to screen readers ("sr-only",
#   "visually-hidden", "a11y") is not it either.
UNSEEN_CLASS_RE = re.compile(
    r"visually-?hidden|sr-only|screen-reader|assistive|(?<!label-)(?<!overflow-)(?<!-[xy]-)hidden|offscreen"
    r"|a11y|invisible",
    re.IGNORECASE,
)
# - A tag waits behind a "More" button, or in a closed panel, until a reader asks for it: one
#   class token ("hidden", "d-none", a BEM "--closed" or "--collapsed" panel) says so.
COLLAPSED_CLASS_RE = re.compile(
    r"^(?:hidden|is-hidden|d-none|hide|invisible|collapsed|is-collapsed|is-closed)$|--(?:closed|collapsed|hidden)$",
    re.IGNORECASE,
)

# Characters a reader does not see: soft hyphens, zero-width spaces and joiners, word joiners, BOMs.
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Elements a reader may not see: the `hidden` attribute, or an inline style hiding them.
_STYLED = etree.XPath("descendant::*[@style or @hidden]")
_HOLDS_DATA = etree.XPath("boolean(.//*[@itemprop or @itemscope] | .//script[contains(@type, 'ld+json')])")

# A paginated story (a numbered list shown one item at a time) hides its items
# the same way: several hidden siblings of one kind, each holding running text.
_MIN_SLIDES = 3
_MIN_SLIDE_TEXT = 200


# The page's own stylesheets (`<style>`), as CSS-in-JS writes them: one class a rule
# (`.css-1ftw2zb{clip:rect(0 0 0 0);position:absolute;…}`).  Rules inside an at-rule (`@media`,
# `@supports`) hold only under a condition and are left out; so are selectors of more than a class.
_AT_BLOCK_RE = re.compile(r"@[^{};]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")
_CLASS_RULE_RE = re.compile(
    r"(?:^|[};])\s*((?:\.-?[A-Za-z_][\w-]*\s*,\s*)*\.-?[A-Za-z_][\w-]*)\s*\{([^{}]*)\}"
)
# Declarations that clip an element to nothing, the screen-reader-only pattern.
_CLIPPED_RE = re.compile(
    r"clip\s*:\s*rect\(\s*0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?\s*\)|clip-path\s*:\s*inset\(\s*50%",
    re.IGNORECASE,
)
# Stylesheet text read per page at most: CSS-in-JS pages inline a few hundred KiB.
_MAX_STYLE_CHARS = 1_000_000


def clipped_classes(tree: Any) -> frozenset[str]:
    """
    Return the classes the stylesheets in `tree` show to screen readers only (clipped to nothing).

    Only top-level rules of one class or a list of classes count.  Nothing is removed for a
    class a stylesheet sets `display:none`: scripts take such classes off as a page loads
    (a lazy loader's, a consent banner's), and a reader sees what they held.
    """
    text, size = [], 0
    for style in tree.iter("style"):
        chunk = style.text or ""
        if size + len(chunk) > _MAX_STYLE_CHARS:
            break
        text.append(chunk)
        size += len(chunk)
    css = _AT_BLOCK_RE.sub("", "}".join(text))
    return frozenset(
        name.strip()[1:]
        for match in _CLASS_RULE_RE.finditer(css)
        if _CLIPPED_RE.search(match.group(2))
        for name in match.group(1).split(",")
    )


def drop_hidden(tree: Any) -> None:
    """
    Remove what the page hides from readers (pop-ups, collapsed member prompts), keeping data.

    A hidden element that carries structured data (microdata, a JSON-LD script) stays:
    the metadata reads it, and the text extractor leaves hidden data out on its own.
    What a class of the page's own stylesheet shows only to screen readers is marked
    `visually-hidden`, as the readers of headlines and bylines know it.
    """
    body = tree.find("body")
    root = tree.getroottree().getroot()
    slide_runs: dict[tuple[Any, str, str], bool] = {}
    # CSS-in-JS writes its rules beside the elements, in the body; a site's stylesheet in the head
    # names its screen-reader class in words (`sr-only`, `visually-hidden`), which are read as such.
    clipped = clipped_classes(body) if body is not None and body.find(".//style") is not None else frozenset()
    if clipped:
        for element in body.iter():
            classes = element.get("class") if isinstance(element.tag, str) else None
            if classes and any(t in clipped for t in classes.split()):
                element.set("class", f"{classes} visually-hidden")
    for element in _STYLED(body) if body is not None else ():
        if element.get("hidden") is None and not HIDDEN_STYLE_RE.search(element.get("style") or ""):
            continue
        if element.get("itemprop") is not None:
            continue
        # Inside a block already removed (nested pop-ups), there is nothing left to do.
        if element.getroottree().getroot() is not root:
            continue
        if _HOLDS_DATA(element):
            continue
        if _is_slide(element, slide_runs):
            continue
        element.drop_tree()


def _is_slide(element: Any, runs: dict[tuple[Any, str, str], bool]) -> bool:
    """Tell one of a run of hidden sibling slides, each with text, from a lone pop-up."""
    parent = element.getparent()
    if parent is None or not element.get("class"):
        return False
    key = (parent, element.tag, element.get("class"))
    if key not in runs:
        runs[key] = _slide_run(parent, key[1:])
    return runs[key]


def _slide_run(parent: Any, kind: tuple[str, str]) -> bool:
    slides = 0
    for sibling in parent:
        if (sibling.tag, sibling.get("class")) != kind:
            continue
        hidden = sibling.get("hidden") is not None or HIDDEN_STYLE_RE.search(sibling.get("style") or "")
        if not hidden or len(sibling.text_content().strip()) < _MIN_SLIDE_TEXT:
            return False
        slides += 1
    return slides >= _MIN_SLIDES


def visible(text: str) -> str:
    """
    Return text without the characters a reader does not see (soft hyphens, zero widths).

    For short fields (a headline, a name) compared with what other sources state: a CMS that
    hyphenates its headlines (`Er&shy;in&shy;ne&shy;rung`) states them without.  The body text
    keeps them: they are where a line may break.
    """
    return text.translate(_INVISIBLE)
