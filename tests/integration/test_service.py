"""The long-running service as `make run` and docker-compose start it, on the shipped example sources."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

# The example sources in schedules/: two archive articles and two full-text feed entries.
EXPECTED_TITLES = {
    "Top Syrian Diplomat Passes Assad's Thanks to Russia",
    "Storm-Damaged Harbour Reopens to Cargo Ships",
    "City Council Approves New Cycle Lanes",
    "Library Extends Opening Hours for Exam Season",
}


def titles(out: Path) -> list[str]:
    """Return the titles of every JSONL record under `out`."""
    return [json.loads(x)["title"] for f in out.glob("*.jsonl") for x in f.read_text().splitlines()]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a service process in its own session, logging to `log`."""
    with open(log, "wb") as fh:
        return subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM the process (a warm shutdown) and return its exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class TestService:
    def test_embedded_service_ingests_the_example_sources_without_redis(
        self, base_env: dict[str, str], tmp_path: Path
    ) -> None:
        """`python -m worker run` with no REDIS_URL reads schedules/ and writes each example article once."""
        env = {**base_env, "INGEST_SCHEDULES_DIR": str(ROOT / "schedules"), "INGEST_TICK_S": "1"}
        out = tmp_path / "out"
        proc = start([sys.executable, "-m", "worker", "run", "--concurrency", "1"], env, tmp_path / "run.log")
        try:
            found = wait_for(lambda: set(titles(out)) >= EXPECTED_TITLES, timeout=180)
        finally:
            code = stop(proc)
        log = (tmp_path / "run.log").read_text(errors="replace")

        assert found, log[-3000:]
        assert sorted(EXPECTED_TITLES) == sorted(titles(out))
        assert 0 == code, log[-3000:]
        # Quiet at INFO: no line per beat tick, no kombu hostname warning of the filesystem broker.
        assert "Sending due task" not in log
        assert "No hostname was supplied" not in log

    def test_compose_commands_run_worker_and_beat_on_redis(
        self, base_env: dict[str, str], redis_url: str, tmp_path: Path
    ) -> None:
        """The compose commands (worker `run --no-beat`, `celery beat`) fill the stream from schedules/."""
        env = {
            **base_env,
            "REDIS_URL": redis_url,
            "INGEST_SCHEDULES_DIR": str(ROOT / "schedules"),
            "INGEST_TICK_S": "1",
        }
        worker = start(
            [sys.executable, "-m", "worker", "run", "--no-beat", "--concurrency", "1"],
            env,
            tmp_path / "worker.log",
        )
        beat = start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker.app.celery_app",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(tmp_path / "beat-schedule"),
            ],
            env,
            tmp_path / "beat.log",
        )
        r = redis.Redis.from_url(redis_url, decode_responses=True)

        def stream_titles() -> set[str]:
            return {json.loads(f["data"])["title"] for _, f in r.xrange("articles")}

        try:
            found = wait_for(lambda: stream_titles() >= EXPECTED_TITLES, timeout=180)
        finally:
            codes = (stop(worker), stop(beat))
        logs = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        beat_log = (tmp_path / "beat.log").read_text(errors="replace")

        assert found, logs
        assert len(EXPECTED_TITLES) == r.xlen("articles")
        assert (0, 0) == codes, logs
        assert "beat: Starting" in beat_log
        assert "Sending due task" not in beat_log
