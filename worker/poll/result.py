"""What reading one source found: the summary a poll task returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ReadResult:
    """What reading one source found: `seen` items, of which `queued` went on."""

    source: str
    seen: int = 0
    queued: int = 0
    not_modified: bool = False
    error: str | None = None
    pages: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary (the task result)."""
        return dict(self.__dict__)
