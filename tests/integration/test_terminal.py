"""What `ingest` shows on a terminal: the progress bar keeps the bottom line, log lines print above it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.test_scheduler import seed_format

pytestmark = pytest.mark.integration

BAR = re.compile(r"\d+%\|")
LOG = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[(\w+)\s*\] (\w+)")


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str]:
    """Run `python -m worker ARGS` with a pseudo-terminal (120 columns) as stdin, stdout and stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker", *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, out.decode("utf-8", errors="replace")


class TestProgressBar:
    def test_bar_and_log_lines_never_share_a_line(self, base_env: dict[str, str], tmp_path: Path) -> None:
        """Each INFO line stands alone (the bar is cleared first); per-item events are not shown at INFO."""
        folder = tmp_path / "archive"
        folder.mkdir()
        for i in range(20):
            (folder / f"{i:02d}.txt").write_bytes(seed_format(i))
        (folder / "feed.xml").write_text("<rss/>")
        # Batches of one article and chunks of eight: the archive is read in three polls, so the
        # second and third log their lines while the bar is drawn and moving.
        env = {**base_env, "INGEST_BATCH_SIZE": "1", "INGEST_NER_LANGUAGES": ""}

        code, screen = run_in_terminal(["ingest", str(folder)], env)

        lines = screen.replace("\r\n", "\n").split("\n")
        # What each line finally shows: a terminal overwrites a line from its start at each \r.
        shown = [line.split("\r")[-1] for line in lines]
        logs = [m for s in shown if (m := LOG.match(s))]
        assert 0 == code, screen[-3000:]
        assert any(BAR.search(line) for line in lines), screen[-3000:]
        assert logs, screen[-3000:]
        for line in lines:
            parts = line.split("\r")
            for i, part in enumerate(parts):
                if LOG.search(part):
                    # A log line is whole: alone on its part, the bar cleared before it, nothing after it.
                    assert LOG.match(part), line
                    assert not BAR.search(part), line
                    assert i == len(parts) - 1, line
        events = {m.group(2) for m in logs}
        assert "archive_read" in events
        assert not events & {"task_done", "batch_processed", "archive_files_skipped"}, events
        assert shown[-2].startswith("note: ")
        assert "1 .xml" in shown[-2]
        assert shown[-3].startswith("seen 20, new 20")
