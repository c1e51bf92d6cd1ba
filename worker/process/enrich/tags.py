"""Normalise the free-form tags found in feeds, pages and seed files."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Feeds and seed files join tags with pipes, commas or semicolons; none of
# these occurs inside a real tag often enough to be worth keeping.
_SEPARATORS = re.compile(r"[|,;]")
_SPACE = re.compile(r"\s+")


def normalise_tag(tag: str) -> str:
    """
    Return one tag case-folded, trimmed and with inner whitespace collapsed.

    Case-folding (not lower-casing) makes `Straße` and `STRASSE` one tag.
    """
    return _SPACE.sub(" ", tag.casefold()).strip()


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """
    Return the tags normalised, without empties or duplicates, in first-seen order.

    Args:
        tags: Raw tags in the order the source gave them.

    Returns:
        The distinct normalised tags; the source's order is kept because the
        first tags are usually the most specific ones.
    """
    return list(dict.fromkeys(t for t in map(normalise_tag, tags) if t))


def split_tags(raw: str) -> list[str]:
    """
    Split a raw tag string such as `a | b | c` or `a, b; c` and normalise it.

    Args:
        raw: Tags joined by `|`, `,` or `;`.

    Returns:
        The tags as `normalise_tags` returns them.
    """
    return normalise_tags(_SEPARATORS.split(raw))
