"""What a source is, how a CLI argument or a schedules/ entry becomes one."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from worker.errors import SourceError
from worker.models import SourceSpec, SpecKind, default_name

_FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".json", ".xml.gz")
_PAGE_SUFFIXES = (".html", ".htm", ".xhtml")
_SITEMAP_HINTS = ("sitemap",)
KINDS: dict[str, SpecKind] = {"feed": "feed", "page": "page", "sitemap": "sitemap", "archive": "archive"}


def _named_like_sitemap(path: str) -> bool:
    """Tell a sitemap by its name (`sitemap.xml`, `news-sitemap.xml.gz`, `sitemap_index.xml`)."""
    low = path.lower().rsplit("/", 1)[-1]
    return any(h in low for h in _SITEMAP_HINTS) and low.endswith((".xml", ".xml.gz"))


def resolve(arg: str, *, name: str | None = None, tz: str = "UTC", kind: str | None = None) -> SourceSpec:
    """
    Turn a CLI argument into a source.

    http(s) URLs are feeds, or sitemaps when named like one (`sitemap.xml`);
    a one-shot read of a feed URL that turns out to be an HTML page or a
    sitemap reads it as what it is (`worker.poll.feed`).  Paths and `file:`
    URLs are feeds when they end in `.xml`, `.rss`, `.atom`, `.rdf` or
    `.json` (unless named like a sitemap), article pages when they end in
    `.html` or `.htm`, else archives (a folder, a tarball, a sitemap file...).
    `kind` (from `schedules/`) overrides the guess.

    Raises:
        SourceError: the path does not exist, or `kind` is none of feed, page, sitemap, archive.
    """
    if kind is not None and kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})", url=arg)
    given = KINDS[kind] if kind is not None else None
    parts = urlsplit(arg)
    if parts.scheme in {"http", "https"}:
        web: SpecKind = "sitemap" if _named_like_sitemap(parts.path) else "feed"
        return SourceSpec(
            given if given in {"feed", "page", "sitemap"} else web, arg, name or default_name(arg), tz
        )
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(arg)
    if not path.exists():
        raise SourceError(f"{arg}: no such file or directory", url=arg)
    low = path.name.lower()
    if given is None and path.is_file():
        if low.endswith(_FEED_SUFFIXES) and not _named_like_sitemap(low):
            given = "feed"
        elif low.endswith(_PAGE_SUFFIXES):
            given = "page"
    if given in {"feed", "page"}:
        return SourceSpec(given, path.resolve().as_uri(), name or path.stem, tz)
    # A local sitemap is read as an archive of URLs (resumable, by entry index).
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
