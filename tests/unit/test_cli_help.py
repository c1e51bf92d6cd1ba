"""`--help` tells a newcomer all: what the program does, every option with its help, default and variable."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from worker.app.cli import build_parser

COMMANDS = ["ingest", "run", "consume", "sources", "dead", "health", "status", "config"]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    """Return each command's parser."""
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


class TestHelp:
    def test_every_command_is_there_with_its_own_help(self) -> None:
        """Each command has a one-line help in the top listing and a description of its own."""
        [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]

        listed = {a.dest: a.help for a in sub._choices_actions}

        assert COMMANDS == list(subparsers())
        assert all(listed[c] for c in COMMANDS), listed
        assert all(p.description for p in subparsers().values())

    @pytest.mark.parametrize("command", COMMANDS)
    def test_every_argument_has_help(self, command: str) -> None:
        """No option or argument is left without a help text."""
        parser = subparsers()[command]

        bare = [a.dest for a in parser._actions if not a.help]

        assert [] == bare

    @pytest.mark.parametrize(
        ("command", "option", "variable"),
        [
            ("ingest", "--out", "INGEST_OUT_DIR"),
            ("ingest", "--state-dir", "INGEST_STATE_DIR"),
            ("ingest", "--tz", "INGEST_DEFAULT_TZ"),
            ("run", "--out", "INGEST_OUT_DIR"),
            ("sources", "--tz", "INGEST_DEFAULT_TZ"),
            ("dead", "--state-dir", "INGEST_STATE_DIR"),
            ("status", "--state-dir", "INGEST_STATE_DIR"),
        ],
    )
    def test_options_name_the_setting_they_override_and_its_default(
        self, command: str, option: str, variable: str
    ) -> None:
        """An option that overrides a setting names its variable and the default."""
        [action] = [a for a in subparsers()[command]._actions if option in a.option_strings]

        assert f"overrides {variable}, default " in (action.help or "")

    def test_the_top_help_describes_the_program_and_the_exit_codes(self) -> None:
        """`--help` says what the worker does, where settings come from, and the exit codes."""
        text = build_parser().format_help()

        assert "Ingest news" in text
        assert "python -m worker config" in text
        assert "exit codes: 0 done; 1" in text

    def test_defaults_are_shown(self) -> None:
        """Options with a default show it."""
        run, consume = subparsers()["run"].format_help(), subparsers()["consume"].format_help()

        assert "(default: 2)" in run
        assert "(default: 5000)" in consume
        assert 1 == consume.count("consumer-PID")


class TestTheProgramStarts:
    @pytest.mark.parametrize("command", [None, *COMMANDS])
    def test_help_runs(self, command: str | None) -> None:
        """`python -m worker [COMMAND] --help` starts and exits 0 (the image's smoke test)."""
        args = [sys.executable, "-m", "worker", *([command] if command else []), "--help"]

        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

        assert (0, "") == (proc.returncode, proc.stderr)
        assert proc.stdout.startswith("usage: python -m worker")
