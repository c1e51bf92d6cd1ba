"""
Pack a feed's polling state into short strings, so a million feeds fit in little Redis memory.

Pure functions.  A feed is stored as two values, each meant to stay within
Redis's 64-byte listpack limit (`hash-max-listpack-value`), since one longer
value turns its whole bucket hash into a real hash table (about twice the
memory per field):

- the *spec value* (`pack_state`): the bare URL for a feed registered with
  default values, else compact JSON with one-letter keys;
- the *poll value* (`pack_poll`): what polling learned, positional and
  tab-separated in the common case (see `pack_poll`), else the same JSON.

Values of None are not kept (every reader uses `.get()`), nor is `next_at`:
the due-set holds the next check.  The layout before the poll value (one
JSON value holding everything) is still read by `unpack_state`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from worker.models import default_name

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
    "backfill_pending": "B",
}
_LONG = {v: k for k, v in _SHORT.items()}


# Bytes a feed's entry memory keeps per entry key (`entry_digest`).
ENTRY_DIGEST_BYTES = 8


def entry_digest(key: str) -> bytes:
    """
    Return the 8 bytes a feed's entry memory keeps of one entry key (a guid, link or hash).

    The first 8 bytes of SHA-1, because Redis's Lua has `redis.sha1hex` to turn
    a key of the previous layout (sets of whole keys) into the same digest.
    64 bits: two keys of one feed's memory collide with odds of about 1e-13.
    """
    return hashlib.sha1(key.encode("utf-8")).digest()[:ENTRY_DIGEST_BYTES]  # noqa: S324 - not for security


def feed_id(url: str) -> str:
    """
    Return the 12-character id a feed is stored under.

    Four hex digits name the feed's bucket (`id[:4]`), then 48 more bits in
    base64url: 64 bits in all, no collision in practice, and 12 characters
    fit Redis's 16-byte allocation class, where 16 hex digits would need 24.
    """
    digest = hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest()
    return digest[:2].hex() + base64.urlsafe_b64encode(digest[2:]).decode("ascii")


def _pack_spec(url: str, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.get("kind", "feed") != "feed":
        out["k"] = spec["kind"]
    if spec.get("location", url) != url:
        out["l"] = spec["location"]
    if spec.get("name") != default_name(url):
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
        "name": packed["n"] if "n" in packed else default_name(url),
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


# The poll value's slots, in order; trailing empty slots are left out.
POLL_KEYS = ("etag", "last_modified", "body_hash", "last_polled", "interval_s", "last_status", "errors")
# An empty slot means "absent", except for these, where it means the usual value ("-" is absent).
_POLL_DEFAULTS: dict[str, int] = {"last_status": 200, "errors": 0}
_SEP = "\t"  # cannot occur in an ETag (RFC 9110 §8.8.3: etagc is %x21 / %x23-7E / obs-text)
_BASE36 = re.compile(r"-?[0-9a-z]+")
_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class _Unpackable(ValueError):
    """A value the positional form cannot hold exactly: the JSON form is used instead."""


def _b36(n: int) -> str:
    if n < 0:
        return "-" + _b36(-n)
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
        if not n:
            return out


def _pack_number(v: Any) -> str:
    """Return an int as base36, an integral float as base36 + '.', another float as '~' + repr."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _Unpackable(v)
    if isinstance(v, int):
        return _b36(v)
    if not math.isfinite(v):
        raise _Unpackable(v)
    if v.is_integer() and abs(v) < 2**53 and (v or math.copysign(1.0, v) > 0):
        return _b36(int(v)) + "."
    return "~" + repr(v)


def _unpack_number(s: str) -> int | float:
    if s.startswith("~"):
        return float(s[1:])
    if s.endswith("."):
        return float(int(s[:-1], 36))
    return int(s, 36)


def _pack_text(v: Any) -> str:
    if not isinstance(v, str) or not v or _SEP in v:
        raise _Unpackable(v)
    return v


def _http_date_epoch(value: str) -> int | None:
    """Return the epoch of an IMF-fixdate that formatting the epoch gives back byte for byte, else None."""
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt.tzinfo is None or dt.utcoffset() or dt.microsecond:
        return None
    epoch = int(dt.timestamp())
    if epoch < 0 or format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True) != value:
        return None
    return epoch


def _pack_last_modified(v: Any) -> str:
    """Return a reproducible HTTP date as base36 epoch seconds, anything else verbatim ('=' escapes)."""
    text = _pack_text(v)
    epoch = _http_date_epoch(text)
    if epoch is not None:
        return _b36(epoch)
    return "=" + text if _BASE36.fullmatch(text) or text.startswith("=") else text


def _unpack_last_modified(s: str) -> str:
    if s.startswith("="):
        return s[1:]
    if _BASE36.fullmatch(s):
        return format_datetime(datetime.fromtimestamp(int(s, 36), UTC), usegmt=True)
    return s


def _pack_hash(v: Any) -> str:
    """Return a lowercase hex digest as unpadded base64url (16 hex digits -> 11 characters)."""
    if not isinstance(v, str) or not _LOWER_HEX.fullmatch(v):
        raise _Unpackable(v)
    return base64.urlsafe_b64encode(bytes.fromhex(v)).decode("ascii").rstrip("=")


def _unpack_hash(s: str) -> str:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).hex()


# A quoted hex digest of 16 bytes or more (S3's MD5, many CDNs), strong or weak: too long verbatim
# for a 64-byte listpack value beside the rest, so it is kept as base64url bytes behind '#'.
_HEX_ETAG = re.compile(r'(W/)?"((?:[0-9a-f]{2}){16,})"')


def _pack_etag(v: Any) -> str:
    """Return a quoted hex ETag as '#' (strong) or 'w#' (weak) + base64url; anything else verbatim."""
    text = _pack_text(v)
    m = _HEX_ETAG.fullmatch(text)
    if m:
        return ("w#" if m.group(1) else "#") + _pack_hash(m.group(2))
    # '=' escapes a verbatim ETag that would read as a packed one (never a valid ETag anyway).
    return "=" + text if text.startswith(("#", "w#", "=")) else text


def _unpack_etag(s: str) -> str:
    if s.startswith("="):
        return s[1:]
    if s.startswith("#"):
        return f'"{_unpack_hash(s[1:])}"'
    if s.startswith("w#"):
        return f'W/"{_unpack_hash(s[2:])}"'
    return s


_PACK: dict[str, Callable[[Any], str]] = {
    "etag": _pack_etag,
    "last_modified": _pack_last_modified,
    "body_hash": _pack_hash,
}
_UNPACK: dict[str, Callable[[str], Any]] = {
    "etag": _unpack_etag,
    "last_modified": _unpack_last_modified,
    "body_hash": _unpack_hash,
}


def _positional(state: dict[str, Any]) -> str:
    slots = []
    for key in POLL_KEYS:
        value = state.get(key)
        default = _POLL_DEFAULTS.get(key)
        if default is not None and value is None:
            slots.append("-")
        elif value is None or (type(value) is int and value == default):
            slots.append("")
        else:
            slots.append(_PACK.get(key, _pack_number)(value))
    packed = _SEP.join(slots).rstrip(_SEP)
    if not packed or packed.startswith("{"):
        raise _Unpackable(packed)
    return packed


def pack_poll(state: dict[str, Any]) -> str | None:
    """
    Return the stored form of what polling learned (the state minus spec and `next_at`), or None.

    The common case is positional: ETag verbatim (sent back byte for byte;
    a quoted lowercase hex digest of 16+ bytes as its bytes in base64url,
    which gives back the same string), Last-Modified as base36 epoch
    seconds when that reproduces the header
    exactly, the body hash in base64url, numbers in base36, status 200 and
    0 errors as empty slots.  A typical polled feed packs to about 45 bytes.
    Anything else (an error text, a disabled reason, an unknown key, a value
    the slots cannot hold exactly) falls back to compact JSON.
    """
    rest = {k: v for k, v in state.items() if k not in {"spec", "next_at"} and v is not None}
    if not rest:
        return None
    if rest.keys() <= set(POLL_KEYS):
        try:
            return _positional(rest)
        except _Unpackable:
            pass
    short = {_SHORT.get(k, k): v for k, v in rest.items()}
    return json.dumps(short, separators=(",", ":"), ensure_ascii=False)


def unpack_poll(raw: str) -> dict[str, Any]:
    """Return the state fields stored by `pack_poll`."""
    if raw.startswith("{"):
        return {_LONG.get(k, k): v for k, v in json.loads(raw).items()}
    slots = raw.split(_SEP) + [""] * len(POLL_KEYS)
    state: dict[str, Any] = {}
    for key, slot in zip(POLL_KEYS, slots, strict=False):
        if key in _POLL_DEFAULTS:
            if slot != "-":
                state[key] = _unpack_number(slot) if slot else _POLL_DEFAULTS[key]
        elif slot:
            state[key] = _UNPACK.get(key, _unpack_number)(slot)
    return state


def pack_feed(url: str, state: dict[str, Any]) -> tuple[str, str | None]:
    """Return (spec value, poll value or None) for a feed's state; `next_at` is not kept."""
    spec = state.get("spec")
    return pack_state(url, {} if spec is None else {"spec": spec}), pack_poll(state)


def unpack_feed(spec_raw: str, poll_raw: str | None) -> tuple[str, dict[str, Any]]:
    """Return (url, state) from `pack_feed` output, or from the older single value (`poll_raw` None)."""
    url, state = unpack_state(spec_raw)
    if poll_raw:
        state.update(unpack_poll(poll_raw))
    state.pop("next_at", None)
    return url, state
