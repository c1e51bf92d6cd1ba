"""What reading one source found (the summary a poll task returns), and how it was asked to read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser


@dataclass
class ReadResult:
    """
    What reading one source found: `seen` items, of which `queued` went on.

    `kind` is what the source turned out to be (feed, page, sitemap,
    archive); `feeds` the feeds a page links to; `skipped` counts the files an
    archive holds that are not articles, by suffix.
    """

    source: str
    seen: int = 0
    queued: int = 0
    not_modified: bool = False
    error: str | None = None
    pages: int = 0
    kind: str | None = None
    feeds: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary (the task result)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReadOptions:
    """
    How a poll task was asked to read its source (its optional last argument).

    `once`: a one-shot read (`ingest`): the source is read and its validators
    and seen entries kept, but it is never scheduled, counted as failing or
    disabled, so a one-shot run never subscribes anything.  `since` (ISO 8601)
    leaves out sitemap entries older than it.  `document` is a child sitemap
    of the source's index to read instead of the source itself, `depth` how
    deep it lies; `slot` is the host slot a deferred child holds
    (`worker.schedule.politeness`).
    """

    once: bool = False
    since: str | None = None
    document: str | None = None
    depth: int = 0
    slot: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the task argument (defaults left out)."""
        return {k: v for k, v in asdict(self).items() if v != getattr(_DEFAULT, k)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ReadOptions:
        """Rebuild options from `to_dict` output (None: the defaults); unknown keys are ignored."""
        if not d:
            return _DEFAULT
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


_DEFAULT = ReadOptions()


def parse_since(value: str | None) -> datetime | None:
    """
    Read `--since` (an ISO 8601 date or time; naive is UTC).

    Raises:
        ValueError: the value is not a date.
    """
    if not value:
        return None
    parsed = dateparser.isoparse(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
