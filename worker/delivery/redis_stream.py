"""Add records to a Redis stream, each exactly once, marker and entry in one Lua script."""

from __future__ import annotations

import json
from typing import Any

import redis

from worker.errors import StoreUnavailable
from worker.state.redis import connect

# KEYS[1] stream; ARGV[1] maxlen, ARGV[2] marker prefix, ARGV[3] marker ttl, then (id, url, data) triples.
# The emitted marker and the XADD happen together or not at all: a retried
# task can never add a second entry for the same article.
_EMIT = """
local n = 0
for i = 4, #ARGV, 3 do
  local marker = ARGV[2] .. ARGV[i]
  if redis.call('SET', marker, '1', 'NX', 'EX', ARGV[3]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
               'id', ARGV[i], 'url', ARGV[i + 1], 'data', ARGV[i + 2])
    n = n + 1
  end
end
return n
"""


class RedisStreamSink:
    """The `INGEST_STREAM` stream: fields `id`, `url`, `data` (the JSON record)."""

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
        self.r = connect(url)
        self.stream = stream
        self.maxlen = maxlen
        self.marker_prefix = f"{prefix}emitted:{stream}:"
        self.marker_ttl_s = marker_ttl_s
        self._emit = self.r.register_script(_EMIT)

    def write(self, records: list[dict[str, Any]]) -> int:
        if not records:
            return 0
        args: list[Any] = [self.maxlen, self.marker_prefix, self.marker_ttl_s]
        for r in records:
            args += [r["id"], r["url"], json.dumps(r, ensure_ascii=False, separators=(",", ":"))]
        try:
            return int(self._emit(keys=[self.stream], args=args))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc

    def close(self) -> None:
        self.r.close()
