"""
Score the keyword methods against publisher-given tags: recall of the tags among each method's top 10.

The pages: those of `../shared/data/metadata-dev` with `tags` in `expected.jsonl`
and those of `bench/labels/extraction-dev.jsonl` with visible tags (pages of
`../shared/data/extraction-dev`).  Each page is cleaned with `clean_html`
and its language detected, as the pipeline does; for a language NER reads
(`INGEST_NER_LANGUAGES`) the fast method gets the NER document, as in the
pipeline.  A tag and a phrase match when they are equal once case-folded
with punctuation read as spaces (`strict`); `loose` also counts a tag found
word for word inside a phrase or a phrase inside a tag.  CPU ms per article
are the keyword call's alone (NER is not counted: the pipeline runs it anyway).

    .venv/bin/python bench/eval_keywords.py [--verbose]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
LABELS = ROOT / "bench" / "labels" / "extraction-dev.jsonl"
TOP = 10
_PUNCT = re.compile(r"[\W_]+")


def norm(phrase: str) -> str:
    """Case-fold, read punctuation as spaces, collapse spaces."""
    return " ".join(_PUNCT.sub(" ", phrase.casefold()).split())


def tagged_pages(shared: Path) -> list[dict[str, Any]]:
    """Return {set, name, url, html, tags} of every page that has publisher tags."""
    from trafilatura.utils import decode_file

    from bench.eval_extraction import load, page_bytes

    pages = []
    for line in (shared / "metadata-dev" / "expected.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        if rec.get("tags"):
            html = gzip.decompress(
                (shared / "metadata-dev" / "pages" / f"{rec['name']}.html.gz").read_bytes()
            )
            pages.append(
                {
                    "set": "metadata-dev",
                    "name": rec["name"],
                    "url": rec["url"],
                    "html": html.decode(),
                    "tags": rec["tags"],
                }
            )
    labels = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]
    evaldata, files = load(shared / "extraction-dev")
    url_of = {item["file"]: url for url, item in evaldata.items()}
    for label in labels:
        if not label.get("tags"):
            continue
        name = label["file"].split("/", 1)[1]
        raw = page_bytes(files, name)
        if raw is not None:
            pages.append(
                {
                    "set": "labels",
                    "name": name,
                    "url": url_of.get(name, label.get("url", "")),
                    "html": decode_file(raw),
                    "tags": label["tags"],
                }
            )
    return pages


def prepare(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clean each page, detect its language and run NER where the pipeline would."""
    from worker import config
    from worker.process.clean.html import clean_html
    from worker.process.enrich.entities import load_nlp, ner_docs
    from worker.process.enrich.language import detect_language

    settings = config.load()
    for page in pages:
        ex = clean_html(page["html"], page["url"])
        page.update(text=ex.text, title=ex.title, language=detect_language(ex.text), doc=None)
    need = [p for p in pages if p["language"] in settings.ner_languages and p["text"].strip()]
    if need:
        nlp = load_nlp(settings.spacy_model, keep=("ner",))
        for page, doc in zip(need, ner_docs(nlp, [p["text"] for p in need]), strict=True):
            page["doc"] = doc
    return pages


def score(pages: list[dict[str, Any]], method: Callable[[dict[str, Any]], list[str]]) -> dict[str, Any]:
    """Return strict and loose tag recall (overall and per language) and CPU ms per page of a method."""
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # strict, loose, tags
    cpu = 0.0
    for page in pages:
        started = time.process_time()
        phrases = [norm(k) for k in method(page)[:TOP]]
        cpu += time.process_time() - started
        padded = [f" {k} " for k in phrases if k]
        for tag in {norm(t) for t in page["tags"]} - {""}:
            strict = tag in phrases
            loose = strict or any(f" {tag} " in k or k in f" {tag} " for k in padded)
            for key in ("all", page["language"] or "unknown"):
                hits[key][0] += strict
                hits[key][1] += loose
                hits[key][2] += 1
    return {
        "strict": round(hits["all"][0] / max(hits["all"][2], 1), 3),
        "loose": round(hits["all"][1] / max(hits["all"][2], 1), 3),
        "tags": hits["all"][2],
        "cpu_ms_per_page": round(cpu * 1000 / max(len(pages), 1), 2),
        "by_language": {
            lang: {"strict": round(h[0] / h[2], 3), "loose": round(h[1] / h[2], 3), "tags": h[2]}
            for lang, h in sorted(hits.items(), key=lambda kv: -kv[1][2])
            if lang != "all"
        },
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Score both methods; return the figures (printed as a table when run as a script)."""
    from worker.process.enrich.keywords import extract_keywords

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="print each page's tags and phrases")
    args = parser.parse_args(argv)
    shared = Path(os.environ.get("INGEST_SHARED_DATA") or SHARED)
    pages = prepare(tagged_pages(shared))
    methods: dict[str, Callable[[dict[str, Any]], list[str]]] = {
        "yake": lambda p: extract_keywords(p["text"], p["language"], method="yake"),
        "fast": lambda p: extract_keywords(p["text"], p["language"], title=p["title"], doc=p["doc"]),
    }
    # Stop-word lists and extractors load once per language, outside the figures.
    first = {p["language"]: p for p in pages}
    for method in methods.values():
        for page in first.values():
            method(page)
    result: dict[str, Any] = {"pages": len(pages), "top": TOP}
    for name, method in methods.items():
        result[name] = score(pages, method)
    if args.verbose:
        for page in pages:
            print(page["language"], sorted(norm(t) for t in page["tags"]))
            for name, method in methods.items():
                print(f"  {name:<5}", method(page)[:TOP])
    return result


def print_table(result: dict[str, Any]) -> None:
    """Print the scores, one line per method and one per language."""
    print(f"keyword agreement with publisher tags, top {result['top']}, {result['pages']} pages")
    print(f"  {'method':<8}{'strict':>8}{'loose':>8}{'tags':>6}{'CPU ms':>8}")
    for name in ("yake", "fast"):
        r = result[name]
        print(f"  {name:<8}{r['strict']:>8.3f}{r['loose']:>8.3f}{r['tags']:>6}{r['cpu_ms_per_page']:>8.2f}")
    print("  by language (strict, loose), yake | fast:")
    for lang, y in result["yake"]["by_language"].items():
        f = result["fast"]["by_language"][lang]
        print(
            f"    {lang:<8}{y['tags']:>4} tags  {y['strict']:.3f} {y['loose']:.3f}"
            f" | {f['strict']:.3f} {f['loose']:.3f}"
        )


if __name__ == "__main__":
    print_table(main())
