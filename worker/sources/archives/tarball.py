"""
Stream the text and HTML members of a tar archive (plain, gz, bz2 or xz) without extracting them.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from worker.errors import SourceError
from worker.models import SourceRef
from worker.sources.archives.base import (
    ArchiveItem,
    admit_member,
    file_uri,
    int_position,
    make_item,
    member_uri,
    read_capped,
    warn_skipped,
)

# What a damaged or truncated compressed stream raises from inside tarfile.
_BROKEN = (tarfile.TarError, OSError, EOFError, zlib.error, ValueError)


def _special_reason(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "fifo"
    if not member.isfile():
        return "not_a_regular_file"
    return None


def iter_tar(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """
    Yield the `*.txt`/`*.html` members of a tar archive in archive order.

    The position is the member index.  The archive is opened in stream mode
    (`r|*`), so members before `start_after` are skipped without keeping their
    payload, and members are read into memory only, never written to disk.
    """
    after = int_position(path, start_after)
    uri = file_uri(path)
    try:
        archive = tarfile.open(path, mode="r|*")  # noqa: SIM115 - closed in finally, generator body
    except _BROKEN as exc:
        raise SourceError(f"{path}: not a readable tar archive: {exc}", url=uri) from exc
    index = -1
    try:
        while True:
            try:
                member = archive.next()
            except _BROKEN as exc:
                raise SourceError(f"{path}: corrupt tar after member {index}: {exc}", url=uri) from exc
            # Stream mode still remembers every member it passed: forget them
            # so memory stays flat on archives of millions of files.
            archive.members.clear()  # type: ignore[attr-defined]  # not in typeshed
            if member is None:
                return
            index += 1
            if index <= after or member.isdir():
                continue
            item = _read_member(archive, member, path, source, max_member_bytes, index)
            if item is not None:
                yield item
    finally:
        archive.close()


def _read_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path, source: SourceRef, cap: int, index: int
) -> ArchiveItem | None:
    content_type = admit_member(path, member.name, _special_reason(member), member.size, cap)
    if content_type is None:
        return None
    try:
        stream = archive.extractfile(member)
        data = read_capped(stream, cap) if stream is not None else None
    except _BROKEN as exc:
        raise SourceError(f"{path}: corrupt tar at member {index}: {exc}", url=file_uri(path)) from exc
    if data is None:
        warn_skipped(path, member.name, "unreadable")
        return None
    url = member_uri(source, member.name)
    return ArchiveItem(position=str(index), item=make_item(url, source, data, content_type))
