"""
Real parts for integration tests: a private redis-server, a RabbitMQ vhost, Celery worker processes, the CLI.

Nothing here is mocked.  The Redis server is our own, on a free port, so
tests may flush, stop and restart it; each test gets a fresh database.
RabbitMQ is the machine's (127.0.0.1:5672, `.ci/run` starts it): the
session gets a vhost of its own, emptied before each test and deleted at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import amqp
import pytest
import redis

from tests.conftest import ROOT
from tests.integration.httpserver import HTTPTestServer
from tests.support.cluster import ONE_TRY, RedisClusterServer
from worker import config
from worker.dispatch import QUEUES
from worker.state import open_store


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server process of the test's own."""

    port: int
    dir: Path
    appendonly: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server); the README says so")
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--dir",
            str(self.dir),
            "--maxmemory-policy",
            "noeviction",
            "--logfile",
            str(self.dir / "redis.log"),
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Each wait capped, one try each: a frozen process holding the port accepts and never answers.
        client = redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2, retry=ONE_TRY)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                log = (self.dir / "redis.log").read_text(errors="replace").strip().splitlines()[-2:]
                raise RuntimeError(f"redis-server on port {self.port} exited: {log}")
            try:
                if client.ping():
                    break
            except (redis.ConnectionError, redis.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Start one redis-server for the session."""
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """Return the URL of an empty database on the session's Redis."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServer]:
    """Start a 3-master Redis Cluster for the session (about a second); stop it at the end."""
    cluster = RedisClusterServer(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_url(redis_cluster: RedisClusterServer) -> str:
    """Return the URL of a node of the session's cluster, every node emptied first."""
    redis_cluster.flush()
    return redis_cluster.url


RABBITMQ_PORT = 5672


def _rabbitmqctl(*args: str) -> str:
    """Run `rabbitmqctl ARGS` (quietly, tab-separated); return its output."""
    done = subprocess.run(
        ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


@dataclass
class RabbitVhost:
    """
    A RabbitMQ vhost of the test session's own, on the machine's broker.

    `rabbitmqctl` reads queue lengths from statistics the broker refreshes
    every few seconds (`collect_statistics_interval`, 5 s), so a count of
    unacknowledged messages may be that old; ready counts are read from
    the queues themselves (a passive declare) and are exact.
    """

    name: str
    # Longer than the broker's statistics interval: two idle reads this far apart saw fresh numbers.
    STATS_INTERVAL_S: ClassVar[float] = 6.0

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{RABBITMQ_PORT}/{self.name}"

    def _connect(self) -> amqp.Connection:
        conn = amqp.Connection(
            f"127.0.0.1:{RABBITMQ_PORT}", userid="guest", password="guest", virtual_host=self.name
        )
        conn.connect()
        return conn

    def counts(self) -> dict[str, tuple[int, int]]:
        """Return (ready, unacknowledged) messages of every queue of the vhost, as of the last statistics."""
        out = _rabbitmqctl(
            "list_queues",
            "-p",
            self.name,
            "--no-table-headers",
            "name",
            "messages_ready",
            "messages_unacknowledged",
        )
        rows = (line.split("\t") for line in out.splitlines() if line.strip())
        return {name: (int(ready), int(unacked)) for name, ready, unacked in rows}

    def ready(self, names: Iterable[str]) -> dict[str, int]:
        """
        Return the messages waiting in each queue now (0 for a queue not declared).

        Exclusive queues of a live connection (Celery's pidbox and event
        queues, which hold no tasks) cannot be read from here and are left out.
        """
        found = {}
        conn = self._connect()
        try:
            for name in names:
                channel = conn.channel()
                try:
                    found[name] = int(channel.queue_declare(name, passive=True).message_count)
                    channel.close()
                except amqp.NotFound:
                    found[name] = 0
                except amqp.ResourceLocked:
                    continue
        finally:
            conn.close()
        return found

    def idle(self) -> bool:
        """Return True when no queue holds a message, ready (now) or unacknowledged (as of the statistics)."""
        counts = self.counts()
        return all(n == 0 for n in self.ready(counts).values()) and all(u == 0 for _, u in counts.values())

    def settled(self) -> bool:
        """Return True when the vhost is idle, and still is after a statistics interval."""
        if not self.idle():
            return False
        time.sleep(self.STATS_INTERVAL_S)
        return self.idle()

    def set_policy(self, name: str, pattern: str, definition: dict[str, Any]) -> None:
        """Apply a policy to the queues whose names match `pattern` (`clear_policy` removes it)."""
        _rabbitmqctl(
            "set_policy", "-p", self.name, "--apply-to", "queues", name, pattern, json.dumps(definition)
        )

    def clear_policy(self, name: str) -> None:
        """Remove a policy `set_policy` applied."""
        _rabbitmqctl("clear_policy", "-p", self.name, name)

    def empty(self) -> None:
        """Delete every queue of the vhost, with what an earlier test left (workers declare them again)."""
        names = list(self.counts())
        conn = self._connect()
        try:
            channel = conn.channel()
            for name in names:
                channel.queue_delete(name)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def rabbitmq_vhost() -> Iterator[RabbitVhost]:
    """Create a vhost with a random name on the local RabbitMQ for the session; delete it at the end."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed (apt-get install rabbitmq-server; .ci/run does it)")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", RABBITMQ_PORT)) != 0:
            pytest.fail(f"RabbitMQ is not listening on 127.0.0.1:{RABBITMQ_PORT}: rabbitmq-server -detached")
    vhost = RabbitVhost(f"ingest-test-{secrets.token_hex(4)}")
    _rabbitmqctl("add_vhost", vhost.name)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost.name, "guest", ".*", ".*", ".*")
        yield vhost
    finally:
        _rabbitmqctl("delete_vhost", vhost.name)


@pytest.fixture
def rabbitmq(rabbitmq_vhost: RabbitVhost) -> RabbitVhost:
    """Return the session's vhost with no queue left from an earlier test."""
    rabbitmq_vhost.empty()
    return rabbitmq_vhost


@pytest.fixture
def http_server() -> Iterator[HTTPTestServer]:
    """Serve routes the test sets, on 127.0.0.1."""
    with HTTPTestServer() as server:
        yield server


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """Return an environment for subprocesses: private state and output folders, local HTTP allowed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("INGEST_") and k not in {"REDIS_URL", "BROKER_URL"}
    }
    env.update(
        INGEST_STATE_DIR=str(tmp_path / "var"),
        INGEST_OUT_DIR=str(tmp_path / "out"),
        INGEST_ALLOW_PRIVATE_NETWORKS="1",
        INGEST_SCHEDULES_DIR=str(tmp_path / "schedules"),
        INGEST_LOG_LEVEL="INFO",
        INGEST_FETCH_ATTEMPTS="2",
        INGEST_RETRY_MAX_WAIT_S="1",
        PYTHONPATH=str(ROOT),
    )
    return env


CLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(base_env: dict[str, str]) -> CLI:
    """Run `python -m worker ARGS` in a subprocess; return the completed process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "worker", *args],
            env={**base_env, **(env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@dataclass
class WorkerProcess:
    """A real `celery worker` process."""

    proc: subprocess.Popen[str]
    log: Path

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def events(self, name: str) -> list[dict[str, Any]]:
        """Return the JSON log events called `name` (Celery's banner lines are not JSON)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                event = json.loads(line)
                if event.get("event") == name:
                    found.append(event)
        return found

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP the whole process group: nothing it holds changes until `resume` (or `kill`)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the whole process group after `pause`."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)


def spawn(
    name: str, argv: list[str], env: dict[str, str], log: Path, started: list[WorkerProcess]
) -> WorkerProcess:
    """
    Start a worker command in a session of its own, logging to `log`; return once it is ready.

    It joins `started` first, so that it is stopped at the end even when it
    fails to start; the test fails if it exits or is not ready in 120 s.
    """
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
    w = WorkerProcess(proc, log)
    started.append(w)
    deadline = time.monotonic() + 120
    while "ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            pytest.fail(f"worker {name} exited: {log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"worker {name} not ready: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return w


@pytest.fixture
def start_worker(base_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start a Celery worker process (on all queues unless told); every one is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(
        name: str,
        *,
        env: dict[str, str] | None = None,
        concurrency: int = 1,
        queues: str = "poll,fetch,process",
    ) -> WorkerProcess:
        log = tmp_path / f"{name}.log"
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.app.celery_app",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        return spawn(name, args, {**base_env, **(env or {})}, log, started)

    yield start
    for w in started:
        w.stop()


def in_flight(env: dict[str, str]) -> dict[str, int]:
    """Return the ledger's entries per queue, read from the state store the workers use."""
    store = open_store(config.load(env))
    try:
        return {q: store.ledger_count(q) for q in QUEUES}
    finally:
        store.close()


@pytest.fixture
def start_service(
    base_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[[str, dict[str, str]], WorkerProcess]]:
    """Factory: start `python -m worker run --no-beat` (the compose worker's command); stopped at the end."""
    started: list[WorkerProcess] = []

    def start(name: str, env: dict[str, str]) -> WorkerProcess:
        log = tmp_path / f"{name}.log"
        argv = ["run", "--no-beat", "--concurrency", "1", "--hostname", f"{name}@%h"]
        return spawn(name, [sys.executable, "-m", "worker", *argv], {**base_env, **env}, log, started)

    yield start
    for w in started:
        w.stop()


def jsonl_ids(out: Path, *, whole_lines: bool = False) -> list[str]:
    """
    Return the id of every JSONL line under `out`, in file order.

    `whole_lines` leaves out a last line without its newline: a line a running writer is
    appending.  Without it such a line fails to parse, as it should once every writer is done.
    """
    ids = []
    for f in sorted(out.glob("*.jsonl")):
        text = f.read_text("utf-8")
        if whole_lines:
            text = text[: text.rfind("\n") + 1]
        ids.extend(json.loads(line)["id"] for line in text.splitlines())
    return ids


def wait_for(predicate: Callable[[], bool], *, timeout: float = 120, interval: float = 0.2) -> bool:
    """Poll `predicate` until it is true or `timeout` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
