"""
A Redis Cluster of the test session's own: three masters on free ports, no persistence, replicas if asked.

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
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

MASTERS = 3
# One try a command: redis-py's default retries a timed-out read with backoff, a minute in all.
ONE_TRY = Retry(NoBackoff(), 0)


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
    """
    Three masters joined into one cluster; `url` names the first (any node would do).

    With `replicas=1` each master gets a replica and a short node timeout, so a
    killed master's replica takes over within seconds (`kill_master`).
    """

    dir: Path
    replicas: int = 0
    ports: list[int] = field(default_factory=list)
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    # With replicas, a master unreachable this long is failed over (redis' default, 15 s, is kept
    # without them: a busy machine must not mark a master failed when no replica can take over).
    failover_timeout_ms: int = 2000
    # Nodes started again on new ports (`_move`), a leftover server having taken theirs.
    _moves: int = 0

    def __post_init__(self) -> None:
        if not self.ports:
            self.ports = cluster_ports(MASTERS * (1 + self.replicas))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def _launch(self, port: int) -> None:
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
            "--logfile",
            str(self.dir / f"node-{port}.log"),
            *(["--cluster-node-timeout", str(self.failover_timeout_ms)] if self.replicas else []),
        ]
        self.procs[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _move(self, port: int) -> None:
        """Start a node that exited again on a new port (its own was taken since it was found free)."""
        log = self.dir / f"node-{port}.log"
        reason = log.read_text(errors="replace").strip().splitlines()[-2:] if log.exists() else []
        self._moves += 1
        if self._moves > 3:
            raise RuntimeError(f"a Redis Cluster node on {port} exited: {reason}")
        new = next(p for p in cluster_ports(len(self.ports) + 1) if p not in self.ports)
        del self.procs[port]
        self.ports[self.ports.index(port)] = new
        self._launch(new)

    def _answering(self) -> bool:
        """Tell whether every node answers PING, first moving the nodes that exited (at most 3 moves)."""
        for port in [p for p in self.ports if self.procs[p].poll() is not None]:
            self._move(port)
        return all(self._ask(port, "ping") for port in self.ports)

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the nodes, create the cluster and wait for `cluster_state:ok` on every node."""
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            raise RuntimeError("redis-server and redis-cli are needed (apt-get install redis-server)")
        for port in self.ports:
            self._launch(port)
        self._wait(self._answering, timeout_s)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        create = ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", str(self.replicas)]
        subprocess.run([*create, "--cluster-yes"], capture_output=True, check=True, timeout=timeout_s)
        self._wait(self._ok, timeout_s)
        if self.replicas:
            self._wait(self._replicas_synced, timeout_s)

    def _alive(self) -> list[int]:
        return [port for port, proc in self.procs.items() if proc.poll() is None]

    def _ok(self) -> bool:
        for port in self._alive():
            info = self._ask(port, "CLUSTER INFO")
            known = int(info.get("cluster_known_nodes", 0))
            if info.get("cluster_state") != "ok" or known != len(self.ports):
                return False
        return True

    def masters(self) -> list[int]:
        """Return the ports of the live nodes that are masters now."""
        return [p for p in self._alive() if self._ask(p, "ROLE")[0] == "master"]

    def _replicas_synced(self) -> bool:
        """Tell whether every live master has a replica in sync that has read all it wrote."""
        for port in self.masters():
            info = self._ask(port, "INFO", "replication")
            offset = int(info["master_repl_offset"])
            replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
            if len(replicas) < self.replicas or any(
                r["state"] != "online" or int(r["offset"]) < offset for r in replicas
            ):
                return False
        return True

    def wait_replicated(self, timeout_s: float = 10.0) -> None:
        """Wait until every replica has everything its master wrote (replication is asynchronous)."""
        self._wait(self._replicas_synced, timeout_s)

    def kill_master(self, key: str, timeout_s: float = 30.0) -> tuple[int, int]:
        """
        SIGKILL the master of `key`'s slot, wait until its replica serves it; return (killed, promoted).

        The survivors notice the silence after the node timeout, vote, and the
        replica takes the slots over; `cluster_state:ok` again on every live node.
        """
        slot = int(self._ask(self.ports[0], "CLUSTER", "KEYSLOT", key))
        killed = next(p for p in self.masters() if self._owns(p, slot))
        self.procs[killed].kill()
        self.procs[killed].wait()
        survivors = self._alive()
        self._wait(lambda: any(self._owns(p, slot) for p in self.masters()), timeout_s)
        self._wait(
            lambda: all(self._ask(p, "CLUSTER INFO")["cluster_state"] == "ok" for p in survivors),
            timeout_s,
        )
        promoted = next(p for p in self.masters() if self._owns(p, slot))
        return killed, promoted

    @staticmethod
    def _ask(port: int, *command: str) -> Any:
        """Send one command to one node and close the connection."""
        # (A cap on each wait: a frozen process holding the port accepts connections and never answers.)
        node = redis.Redis(
            port=port, decode_responses=True, socket_timeout=5, socket_connect_timeout=5, retry=ONE_TRY
        )
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
        """Return a cluster client (text replies), bootstrapped from a live node."""
        return RedisCluster(host="127.0.0.1", port=self._alive()[0], decode_responses=True)

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

    def serves(self, port: int, key: str) -> bool:
        """Tell whether a node, by its own view, serves `key`'s slot."""
        return self._owns(port, int(self._ask(port, "CLUSTER", "KEYSLOT", key)))

    def _owns(self, port: int, slot: int) -> bool:
        """Tell whether a node, by its own view, serves `slot`."""
        for start, end, (_, owner, *_), *_ in self._ask(port, "CLUSTER", "SLOTS"):
            if int(start) <= slot <= int(end):
                return int(owner) == port
        return False

    def flush(self) -> None:
        """Empty every node (FLUSHALL on each master)."""
        for port in self.masters():
            node = redis.Redis(port=port)
            node.flushall()
            node.close()

    def stop(self) -> None:
        """Stop every node and wait for it."""
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
