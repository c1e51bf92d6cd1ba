"""Where records go: JSONL files always, a Redis stream in the Redis mode."""

from __future__ import annotations

from typing import Any, Protocol

from worker.config import Settings


class Sink(Protocol):
    """
    An idempotent destination for records.

    `write` may be called again with records already written (a redelivered
    task); each record is written at most once, keyed by its `id`.
    """

    name: str

    def write(self, records: list[dict[str, Any]]) -> int:
        """Write the records not written before; return how many were new."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...


def open_sinks(settings: Settings) -> list[Sink]:
    """Return the sinks of the configured mode."""
    from worker.delivery.jsonl import JsonlSink

    sinks: list[Sink] = [JsonlSink(settings.out_dir, index_days=settings.jsonl_index_days_kept)]
    if settings.redis_url:
        from worker.delivery.redis_stream import RedisStreamSink

        sinks.append(
            RedisStreamSink(
                settings.redis_url,
                stream=settings.stream,
                maxlen=settings.stream_maxlen,
                prefix=settings.key_prefix,
                marker_ttl_s=settings.emitted_retention_s,
            )
        )
    return sinks


__all__ = ["Sink", "open_sinks"]
