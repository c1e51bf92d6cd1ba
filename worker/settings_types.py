"""
The value types of the settings: how each kind of environment value is read and checked.

Used by `worker.config.Settings`; a checker raises `PydanticCustomError` with a
reason a person can read, which `worker.config` turns into one `error:` line.
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode

PREFIX = "INGEST_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FLAGS = dict.fromkeys(("1", "true", "yes", "on"), True) | dict.fromkeys(("0", "false", "no", "off"), False)
URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
# Pairs (low, high, strict) where low must stay below high (or not above it, unless strict).
BELOW = (
    # Redis hands a task still running after the visibility timeout to a second worker.
    ("task_time_limit_s", "visibility_timeout_s", True),
    ("min_interval_s", "max_interval_s", False),
)


def _flag(value: object) -> object:
    """Read a switch; only the usual spellings, so that a typo is an error rather than False."""
    if not isinstance(value, str):
        return value
    try:
        return _FLAGS[value.strip().lower()]
    except KeyError:
        raise PydanticCustomError("flag", "Input should be one of 1/0, true/false, yes/no, on/off") from None


def _comma_list(value: object) -> object:
    """Split `en, de` into `("en", "de")`; an empty string is the empty tuple."""
    if isinstance(value, str):
        return tuple(x.strip() for x in value.split(",") if x.strip())
    return value


def _unset_if_empty(value: object) -> object:
    return value or None


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _log_level(value: str) -> str:
    if value not in LOG_LEVELS:
        raise PydanticCustomError("log_level", "Input should be one of " + ", ".join(LOG_LEVELS))
    return value


def _time_zone(value: str) -> str:
    # UTC needs no tz database (a slim image may lack one); enrich.dates reads it as UTC anyway.
    if value == "UTC":
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "Input should be a time zone name such as Europe/Berlin"
        ) from None
    return value


# More nodes of the same Redis Cluster, to find it by when the node a URL names is down.
SEEDS_PARAM = "seeds"
MAX_SEEDS = 32


def redis_seeds(url: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """
    Split `?seeds=host:port,host:port` off a Redis URL: (the URL without it, the seed nodes).

    Raises:
        ValueError: a seed is not `host:port`, or there are more than `MAX_SEEDS`.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url, ()
    kept, seeds = [], []
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if name != SEEDS_PARAM:
            kept.append(pair)
            continue
        for item in filter(None, (v.strip() for v in unquote(value).split(","))):
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{SEEDS_PARAM}={value!r}: each seed should be host:port")
            seeds.append((host.strip("[]"), int(port)))
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"{SEEDS_PARAM}: at most {MAX_SEEDS} nodes")
    return urlunsplit(parts._replace(query="&".join(kept))), tuple(seeds)


def _redis_url(value: str | None) -> str | None:
    if value is not None and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        raise PydanticCustomError("redis_url", "Input should be a redis://, rediss:// or unix:// URL")
    if value is not None:
        try:
            redis_seeds(value)
        except ValueError as exc:
            raise PydanticCustomError("redis_url", str(exc)) from None
    return value


def _url(value: str | None) -> str | None:
    if value is not None and not URL_RE.fullmatch(value):
        raise PydanticCustomError("url", "Input should be a URL such as redis://host:6379/0")
    return value


# kombu's transports we run on: RabbitMQ (py-amqp) and Redis; the filesystem one is the embedded default.
BROKER_SCHEMES = {"amqp": "amqp", "amqps": "amqp", "pyamqp": "amqp", "redis": "redis", "rediss": "redis"}


def _broker_url(value: str | None) -> str | None:
    if value is not None and urlsplit(value).scheme not in BROKER_SCHEMES:
        raise PydanticCustomError(
            "broker_url", "Input should be an amqp://, amqps://, redis:// or rediss:// URL"
        )
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


USER_AGENT = "news-ingest-worker/0.1 (+https://example.org/news-ingest-worker)"
Flag = Annotated[bool, BeforeValidator(_flag)]
Name = Annotated[str, Field(min_length=1)]
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
TimeZone = Annotated[
    str, AfterValidator(_time_zone), Field(json_schema_extra={"range": "IANA time zone name"})
]
KEYWORD_METHODS = ("fast", "yake")
KeywordMethod = Literal["fast", "yake"]
KeywordSetting = Annotated[
    KeywordMethod,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    Field(json_schema_extra={"range": "|".join(KEYWORD_METHODS)}),
]
LogLevel = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_log_level),
    Field(json_schema_extra={"range": "|".join(LOG_LEVELS)}),
]
RedisURL = Annotated[str | None, BeforeValidator(_unset_if_empty), AfterValidator(_redis_url)]
OptionalInt = Annotated[int | None, BeforeValidator(_unset_if_empty)]
URL = Annotated[str | None, BeforeValidator(_unset_if_empty), AfterValidator(_url)]
BrokerURL = Annotated[URL, AfterValidator(_broker_url)]
LedgerMode = Annotated[
    Literal["auto", "on", "off"], BeforeValidator(_lower), Field(json_schema_extra={"range": "auto|on|off"})
]


def masked(value: str) -> str:
    """Return a URL with its password hidden (other values as they are)."""
    parts = urlsplit(value) if URL_RE.fullmatch(value) else None
    if parts is None or not parts.password:
        return value
    return value.replace(f":{parts.password}@", ":***@", 1)


def type_name(annotation: Any) -> str:
    """Name a setting's type for the reference table."""
    if get_origin(annotation) is tuple:
        return "comma list"
    args = get_args(annotation)
    if type(None) in args:
        return "int (optional)" if int in args else "url (optional)"
    return {bool: "bool", int: "int", float: "float", Path: "path"}.get(annotation, "str")


def range_text(name: str, metadata: list[Any], extra: object, env_names: dict[str, str]) -> str:
    """Say the range of a setting from its Field bounds, its extra range and the relations it is in."""
    bounds: dict[str, Any] = {}
    for m in metadata:  # annotated-types' Gt, Ge, Le, MinLen... from the Field arguments
        for key in ("gt", "ge", "lt", "le", "min_length"):
            if getattr(m, key, None) is not None:
                bounds[key] = getattr(m, key)
    parts = []
    if "ge" in bounds and "le" in bounds:
        parts.append(f"{bounds['ge']}..{bounds['le']}")
    else:
        parts += [
            f"{op} {bounds[key]}"
            for key, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
            if key in bounds
        ]
    if bounds.get("min_length"):
        parts.append("not empty")
    if isinstance(extra, dict) and extra.get("range"):
        parts.append(str(extra["range"]))
    for low, high, strict in BELOW:
        if name == low:
            parts.append(f"{'<' if strict else '<='} {env_names[high]}")
    return ", ".join(parts)
