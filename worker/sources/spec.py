"""What a source is, how a CLI argument or a schedules/ entry becomes one."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from worker.errors import SourceError
from worker.models import SourceSpec, default_name

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
