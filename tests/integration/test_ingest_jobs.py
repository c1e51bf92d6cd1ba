"""`ingest --jobs N`: the same records as one process, and Ctrl-C stops every worker process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import wait_for
from tests.support.corpus import article_page

pytestmark = pytest.mark.integration


def read_jsonl(out: Path) -> list[dict]:
    """Return every record of every JSONL file under `out`."""
    return [
        json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.read_text("utf-8").splitlines()
    ]


def summary(proc: subprocess.CompletedProcess[str]) -> dict:
    """Parse the `--json` summary line of `ingest`."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def folder(tmp_path: Path, n: int) -> Path:
    """Return a folder of `n` distinct article pages."""
    d = tmp_path / f"pages-{n}"
    d.mkdir()
    for i in range(n):
        (d / f"article-{i:04d}.html").write_bytes(article_page(i))
    return d


def children(pid: int) -> list[int]:
    """Return the ids of a process's child processes."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def start_ingest(pages: Path, out: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], list[int]]:
    """Start `ingest --jobs 2` of `pages`; return it and its two workers once 8 articles are written."""
    argv = ingest_argv(pages, out)
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not wait_for(lambda: len(read_jsonl(out)) >= 8, timeout=180):
        proc.kill()
        proc.communicate()
        pytest.fail("no article was written")
    return proc, children(proc.pid)


def ingest_argv(pages: Path, out: Path) -> list[str]:
    """Return the command line of `ingest --jobs 2 --json` of `pages` into `out`."""
    return [sys.executable, "-m", "worker", "ingest", str(pages), "--out", str(out), "--jobs", "2", "--json"]


def rerun_emits_the_rest_once(pages: Path, out: Path, env: dict[str, str], n: int) -> None:
    """Run the same ingest again: it exits 0 and `out` then holds each of the `n` articles once."""
    rerun = subprocess.run(
        ingest_argv(pages, out), env=env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    ids = [r["id"] for r in read_jsonl(out)]

    assert 0 == rerun.returncode, rerun.stderr[-3000:]
    assert n == len(ids) == len(set(ids))


class TestJobs:
    def test_two_jobs_give_the_records_of_one(self, cli, tmp_path: Path) -> None:
        """A folder ingested with 2 worker processes gives exactly the records of 1: none lost, none twice."""
        pages = folder(tmp_path, 48)
        runs = {}
        for jobs in (1, 2):
            out = tmp_path / f"out-{jobs}"
            env = {"INGEST_STATE_DIR": str(tmp_path / f"var-{jobs}")}
            result = summary(
                cli("ingest", str(pages), "--out", str(out), "--jobs", str(jobs), "--json", env=env)
            )
            records = read_jsonl(out)
            runs[jobs] = (
                result,
                {r["id"]: {k: v for k, v in r.items() if k != "fetched_at"} for r in records},
            )
            assert len(records) == len(runs[jobs][1]), "an article was written twice"
            assert jobs == result["jobs"]

        (one, by_id_1), (two, by_id_2) = runs[1], runs[2]

        assert 48 == one["new"] == two["new"] == len(by_id_1)
        assert by_id_1 == by_id_2

    def test_two_jobs_say_what_one_says(self, cli, tmp_path: Path) -> None:
        """Notes and errors (files skipped, a source that cannot be read) are the same with 2 processes."""
        pages = folder(tmp_path, 6)
        (pages / "style.css").write_text("body {}")
        (pages / "scan.pdf").write_bytes(b"%PDF-1.4")
        missing = tmp_path / "missing.xml"
        said = {}
        for jobs in (1, 2):
            env = {"INGEST_STATE_DIR": str(tmp_path / f"var-{jobs}")}
            proc = cli(
                "ingest",
                str(pages),
                str(missing),
                "--out",
                str(tmp_path / f"out-{jobs}"),
                "--jobs",
                str(jobs),
                "--json",
                env=env,
            )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            said[jobs] = (proc.returncode, result["new"], result["notes"], result["errors"])

        assert said[1] == said[2]
        assert said[1][2], "the skipped files are noted"

    def test_ctrl_c_stops_every_process_and_a_rerun_finishes_the_rest(self, base_env, tmp_path: Path) -> None:
        """SIGINT to `ingest --jobs 2` exits 130 with no process left; a second run emits the rest, once."""
        pages, out = folder(tmp_path, 240), tmp_path / "out"
        proc, workers = start_ingest(pages, out, base_env)
        try:
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

        assert 130 == proc.returncode, stderr.decode()[-3000:]
        assert 2 == len(workers)
        assert wait_for(lambda: not any(running(pid) for pid in workers), timeout=15)
        assert len(read_jsonl(out)) < 240
        rerun_emits_the_rest_once(pages, out, base_env, 240)

    def test_a_killed_worker_stops_the_run_and_a_rerun_finishes_it(self, base_env, tmp_path: Path) -> None:
        """A killed worker ends the run with exit 1 and no process left; a rerun emits the rest, once."""
        pages, out = folder(tmp_path, 240), tmp_path / "out"
        proc, workers = start_ingest(pages, out, base_env)
        try:
            os.kill(workers[0], signal.SIGKILL)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

        assert 1 == proc.returncode, stderr.decode()[-3000:]
        assert "worker process" in stderr.decode()
        assert wait_for(lambda: not any(running(pid) for pid in workers), timeout=15)
        rerun_emits_the_rest_once(pages, out, base_env, 240)

    def test_a_killed_parent_leaves_no_worker_behind(self, base_env, tmp_path: Path) -> None:
        """SIGKILL of `ingest --jobs 2`: its workers exit on their own; a rerun emits the rest, once."""
        pages, out = folder(tmp_path, 240), tmp_path / "out"
        proc, workers = start_ingest(pages, out, base_env)
        proc.kill()
        proc.communicate(timeout=60)

        assert 2 == len(workers)
        # Each worker reads EOF (or a broken pipe) once its task ends: nothing is orphaned for good.
        assert wait_for(lambda: not any(running(pid) for pid in workers), timeout=60)
        rerun_emits_the_rest_once(pages, out, base_env, 240)
