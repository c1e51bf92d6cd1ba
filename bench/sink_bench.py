"""
Measure sink throughput: raw XADD (unpipelined, pipelined) against the project's sinks.

Everything runs against a private `redis-server` on a free port (never the
shared one), with records shaped like real `article/1` records.  The figures
are records per second of wall time; the Redis server's own CPU is not ours
to count, so this bench reports throughput only.

Run it alone with `python bench/sink_bench.py [--records N]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import redis_server  # noqa: E402

BATCHES = (1, 16, 100)


def make_records(n: int, tag: str) -> list[dict[str, Any]]:
    """Return `n` distinct records of a realistic size (about 4 kB of JSON each)."""
    from tests.support.corpus import article_text, article_title

    return [
        {
            "schema": "article/1",
            "id": f"{tag}-{i:08d}",
            "url": f"https://example.org/{tag}/article/{i}",
            "title": article_title(i % 500),
            "text": article_text(i % 500),
            "tags": ["world", "politics"],
            "entities": [{"text": "Lisbon", "label": "LOC", "count": 2}],
        }
        for i in range(n)
    ]


def rate(n: int, run: Callable[[], object]) -> float:
    """Return items per second of one run over `n` items."""
    started = time.perf_counter()
    run()
    return round(n / (time.perf_counter() - started), 1)


def batches(records: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Split records into batches of `size`."""
    return [records[i : i + size] for i in range(0, len(records), size)]


def bench_redis(url: str, n: int) -> dict[str, float]:
    """Return XADD records/s: redis-py alone, then `RedisStreamSink.write` per batch size."""
    import redis

    from worker.delivery.redis_stream import RedisStreamSink

    client = redis.Redis.from_url(url)
    recs = make_records(n, "raw")
    encoded = [(r["id"], r["url"], json.dumps(r, ensure_ascii=False, separators=(",", ":"))) for r in recs]
    out: dict[str, float] = {}

    def unpipelined() -> None:
        for rid, u, data in encoded:
            client.xadd("raw1", {"id": rid, "url": u, "data": data}, maxlen=1_000_000, approximate=True)

    def pipelined() -> None:
        for chunk in range(0, n, 100):
            pipe = client.pipeline(transaction=False)
            for rid, u, data in encoded[chunk : chunk + 100]:
                pipe.xadd("raw2", {"id": rid, "url": u, "data": data}, maxlen=1_000_000, approximate=True)
            pipe.execute()

    # `encoded` is built before the clock starts: the raw figures are XADD
    # alone, while the sink's figures include its own JSON encoding.
    out["xadd_unpipelined"] = rate(n, unpipelined)
    out["xadd_pipelined_100"] = rate(n, pipelined)
    for size in BATCHES:
        sink = RedisStreamSink(url, stream=f"sink{size}")
        recs_b = make_records(n, f"sink{size}")
        out[f"redis_sink_batch_{size}"] = rate(n, partial(_write_all, sink, recs_b, size))
        sink.close()
    client.flushdb()
    client.close()
    return out


def _write_all(sink: Any, records: list[dict[str, Any]], size: int) -> None:
    for chunk in batches(records, size):
        sink.write(chunk)


def bench_jsonl(n: int) -> dict[str, float]:
    """Return JSONL sink records/s per batch size (each batch fsynced, as in production)."""
    from worker.delivery.jsonl import JsonlSink

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-jsonl-") as d:
        for size in BATCHES:
            sink = JsonlSink(Path(d) / f"b{size}")
            recs = make_records(n, f"jsonl{size}")
            out[f"jsonl_sink_batch_{size}"] = rate(n, partial(_write_all, sink, recs, size))
            sink.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the bench; return records/s per variant (printed as JSON when run as a script)."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=2000, help="records per variant (default 2000)")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"records": args.records, "unit": "records/s (wall)"}
    with redis_server() as url:
        result["redis"] = bench_redis(url, args.records) if url else None
    result["jsonl"] = bench_jsonl(args.records)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
