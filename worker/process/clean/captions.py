"""
Tell a picture's caption from the story's text.

The text shown under a picture is most often the picture's own description
(`alt`, `title`) again; extractors keep it as a paragraph of the story.
"""

from __future__ import annotations

from typing import Any

# An image's description that a caption line repeats: long enough to say something, short of a paragraph.
_MIN_CAPTION, _MAX_CAPTION = 8, 200
_CAPTION_MARKS = " -–—|•·()[]"


def _caption_key(text: str) -> str:
    # Case, spacing and the dashes or brackets a caption line is set off with do not count.
    return " ".join(text.casefold().split()).strip(_CAPTION_MARKS)


def drop_captions(paragraphs: list[str], tree: Any) -> list[str]:
    """
    Drop the lines that repeat the `alt` or `title` of an image they are shown with: captions.

    The text under a picture ("Izaskun Lesaka.", "- Tapie en 2008. REUTERS/Benoit
    Tessier -") is most often the picture's own description again.  It counts
    where the picture's box (up to three levels up) shows little more than it,
    or where it is the element right after that box; a recipe step that is also
    its step photo's `alt` stands apart from the photo and stays.
    """
    # Only a line of the text can be a caption to drop: the pictures' boxes are read for those alone.
    lines = {key for p in paragraphs if _MIN_CAPTION <= len(key := _caption_key(p)) <= _MAX_CAPTION}
    if not lines:
        return paragraphs
    longest = max(len(line) for line in lines) + 20
    described = set()
    for image in tree.iter("img"):
        for attribute in ("alt", "title"):
            value = image.get(attribute)
            if not value or not _MIN_CAPTION <= len(value) <= longest:
                continue
            key = _caption_key(value)
            if key in lines and key not in described and _shown_with(image, key):
                described.add(key)
    if not described:
        return paragraphs
    return [p for p in paragraphs if _caption_key(p) not in described]


def _shown_with(image: Any, key: str) -> bool:
    """Tell whether an image's box, or the element right after it, shows the text `key`."""
    node = image
    for _ in range(4):
        after = node.getnext()
        while after is not None and after.tag == "br":
            after = after.getnext()
        if after is not None and _caption_key(after.text_content()) == key:
            return True
        node = node.getparent()
        if node is None:
            return False
        shown = _caption_key(node.text_content())
        if len(shown) > 2 * len(key) + 40:
            return False
        if key in shown:
            return True
    return False
