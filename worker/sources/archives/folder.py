"""
Read a folder of text and HTML articles, or a single such file, in a stable order.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from worker.errors import SourceError
from worker.models import SourceRef
from worker.sources.archives.base import (
    ArchiveItem,
    content_type_for,
    file_uri,
    make_item,
    member_uri,
    read_capped,
    warn_skipped,
    warn_too_large,
)


def iter_folder(
    path: Path,
    *,
    source: SourceRef,
    start_after: str | None,
    max_member_bytes: int,
    skipped: Counter[str] | None = None,
) -> Iterator[ArchiveItem]:
    """
    Yield every `*.txt`, `*.html` and `*.htm` under `path`, sorted by relative path parts.

    The position is the relative POSIX path.  Order compares path parts, so a
    whole directory sorting before `start_after` is pruned without being listed.
    Symlinks are skipped: an archive folder must not lead outside itself.
    Other files are counted in `skipped` by suffix (`.xml`, or the name when
    it has none), so the caller can say what it left out.
    """
    root = path
    after = tuple(start_after.split("/")) if start_after is not None else None
    for rel, file in _walk(root, root, (), after):
        content_type = content_type_for(rel[-1])
        if content_type is None:
            if skipped is not None:
                skipped[PurePosixPath(rel[-1]).suffix.lower() or "(no suffix)"] += 1
            continue
        name = "/".join(rel)
        try:
            size = file.stat().st_size
            if size > max_member_bytes:
                warn_too_large(root, name, max_member_bytes, size)
                continue
            with file.open("rb") as fh:
                data = read_capped(fh, max_member_bytes)
        except OSError as exc:
            warn_skipped(root, name, f"unreadable: {exc.strerror}")
            continue
        if data is None:
            warn_too_large(root, name, max_member_bytes)
            continue
        yield ArchiveItem(position=name, item=make_item(member_uri(source, name), source, data, content_type))


def _walk(
    root: Path, directory: Path, prefix: tuple[str, ...], after: tuple[str, ...] | None
) -> Iterator[tuple[tuple[str, ...], Path]]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        raise SourceError(
            f"{directory}: cannot list folder: {exc.strerror}", url=file_uri(directory)
        ) from exc
    for entry in entries:
        rel = (*prefix, entry.name)
        if after is not None and rel <= after and after[: len(rel)] != rel:
            # Everything under `rel` sorts before `after`: already done.
            continue
        if entry.is_symlink():
            warn_skipped(root, "/".join(rel), "symlink")
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(root, Path(entry.path), rel, after)
        elif entry.is_file(follow_symlinks=False) and (after is None or rel > after):
            yield rel, Path(entry.path)


def iter_single_file(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """Yield the one article of a `.txt` or `.html` file (position `0`)."""
    if start_after is not None:
        return
    content_type = content_type_for(path.name) or "text"
    try:
        with path.open("rb") as fh:
            data = read_capped(fh, max_member_bytes)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}", url=file_uri(path)) from exc
    if data is None:
        warn_too_large(path, path.name, max_member_bytes)
        return
    yield ArchiveItem(position="0", item=make_item(member_uri(source, path.name), source, data, content_type))
