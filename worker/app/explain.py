"""
Say why a source failed in one line, with a hint at the fix when there is one: `reason [hint]`.

Expected failures (the `worker.errors` tree) are reported this way by the CLI
and by the one log event of a failed poll; only other exceptions (bugs) get a
traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from worker.errors import BlockedURL, ConfigError, FetchConnectionError, IngestError, ParseError

# netguard's words for an address only `INGEST_ALLOW_PRIVATE_NETWORKS=1` lets through.
_PRIVATE = re.compile(r"\bis (?:loopback|link-local|private|reserved|not globally routable)\b")
_HTTP_STATUS = re.compile(r"^HTTP (\d{3})\b")


def hint(exc: BaseException) -> str | None:
    """Return what the operator can do about `exc`, or None when there is nothing to say."""
    text = str(exc)
    if isinstance(exc, BlockedURL) and _PRIVATE.search(text):
        return "set INGEST_ALLOW_PRIVATE_NETWORKS=1 to read loopback and private addresses"
    if isinstance(exc, BlockedURL) and "file: URLs" in text:
        return "INGEST_ALLOW_FILE_URLS=1 lets feeds link to local files"
    if isinstance(exc, BlockedURL) and "robots.txt" in text:
        return "the site's robots.txt refuses our user agent (INGEST_USER_AGENT)"
    status = _HTTP_STATUS.match(text)
    if isinstance(exc, IngestError) and status and status.group(1) in {"404", "410"}:
        return "check the URL"
    if isinstance(exc, ParseError) and "not a feed" in text:
        return "expected RSS, Atom, JSON Feed, an HTML page or a sitemap"
    if isinstance(exc, FetchConnectionError) and text.startswith("cannot resolve "):
        return "check the host name; this machine's DNS must know it (tests and demos serve 127.0.0.1)"
    if isinstance(exc, FetchConnectionError) and text.startswith("nothing answers at "):
        return "is the server running, and listening on that port?"
    if isinstance(exc, FetchConnectionError) and text.startswith("TLS certificate of "):
        return "the site's certificate does not verify against this machine's CA store"
    if isinstance(exc, ConfigError):
        return "python -m worker config lists every setting"
    return None


def reason(exc: BaseException, location: str | None = None) -> str:
    """
    Return the first line of `exc`'s message, without a leading repeat of `location`.

    Readers name the file they fail on (`/x/a.bin: unknown archive kind`); the
    CLI already prints the source first, so the path is said once.
    """
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    for prefix in _spellings(location):
        if text.startswith(prefix + ": "):
            return text[len(prefix) + 2 :]
    return text


def one_line(exc: BaseException, location: str | None = None) -> str:
    """Return `reason [hint]` for `exc`."""
    found = hint(exc)
    text = reason(exc, location)
    return f"{text} [{found}]" if found else text


def _spellings(location: str | None) -> list[str]:
    """Return the ways a reader may have written `location`: as given, as a path, as a file URI."""
    if not location:
        return []
    parts = urlsplit(location)
    path = unquote(parts.path) if parts.scheme == "file" else location
    found = [location, path]
    if "://" not in path:
        p = Path(path)
        found += [str(p.absolute()), str(p.resolve()), p.resolve().as_uri()]
    # Longest first, so a file URI is not cut after its scheme.
    return sorted(set(found), key=len, reverse=True)
