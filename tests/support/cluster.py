"""
A Redis Cluster of the test session's own: three masters on free ports, no replicas, no persistence.

Each node is `redis-server --cluster-enabled yes` in a temporary folder; its
cluster bus listens on the port + 10000, which must be free too.  Nothing is
mocked: the tests talk to the cluster through redis-py's `RedisCluster`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.cluster import RedisCluster

MASTERS = 3


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_ports(n: int = MASTERS) -> list[int]:
    """Return `n` ports free on 127.0.0.1 whose cluster-bus ports (+10000) are free too."""
    found: list[int] = []
    while len(found) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 <= 65535 and port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


@dataclass
class RedisClusterServer:
    """Three redis-server nodes joined into one cluster; `url` names the first (any node would do)."""

    dir: Path
    ports: list[int] = field(default_factory=cluster_ports)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the nodes, create the cluster and wait for `cluster_state:ok` on every node."""
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            raise RuntimeError("redis-server and redis-cli are needed (apt-get install redis-server)")
        for port in self.ports:
            args = [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ]
            self.procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            self._wait(lambda p=port: self._ask(p, "ping"), timeout_s)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            check=True,
            timeout=timeout_s,
        )
        self._wait(self._ok, timeout_s)

    def _ok(self) -> bool:
        for port in self.ports:
            info = self._ask(port, "CLUSTER INFO")
            known = int(info.get("cluster_known_nodes", 0))
            if info.get("cluster_state") != "ok" or known != len(self.ports):
                return False
        return True

    @staticmethod
    def _ask(port: int, *command: str) -> Any:
        """Send one command to one node and close the connection."""
        node = redis.Redis(port=port, decode_responses=True)
        try:
            return node.execute_command(*command)
        finally:
            node.close()

    @staticmethod
    def _wait(ready: object, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if ready():  # type: ignore[operator]
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not come up")
            time.sleep(0.1)

    def client(self) -> RedisCluster:
        """Return a cluster client (text replies)."""
        return RedisCluster.from_url(self.url, decode_responses=True)

    def move_slot(self, key: str) -> tuple[int, int]:
        """
        Move the slot of `key` and its keys to the next node, as a resharding does; return (from, to).

        The documented steps: the target imports, the source migrates, the keys go
        over with MIGRATE, then every node is told the slot's new owner.
        """
        slot = int(self._ask(self.ports[0], "CLUSTER", "KEYSLOT", key))
        ids = {port: self._ask(port, "CLUSTER", "MYID") for port in self.ports}
        source = next(p for p in self.ports if self._owns(p, slot))
        target = self.ports[(self.ports.index(source) + 1) % len(self.ports)]
        self._ask(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[source])
        self._ask(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[target])
        while keys := self._ask(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "100"):
            self._ask(source, "MIGRATE", "127.0.0.1", str(target), "", "0", "5000", "KEYS", *keys)
        for port in self.ports:
            self._ask(port, "CLUSTER", "SETSLOT", str(slot), "NODE", ids[target])
        self._wait(lambda: all(self._owns(p, slot) == (p == target) for p in self.ports), 30.0)
        return source, target

    def _owns(self, port: int, slot: int) -> bool:
        """Tell whether a node, by its own view, serves `slot`."""
        for start, end, (_, owner, *_), *_ in self._ask(port, "CLUSTER", "SLOTS"):
            if int(start) <= slot <= int(end):
                return int(owner) == port
        return False

    def flush(self) -> None:
        """Empty every node (FLUSHALL on each master)."""
        for port in self.ports:
            node = redis.Redis(port=port)
            node.flushall()
            node.close()

    def stop(self) -> None:
        """Stop every node and wait for it."""
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
