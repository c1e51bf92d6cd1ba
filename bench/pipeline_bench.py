"""
Measure the whole pipeline against the bare libraries it calls, on one local corpus.

The corpus (distinct article pages and RSS feeds from `tests/support/corpus.py`)
is served from 127.0.0.1 by a *separate process*, so the HTTP server's CPU time
never counts against the pipeline: every CPU figure is `time.process_time()` of
this process alone.  The pipeline runs through the same task code as `ingest`
(Celery `Task.apply` in this process, follow-up tasks drained by
`worker.app.ingest.drain`), first embedded (SQLite state, JSONL), then against a
private `redis-server` when one can be started.  On the same pages and texts it
then times the bare libraries: trafilatura (the call `clean_html` makes), spaCy
NER (same model, same components, one `nlp.pipe`), py3langid, and YAKE when it is
the keyword method (`INGEST_KEYWORDS=yake`).  Each
mode runs `--rounds` times, each round right before its own bare-library
baseline, and the round with the median ratio is reported.

Run it alone with `python bench/pipeline_bench.py [--articles N] [--profile FILE]`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import log_to_devnull, redis_server, server_child  # noqa: E402 - after the path is set

# Pages of the warm-up feed: ids far from the measured corpus, so none is a duplicate.
WARM_IDS = list(range(90_000, 90_008))
# Goals of backbone issue 2, item 11.
GOAL_OVERHEAD = 1.2
GOAL_DUPLICATE = 0.1


# -- the corpus server (a child process) --------------------------------------


def serve(n: int) -> None:
    """Serve the corpus, print the port, and stop when stdin closes (the parent went away)."""
    from tests.integration.httpserver import HTTPTestServer, static
    from tests.support.corpus import article_page, rss_feed

    page_type = "text/html; charset=utf-8"
    feed_type = "application/rss+xml"
    with HTTPTestServer() as server:
        base = server.url("").rstrip("/")
        ids = list(range(n))
        # /feed.xml: the corpus; /again.xml: the same article URLs under another
        # feed; /copies.xml: new URLs whose pages are byte-identical copies.
        server.route("/feed.xml", static(rss_feed(base, ids), content_type=feed_type))
        server.route("/again.xml", static(rss_feed(base, ids), content_type=feed_type))
        server.route("/copies.xml", static(rss_feed(f"{base}/copy", ids), content_type=feed_type))
        server.route("/warm.xml", static(rss_feed(base, WARM_IDS), content_type=feed_type))
        for i in [*ids, *WARM_IDS]:
            page = static(article_page(i), content_type=page_type)
            server.route(f"/article/{i}", page)
            server.route(f"/copy/article/{i}", page)
        print(server.port, flush=True)
        sys.stdin.read()


@contextmanager
def corpus_server(n: int) -> Iterator[str]:
    """Start the corpus server as a child process (its CPU is not ours); yield its base URL."""
    with server_child(Path(__file__).resolve(), "--serve", str(n)) as base:
        yield base


# -- timing -------------------------------------------------------------------


@dataclass
class Timed:
    """Wall and CPU seconds of one measured block."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def timed() -> Iterator[Timed]:
    """Time the block: wall clock and this process's CPU time."""
    t = Timed()
    w0, c0 = time.perf_counter(), time.process_time()
    yield t
    t.wall_s, t.cpu_s = time.perf_counter() - w0, time.process_time() - c0


def per_item_ms(t: Timed, n: int) -> float:
    """Return CPU milliseconds per item."""
    return round(t.cpu_s * 1000 / max(n, 1), 3)


# -- the pipeline, as `ingest` runs it -----------------------------------------


def ingest(feed_url: str, name: str) -> Counter[str]:
    """Run one feed through the tasks in this process, exactly as `worker ingest URL` does."""
    from worker import dispatch
    from worker.app.ingest import drain
    from worker.sources.spec import resolve

    local = dispatch.LocalDispatcher()
    # A one-shot read, as `ingest` sends it (nothing subscribed).
    local.send("worker.poll_source", resolve(feed_url, name=name).to_dict(), None, None, {"once": True})
    run = drain(local, progress=False)
    if run.errors:
        raise RuntimeError(f"ingest of {feed_url} failed: {run.errors}")
    return run.counts


def run_mode(
    base: str, n: int, work: Path, redis_url: str | None, profile: cProfile.Profile | None
) -> dict[str, Any]:
    """Ingest the corpus, then its duplicates, in one mode; return figures and the emitted texts."""
    from worker import config
    from worker.app import runtime

    settings = config.load().with_(
        state_dir=work / "state",
        out_dir=work / "out",
        redis_url=redis_url,
        allow_private_networks=True,
    )
    runtime.use_settings(settings)
    try:
        # Warm-up: model load, HTTP client, SQLite/Redis connections, Celery task lookup.
        ingest(f"{base}/warm.xml", "warm")
        if profile is not None:
            profile.enable()
        with timed() as new_t:
            new = ingest(f"{base}/feed.xml", "bench")
        if profile is not None:
            profile.disable()
        with timed() as seen_t:
            seen = ingest(f"{base}/again.xml", "bench-again")
        with timed() as copy_t:
            copies = ingest(f"{base}/copies.xml", "bench-copies")
    finally:
        runtime.reset()
    new_ms = per_item_ms(new_t, new["new"])
    return {
        "mode": "redis" if redis_url else "embedded",
        "articles": new["new"],
        "counts": dict(new),
        "articles_per_s": round(new["new"] / new_t.wall_s, 1),
        "cpu_ms_per_article": new_ms,
        # Same article URLs under another feed: caught by the article id before the fetch.
        "seen_url": {
            "counts": dict(seen),
            "cpu_ms_per_duplicate": per_item_ms(seen_t, seen["duplicate"]),
            "ratio": round(per_item_ms(seen_t, seen["duplicate"]) / new_ms, 3),
        },
        # New URLs, identical pages: fetched and cleaned, caught by the content hash.
        "same_content": {
            "counts": dict(copies),
            "cpu_ms_per_duplicate": per_item_ms(copy_t, copies["duplicate"]),
            "ratio": round(per_item_ms(copy_t, copies["duplicate"]) / new_ms, 3),
        },
    }


def emitted_texts(out_dir: Path) -> list[str]:
    """Return the texts of the measured records (not the warm-up ones), in file order."""
    texts = []
    for f in sorted(out_dir.glob("*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            rec = json.loads(line)
            if rec["source"]["name"] == "bench":
                texts.append(rec["text"])
    return texts


# -- the bare libraries ----------------------------------------------------------


def bare_trafilatura(pages: list[tuple[str, str]]) -> Callable[[], None]:
    """Return a run of trafilatura over the pages as `clean_html` calls it (`trafilatura_reading`)."""
    import trafilatura

    from worker.process.clean.html import trafilatura_reading

    now = datetime.now(UTC)

    def run() -> None:
        for url, html in pages:
            trafilatura_reading(trafilatura.load_html(html), url, now)

    return run


def bare_libraries(pages: list[tuple[str, str]], texts: list[str]) -> dict[str, float]:
    """Return CPU ms per article of each bare library over the same pages and texts."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from worker import config
    from worker.process.enrich.entities import load_nlp

    settings = config.load()
    nlp = load_nlp(settings.spacy_model, keep=("ner",))
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    runs: dict[str, Callable[[], object]] = {
        "trafilatura": bare_trafilatura(pages),
        "spacy_ner": lambda: list(nlp.pipe(texts)),
        "py3langid": lambda: [identifier.rank(t) for t in texts],
    }
    # YAKE is a library the pipeline calls only when it is the keyword method; the default is ours.
    if settings.keywords == "yake":
        import yake

        extractor = yake.KeywordExtractor(lan="en", n=2, top=30)
        runs["yake"] = lambda: [extractor.extract_keywords(t) for t in texts]
    # Informational: the feed path hands NER one article per task, hence one text per pipe.
    one_by_one: dict[str, Callable[[], object]] = {
        "spacy_ner_one_per_pipe": lambda: [list(nlp.pipe([t])) for t in texts]
    }
    result: dict[str, float] = {}
    for name, run in {**runs, **one_by_one}.items():
        with timed() as t:
            run()
        result[name] = per_item_ms(t, len(texts))
    result["sum"] = round(sum(result[k] for k in runs), 3)
    return result


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def corpus_pages(base: str, n: int) -> list[tuple[str, str]]:
    """Return (url, html) of the measured pages, as the fetcher decodes them."""
    from tests.support.corpus import article_page

    return [
        (f"{base}/article/{i}?utm_source=rss&utm_medium=feed", article_page(i).decode()) for i in range(n)
    ]


def _top_functions(profile: cProfile.Profile, limit: int = 25) -> str:
    import io

    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the bench; return its figures (printed as JSON when run as a script)."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=200, help="distinct article pages (default 200)")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis-mode run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per mode, the median reported (default 3)"
    )
    parser.add_argument("--profile", help="write cProfile stats of the embedded new-article run here")
    parser.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return {}
    n = args.articles
    os.environ["INGEST_ALLOW_PRIVATE_NETWORKS"] = "1"
    # One host serves the whole corpus: the per-host politeness rate would make
    # this a bench of `time.sleep`.  The robots.txt and rate checks still run.
    os.environ["INGEST_HOST_RATE"] = "1000000"
    os.environ["INGEST_HOST_BURST"] = "1000000"
    log_to_devnull()
    profile = cProfile.Profile() if args.profile else None
    result: dict[str, Any] = {
        "articles": n,
        "cpu_clock": "time.process_time of this process; the HTTP server runs in a separate process",
    }
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp, corpus_server(n) as base:
        work = Path(tmp)
        # The Celery app reads these at import: its embedded broker folder goes here too.
        os.environ["INGEST_STATE_DIR"] = str(work / "celery")
        os.environ["INGEST_OUT_DIR"] = str(work / "celery-out")
        pages = corpus_pages(base, n)
        modes: list[tuple[str, str | None]] = [("embedded", None)]
        with redis_server() if not args.no_redis else nullcontext(None) as url:
            if url:
                modes.append(("redis", url))
            elif not args.no_redis:
                result["redis"] = None
            for mode, redis_url in modes:
                runs = []
                for r in range(args.rounds):
                    if redis_url:
                        _flush(redis_url)  # every round ingests the same corpus as new
                    folder = work / f"{mode}-{r}"
                    figures = run_mode(
                        base, n, folder, redis_url, profile if (mode, r) == ("embedded", 0) else None
                    )
                    # The bare libraries run right after each round, on the texts it emitted: the
                    # machine is shared, and adjacent measurements see the same load.
                    bare = bare_libraries(pages, emitted_texts(folder / "out"))
                    figures["bare_ms_per_article"] = bare
                    figures["ratio_to_bare"] = round(figures["cpu_ms_per_article"] / bare["sum"], 3)
                    runs.append(figures)
                # The median round: one busy minute on a shared machine moves a single round by 20 %.
                runs.sort(key=lambda f: f["ratio_to_bare"])
                result[mode] = {
                    **runs[len(runs) // 2],
                    "ratio_every_round": [f["ratio_to_bare"] for f in runs],
                }
    result["bare_ms_per_article"] = result["embedded"]["bare_ms_per_article"]
    result["goals"] = {"ratio_to_bare": GOAL_OVERHEAD, "duplicate_ratio": GOAL_DUPLICATE}
    if profile is not None:
        profile.dump_stats(args.profile)
        result["profile"] = args.profile
        print(_top_functions(profile), file=sys.stderr)
    return result


if __name__ == "__main__":
    figures = main()
    if figures:
        print(json.dumps(figures, indent=2))
