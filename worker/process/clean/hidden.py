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

# Elements a reader may not see: the `hidden` attribute, or an inline style hiding them.
_STYLED = etree.XPath("descendant::*[@style or @hidden]")
_HOLDS_DATA = etree.XPath("boolean(.//*[@itemprop or @itemscope] | .//script[contains(@type, 'ld+json')])")


def drop_hidden(tree: Any) -> None:
    """
    Remove what the page hides from readers (pop-ups, collapsed member prompts), keeping data.

    A hidden element that carries structured data (microdata, a JSON-LD script) stays:
    the metadata reads it, and the text extractor leaves hidden data out on its own.
    """
    body = tree.find("body")
    root = tree.getroottree().getroot()
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
        element.drop_tree()
