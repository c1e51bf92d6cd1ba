"""Pure dedupe keys: canonical URL, stable article id and content hash."""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import courlan

_WORD = re.compile(r"\w+", re.UNICODE)


def canonical_url(url: str) -> str:
    """
    Return the URL in the one form that identifies an article.

    Tracking parameters (utm_*, fbclid, gclid…) are dropped by courlan, the
    query is sorted, the scheme and host are lower-cased, default ports,
    fragments and dot segments go.  URLs that are not http(s) (``file:`` and
    archive-member URIs) keep their path and fragment, which identify the member.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        return url
    normalised = courlan.normalize_url(url) or url
    p = urlsplit(normalised)
    path = p.path or "/"
    if "/." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = path if path.startswith("/") else "/" + path
        if trailing and not path.endswith("/"):
            path += "/"
    host = (p.hostname or "").lower().rstrip(".")
    port = p.port
    if port and not ((p.scheme == "http" and port == 80) or (p.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return urlunsplit((p.scheme.lower(), host, path, p.query, ""))


def article_id(url: str) -> str:
    """Return the stable id of an article: 16 hex digits of the canonical URL's hash."""
    return hashlib.blake2b(canonical_url(url).encode("utf-8"), digest_size=8).hexdigest()


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
