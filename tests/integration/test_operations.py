"""Operations: `health`, Prometheus metrics over HTTP, graceful SIGTERM and the eviction-policy warning."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT
from tests.integration.conftest import RedisServer, free_port, wait_for
from tests.integration.test_faults import FAST_REDELIVERY, assert_exactly_once, idle, write_archive
from tests.integration.test_quality_e2e import text_article

pytestmark = pytest.mark.integration


@pytest.fixture
def lru_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Start a Redis of this test's own whose eviction policy may drop our keys."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder)
    server.start()
    client = redis.Redis(port=server.port)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.close()
    yield server
    server.stop()


def health(cli, env: dict[str, str] | None = None) -> tuple[int, dict]:
    """Run `health --compact`; return its exit code and report."""
    proc = cli("health", "--compact", env=env, timeout=60)
    return proc.returncode, json.loads(proc.stdout)


def sample(text: str, name: str, **labels: str) -> float | None:
    """Return the value of one sample in Prometheus text format, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if m is None or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if found == labels:
            return float(m.group(3))
    return None


class TestHealth:
    def test_embedded_mode_without_a_service_is_not_ok(self, cli, tmp_path: Path) -> None:
        """Nothing running, no Redis: the store, JSONL folder and broker are ok, but no worker: exit 1."""
        code, report = health(cli)

        assert 1 == code
        assert (False, "embedded") == (report["ok"], report["mode"])
        assert {"ok": True, "tasks_in_flight": {"poll": 0, "fetch": 0, "process": 0}} == report["state_store"]
        assert {"ok": True, "dir": str(tmp_path / "out")} == report["sink_jsonl"]
        assert {"all": 0} == report["broker"]["queue_depths"]
        assert ({"ok": False, "seen": {}, "within_s": 30.0}, False) == (
            report["workers"],
            report["beat"]["ok"],
        )

    def test_redis_mode_reports_queue_depths_and_stream(self, cli, redis_url: str, tmp_path: Path) -> None:
        """With Redis and no worker running, the queued poll shows in the depths (exit 1: no worker)."""
        write_archive(tmp_path / "archive", range(2))
        env = {"REDIS_URL": redis_url}
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode

        code, report = health(cli, env)

        assert 1 == code
        assert {"poll": 1, "fetch": 0, "process": 0} == report["broker"]["queue_depths"]
        # The ledger holds the queued poll until it ends (worker.app.ledger).
        assert {"poll": 1, "fetch": 0, "process": 0} == report["state_store"]["tasks_in_flight"]
        assert (True, True) == (report["broker"]["ok"], report["broker"]["eviction_safe"])
        assert {"ok": True, "stream": "articles", "length": 0} == report["sink_stream"]
        assert 0 == report["dead_letters"]

    def test_liveness_follows_the_worker_and_the_beat(
        self, cli, start_worker, redis_url: str, base_env: dict[str, str], tmp_path: Path
    ) -> None:
        """ok with a worker and a beat; a stopped beat is missed after 3 ticks, a stopped worker at once."""
        env = {"REDIS_URL": redis_url, "INGEST_TICK_S": "1"}
        worker = start_worker("alive", env=env)
        beat = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "worker.app.celery_app", "beat"),
                *("--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")),
            ],
            env={**base_env, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert wait_for(lambda: health(cli, env)[0] == 0, timeout=60, interval=0.5)
            _, both = health(cli, env)
        finally:
            beat.terminate()
            beat.wait(timeout=30)
        assert wait_for(lambda: health(cli, env)[0] == 1, timeout=30, interval=0.5)
        _, no_beat = health(cli, env)
        lenient = cli("health", "--compact", "--no-beat-required", env=env)
        worker.stop()
        code, no_worker = health(cli, env)

        assert (True, True, True) == (both["ok"], both["workers"]["ok"], both["beat"]["ok"])
        assert ["alive"] == [h.split("@")[0] for h in both["workers"]["seen"]]
        assert (False, True, False, True) == (
            no_beat["ok"],
            no_beat["workers"]["ok"],
            no_beat["beat"]["ok"],
            no_beat["beat"]["required"],
        )
        assert 0 == lenient.returncode, lenient.stdout
        assert (1, False, {}) == (code, no_worker["workers"]["ok"], no_worker["workers"]["seen"])

    def test_counters_add_up(self, cli, tmp_path: Path) -> None:
        """`duplicates_exact + duplicates_near == articles_duplicate`: copies, near copies and re-reads."""
        folder = tmp_path / "archive"
        folder.mkdir()
        for i in range(3):
            (folder / f"{i}.txt").write_text(text_article(i))
            (folder / f"copy-{i}.txt").write_text(text_article(i))  # byte-identical: exact
            (folder / f"edit-{i}.txt").write_text(text_article(i, edit=1))  # one word changed: near
        env = {"INGEST_NER_LANGUAGES": ""}
        assert 0 == cli("ingest", str(folder), env=env).returncode
        assert 0 == cli("ingest", str(folder), env=env).returncode  # every id known now: exact

        _, report = health(cli)
        c = report["counters"]

        assert (3, 15) == (c["articles_new"], c["articles_duplicate"])
        assert c["duplicates_near"] >= 1
        assert c["duplicates_exact"] + c["duplicates_near"] == c["articles_duplicate"]

    def test_redis_down_exits_non_zero(self, cli) -> None:
        """Nothing listening at REDIS_URL: exit 1, every Redis part reported down, refused (not timed out)."""
        env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}

        code, report = health(cli, env)

        assert 1 == code
        assert (False, False, False) == (
            report["ok"],
            report["broker"]["ok"],
            report["sink_stream"]["ok"],
        )
        assert report["state_store"]["ok"] is False
        assert "refused" in report["state_store"]["error"].lower()


class TestMetrics:
    def test_worker_serves_per_stage_metrics_over_http(
        self, cli, start_worker, redis_url: str, tmp_path: Path
    ) -> None:
        """A scrape after three articles shows them per stage, their latency, queue depth and dead letters."""
        write_archive(tmp_path / "archive", range(3))
        port = free_port()
        env = {"REDIS_URL": redis_url, "INGEST_METRICS_PORT": str(port), **FAST_REDELIVERY}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        start_worker("m1", env=env, concurrency=2)
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") == 3 and idle(r), timeout=60)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            text = resp.read().decode()

        assert 3.0 == sample(text, "ingest_items_total", stage="process", outcome="new")
        assert 1.0 == sample(text, "ingest_tasks_total", stage="poll", state="success")
        count = sample(text, "ingest_stage_seconds_count", stage="process")
        assert count is not None
        assert count >= 1
        assert 0.0 == sample(text, "ingest_queue_depth", queue="process")
        assert 0.0 == sample(text, "ingest_dead_letters")
        assert 0.0 == sample(text, "ingest_feeds_disabled")
        assert 1.0 == sample(text, "ingest_store_up")


class TestGracefulShutdown:
    def test_sigterm_mid_run_loses_and_doubles_nothing(
        self, cli, start_worker, redis_url: str, tmp_path: Path
    ) -> None:
        """SIGTERM finishes the tasks in hand and exits 0; a new worker does the rest, each article once."""
        expected = write_archive(tmp_path / "archive", range(200))
        env = {"REDIS_URL": redis_url, **FAST_REDELIVERY}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        first = start_worker("t1", env=env, concurrency=2)
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= 20, timeout=120, interval=0.05)

        first.proc.send_signal(signal.SIGTERM)
        code = first.proc.wait(timeout=60)
        at_stop = r.xlen("articles")
        log = first.log.read_text(errors="replace")
        start_worker("t2", env=env, concurrency=2)
        assert wait_for(lambda: r.xlen("articles") >= len(expected) and idle(r), timeout=150)
        time.sleep(1)

        assert 0 == code
        assert at_stop < len(expected)
        assert 2 == log.count('"worker_process_stopped"')
        assert_exactly_once(expected, r, tmp_path / "out")


class TestEvictionPolicy:
    def test_worker_warns_when_redis_may_evict(self, cli, start_worker, lru_redis: RedisServer) -> None:
        """`allkeys-lru` could drop queued tasks or dedupe markers: the worker logs it, health flags it."""
        env = {"REDIS_URL": lru_redis.url}

        worker = start_worker("e1", env=env)
        _, report = health(cli, env)
        events = [json.loads(x) for x in worker.log.read_text().splitlines() if x.startswith("{")]

        warnings = [e for e in events if e.get("event") == "redis_eviction_unsafe"]
        assert ["allkeys-lru"] == [w["maxmemory_policy"] for w in warnings]
        assert ("allkeys-lru", False) == (
            report["broker"]["maxmemory_policy"],
            report["broker"]["eviction_safe"],
        )
