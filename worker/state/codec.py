"""
Pack a feed's polling state into a short string, so a million feeds fit in little Redis memory.

Pure functions.  A feed that was only registered (its spec has default
values) packs to its bare URL; anything else packs to compact JSON with
one-letter keys.  Values of None are not kept: every reader uses `.get()`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

# Long state keys and their short stored forms; unknown keys are stored as they are.
_SHORT = {
    "etag": "e",
    "last_modified": "m",
    "body_hash": "h",
    "last_status": "t",
    "last_polled": "p",
    "next_at": "n",
    "interval_s": "i",
    "errors": "r",
    "last_error": "x",
    "disabled": "d",
    "redirected_from": "f",
    "backfilled": "b",
}
_LONG = {v: k for k, v in _SHORT.items()}


def feed_id(url: str) -> str:
    """
    Return the 12-character id a feed is stored under.

    Four hex digits name the feed's bucket (`id[:4]`), then 48 more bits in
    base64url: 64 bits in all, no collision in practice, and 12 characters
    fit Redis's 16-byte allocation class, where 16 hex digits would need 24.
    """
    digest = hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest()
    return digest[:2].hex() + base64.urlsafe_b64encode(digest[2:]).decode("ascii")


def _default_name(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or url) if parts.scheme in {"http", "https"} else ""


def _pack_spec(url: str, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.get("kind", "feed") != "feed":
        out["k"] = spec["kind"]
    if spec.get("location", url) != url:
        out["l"] = spec["location"]
    if spec.get("name") != _default_name(url):
        out["n"] = spec.get("name")
    if spec.get("tz", "UTC") != "UTC":
        out["z"] = spec["tz"]
    if spec.get("interval_s") is not None:
        out["i"] = spec["interval_s"]
    return out


def _unpack_spec(url: str, packed: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": packed.get("k", "feed"),
        "location": packed.get("l", url),
        "name": packed["n"] if "n" in packed else _default_name(url),
        "tz": packed.get("z", "UTC"),
        "interval_s": packed.get("i"),
    }


def pack_state(url: str, state: dict[str, Any]) -> str:
    """
    Return the stored form of a feed's state (its URL included, so an id is enough to find it).

    A state holding only a default spec packs to the URL alone, which fits a
    Redis listpack (values up to 64 bytes by default) for most feeds.
    """
    spec = state.get("spec")
    rest = {_SHORT.get(k, k): v for k, v in state.items() if k != "spec" and v is not None}
    packed_spec = _pack_spec(url, spec) if isinstance(spec, dict) else None
    if not rest and packed_spec == {} and not url.startswith("{"):
        return url
    doc: dict[str, Any] = {"u": url, **rest}
    if packed_spec is not None:
        doc["s"] = packed_spec
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def unpack_state(raw: str) -> tuple[str, dict[str, Any]]:
    """Return (url, state) from `pack_state` output."""
    if not raw.startswith("{"):
        return raw, {"spec": _unpack_spec(raw, {})}
    doc = json.loads(raw)
    url = str(doc.pop("u"))
    packed_spec = doc.pop("s", None)
    state = {_LONG.get(k, k): v for k, v in doc.items()}
    if packed_spec is not None:
        state["spec"] = _unpack_spec(url, packed_spec)
    return url, state
