"""The shared part of the Redis store: the client (one node or a cluster), error translation, Lua scripts."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import AskError, TryAgainError
from redis.retry import Retry

from worker.errors import ConfigError, StoreUnavailable
from worker.settings_types import SEEDS_PARAM, masked, redis_seeds
from worker.state import scripts

T = TypeVar("T")

# A client of either kind: both take the same commands, scripts and pipelines.
Client = Any


# One retry layer per failure kind (STYLE §3).  The client retries a lost connection once, for a
# blip: a pooled connection Redis closed (a restart, an idle timeout) is opened again at once.
# An outage is not waited out here but by the task: `StoreUnavailable` makes Celery retry the
# whole task with backoff for up to half an hour (`worker.app.tasks._STORE_RETRY`), the layer
# that also waits out a full disk or a busy SQLite file.
BLIP_RETRIES = 1

# URL -> whether it names a node of a Redis Cluster; asked once per process (`is_cluster`).
_CLUSTER: dict[str, bool] = {}


def is_cluster(url: str, *, timeout_s: float = 5.0) -> bool:
    """
    Return True when `url` names a node of a Redis Cluster (INFO `cluster_enabled:1`).

    Asked once per URL and process.  When the node cannot be reached, the
    URL's `seeds` (other nodes of the cluster) are asked in turn; when none
    answers, `StoreUnavailable` is raised and the question is asked again next
    time, so a store opened while Redis restarts picks the right client once it is back.

    Raises:
        ConfigError: the URL names seeds but its node is a single Redis (seeds are for a cluster).
    """
    found = _CLUSTER.get(url)
    if found is not None:
        return found
    main, seeds = redis_seeds(url)
    error: Exception | None = None
    for node in (main, *(_at(main, host, port) for host, port in seeds)):
        probe = redis.Redis.from_url(node, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            found = str(probe.info("cluster").get("cluster_enabled", 0)) == "1"
            break
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            error = exc
        finally:
            probe.close()
    if found is None:
        raise StoreUnavailable(f"redis unavailable: {error}")
    if seeds and not found:
        raise ConfigError(
            f"{masked(url)!r}: {SEEDS_PARAM}= names nodes of a Redis Cluster, and this is a single Redis"
        )
    _CLUSTER[url] = found
    return found


def _at(url: str, host: str, port: int) -> str:
    """Return `url` pointed at another node: the same scheme, credentials, database and options."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    node = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{node}" if credentials else node))


def connect(url: str, *, retries: int = BLIP_RETRIES, cluster: bool | None = None) -> Client:
    """
    Open a client that retries a lost connection `retries` times with backoff (see `BLIP_RETRIES`).

    On a cluster node (`is_cluster`, unless `cluster` says) it is a `RedisCluster`, which routes
    each command to the node of its key's slot and follows the cluster's MOVED answers; it
    starts from the URL's node and its `seeds`, whichever answers first.
    """
    retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=retries)
    main, seeds = redis_seeds(url)
    if cluster if cluster is not None else is_cluster(url):
        try:
            return RedisCluster.from_url(
                main,
                startup_nodes=[ClusterNode(host, port) for host, port in seeds],
                decode_responses=True,
                retry=retry,
                socket_connect_timeout=5,
                socket_timeout=30,
            )
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc
    return redis.Redis.from_url(
        main,
        decode_responses=True,
        retry=retry,
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
        socket_connect_timeout=5,
        socket_timeout=30,
    )


def close(client: Client) -> None:
    """
    Close a client and every connection it opened.

    `RedisCluster.close` leaves its nodes' connection pools open (each node's client was
    given its pool, so does not close it): their sockets would only go when collected.
    """
    client.close()
    if isinstance(client, RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()


class ClusterScript:
    """
    A Lua script run with EVAL on a cluster, routed by its keys like any command.

    redis-py's `Script` runs EVALSHA and, on NOSCRIPT, loads the script on every master (a
    broadcast, again after any node restarts).  EVAL goes to its keys' node only; it sends the
    text each time (a few KB at most), and Redis keeps the compiled script by its digest.
    """

    def __init__(self, client: Client, source: str) -> None:
        self.client = client
        self.source = source

    def __call__(self, keys: list[str], args: list[Any]) -> Any:
        return self.client.eval(self.source, len(keys), *keys, *args)


def register(client: Client, source: str) -> Any:
    """Return a callable `(keys=, args=)` running `source`: a `Script`, or a `ClusterScript` on a cluster."""
    if isinstance(client, RedisCluster):
        return ClusterScript(client, source)
    return client.register_script(source)


def due_score(at: float) -> int:
    """Return a due-set score: whole seconds, rounded up so a feed is never polled before it asked."""
    return math.ceil(at)


class RedisBase:
    """A client under one key prefix, with its scripts registered on first use."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self.url = url
        self.p = prefix
        self._r: Client | None = None
        self._scripts: dict[str, Any] = {}

    @property
    def r(self) -> Client:
        """The client, opened on first use: a single-node or a cluster client, as the server is."""
        if self._r is None:
            self._r = connect(self.url)
        return self._r

    @property
    def cluster(self) -> bool:
        """True when the store runs on a Redis Cluster (no data of the layouts before it can be there)."""
        return isinstance(self.r, RedisCluster)

    def close(self) -> None:
        """Close the client's connections (it opens again on next use)."""
        if self._r is not None:
            close(self._r)

    def _do(self, fn: Callable[[], T]) -> T:
        """Run a Redis call; a connection lost twice becomes `StoreUnavailable` (retried by the task)."""
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc

    def _scripts_run(self, calls: list[tuple[str, list[str], list[Any]]]) -> list[Any]:
        """
        Run several scripts, `(name, keys, args)` each, and return their results in order.

        On a single Redis in one pipeline (one round trip); on a cluster in one pipeline a
        node (`_scripts_run_by_node`).
        """
        if self.cluster:
            return self._scripts_run_by_node(calls)
        if len(calls) == 1:
            # One script goes alone: a pipeline asks SCRIPT EXISTS for its scripts first, a second
            # round trip (EVALSHA alone loads the script only when the server answers NOSCRIPT).
            name, keys, args = calls[0]
            return [self._do(lambda: self._script(name)(keys=keys, args=args))]
        pipe = self.r.pipeline(transaction=False)
        for name, keys, args in calls:
            self._script(name)(keys=keys, args=args, client=pipe)
        return list(self._do(pipe.execute))

    def _scripts_run_by_node(self, calls: list[tuple[str, list[str], list[Any]]]) -> list[Any]:
        """
        Run scripts on a cluster in one pipeline a node: a round trip a node, not one a script.

        redis-py refuses scripts in its cluster pipeline, so each node's own client pipelines
        the calls whose keys (one hash tag a script) live there.  A call answered MOVED, ASK or
        TRYAGAIN (its slot moved since the client last looked) runs again through the cluster
        client, which follows the answer; any other error is raised as it would be alone.
        """
        by_node: dict[str, tuple[Any, list[int]]] = {}
        for i, (_, keys, _) in enumerate(calls):
            node = self.r.get_node_from_key(keys[0])
            by_node.setdefault(node.name, (node, []))[1].append(i)
        results: list[Any] = [None] * len(calls)
        for node, indexes in by_node.values():
            pipe = self.r.get_redis_connection(node).pipeline(transaction=False)
            for i in indexes:
                name, keys, args = calls[i]
                pipe.eval(scripts.source(name), len(keys), *keys, *args)
            answers = self._do(partial(pipe.execute, raise_on_error=False))
            for i, answer in zip(indexes, answers, strict=True):
                results[i] = answer
        for i, answer in enumerate(results):
            if isinstance(answer, AskError | TryAgainError):
                name, keys, args = calls[i]
                results[i] = self._do(partial(self._script(name), keys=keys, args=args))
            elif isinstance(answer, redis.ResponseError):
                raise answer
        return results

    def _script(self, name: str) -> Any:
        """Return the script of `lua/<name>.lua`, registered with this client (`register`)."""
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = register(self.r, scripts.source(name))
        return found
