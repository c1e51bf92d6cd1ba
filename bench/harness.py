"""
What several benches need: a server in a child process, a private redis-server, the worker's logging.

Kept here once so every bench measures under the same conditions.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str | None]:
    """Yield the URL of our own redis-server on a free port (never the shared one), or None if none starts."""
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as d:
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        yield None
                        return
                    time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def private_redis() -> Iterator[str]:
    """
    Like `redis_server`, for a bench that cannot run without one.

    Raises:
        SystemExit: No redis-server could be started.
    """
    with redis_server() as url:
        if url is None:
            raise SystemExit("no redis-server could be started")
        yield url


def log_to_devnull() -> None:
    """Configure logging as the worker does (INFO, JSON), lines to /dev/null: rendering counts, I/O not."""
    from worker.app import logging as wlogging

    wlogging.configure("INFO", json=True, force=True)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
