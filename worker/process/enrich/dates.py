"""Turn the dates found in feeds and pages into UTC ISO 8601 strings."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser

# News archives start in the 1990s; an earlier date is a parse error or a
# placeholder such as the Unix epoch.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Feeds in zones ahead of UTC stamp items "tomorrow"; a day of slack keeps
# them while rejecting clock-skewed or scheduled items.
FUTURE_SLACK = timedelta(days=1)
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _hours(h: float) -> timezone:
    return timezone(timedelta(hours=h))


# RFC 822 section 5.1 names the US zones; the rest are abbreviations news
# sites commonly print.  Ambiguous ones (IST, BST, CST outside the US) are
# read as the US/most common meaning or, when unlisted, left to the source's
# zone, which is at worst a few hours off.
_ABBREVIATIONS: dict[str, tzinfo] = {
    "UT": UTC,
    "UTC": UTC,
    "GMT": UTC,
    "Z": UTC,
    "EST": _hours(-5),
    "EDT": _hours(-4),
    "CST": _hours(-6),
    "CDT": _hours(-5),
    "MST": _hours(-7),
    "MDT": _hours(-6),
    "PST": _hours(-8),
    "PDT": _hours(-7),
    "CET": _hours(1),
    "CEST": _hours(2),
    "EET": _hours(2),
    "EEST": _hours(3),
    "MSK": _hours(3),
    "JST": _hours(9),
    "HKT": _hours(8),
    "SGT": _hours(8),
    "AEST": _hours(10),
    "AEDT": _hours(11),
}

# Two defaults that differ in year, month and day: a string parsed to two
# different dates lacked one of them (`Monday`, `Sep 9`) and is no date.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))  # naive on purpose: fills naive fields only


def _tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
    """
    Resolve the zone dateutil found in a string; None leaves the date naive.

    A callable is used rather than a mapping so that an unknown abbreviation
    yields a naive date (read in the source's zone) instead of dateutil's
    UnknownTimezoneWarning, and so the machine's own zone never matters.
    """
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name is None:
        return None
    return _ABBREVIATIONS.get(name.upper())


def _zone(tz: str) -> tzinfo:
    """Return the named zone; an unknown name is read as UTC rather than losing the date."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _parse(text: str, *, dayfirst: bool = False) -> datetime | None:
    """Parse a date string that names at least a year, month and day."""
    text = text.strip()
    if not text:
        return None
    first, second = (
        dateparser.parse(text, default=d, tzinfos=_tzinfos, dayfirst=dayfirst) for d in _DEFAULTS
    )
    return first if first.date() == second.date() else None


def parse_datetime(text: str, *, dayfirst: bool = False) -> datetime | None:
    """
    Parse a date string as written: aware when it states a zone or offset, naive otherwise.

    Never raises.  ISO 8601 (also without separators, `20200414T00:38:07Z`) is
    read exactly; RFC 822 and free-form dates go through dateutil, `dayfirst`
    deciding `03/04/2020`; a string without a full year, month and day is None.

    Args:
        text: the date as found.
        dayfirst: read an ambiguous numeric date as day/month (most of the world).
    """
    text = text.strip()
    if not text or len(text) > 80:
        return None
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    try:
        # A year first (`2020-12-05T23:15:0Z`) is never day-first, whatever the page's habit.
        return _parse(text, dayfirst=dayfirst and not text[:4].isdigit())
    except (ValueError, OverflowError, TypeError, LookupError):
        return None


def _to_datetime(value: str | datetime | time.struct_time) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, time.struct_time):
        # feedparser's *_parsed fields are UTC; a leap second 60 is clamped.
        return datetime(*value[:5], min(value[5], 59), tzinfo=UTC)
    # ISO 8601, what the cleaner and most feeds give, is read exactly before dateutil's two parses.
    return parse_datetime(value)


def to_utc_iso(
    value: str | datetime | time.struct_time | None,
    *,
    tz: str = "UTC",
    now: datetime | None = None,
) -> str | None:
    """
    Return a raw date as `YYYY-MM-DDTHH:MM:SSZ` in UTC, or None if it is no usable date.

    Never raises: a date is a hint, and a bad one must not drop the article.

    Args:
        value: An RFC 822 or ISO 8601 string, a free-form date such as
            `Monday, 09 Sep 2013 04:11 AM`, a datetime, or feedparser's UTC
            `struct_time`.
        tz: The zone a date without offset is read in (the source's zone).
        now: The reference for "in the future"; the current time when None.

    Returns:
        The UTC timestamp, or None for missing, unparseable, incomplete,
        pre-1990 or more than a day in the future dates.
    """
    if value is None:
        return None
    try:
        parsed = _to_datetime(value)
        if parsed is None:
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            parsed = parsed.replace(tzinfo=_zone(tz))
        utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError, TypeError, LookupError):
        # dateutil raises ParserError (a ValueError) for text, OverflowError
        # for huge numbers and ValueError for out-of-range offsets.
        return None
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    if not EARLIEST <= utc <= reference + FUTURE_SLACK:
        return None
    return utc.strftime(ISO_FORMAT)
