"""Logging: library chatter and per-item events kept out of the way at the default level."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from worker.app import logging as wlogging


class Stderr:
    """What was written to stderr since the last look (pytest's capture, read through `capsys`)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.seen = ""

    def getvalue(self) -> str:
        self.seen += self.capsys.readouterr().err
        return self.seen


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    """Read what logging writes to stderr (configure inside the test: pytest swaps stderr before it)."""
    yield Stderr(capsys)
    structlog.reset_defaults()
    wlogging._configured = False


class TestChatter:
    @pytest.mark.parametrize(
        ("logger", "level", "message"),
        [
            ("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)"),
            (
                "kombu.connection",
                logging.WARNING,
                "No hostname was supplied. Reverting to default 'localhost'",
            ),
        ],
        ids=["beat-tick", "kombu-hostname"],
    )
    def test_silenced_at_info_shown_at_debug(
        self, stderr: Stderr, logger: str, level: int, message: str
    ) -> None:
        """The beat's per-tick line and kombu's hostname warning show only at DEBUG."""
        args = ("dispatch-due-sources", "worker.dispatch_tick") if "%s" in message else ()
        wlogging.configure("INFO", json=True, force=True)
        logging.getLogger(logger).log(level, message, *args)
        at_info = stderr.getvalue()

        wlogging.configure("DEBUG", json=True, force=True)
        logging.getLogger(logger).log(level, message, *args)

        assert "" == at_info
        assert message.split("%")[0].split(".")[0] in stderr.getvalue()

    def test_other_lines_of_those_loggers_pass(self, stderr: Stderr) -> None:
        """Only the chatter is dropped: the beat's other lines still show."""
        wlogging.configure("INFO", json=True, force=True)

        logging.getLogger("celery.beat").info("beat: Starting...")

        assert "beat: Starting..." in stderr.getvalue()


class TestPerItemEvents:
    def test_dropped_while_the_bar_is_drawn_unless_debug(self, stderr: Stderr) -> None:
        """Inside `progress_bar`, item events are DEBUG; source events and errors still show."""
        wlogging.configure("INFO", json=True, force=True)
        log = structlog.get_logger("worker.test")

        with wlogging.progress_bar():
            log.info("task_done", task="process_items")
            log.warning("item_failed", error="x")
            log.info("archive_read", seen=3)
            log.error("task_done", task="process_items")
        log.info("task_done", task="after")
        shown = stderr.getvalue()

        assert "archive_read" in shown
        assert 2 == shown.count("task_done")  # the error inside, the info after
        assert "item_failed" not in shown
