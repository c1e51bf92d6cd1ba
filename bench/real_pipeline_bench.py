"""
Measure the pipeline on real English news pages, stage by stage, against the bare libraries it calls.

The English pages of the extraction development set (`../shared/data/extraction-dev`,
or `INGEST_EVAL_DIR`) are served from 127.0.0.1 by a *child process* behind an
RSS feed, each under a path that keeps its original host and path (so a date
in the URL is still there for trafilatura), and ingested through the real path:
`poll_source`, one `fetch_article` per entry, one `process_items` per fetched
page, each run by Celery's `Task.apply` in this process and drained by
`worker.app.ingest.drain`, as `python -m worker ingest URL --jobs 1` does.  Every CPU
figure is `time.process_time()` of this process, so the server's CPU never
counts; fetching, the feed parse, Celery, the state store, the sinks and
logging (rendered to /dev/null) do.

Per stage, CPU ms per new article come from timers put around the functions
the pipeline calls (`STAGES`): clean (trafilatura, the readability fallback,
page-type rules, chrome learning), dedupe (content hash, near-duplicate
signature, the claims), enrich (NER, keywords, language, the rest of the
record), sinks; `other` is what is left (Celery, the drain, mark-done,
logging).  Right after each round the bare libraries run on the same pages
and texts: trafilatura with the options `clean_html` passes, spaCy NER on the
full text of the English records (the configured model, NER only), py3langid
on what `detect_language` reads, and YAKE when it is the configured keyword
method.  A first, warm-up round is reported apart; each measured round's
baseline is the mean of the bare runs just before and just after it
(`bracketed`).  `x bare` is the pipeline's CPU per article over their sum.

After the measured feed, in the same state, the same links under another feed and
byte-identical copies of the pages under new links give the CPU of a duplicate of
each kind, against the round's CPU per new article.

Then `python -m worker ingest FEED --jobs N` runs as a subprocess for N = 1
and N = the number of cores, each on fresh state: the wall rate counts from
the end of start-up (models loaded) to the last article; the resident memory
of each worker process is sampled from /proc.  Each part runs `--rounds`
times and the median is reported.  The cleaning breakdown times what
`extensive_search` date search, the readability fallback and page-type
detection each cost on the same pages.

Run it alone with `.venv/bin/python bench/real_pipeline_bench.py [--rounds N] [--limit N]`.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import log_to_devnull, server_child  # noqa: E402 - after the path is set

DATA_DIR = ROOT.parent / "shared" / "data" / "extraction-dev"
# Pages of the warm-up feed (model loading, connections, imports), left out of the figures.
WARM_PAGES = 4
# Goals of issue 11.
GOAL_CPU_MS = 120.0
GOAL_RATIO = 1.15
GOAL_JOBS_SPEEDUP = 1.7
GOAL_DUPLICATE_RATIO = 0.1
# Where the byte-identical copies of the pages are served (new links, same pages).
COPY_PREFIX = "/copy"

# (module, attribute, stage): the functions timed during the measured ingest.  A
# stage whose function is gone (renamed) is reported as missing, never guessed.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("worker.poll.feed", "poll_feed", "poll"),
    ("worker.fetch.article", "fetch_article", "fetch"),
    ("worker.process.pipeline", "Pipeline.process", "process"),
    ("worker.process.pipeline", "Pipeline._clean_and_dedupe", "clean_and_dedupe"),
    ("worker.process.pipeline", "clean", "clean"),
    ("worker.process.pipeline", "Pipeline._remove_learned_chrome", "chrome"),
    ("worker.process.pipeline", "Pipeline._enrich", "enrich"),
    ("worker.process.pipeline", "ner_docs", "ner"),
    ("worker.process.pipeline", "entities_from_doc", "entities"),
    ("worker.process.pipeline", "extract_keywords", "keywords"),
    ("worker.process.pipeline", "detect_language", "language"),
    ("worker.delivery.jsonl", "JsonlSink.write", "sinks"),
)


# -- the pages ---------------------------------------------------------------------


def load_pages(data_dir: Path) -> list[tuple[str, str]]:
    """Return (original URL, decoded HTML) of every page of the set, read straight from the archive."""
    from trafilatura.utils import decode_file

    from bench.eval_extraction import load, page_bytes

    evaldata, files = load(data_dir)
    pages = []
    for url, item in evaldata.items():
        raw = page_bytes(files, item["file"])
        if raw is not None:
            pages.append((url, decode_file(raw)))
    return pages


def quick_language(html: str) -> str | None:
    """
    Return the project's language of a page's `<p>` text.

    Cheap next to a full extraction, and the same as the cleaned text's on 985 of the 990 pages.
    """
    from lxml import html as lxml_html
    from lxml.etree import ParserError, XMLSyntaxError

    from worker.process.enrich.language import detect_language

    try:
        tree = lxml_html.fromstring(html.encode() if html.lstrip().startswith("<?xml") else html)
    except (ParserError, XMLSyntaxError, ValueError):
        return None
    return detect_language(" ".join(p.text_content() for p in tree.iter("p")))


def local_path(url: str, taken: set[str]) -> str:
    """Return the page's path on the bench server: `/<host><path>`, so a date in the URL survives."""
    parts = urlsplit(url)
    path = "/" + parts.netloc + (parts.path or "/")
    path = re.sub(r"[^A-Za-z0-9/._~%-]", "-", path)
    while path in taken:
        path += "-"
    taken.add(path)
    return path


def english_pages(data_dir: Path, limit: int | None) -> list[dict[str, str]]:
    """Return the English pages as {path, html}, in the set's order."""
    taken: set[str] = set()
    pages = [
        {"path": local_path(url, taken), "html": html}
        for url, html in load_pages(data_dir)
        if quick_language(html) == "en"
    ]
    return pages[: limit + WARM_PAGES] if limit else pages


# -- the server (a child process) -----------------------------------------------------


def rss(base: str, paths: list[str]) -> bytes:
    """Return an RSS 2.0 feed linking to these pages, titles only (so every page is fetched)."""
    from xml.sax.saxutils import escape

    items = "".join(
        f"<item><title>Article {i}</title><link>{escape(base + p)}</link>"
        f"<guid isPermaLink='false'>page-{i}</guid></item>\n"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Real pages</title>'
        f"<link>{base}/</link><description>bench</description>{items}</channel></rss>"
    ).encode()


def serve(pages_file: str) -> None:
    """Serve the pages and their feeds (keep-alive), print the port, stop when stdin closes."""
    from tests.integration.httpserver import HTTPTestServer, static

    pages = json.loads(Path(pages_file).read_text("utf-8"))
    with HTTPTestServer(keep_alive=True) as server:
        base = server.url("").rstrip("/")
        paths = [p["path"] for p in pages]
        feed_type = "application/rss+xml"
        server.route("/warm.xml", static(rss(base, paths[:WARM_PAGES]), content_type=feed_type))
        server.route("/feed.xml", static(rss(base, paths[WARM_PAGES:]), content_type=feed_type))
        # Duplicates: the same links under another feed, and the same pages under new links.
        server.route("/again.xml", static(rss(base, paths[WARM_PAGES:]), content_type=feed_type))
        copies = [COPY_PREFIX + path for path in paths[WARM_PAGES:]]
        server.route("/copies.xml", static(rss(base, copies), content_type=feed_type))
        for p in pages:
            body = p["html"].encode()
            server.route(p["path"], static(body, content_type="text/html; charset=utf-8"))
            server.route(COPY_PREFIX + p["path"], static(body, content_type="text/html; charset=utf-8"))
        print(server.port, flush=True)
        sys.stdin.read()


# -- timing ---------------------------------------------------------------------------


def _resolve(module: str, attr: str) -> tuple[Any, str] | None:
    import importlib

    owner: Any = importlib.import_module(module)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return (owner, name) if hasattr(owner, name) else None


@contextmanager
def stage_timers() -> Iterator[tuple[Counter[str], list[str]]]:
    """Time each function of `STAGES`; yield the CPU seconds per stage and the functions not found."""
    spent: Counter[str] = Counter()
    missing: list[str] = []
    patched: list[tuple[Any, str, Any]] = []

    def timer(fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] += time.process_time() - started

        return timed

    for module, attr, stage in STAGES:
        found = _resolve(module, attr)
        if found is None:
            missing.append(f"{module}.{attr}")
            continue
        owner, name = found
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        patched.append((owner, name, original))
        setattr(owner, name, timer(getattr(owner, name), stage))
    try:
        yield spent, missing
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def per_stage(spent: Counter[str], total_s: float, n: int) -> dict[str, float]:
    """Return CPU ms per article of each stage, the nested ones taken out of their parents."""

    def ms(s: float) -> float:
        return round(s * 1000 / max(n, 1), 2)

    clean = spent["clean"] + spent["chrome"]
    ner = spent["ner"] + spent["entities"]
    enrich_rest = spent["enrich"] - ner - spent["keywords"] - spent["language"]
    process_rest = spent["process"] - spent["clean_and_dedupe"] - spent["enrich"] - spent["sinks"]
    return {
        "clean": ms(spent["clean"]),
        "chrome": ms(spent["chrome"]),
        "dedupe": ms(spent["clean_and_dedupe"] - clean),
        "ner": ms(ner),
        "keywords": ms(spent["keywords"]),
        "language": ms(spent["language"]),
        "record_rest": ms(enrich_rest),
        "sinks": ms(spent["sinks"]),
        "process_rest": ms(process_rest),
        "fetch": ms(spent["fetch"]),
        "poll": ms(spent["poll"]),
        "celery_and_drain": ms(total_s - spent["process"] - spent["fetch"] - spent["poll"]),
        "total": ms(total_s),
    }


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Return the resident (RSS) and proportional (PSS, shared pages split) memory of a process, in MB."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"Rss", "Pss"}:
                out[key.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


# -- one round through the tasks, in this process --------------------------------------


def ingest(feed_url: str, name: str) -> Counter[str]:
    """Run one feed through the tasks in this process, exactly as `worker ingest URL` does."""
    from worker import dispatch
    from worker.app.ingest import drain
    from worker.sources.spec import resolve

    local = dispatch.LocalDispatcher()
    local.send(dispatch.TASK_POLL, resolve(feed_url, name=name).to_dict())
    run = drain(local, progress=False)
    if run.errors:
        raise RuntimeError(f"ingest of {feed_url} failed: {run.errors}")
    return run.counts


def records(out_dir: Path) -> list[dict[str, Any]]:
    """Return the measured records (not the warm-up ones)."""
    found = []
    for f in sorted(out_dir.glob("*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            rec = json.loads(line)
            if rec["source"]["name"] == "bench":
                found.append(rec)
    return found


def duplicate_cost(feed_url: str, name: str) -> dict[str, Any]:
    """
    Ingest a feed of articles already in, as the worker sees them again; return CPU ms per duplicate.

    `again.xml` links the same pages under another feed (caught by the article
    id: no fetch); `copies.xml` links byte-identical copies under new links
    (each fetched, then caught by the raw page's hash before any cleaning).
    """
    cpu0 = time.process_time()
    counts = ingest(feed_url, name)
    cpu_s = time.process_time() - cpu0
    dups = counts["duplicate"]
    return {"counts": dict(counts), "cpu_ms_per_duplicate": round(cpu_s * 1000 / max(dups, 1), 2)}


def warm_date_parser() -> float:
    """
    Load dateparser's locales, as the first page needing htmldate's extensive search does; return CPU ms.

    It happens once per process (about a second of CPU), wherever the first
    such page falls, so it is counted as start-up, not charged to one round's articles.
    """
    from htmldate.extractors import external_date_parser

    started = time.process_time()
    # Matches no locale, so every locale is loaded and tried.
    external_date_parser("zz 31 qq", "%Y-%m-%d")
    return round((time.process_time() - started) * 1000, 1)


def reset_caches() -> None:
    """
    Empty trafilatura's and htmldate's caches of strings seen (dates, lines), which these same pages filled.

    Every round and every bare run starts with them empty, so each sees the
    pages for the first time, as the worker does.
    """
    from trafilatura.meta import reset_caches as reset

    reset()


def one_round(base: str, work: Path) -> dict[str, Any]:
    """Ingest the warm-up feed, then the measured one with stage timers; return the figures and records."""
    from worker import config
    from worker.app import runtime

    settings = config.load().with_(
        state_dir=work / "state", out_dir=work / "out", allow_private_networks=True
    )
    runtime.use_settings(settings)
    try:
        ingest(f"{base}/warm.xml", "warm")
        startup_dateparser_ms = warm_date_parser()
        memory_before = rss_mb()
        reset_caches()
        # As `ingest` does once the models are loaded (the warm-up feed loaded them here).
        runtime.freeze_heap()
        with stage_timers() as (spent, missing):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            counts = ingest(f"{base}/feed.xml", "bench")
            cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        duplicates = {
            "seen_url": duplicate_cost(f"{base}/again.xml", "bench-again"),
            "same_content": duplicate_cost(f"{base}/copies.xml", "bench-copies"),
        }
    finally:
        runtime.reset()
        gc.unfreeze()
    n = counts["new"]
    new_ms = cpu_s * 1000 / max(n, 1)
    for figures in duplicates.values():
        figures["ratio"] = round(figures["cpu_ms_per_duplicate"] / new_ms, 3)
    return {
        "duplicates": duplicates,
        "counts": dict(counts),
        "articles_per_s": round(n / wall_s, 2),
        "cpu_ms_per_article": round(new_ms, 2),
        "stages_ms": per_stage(spent, cpu_s, n),
        "stages_missing": missing,
        "startup_dateparser_ms": startup_dateparser_ms,
        "memory_before": memory_before,
        "memory_after": rss_mb(),
        "records": records(work / "out"),
    }


# -- the bare libraries -------------------------------------------------------------------


def bare_libraries(base: str, pages: list[dict[str, str]], recs: list[dict[str, Any]]) -> dict[str, float]:
    """Return CPU ms per new article of each bare library on the same pages and texts."""
    import trafilatura
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from worker import config
    from worker.process.clean.html import trafilatura_options, trafilatura_reading
    from worker.process.enrich import language
    from worker.process.enrich.entities import load_nlp

    settings = config.load()
    nlp = load_nlp(settings.spacy_model, keep=("ner",))
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    now = datetime.now(UTC)
    texts = [r["text"] for r in recs]
    ner_texts = [r["text"] for r in recs if r.get("language") in settings.ner_languages]

    runs: dict[str, Callable[[], object]] = {
        # What `clean_html` asks of trafilatura on every page (`trafilatura_reading`): its text, and
        # its reading of the metadata the page states.  Its date and byline searches, run only
        # where the resolver finds neither, count as the pipeline's own.
        "trafilatura": lambda: [
            trafilatura_reading(trafilatura.load_html(p["html"]), base + p["path"], now) for p in pages
        ],
        # The baseline of earlier stops, when the pipeline asked trafilatura for its whole metadata
        # (`with_metadata=True`, its date and byline searches on every page): not in the sum.
        "trafilatura_with_metadata": lambda: [
            trafilatura.bare_extraction(p["html"], url=base + p["path"], **trafilatura_options(now))
            for p in pages
        ],
        # One text a call, as the feed path hands NER one article per task.
        "spacy_ner": lambda: [nlp(t) for t in ner_texts],
        "py3langid": lambda: [identifier.rank(t[: language.MAX_CHARS]) for t in texts],
    }
    if getattr(settings, "keywords", "yake") == "yake":
        import yake

        extractor = yake.KeywordExtractor(lan="en", n=2, top=30)
        runs["yake"] = lambda: [extractor.extract_keywords(t[:20_000]) for t in texts]
    result: dict[str, float] = {}
    for name, run in runs.items():
        reset_caches()
        started = time.process_time()
        run()
        result[name] = round((time.process_time() - started) * 1000 / max(len(recs), 1), 2)
    result["sum"] = round(sum(v for k, v in result.items() if k != "trafilatura_with_metadata"), 2)
    return result


def ner_batch_16(recs: list[dict[str, Any]]) -> float:
    """Return CPU ms per new article of the bare NER in `nlp.pipe` batches of 16 (archives send batches)."""
    from worker import config
    from worker.process.enrich.entities import load_nlp

    settings = config.load()
    nlp = load_nlp(settings.spacy_model, keep=("ner",))
    texts = [r["text"] for r in recs if r.get("language") in settings.ner_languages]
    started = time.process_time()
    list(nlp.pipe(texts, batch_size=16))
    return round((time.process_time() - started) * 1000 / max(len(recs), 1), 2)


# -- `ingest --jobs N` as a subprocess -------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def schedstat(pid: int) -> tuple[float, float] | None:
    """Return a process's CPU seconds and its seconds runnable but waiting for a core (schedstat)."""
    try:
        cpu_ns, wait_ns, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(cpu_ns) / 1e9, int(wait_ns) / 1e9


def run_jobs(source: str, jobs: int, work: Path) -> dict[str, Any]:
    """Run `python -m worker ingest SOURCE --jobs N` on fresh state; return its rate, CPU and memory."""
    env = {
        **os.environ,
        "INGEST_STATE_DIR": str(work / "state"),
        "INGEST_OUT_DIR": str(work / "out"),
        "INGEST_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "worker", "ingest", source, "--jobs", str(jobs), "--json", "--quiet"]
    before = os.times()
    wall0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    memory: dict[int, list[dict[str, float]]] = {}
    sched: dict[int, tuple[float, float]] = {}
    # The parent's memory once it forked its workers (its models are loaded by then).
    parent_memory: list[dict[str, float]] = []
    while proc.poll() is None:
        children = _children(proc.pid)
        for pid in [proc.pid, *children]:
            sample = rss_mb(pid)
            if sample:
                memory.setdefault(pid, []).append(sample)
                if pid == proc.pid and children:
                    parent_memory.append(sample)
            if (times := schedstat(pid)) is not None:
                sched[pid] = times
        time.sleep(0.25)
    out, err = proc.communicate()
    wall_s = time.perf_counter() - wall0
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"ingest --jobs {jobs} exited {proc.returncode}: {err.strip()[-500:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    n = summary["new"]
    cpu_s = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    # Worker processes: the children (all of them when N > 1, the process itself when N = 1).
    workers = [pid for pid in memory if pid != proc.pid] or [proc.pid]
    elapsed = summary.get("elapsed_s") or wall_s
    return {
        "jobs": jobs,
        "new": n,
        "articles_per_s": round(n / elapsed, 2),
        "articles_per_s_with_startup": round(n / wall_s, 2),
        "cpu_ms_per_article": round(cpu_s * 1000 / max(n, 1), 2),
        # CPU of every process of the run over what N cores give in its wall time, start-up included.
        "cores_busy": round(cpu_s / (wall_s * jobs), 3),
        "memory_mb": [
            {"start": memory[pid][0], "end": memory[pid][-1]} for pid in workers if memory.get(pid)
        ],
        "parent_memory_mb": (
            {"start": parent_memory[0], "end": parent_memory[-1]} if jobs > 1 and parent_memory else None
        ),
        # Last samples (a quarter second before each exit, at most): CPU and waiting for a core, seconds.
        "workers_cpu_s": [round(sched[pid][0], 2) for pid in workers if pid in sched],
        "workers_runqueue_wait_s": [round(sched[pid][1], 2) for pid in workers if pid in sched],
    }


# -- what cleaning spends where -----------------------------------------------------------------


def cleaning_breakdown(base: str, pages: list[dict[str, str]]) -> dict[str, Any]:
    """Time the extensive date search, the readability fallback, page-type detection and the rest."""
    import trafilatura

    from worker.process.clean import html as clean_module
    from worker.process.clean.html import clean_html, trafilatura_options

    now = datetime.now(UTC)
    n = len(pages)

    def ms(seconds: float) -> float:
        return round(seconds * 1000 / max(n, 1), 2)

    result: dict[str, Any] = {"pages": n}
    dates: dict[bool, list[Any]] = {}
    # On, off, off, on: a load that drifts during the passes weighs on both alike.
    spent_s: dict[bool, list[float]] = {True: [], False: []}
    for extensive in (True, False, False, True):
        options = trafilatura_options(now)
        options["date_extraction_params"] = {
            **options["date_extraction_params"],
            "extensive_search": extensive,
        }
        reset_caches()
        started = time.process_time()
        found = [trafilatura.bare_extraction(p["html"], url=base + p["path"], **options) for p in pages]
        spent_s[extensive].append(time.process_time() - started)
        dates[extensive] = [getattr(f, "date", None) for f in found]
    for extensive, label in ((True, "on"), (False, "off")):
        result[f"trafilatura_extensive_{label}_ms"] = ms(sum(spent_s[extensive]) / 2)
    result["extensive_search_ms"] = round(
        result["trafilatura_extensive_on_ms"] - result["trafilatura_extensive_off_ms"], 2
    )
    result["dates_differ_without_extensive"] = sum(
        a != b for a, b in zip(dates[True], dates[False], strict=True)
    )
    result["dates_found"] = {
        "on": sum(d is not None for d in dates[True]),
        "off": sum(d is not None for d in dates[False]),
    }
    # What `clean_html` calls besides trafilatura, by the names it calls them (a name gone is reported).
    parts = {
        "readability": ("_readability_paragraphs",),
        "page_type": ("not_article_reason", "_teaser_count"),
        "anchors": ("_anchor_texts",),
        # The page's one parse: trafilatura reads the tree it gives (bare trafilatura parses itself).
        "parse": ("load_html",),
        "body_rules": ("clean_paragraphs",),
        "structured_data": ("read_page",),
        # trafilatura's reading of the stated metadata (its date and byline searches run in the resolver).
        "library_metadata": ("LibraryMetadata",),
        "metadata_resolver": ("resolve",),
        "lead": ("_with_lead",),
    }
    spent: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    originals: dict[str, Any] = {}
    for part, names in parts.items():
        for name in names:
            fn = getattr(clean_module, name, None)
            if fn is None:
                result.setdefault("missing", []).append(name)
                continue
            originals[name] = fn

            def timed(*args: Any, _fn: Any = fn, _part: str = part, **kwargs: Any) -> Any:
                started = time.process_time()
                try:
                    return _fn(*args, **kwargs)
                finally:
                    spent[_part] += time.process_time() - started
                    calls[_part] += 1

            setattr(clean_module, name, timed)
    try:
        reset_caches()
        started = time.process_time()
        extracted = [clean_html(p["html"], base + p["path"], now=now) for p in pages]
        result["clean_html_ms"] = ms(time.process_time() - started)
    finally:
        for name, fn in originals.items():
            setattr(clean_module, name, fn)
    for part in parts:
        result[f"{part}_ms"] = ms(spent[part])
    result["readability_calls"] = calls["readability"]
    result["readability_chosen"] = sum(e.extra.get("extractor") == "readability" for e in extracted)
    if calls["readability"]:
        result["readability_ms_per_call"] = round(spent["readability"] * 1000 / calls["readability"], 2)
    return result


# -- main ----------------------------------------------------------------------------------------


def bracketed(cpu_ms: float, before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """
    Return a round's baseline, the mean of the bare runs just before and just after it, and its ratios.

    This machine's speed drifts by several per cent within a minute; a baseline
    measured on one side of the round only carries that drift into the ratio,
    the mean of both sides cancels a steady one.  The ratio to the run after
    alone (how earlier stops measured) is given beside it.
    """
    bare = {k: round((before[k] + after[k]) / 2, 2) for k in after}
    figures: dict[str, Any] = {
        "bare_ms_per_article": bare,
        "bare_before_and_after_sum": [before["sum"], after["sum"]],
        "ratio_to_bare": round(cpu_ms / bare["sum"], 3),
        "ratio_to_bare_after": round(cpu_ms / after["sum"], 3),
    }
    if "trafilatura_with_metadata" in bare:
        # Against the libraries as earlier stops called them (trafilatura's whole metadata search).
        whole = bare["sum"] - bare["trafilatura"] + bare["trafilatura_with_metadata"]
        figures["ratio_to_bare_with_metadata"] = round(cpu_ms / whole, 3)
    return figures


def median_round(rounds: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Return the round with the median `key`."""
    ordered = sorted(rounds, key=lambda r: r[key])
    return ordered[len(ordered) // 2]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the bench; return its figures (printed as JSON when run as a script)."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each part, the median reported")
    parser.add_argument("--limit", type=int, help="measure only the first N English pages")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="N of the `--jobs N` run")
    parser.add_argument("--skip-jobs", action="store_true", help="skip the `ingest --jobs` runs")
    parser.add_argument("--skip-cleaning", action="store_true", help="skip the cleaning breakdown")
    parser.add_argument(
        "--skip-in-process", action="store_true", help="skip the stage-by-stage rounds (not for run.py)"
    )
    parser.add_argument("--serve", metavar="PAGES_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return {}
    data_dir = Path(os.environ.get("INGEST_EVAL_DIR") or DATA_DIR)
    if not (data_dir / "pages.tar.gz").is_file():
        raise SystemExit(f"extraction set not found in {data_dir}")
    os.environ["INGEST_ALLOW_PRIVATE_NETWORKS"] = "1"
    # One host serves every page: the per-host rate would make this a bench of `time.sleep`.
    os.environ["INGEST_HOST_RATE"] = "1000000"
    os.environ["INGEST_HOST_BURST"] = "1000000"
    log_to_devnull()
    load_before = os.getloadavg()
    pages = english_pages(data_dir, args.limit)
    measured = pages[WARM_PAGES:]
    result: dict[str, Any] = {
        "pages": len(measured),
        "cpu_clock": "time.process_time of this process; the HTTP server is a separate process",
        "load_average_at_start": [round(x, 2) for x in load_before],
        "cores": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp:
        work = Path(tmp)
        os.environ["INGEST_STATE_DIR"] = str(work / "celery")
        os.environ["INGEST_OUT_DIR"] = str(work / "celery-out")
        pages_file = work / "pages.json"
        pages_file.write_text(json.dumps(pages), "utf-8")
        with server_child(Path(__file__).resolve(), "--serve", str(pages_file)) as base:
            rounds: list[dict[str, Any]] = []
            bare_runs: list[dict[str, float]] = []
            # A first round warms the process up (its heap grows to its working size) and gives
            # the texts the bare libraries read before the first measured round; then each
            # measured round is bracketed by bare runs, the one before it and the one after.
            for r in range(0 if args.skip_in_process else args.rounds + 1):
                figures = one_round(base, work / f"round-{r}")
                recs = figures.pop("records")
                bare_runs.append(bare_libraries(base, measured, recs))
                if r == 0:
                    result["warm_up_round"] = {
                        "cpu_ms_per_article": figures["cpu_ms_per_article"],
                        "ratio_to_bare_after": round(figures["cpu_ms_per_article"] / bare_runs[0]["sum"], 3),
                        "memory_after": figures["memory_after"],
                    }
                    continue
                figures.update(bracketed(figures["cpu_ms_per_article"], bare_runs[-2], bare_runs[-1]))
                figures["bare_spacy_ner_batch_16_ms"] = ner_batch_16(recs)
                figures["languages"] = dict(Counter(r.get("language") for r in recs))
                rounds.append(figures)
            if rounds:
                result["in_process"] = {
                    **median_round(rounds, "ratio_to_bare"),
                    "ratio_every_round": [r["ratio_to_bare"] for r in rounds],
                    "ratio_to_bare_after_every_round": [r["ratio_to_bare_after"] for r in rounds],
                    "cpu_ms_every_round": [r["cpu_ms_per_article"] for r in rounds],
                    "bare_sum_every_run": [b["sum"] for b in bare_runs],
                    "memory_after_every_round": [r["memory_after"] for r in rounds],
                    "duplicate_ratio_every_round": {
                        kind: [r["duplicates"][kind]["ratio"] for r in rounds]
                        for kind in ("seen_url", "same_content")
                    },
                }
            if not args.skip_jobs:
                result["jobs"] = jobs_figures(f"{base}/feed.xml", work / "feed", args.jobs, args.rounds)
                # The same pages as files: an archive, read in chunks, no fetching.
                folder = work / "folder"
                folder.mkdir()
                for i, page in enumerate(measured):
                    (folder / f"page-{i:04d}.html").write_text(page["html"], "utf-8")
                result["jobs_folder"] = jobs_figures(
                    str(folder), work / "folder-runs", args.jobs, args.rounds
                )
            if not args.skip_cleaning:
                result["cleaning"] = cleaning_breakdown(base, measured)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["goals"] = {
        "cpu_ms_per_article": GOAL_CPU_MS,
        "ratio_to_bare": GOAL_RATIO,
        "jobs_speedup": GOAL_JOBS_SPEEDUP,
        "duplicate_ratio": GOAL_DUPLICATE_RATIO,
    }
    return result


def _spin(loops: int) -> None:
    x = 0
    for i in range(loops):
        x += i * i


def machine_speedup(jobs: int, loops: int = 8_000_000) -> float:
    """
    Return how much faster N processes of pure Python arithmetic finish N units of work than 1 process 1 unit.

    On an idle machine with N cores this is N; other people's processes on
    the same cores make it less, and no program can beat it then: it is
    the ceiling against which `ingest --jobs N` is read.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    walls = {}
    for n in (1, jobs):
        procs = [context.Process(target=_spin, args=(loops,)) for _ in range(n)]
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        walls[n] = time.perf_counter() - started
    return round(jobs * walls[1] / walls[jobs], 2)


def jobs_figures(source: str, work: Path, jobs: int, rounds: int) -> dict[str, Any]:
    """Run `ingest SOURCE --jobs 1` and `--jobs N` alternately, `rounds` times; return the medians."""
    runs: dict[int, list[dict[str, Any]]] = {1: [], jobs: []}
    ceilings = []
    for r in range(rounds):
        ceilings.append(machine_speedup(jobs))
        for n in runs:
            runs[n].append(run_jobs(source, n, work / f"jobs-{n}-{r}"))
        ceilings.append(machine_speedup(jobs))
    out: dict[str, Any] = {
        str(n): {
            **median_round(rs, "articles_per_s"),
            "articles_per_s_every_round": [x["articles_per_s"] for x in rs],
            "cores_busy_every_round": [x["cores_busy"] for x in rs],
        }
        for n, rs in runs.items()
    }
    one = statistics.median(x["articles_per_s"] for x in runs[1])
    many = statistics.median(x["articles_per_s"] for x in runs[jobs])
    out["speedup"] = round(many / one, 2) if one else None
    out["speedup_every_round"] = [
        round(m["articles_per_s"] / o["articles_per_s"], 2) for o, m in zip(runs[1], runs[jobs], strict=True)
    ]
    out["machine_speedup"] = statistics.median(ceilings)
    out["machine_speedup_every_check"] = ceilings
    out["n"] = jobs
    return out


if __name__ == "__main__":
    figures = main()
    if figures:
        print(json.dumps(figures, indent=2))
