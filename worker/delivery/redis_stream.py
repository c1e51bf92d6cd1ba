"""Add records to a Redis stream, each exactly once: marker and entry in one script (`emit_stream.lua`)."""

from __future__ import annotations

import json
from typing import Any

import redis

from worker.errors import StoreUnavailable
from worker.state import scripts
from worker.state.redis import connect
from worker.state.redis.base import Client, close, register


class RedisStreamSink:
    """
    The `INGEST_STREAM` stream: fields `id`, `url`, `data` (the JSON record).

    An article's emitted marker is `<prefix>emitted:{<stream>}:<id>`: the hash tag puts it in
    the stream's own slot (a key without braces hashes its whole name), so the script that
    checks it and adds the entry runs on one node of a Redis Cluster too.  Markers of the
    layout before it (`<prefix>emitted:<stream>:<id>`, up to `INGEST_EMITTED_RETENTION_S`
    old) are still honoured on a single Redis; a cluster never held any.
    """

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        stream: str = "articles",
        maxlen: int = 1_000_000,
        prefix: str = "ingest:",
        marker_ttl_s: int = 400 * 86400,
    ) -> None:
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self.marker_prefix = f"{prefix}emitted:{{{stream}}}:"
        self.old_marker_prefix = f"{prefix}emitted:{stream}:"
        self.marker_ttl_s = marker_ttl_s
        self._r: Client | None = None

    @property
    def r(self) -> Client:
        """The client, opened on first use (`connect` asks whether the server is a cluster node)."""
        if self._r is None:
            self._r = connect(self.url)
        return self._r

    def write(self, records: list[dict[str, Any]]) -> int:
        if not records:
            return 0
        try:
            client = self.r
            old = not isinstance(client, redis.cluster.RedisCluster)
            keys = [self.stream]
            args: list[Any] = [self.maxlen, self.marker_ttl_s, 2 if old else 1]
            for r in records:
                keys.append(self.marker_prefix + r["id"])
                if old:
                    keys.append(self.old_marker_prefix + r["id"])
                args += [r["id"], r["url"], json.dumps(r, ensure_ascii=False, separators=(",", ":"))]
            emit = register(client, scripts.source("emit_stream"))
            return int(emit(keys=keys, args=args))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc

    def close(self) -> None:
        if self._r is not None:
            close(self._r)
