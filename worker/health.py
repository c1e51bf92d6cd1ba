"""`python -m worker health`: is the broker, the state store and every sink usable?"""

from __future__ import annotations

import os
from typing import Any

from worker.config import Settings
from worker.state import open_store

_QUEUES = ("poll", "fetch", "process")


def check(settings: Settings) -> dict[str, Any]:
    """Return a JSON-safe report; `ok` is False when anything needed is down."""
    report: dict[str, Any] = {"mode": "embedded" if settings.embedded else "redis"}
    try:
        store = open_store(settings)
        report["state_store"] = {"ok": store.ping()}
        report["counters"] = store.counters() if report["state_store"]["ok"] else {}
        store.close()
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        report["state_store"] = {"ok": False, "error": str(exc)}
    out = settings.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
        report["sink_jsonl"] = {"ok": os.access(out, os.W_OK), "dir": str(out)}
    except OSError as exc:
        report["sink_jsonl"] = {"ok": False, "error": str(exc)}
    if settings.redis_url:
        import redis

        from worker.state.redis import connect

        try:
            r = connect(settings.redis_url)
            r.ping()
            depths = {q: int(r.llen(q)) for q in _QUEUES}
            policy = r.config_get("maxmemory-policy").get("maxmemory-policy", "unknown")
            report["broker"] = {"ok": True, "queue_depths": depths, "maxmemory_policy": policy}
            report["sink_stream"] = {
                "ok": True,
                "stream": settings.stream,
                "length": int(r.xlen(settings.stream)),
            }
            report["dead_letters"] = int(r.xlen(settings.dead_stream))
            r.close()
        except redis.RedisError as exc:
            report["broker"] = {"ok": False, "error": str(exc)}
            report["sink_stream"] = {"ok": False, "error": str(exc)}
    else:
        queue = settings.state_dir / "broker" / "queue"
        depth = len(list(queue.glob("*.msg"))) if queue.exists() else 0
        report["broker"] = {"ok": True, "transport": "filesystem", "queued_messages": depth}
    report["ok"] = all(v.get("ok", True) for v in report.values() if isinstance(v, dict))
    return report
