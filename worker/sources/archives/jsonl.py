"""
Read a JSONL archive of emitted records (`schema` `article/2`, or `article/1`) or loose article objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from worker.errors import SourceError
from worker.models import RawItem, SourceRef
from worker.sources.archives.base import ArchiveItem, file_uri, log, warn_too_large

# Records of either version are taken whole; the pipeline upgrades `article/1` ones.
RECORD_SCHEMAS = frozenset({"article/1", "article/2"})
_CHUNK = 64 * 1024


class _Invalid(ValueError):
    """A line that is JSON but not an article."""


def _position(path: Path, start_after: str | None) -> tuple[int, int]:
    """Parse `LINE:OFFSET` (the line number and the byte offset just past it)."""
    if start_after is None:
        return 0, 0
    line, sep, offset = start_after.partition(":")
    if sep and line.isdigit() and offset.isdigit():
        return int(line), int(offset)
    raise SourceError(f"{path}: bad resume position {start_after!r}", url=file_uri(path))


def _read_line(fh: IO[bytes], cap: int) -> tuple[bytes | None, bool]:
    """
    Read one line of at most `cap` bytes; return (line or None if too long, at EOF).

    A longer line is read through and dropped so that memory stays bounded.
    """
    line = fh.readline(cap + 1)
    if not line:
        return None, True
    if len(line) <= cap or line.endswith(b"\n"):
        return line, False
    while True:
        rest = fh.readline(_CHUNK)
        if not rest or rest.endswith(b"\n"):
            return None, False


def iter_jsonl(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """
    Yield one item per valid line; log and skip the rest.

    The position is `LINE:OFFSET`, so a resume seeks straight past the last line done.
    """
    line_no, offset = _position(path, start_after)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}", url=file_uri(path)) from exc
    with fh:
        fh.seek(offset)
        while True:
            line, eof = _read_line(fh, max_member_bytes)
            if eof:
                return
            line_no += 1
            if line is None:
                warn_too_large(path, f"line {line_no}", max_member_bytes)
                continue
            if not line.strip():
                continue
            try:
                item = line_item(line.decode("utf-8"), source)
            except (ValueError, RecursionError) as exc:
                log.warning("archive_record_invalid", archive=str(path), line=line_no, reason=str(exc))
                continue
            yield ArchiveItem(position=f"{line_no}:{fh.tell()}", item=item)


def line_item(line: str, source: SourceRef) -> RawItem:
    """
    Turn one JSONL line into a `RawItem`, raising ValueError when it is not an article.

    An emitted record is kept whole (content type `record`); a loose object
    gives its `text` or `html` as content and its other fields as hints.
    """
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise _Invalid("not a JSON object")
    url = obj.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _Invalid("no url")
    hints: dict[str, Any] = {
        "title": _opt_str(obj, "title"),
        "summary": _opt_str(obj, "summary"),
        "published": _opt_str(obj, "published_at") or _opt_str(obj, "published"),
        "authors": _str_tuple(obj, "authors", split=False),
        "tags": _str_tuple(obj, "tags", split=True),
    }
    if obj.get("schema") in RECORD_SCHEMAS:
        return RawItem(url=url, source=source, content=line.strip(), content_type="record", **hints)
    text, html = _opt_str(obj, "text"), _opt_str(obj, "html")
    if text:
        return RawItem(url=url, source=source, content=text, content_type="text", **hints)
    if html:
        return RawItem(url=url, source=source, content=html, content_type="html", **hints)
    raise _Invalid("neither text nor html")


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{key} is not a string")
    return value


def _str_tuple(obj: dict[str, Any], key: str, *, split: bool) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.replace("|", ",").split(",") if split else [value]
        return tuple(p.strip() for p in parts if p.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise _Invalid(f"{key} is not a string or a list of strings")
