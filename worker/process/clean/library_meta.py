"""
trafilatura's own reading of a page's metadata, each field worked out when first read.

`trafilatura.bare_extraction(with_metadata=True)` runs `extract_metadata` on every page: on the
bench's 164 English pages 13 ms of its 40, of which its date search (htmldate, 6.4 ms), its byline
search (3.8 ms), its categories and tags (2.4 ms) and its licence (0.9 ms).  The resolver
(`metadata.resolve`) reads all of these from the page's own evidence first; trafilatura's
answers are its last resort, read on few pages, and its categories, tags and licence never.
So the pipeline asks trafilatura for the text alone and this mapping gives the same values
`extract_metadata` would, in its order and with its trimming: the cheap ones (meta tags,
JSON-LD, title, address, site name) at once, the date and the byline when first asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from html import unescape
from typing import Any

from htmldate import find_date
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.utils import line_processing

# `Document.clean_and_trim`'s cap on a field's length.
_MAX_FIELD = 10_000
_KEYS = ("title", "author", "url", "description", "sitename", "date", "text")


def _trimmed(value: Any) -> Any:
    """Trim a field as `Document.clean_and_trim` does: cap its length, unescape, tidy its spaces."""
    if not isinstance(value, str):
        return value
    if len(value) > _MAX_FIELD:
        value = value[: _MAX_FIELD - 1] + "…"
    return line_processing(unescape(value))


class LibraryMetadata(Mapping[str, Any]):
    """
    The fields of `trafilatura.metadata.extract_metadata(tree, url, date_params)` the resolver reads,
    plus the extracted `text`; `author` and `date` are searched for on first access only.

    The tree is read, never changed (trafilatura's byline search and htmldate work on copies).
    """

    def __init__(self, tree: Any, url: str | None, date_params: dict[str, Any]) -> None:
        self._tree = tree
        self._date_params = date_params
        found = examine_meta(tree)
        # (trafilatura's own rule: a one-word meta author is a user name.)
        if found.author and " " not in found.author:
            found.author = None
        # Its JSON-LD reader raises on odd shapes; trafilatura logs a warning and goes on without it, and
        # so does this, without the warning (the page is read from its other evidence all the same).
        with contextlib.suppress(Exception):
            found = extract_meta_json(tree, found)
        self._found = found
        title = found.title or extract_title(tree)
        page_url = found.url or extract_url(tree, url)
        sitename = found.sitename or extract_sitename(tree)
        if sitename:
            sitename = sitename.lstrip("@")
            if sitename and "." not in sitename and not sitename[0].isupper():
                sitename = sitename.title()
        elif page_url and (match := META_URL.match(page_url)):
            sitename = match[1]
        self._values: dict[str, Any] = {
            "title": _trimmed(title),
            "url": _trimmed(page_url),
            "description": _trimmed(found.description),
            "sitename": _trimmed(sitename),
            "text": None,
        }
        self._raw_url = page_url

    def add_text(self, text: str | None) -> None:
        """Keep the text trafilatura extracted (read by the resolver's date rules)."""
        self._values["text"] = text

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            if key == "author":
                self._values[key] = _trimmed(self._found.author or extract_author(self._tree))
            elif key == "date":
                params = {**self._date_params, "url": self._raw_url}
                self._values[key] = _trimmed(find_date(self._tree, **params))
            else:
                raise KeyError(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)
