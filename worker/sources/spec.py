"""What a source is, how a CLI argument or a schedules/ entry becomes one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from worker.errors import SourceError
from worker.hosts import http_host
from worker.models import SourceRef

SpecKind = Literal["feed", "archive"]

_ARCHIVE_SUFFIXES = (
    ".tar.gz",
    ".tgz",
    ".tar",
    ".zip",
    ".jsonl",
    ".warc",
    ".warc.gz",
    ".arc",
    ".arc.gz",
    ".txt",
    ".html",
    ".htm",
)
_SITEMAP_HINTS = ("sitemap",)


@dataclass(frozen=True)
class SourceSpec:
    """
    One configured source: a feed (http(s) or local file) or an archive.

    `location` is a URL for feeds and a filesystem path for archives.
    """

    kind: SpecKind
    location: str
    name: str
    tz: str = "UTC"
    interval_s: float | None = None

    def ref(self) -> SourceRef:
        """Return the `source` of the records this source yields."""
        url = self.location if self.kind == "feed" else Path(self.location).resolve().as_uri()
        return SourceRef(
            kind="feed" if self.kind == "feed" else "archive", name=self.name, url=url, tz=self.tz
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe form for task arguments."""
        # Every field is a scalar, so a flat copy is `asdict` without its
        # recursive walk (it runs on every poll, see `poll_feed`).
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceSpec:
        """Rebuild a spec from `to_dict` output."""
        return cls(**d)


def default_name(location: str) -> str:
    """Name a source given none: an http(s) URL by its host, anything else by its file name."""
    host = http_host(location)  # the fast path: the dispatch tick names every feed it claims
    if host is not None:
        return host
    parts = urlsplit(location)
    if parts.scheme in {"http", "https"}:
        return parts.hostname or location
    return Path(unquote(parts.path) if parts.scheme == "file" else location).name or location


def resolve(arg: str, *, name: str | None = None, tz: str = "UTC", kind: str | None = None) -> SourceSpec:
    """
    Turn a CLI argument into a source.

    http(s) URLs are feeds; `file:` URLs and paths are feeds when they end in
    `.xml`, `.rss`, `.atom`, `.rdf` or `.json` (unless named like a sitemap), else archives.

    Raises:
        SourceError: the path does not exist.
    """
    parts = urlsplit(arg)
    if parts.scheme in {"http", "https"}:
        return SourceSpec("feed", arg, name or default_name(arg), tz)
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(arg)
    if not path.exists():
        raise SourceError(f"{arg}: no such file or directory", url=arg)
    low = path.name.lower()
    is_feed = low.endswith((".xml", ".rss", ".atom", ".rdf", ".json", ".xml.gz")) and not any(
        h in low for h in _SITEMAP_HINTS
    )
    if kind in {"feed", "archive"}:
        is_feed = kind == "feed"
    if is_feed:
        return SourceSpec("feed", path.resolve().as_uri(), name or path.stem, tz)
    return SourceSpec("archive", str(path.resolve()), name or path.name.split(".")[0] or path.name, tz)


def load_schedules(directory: Path) -> list[SourceSpec]:
    """
    Read every `*.toml` under `directory` into sources.

    Each file holds `[[source]]` tables with `url` (or `path`, relative to the
    file), optional `name`, `kind`, `tz` and `interval` (seconds).

    Raises:
        SourceError: a file cannot be parsed or names a missing path.
    """
    specs: list[SourceSpec] = []
    for file in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(file.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SourceError(f"{file}: {exc}") from exc
        for entry in data.get("source", []):
            where = entry.get("url") or entry.get("path")
            if not where:
                raise SourceError(f"{file}: a [[source]] needs url or path")
            if "path" in entry and not Path(where).is_absolute():
                where = str((file.parent / where).resolve())
            spec = resolve(where, name=entry.get("name"), tz=entry.get("tz", "UTC"), kind=entry.get("kind"))
            interval = entry.get("interval")
            specs.append(
                SourceSpec(
                    spec.kind, spec.location, spec.name, spec.tz, float(interval) if interval else None
                )
            )
    return specs
