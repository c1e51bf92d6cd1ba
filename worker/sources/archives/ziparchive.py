"""
Read the text and HTML members of a zip archive in memory, with a cap per member against zip bombs.
"""

from __future__ import annotations

import stat
import zipfile
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
    warn_too_large,
)

_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, ValueError)
_UNIX = 3  # ZipInfo.create_system of archives made on Unix


def _special_reason(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted"
    mode = info.external_attr >> 16
    if info.create_system != _UNIX or mode == 0:
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return "not_a_regular_file"
    return None


def iter_zip(
    path: Path, *, source: SourceRef, start_after: str | None, max_member_bytes: int
) -> Iterator[ArchiveItem]:
    """
    Yield the `*.txt`/`*.html` members of a zip archive in central-directory order.

    The position is the member index.  A member is read through its
    decompressor up to the cap only, whatever size its header claims.
    """
    after = int_position(path, start_after)
    try:
        archive = zipfile.ZipFile(path)
    except _BROKEN as exc:
        raise SourceError(f"{path}: not a readable zip archive: {exc}", url=file_uri(path)) from exc
    with archive:
        for index, info in enumerate(archive.infolist()):
            if index <= after or info.is_dir():
                continue
            item = _read_member(archive, info, path, source, max_member_bytes, index)
            if item is not None:
                yield item


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, source: SourceRef, cap: int, index: int
) -> ArchiveItem | None:
    content_type = admit_member(path, info.filename, _special_reason(info), info.file_size, cap)
    if content_type is None:
        return None
    try:
        with archive.open(info) as stream:
            data = read_capped(stream, cap)
    except (*_BROKEN, NotImplementedError, RuntimeError) as exc:
        # One bad member (bad CRC, unknown compression) does not spoil the rest.
        warn_skipped(path, info.filename, f"corrupt: {exc}")
        return None
    if data is None:
        warn_too_large(path, info.filename, cap)
        return None
    url = member_uri(source, info.filename)
    return ArchiveItem(position=str(index), item=make_item(url, source, data, content_type))
