"""Pure dedupe keys: the content hash of exact duplicates (the article id is `worker.ids`)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)


def normalise_for_hash(text: str) -> str:
    """Reduce text to case-folded words so whitespace and punctuation edits do not count."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(text))


def raw_hash(content: str) -> str:
    """Return the hash of a page exactly as fetched (32 hex digits): byte-identical copies only."""
    return hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def content_hash(text: str) -> str:
    """Return the exact-duplicate hash of an article text (32 hex digits)."""
    return hashlib.blake2b(normalise_for_hash(text).encode("utf-8"), digest_size=16).hexdigest()
