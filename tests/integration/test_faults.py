"""
Faults injected into a running service: a restarted Redis, a full disk.

Kill -9 of every worker runs on each topology in test_topologies.py.

Each test runs real Celery worker processes on a Redis of its own and
checks the promise of issue 5: every article ends in the stream and in the
JSONL files exactly once, whatever dies on the way.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from structlog.testing import capture_logs

from tests.conftest import ROOT
from tests.integration.conftest import RedisServer, free_port, wait_for
from tests.integration.test_ingest_e2e import read_jsonl
from tests.support.corpus import article_page
from worker.delivery.jsonl import JsonlSink, SinkFull
from worker.dispatch import QUEUES
from worker.ids import article_id
from worker.models import archive_uri

pytestmark = pytest.mark.integration

# Small enough that Kombu hands a dead worker's unacked tasks back within
# seconds; the task time limit stays below it, as production settings must.
FAST_REDELIVERY = {
    "INGEST_VISIBILITY_TIMEOUT_S": "10",
    "INGEST_TASK_TIME_LIMIT_S": "8",
    "INGEST_BATCH_SIZE": "4",
    # NER is not what these tests are about and is the slow stage (~60 ms an
    # article on these machines); without it 1,000 articles fit the time budget.
    "INGEST_NER_LANGUAGES": "",
}


def write_archive(folder: Path, ids: range) -> set[str]:
    """Write one distinct HTML article page per id; return their ids (when ingested by the folder path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (folder / f"a{i:05d}.html").write_bytes(article_page(i))
    return {article_id(archive_uri(folder.name, p.name)) for p in folder.glob("*.html")}


def stream_ids(r: redis.Redis) -> list[str]:
    """Return the `id` field of every stream entry, in stream order."""
    return [f["id"] for _, f in r.xrange("articles")]


def idle(r: redis.Redis) -> bool:
    """Return True when no task is queued or delivered-but-unacked."""
    return all(r.llen(q) == 0 for q in QUEUES) and r.hlen("unacked") == 0


def progress(r: redis.Redis) -> dict[str, object]:
    """Say where a run stands: what a timed-out wait shows instead of a bare False."""
    return {
        "emitted": r.xlen("articles"),
        **{f"queued:{q}": r.llen(q) for q in QUEUES},
        "unacked": r.hlen("unacked"),
        "unacked_mutex_ttl": r.ttl("unacked_mutex"),
        "dead": r.xlen("articles:dead") if r.exists("articles:dead") else 0,
    }


def assert_exactly_once(expected: set[str], r: redis.Redis, out: Path) -> None:
    """Every expected article is in the stream and in JSONL, once each, and nothing else is."""
    in_stream = stream_ids(r)
    in_jsonl = [rec["id"] for rec in read_jsonl(out)]

    assert sorted(expected) == sorted(in_stream)
    assert sorted(expected) == sorted(in_jsonl)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Start a Redis with the append-only file on, for this test alone (it gets stopped and restarted)."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder, appendonly=True)
    server.start()
    yield server
    server.stop()


class TestRedisRestart:
    def test_redis_stopped_and_restarted_mid_run_loses_and_doubles_nothing(
        self, cli, start_worker, own_redis: RedisServer, tmp_path: Path
    ) -> None:
        """Redis goes away for seconds mid-run; the same workers reconnect and finish every article once."""
        expected = write_archive(tmp_path / "archive", range(300))
        env = {"REDIS_URL": own_redis.url, **FAST_REDELIVERY}
        r = redis.Redis.from_url(own_redis.url, decode_responses=True)
        workers = [start_worker(f"r{n}", env=env, concurrency=2) for n in (1, 2)]
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "archive"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") >= 40, timeout=120, interval=0.05)

        own_redis.stop()
        time.sleep(4)
        own_redis.start()
        emitted_at_restart = r.xlen("articles")
        print(f"emitted before the restart: {emitted_at_restart} of {len(expected)}")
        assert wait_for(lambda: r.xlen("articles") >= len(expected) and idle(r), timeout=150)
        time.sleep(1)

        assert [None, None] == [w.proc.poll() for w in workers]
        assert emitted_at_restart < len(expected)
        assert_exactly_once(expected, r, tmp_path / "out")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a 1 MiB tmpfs: a real disk that really fills up (needs root; skipped otherwise)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; return it (unlink it to give the space back)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return filler


def big(i: int) -> dict:
    """Return a record of about 20 kB, so a batch never fits in what a full disk has left."""
    return {"id": f"{i:016x}", "url": f"http://example.org/{i}", "text": f"article {i} " * 2000}


def whole_lines(out: Path) -> list[str]:
    """Return the ids in the JSONL files, checking every line is whole JSON ending in a newline."""
    ids = []
    for f in sorted(out.glob("*.jsonl")):
        data = f.read_bytes()
        assert data.endswith(b"\n")
        ids += [json.loads(line)["id"] for line in data.splitlines()]
    return ids


# Run in a subprocess because RLIMIT_FSIZE would otherwise limit pytest itself.
_RLIMIT_SCRIPT = """
import json, resource, signal, sys
from worker.delivery.jsonl import JsonlSink, SinkFull

def big(i):
    return {"id": f"{i:016x}", "url": f"http://example.org/{i}", "text": f"article {i} " * 2000}

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, as a server would set it
sink = JsonlSink(sys.argv[1])
sink.write([big(0), big(1), big(2)])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (80_000, hard))
try:
    sink.write([big(i) for i in range(3, 8)])
    print("written")
except SinkFull:
    print("full")
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
print(sink.write([big(i) for i in range(3, 8)]))
"""


class TestFullDisk:
    def test_sink_on_a_full_tmpfs_raises_cuts_back_and_writes_when_space_returns(
        self, small_disk: Path
    ) -> None:
        """ENOSPC mid-batch: `SinkFull`, a `disk_full` error event, no partial line; later all five once."""
        sink = JsonlSink(small_disk / "out")
        sink.write([big(0)])
        filler = fill(small_disk)

        with capture_logs() as logs, pytest.raises(SinkFull):
            sink.write([big(i) for i in range(1, 6)])
        after_failure = whole_lines(small_disk / "out")
        filler.unlink()
        written = sink.write([big(i) for i in range(1, 6)])

        assert [big(0)["id"]] == after_failure
        assert [("sink_write_failed", "disk_full")] == [
            (e["event"], e["reason"]) for e in logs if e["event"] == "sink_write_failed"
        ]
        assert 5 == written
        assert [big(i)["id"] for i in range(6)] == whole_lines(small_disk / "out")

    def test_file_size_limit_is_treated_like_a_full_disk(self, tmp_path: Path) -> None:
        """EFBIG from RLIMIT_FSIZE (no mount needed) is `SinkFull` too; nothing partial, nothing lost."""
        out = tmp_path / "out"

        done = subprocess.run(
            [sys.executable, "-c", _RLIMIT_SCRIPT, str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert 0 == done.returncode, done.stderr[-2000:]
        # structlog, unconfigured here, prints its events to stdout before the script's two lines.
        assert ["full", "5"] == done.stdout.splitlines()[-2:]
        assert "disk_full" in done.stdout
        assert [big(i)["id"] for i in range(8)] == whole_lines(out)

    def test_workers_on_a_full_disk_retry_until_space_returns(
        self, cli, start_worker, redis_url: str, small_disk: Path, tmp_path: Path
    ) -> None:
        """The JSONL disk fills mid-run: tasks retry, and once space is back every article is there once."""
        out = small_disk / "out"
        env = {"REDIS_URL": redis_url, "INGEST_OUT_DIR": str(out), **FAST_REDELIVERY}
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        expected = write_archive(tmp_path / "early", range(3))
        worker = start_worker("d1", env=env, concurrency=1)
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "early"), env=env).returncode
        assert wait_for(lambda: r.xlen("articles") == 3 and idle(r), timeout=60)
        filler = fill(small_disk)

        expected |= write_archive(tmp_path / "late", range(3, 11))
        assert 0 == cli("ingest", "--enqueue", str(tmp_path / "late"), env=env).returncode
        assert wait_for(lambda: "disk_full" in worker.log.read_text(errors="replace"), timeout=60)
        during = whole_lines(out)
        filler.unlink()
        assert wait_for(lambda: r.xlen("articles") >= len(expected) and idle(r), timeout=120)

        assert 3 == len(during)
        assert_exactly_once(expected, r, out)
