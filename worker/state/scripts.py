"""Load the Redis Lua scripts shipped in `worker/state/lua/` (one file per script)."""

from __future__ import annotations

import functools
from importlib import resources

_INCLUDE = "--#include "


@functools.cache
def source(name: str) -> str:
    """
    Return the text of `lua/<name>.lua`, with its `--#include <file>` lines replaced by that file.

    Includes let several scripts share one helper (`due_fix.lua`) without a copy in each file.
    """
    text = resources.files("worker.state").joinpath(f"lua/{name}.lua").read_text("utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith(_INCLUDE):
            included = line[len(_INCLUDE) :].strip().removesuffix(".lua")
            lines.append(source(included))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"
