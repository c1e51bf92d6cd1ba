"""
A task that raises (a bug, bad input no stage expected) dead-letters its items instead of losing them.

Celery acks a failed task, so without `celery_app._dead_letter_failed_task`
its articles would vanish.  A real worker gets a `process_items` batch in
which one item is malformed: the batch fails, both items land on the
dead-letter stream, and `dead retry` turns the sound one into a record
while the malformed one goes back to the dead letters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.integration.conftest import CLI, ROOT, WorkerProcess, wait_for
from tests.integration.httpserver import HTTPTestServer, Request, Response, static
from tests.support.corpus import article_page, rss_feed
from worker.models import RawItem, SourceRef, raw_to_dict

pytestmark = pytest.mark.integration

DEAD = "articles:dead"  # INGEST_DEAD_STREAM's default


def send_batch(items: list[dict[str, Any]], env: dict[str, str]) -> None:
    """Queue one `worker.process_items` task from another process, as any producer would."""
    code = (
        "import json, sys\n"
        "from worker.app.celery_app import app\n"
        "app.send_task('worker.process_items', args=[json.load(sys.stdin)])\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(items),
        env=env,
        cwd=ROOT,
        text=True,
        check=True,
        timeout=60,
    )


def test_failed_task_items_are_dead_lettered_and_retryable(
    redis_url: str,
    base_env: dict[str, str],
    start_worker: Callable[..., WorkerProcess],
    cli: CLI,
) -> None:
    env = {"REDIS_URL": redis_url, "INGEST_NER_LANGUAGES": ""}
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    source = SourceRef("feed", "faulty-producer", "http://127.0.0.1/feed.xml")
    sound = raw_to_dict(
        RawItem(
            url="http://127.0.0.1/article/1",
            source=source,
            content=article_page(1).decode("utf-8"),
            content_type="html",
        )
    )
    malformed = {
        k: v
        for k, v in raw_to_dict(
            RawItem(url="http://127.0.0.1/article/2", source=source, content="<p>x</p>", content_type="html")
        ).items()
        if k != "content"
    }
    worker = start_worker("f1", env=env)

    send_batch([sound, malformed], {**base_env, **env})
    assert wait_for(lambda: r.xlen(DEAD) >= 2, timeout=60)

    letters = r.xrange(DEAD)
    assert 2 == len(letters)
    assert {"process"} == {fields["stage"] for _, fields in letters}
    assert {"faulty-producer"} == {fields["source"] for _, fields in letters}
    assert all(fields["reason"].startswith("KeyError") for _, fields in letters)
    assert sorted([sound["url"], malformed["url"]]) == sorted(
        json.loads(fields["payload"])["url"] for _, fields in letters
    )
    assert 0 == r.xlen("articles")
    assert "task_dead_lettered" in worker.log.read_text(errors="replace")

    worker.stop()
    retried = cli("dead", "retry", env=env)
    assert 0 == retried.returncode, retried.stderr

    assert [sound["url"]] == [fields["url"] for _, fields in r.xrange("articles")]
    left = r.xrange(DEAD)
    assert [malformed["url"]] == [json.loads(fields["payload"])["url"] for _, fields in left]
    assert left[0][1]["reason"].startswith("KeyError")


def test_task_over_its_time_limit_is_dead_lettered(
    redis_url: str,
    http_server: HTTPTestServer,
    start_worker: Callable[..., WorkerProcess],
    cli: CLI,
) -> None:
    """A page trickling inside the fetch deadline but past the task's time limit ends as a dead letter."""

    def trickle(_: Request) -> Response:
        def body() -> Iterator[bytes]:
            for b in article_page(1):
                yield bytes([b])
                time.sleep(0.5)

        return Response(body=body(), headers={"Content-Type": "text/html"})

    base = http_server.url("").rstrip("/")
    http_server.route("/feed.xml", static(rss_feed(base, [0, 1]), content_type="application/rss+xml"))
    http_server.route("/article/0", static(article_page(0), content_type="text/html"))
    http_server.route("/article/1", trickle)
    env = {
        "REDIS_URL": redis_url,
        "INGEST_NER_LANGUAGES": "",
        "INGEST_TASK_TIME_LIMIT_S": "4",
        "INGEST_READ_TIMEOUT_S": "30",
        "INGEST_TOTAL_TIMEOUT_S": "120",
    }
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    start_worker("t1", env=env)

    assert 0 == cli("ingest", "--enqueue", f"{base}/feed.xml", env=env).returncode
    assert wait_for(lambda: r.xlen("articles") >= 1 and r.xlen(DEAD) >= 1, timeout=90)

    (_, record), *others = r.xrange("articles")
    assert [] == others
    assert record["url"].startswith(f"{base}/article/0?")
    (_, letter), *more = r.xrange(DEAD)
    assert [] == more
    assert "fetch" == letter["stage"]
    assert "TimeLimit" in letter["reason"]
    assert json.loads(letter["payload"])["url"].startswith(f"{base}/article/1")
