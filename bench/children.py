"""Run a bench's HTTP server in a child process, so its CPU never lands in the bench's figures."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def server_child(script: Path, *args: str) -> Iterator[str]:
    """
    Start `python script *args`, which prints its port and serves until its stdin closes; yield its base URL.

    Raises:
        RuntimeError: The child printed no port.
    """
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"{script.name} {' '.join(args)}: the server did not start: {line!r}")
        yield f"http://127.0.0.1:{line}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)
