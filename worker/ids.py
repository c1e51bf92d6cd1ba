"""An article's identity: its canonical URL and the stable id hashed from it."""

from __future__ import annotations

import hashlib
import posixpath
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import courlan
from courlan.clean import clean_query


# An article's URL is made canonical where the poll reads it, where its fetch starts and where its
# record is built, in the same process: the last few thousand are remembered (about 1 MB).
@lru_cache(maxsize=4096)
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
    # The query goes through courlan's tracker filter alone: its URL parser reads `&gt` (any HTML
    # entity) in a query as text, so the whole URL through it would not be a fixed point.
    bare = courlan.normalize_url(urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))) or url
    b = urlsplit(bare)
    normalised = urlunsplit((b.scheme, b.netloc, b.path, clean_query(parts.query), ""))
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
