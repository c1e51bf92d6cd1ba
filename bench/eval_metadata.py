"""
Score `clean_html` against bare trafilatura, field by field, on the metadata sets.

Fourteen sets, each scored for both extractors in the same run:

* `labels`: our hand labels of extraction-dev pages (`bench/labels/extraction-dev.jsonl`);
* `fresh`: 70 more extraction-dev pages, labelled later on other hosts by people who had not seen
  the rules (`bench/labels/extraction-dev-fresh.jsonl`): how the rules carry over;
* `fresh2`: 50 more, on hosts neither set above covers, labelled the same way
  (`bench/labels/extraction-dev-fresh2.jsonl`);
* `fresh3`: pages of `metadata-dev/dates` labelled in full, title to tags, by new hands
  (`bench/labels/dates-fresh3.jsonl`): many languages and countries;
* `fresh4`: 40 more of those pages, labelled the same way after the rules changed for `fresh3`
  (`bench/labels/dates-fresh4.jsonl`);
* `fresh5`: 50 more, half extraction-dev and half `metadata-dev/dates`, labelled the same way
  after the rules changed for `fresh4` (`bench/labels/fresh5.jsonl`);
* `fresh6`: 28 more (3 extraction-dev, 25 dates), labelled after the rules changed for `fresh5`
  (`bench/labels/fresh6.jsonl`);
* `fresh7`: the last 5 news stories among the dates pages no set holds, labelled after the rules
  changed for `fresh6` (`bench/labels/fresh7.jsonl`);
* `fresh8`: 58 extraction-dev articles that are no news outlet's story (blog posts, magazine and
  guide articles, organisations' own news), labelled after the rules changed for `fresh7`
  (`bench/labels/fresh8.jsonl`);
* `fresh9`: 50 more articles of the same kind on hosts no set above covers, labelled after the rules
  changed for `fresh8` (`bench/labels/fresh9.jsonl`);
* `fresh10`: 50 more of the same kind, labelled after the rules changed for `fresh9`
  (`bench/labels/fresh10.jsonl`);
* `fresh11`: 50 more of the same kind, labelled after the rules changed for `fresh10`
  (`bench/labels/fresh11.jsonl`);
* `metadata-dev`: 63 pages with the expectations of goose3's and newspaper4k's tests;
* `dates`: `metadata-dev/dates`, 200 news pages of 2020 with their publication day.

Fields and how they are compared (a field is scored only where the set states it; n is printed):

* title: exact, after collapsing whitespace and Unicode NFC;
* authors: set F1, case-insensitive (an expected empty list scores 1 for an empty answer, else 0);
* published: the same minute in UTC where the expectation has a time and a stated zone, else
  the same day as the page shows it (the answer's own local date); the five pages of `dates`
  without a date expect none;
* tags: set F1, case-insensitive, as given (an expected empty list as for authors);
* text: F1 of word 4-grams (characters for scripts written without spaces); where the expectation
  is only a prefix of the text, the answer is cut to the same number of tokens first.

Bare trafilatura is `trafilatura.bare_extraction` with the options the project passes
(`trafilatura_options`), its tags being its `categories` and `tags` lists.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import re
import sys
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura
from dateutil import parser as date_parser
from dateutil.parser import UnknownTimezoneWarning
from trafilatura.utils import decode_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.eval_extraction import load, page_bytes  # noqa: E402
from worker.process.clean.html import clean_html, trafilatura_options  # noqa: E402
from worker.process.enrich.dates import to_utc_iso  # noqa: E402
from worker.process.enrich.tags import normalise_tag  # noqa: E402

DATA = REPO.parent / "shared" / "data"
LABELS = REPO / "bench" / "labels" / "extraction-dev.jsonl"
# Labelled later, by other hands, on hosts the first labels did not cover: a check that the rules
# carry over to pages they were not written against (see bench/labels/README.md).
FRESH_LABELS = REPO / "bench" / "labels" / "extraction-dev-fresh.jsonl"
FRESH2_LABELS = REPO / "bench" / "labels" / "extraction-dev-fresh2.jsonl"
# The pages of `metadata-dev/dates`, labelled in full (title, byline, time shown, tags) by new hands.
DATES_LABELS = REPO / "bench" / "labels" / "dates-fresh3.jsonl"
DATES4_LABELS = REPO / "bench" / "labels" / "dates-fresh4.jsonl"
FRESH5_LABELS = REPO / "bench" / "labels" / "fresh5.jsonl"
FRESH6_LABELS = REPO / "bench" / "labels" / "fresh6.jsonl"
FRESH7_LABELS = REPO / "bench" / "labels" / "fresh7.jsonl"
FRESH8_LABELS = REPO / "bench" / "labels" / "fresh8.jsonl"
FRESH9_LABELS = REPO / "bench" / "labels" / "fresh9.jsonl"
FRESH10_LABELS = REPO / "bench" / "labels" / "fresh10.jsonl"
FRESH11_LABELS = REPO / "bench" / "labels" / "fresh11.jsonl"
FIELDS = ("title", "authors", "published", "tags", "text")
# Scripts written without spaces between words: each character is a token.
_UNSPACED = r"\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")


@dataclass(frozen=True)
class Case:
    """One page and what is expected of it; a missing key is not scored."""

    name: str
    url: str
    html: str
    expected: dict[str, Any]


@dataclass
class Answer:
    """What one extractor said about one page."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    tags: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class Tally:
    """Sum and count of per-page scores of one field."""

    total: float = 0.0
    n: int = 0

    def mean(self) -> float:
        """Return the mean score, 0 when nothing was scored."""
        return self.total / self.n if self.n else 0.0


# --- the sets ----------------------------------------------------------------------------------


def label_cases(data_dir: Path, labels: Path = LABELS) -> Iterator[Case]:
    """Yield hand-labelled pages of extraction-dev (`eval/…`, `cache/…`) or of the dates set (`dates/…`)."""
    _, files = load(data_dir / "extraction-dev")
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        folder, name = row["file"].split("/", 1)
        if folder == "dates":
            pages = data_dir / "metadata-dev" / "dates" / "pages"
            raw = gzip.decompress((pages / f"{name}.html.gz").read_bytes())
        else:
            raw = page_bytes(files, name)
        if raw is None:
            continue
        expected: dict[str, Any] = {"title": row["title"], "authors": row["authors"], "tags": row["tags"]}
        if row["published"]:
            published = str(row["published"])
            expected["published"] = (published, len(published) > 10 and bool(row["tz_visible"]))
        yield Case(row["file"], row["url"], decode_file(raw), expected)


def metadata_cases(data_dir: Path) -> Iterator[Case]:
    """Yield the metadata-dev pages with what goose3's and newspaper4k's tests assert."""
    base = data_dir / "metadata-dev"
    for line in (base / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        html = gzip.decompress((base / "pages" / f"{row['name']}.html.gz").read_bytes()).decode("utf-8")
        expected: dict[str, Any] = {k: row[k] for k in ("title", "authors", "tags") if k in row}
        if "published" in row:
            expected["published"] = (row["published"], bool(row.get("published_has_time")))
        if "text" in row:
            expected["text"] = (row["text"], bool(row.get("text_is_prefix")))
        yield Case(row["name"], row["url"], html, expected)


def date_cases(data_dir: Path) -> Iterator[Case]:
    """Yield the 2020 news pages with their publication day."""
    base = data_dir / "metadata-dev" / "dates"
    for line in (base / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        raw = gzip.decompress((base / "pages" / f"{row['name']}.html.gz").read_bytes())
        # htmldate's file gives NaN for the few pages with no publication date: none is expected.
        day = row["published_date"] if isinstance(row["published_date"], str) else None
        expected = {"published": (day, False)}
        yield Case(row["name"], row["url"], decode_file(raw), expected)


SETS: dict[str, Callable[[Path], Iterator[Case]]] = {
    "labels": label_cases,
    "fresh": functools.partial(label_cases, labels=FRESH_LABELS),
    "fresh2": functools.partial(label_cases, labels=FRESH2_LABELS),
    "fresh3": functools.partial(label_cases, labels=DATES_LABELS),
    "fresh4": functools.partial(label_cases, labels=DATES4_LABELS),
    "fresh5": functools.partial(label_cases, labels=FRESH5_LABELS),
    "fresh6": functools.partial(label_cases, labels=FRESH6_LABELS),
    "fresh7": functools.partial(label_cases, labels=FRESH7_LABELS),
    "fresh8": functools.partial(label_cases, labels=FRESH8_LABELS),
    "fresh9": functools.partial(label_cases, labels=FRESH9_LABELS),
    "fresh10": functools.partial(label_cases, labels=FRESH10_LABELS),
    "fresh11": functools.partial(label_cases, labels=FRESH11_LABELS),
    "metadata-dev": metadata_cases,
    "dates": date_cases,
}


# --- the extractors ----------------------------------------------------------------------------


def project(case: Case, now: datetime) -> Answer:
    """Return what the project's cleaning finds."""
    ex = clean_html(case.html, case.url, now=now)
    return Answer(ex.title, list(ex.authors), ex.published, list(ex.tags), ex.text)


def bare(case: Case, now: datetime) -> Answer:
    """Return what trafilatura finds with the project's options."""
    found = trafilatura.bare_extraction(case.html, url=case.url, **trafilatura_options(now))
    if found is None:
        return Answer()
    meta = found if isinstance(found, dict) else found.as_dict()
    authors = [a.strip() for a in str(meta.get("author") or "").split(";") if a.strip()]
    tags = [str(t) for t in [*(meta.get("categories") or []), *(meta.get("tags") or [])]]
    return Answer(meta.get("title"), authors, meta.get("date"), tags, str(meta.get("text") or ""))


EXTRACTORS: dict[str, Callable[[Case, datetime], Answer]] = {"project": project, "trafilatura": bare}


# --- scoring -----------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def set_f1(expected: list[str], found: list[str], norm: Callable[[str], str]) -> float:
    """Return the F1 of two sets after `norm`; two empty sets agree."""
    want = {n for n in map(norm, expected) if n}
    got = {n for n in map(norm, found) if n}
    if not want and not got:
        return 1.0
    hits = len(want & got)
    if not hits:
        return 0.0
    precision, recall = hits / len(got), hits / len(want)
    return 2 * precision * recall / (precision + recall)


def tokens(text: str) -> list[str]:
    """Split text into case-folded words, or characters in scripts without spaces."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).casefold())


def ngram_f1(expected: str, found: str, *, prefix: bool, n: int = 4) -> float:
    """Return the F1 of word n-grams; a prefix expectation is matched against as many tokens."""
    want_tokens, got_tokens = tokens(expected), tokens(found)
    if prefix:
        got_tokens = got_tokens[: len(want_tokens)]
    size = min(n, len(want_tokens)) or 1
    want = Counter(zip(*(want_tokens[i:] for i in range(size)), strict=False))
    got = Counter(zip(*(got_tokens[i:] for i in range(size)), strict=False))
    hits = sum((want & got).values())
    if not hits:
        return 0.0
    precision, recall = hits / sum(got.values()), hits / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _parse(value: str) -> datetime | None:
    try:
        # Only the local day is read, so an unknown zone name does not matter.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownTimezoneWarning)
            return date_parser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None


def same_time(expected: str | None, found: str | None, *, minute: bool) -> float:
    """Score a date: the same UTC minute when `minute`, else the same local day; None expects none."""
    if expected is None or not found:
        return float(expected is None and not found)
    if not minute:
        parsed = _parse(found)
        return float(parsed is not None and parsed.date().isoformat() == expected[:10])
    if not re.search(r"\d{1,2}:\d{2}", found):
        return 0.0
    want, got = to_utc_iso(expected), to_utc_iso(found)
    return float(want is not None and got is not None and want[:16] == got[:16])


def score(case: Case, answer: Answer) -> dict[str, float]:
    """Return the score of each field the case states."""
    exp, out = case.expected, {}
    if "title" in exp:
        out["title"] = float(_clean(exp["title"]) == _clean(answer.title or ""))
    if "authors" in exp:
        out["authors"] = set_f1(exp["authors"], answer.authors, lambda a: _clean(a).casefold())
    if "published" in exp:
        value, minute = exp["published"]
        out["published"] = same_time(value, answer.published, minute=minute)
    if "tags" in exp:
        out["tags"] = set_f1(exp["tags"], answer.tags, normalise_tag)
    if "text" in exp:
        text, prefix = exp["text"]
        out["text"] = ngram_f1(text, answer.text, prefix=prefix)
    return out


# --- the run -----------------------------------------------------------------------------------


def _safe(extract: Callable[[Case, datetime], Answer], case: Case, now: datetime) -> Answer:
    try:
        return extract(case, now)
    # A crash on one page scores as an empty answer rather than ending the run.
    except Exception:
        return Answer()


def run_set(
    name: str, cases: Iterator[Case], now: datetime, dump: Any, limit: int | None
) -> dict[str, dict[str, Tally]]:
    """Score every case of one set with both extractors."""
    tallies = {e: {f: Tally() for f in FIELDS} for e in EXTRACTORS}
    for i, case in enumerate(cases):
        if limit is not None and i >= limit:
            break
        row: dict[str, Any] = {"set": name, "name": case.name, "url": case.url}
        for extractor, extract in EXTRACTORS.items():
            answer = _safe(extract, case, now)
            scores = score(case, answer)
            for f, value in scores.items():
                tallies[extractor][f].total += value
                tallies[extractor][f].n += 1
            row[extractor] = {"scores": scores, **{k: v for k, v in vars(answer).items() if k != "text"}}
        if dump is not None:
            row["expected"] = {k: v for k, v in case.expected.items() if k != "text"}
            dump.write(json.dumps(row, ensure_ascii=False) + "\n")
    return tallies


def print_table(results: dict[str, dict[str, dict[str, Tally]]]) -> None:
    """Print one row per set and field: n, project, trafilatura."""
    print(f"{'set':14} {'field':10} {'n':>4} {'project':>8} {'trafilatura':>11}")
    for set_name, tallies in results.items():
        for f in FIELDS:
            n = tallies["project"][f].n
            if not n:
                continue
            ours, theirs = tallies["project"][f].mean(), tallies["trafilatura"][f].mean()
            mark = "+" if ours > theirs else "=" if ours == theirs else "-"
            print(f"{set_name:14} {f:10} {n:4d} {ours:8.3f} {theirs:11.3f} {mark}")


def main() -> int:
    """Parse arguments, score the sets and print the table; exit 2 when the data is missing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--set", choices=list(SETS), action="append", help="score only these sets")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages of each set")
    parser.add_argument("--dump", type=Path, default=None, help="write each page's answers as JSONL here")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("INGEST_DATA_DIR") or DATA)
    if not (data_dir / "metadata-dev" / "expected.jsonl").is_file():
        print(f"metadata sets not found in {data_dir}; point INGEST_DATA_DIR at shared/data", file=sys.stderr)
        return 2
    # The newest page dates from 2023: any later reference keeps every true date in range.
    now = datetime.now(UTC)
    started = time.perf_counter()
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    try:
        results = {
            name: run_set(name, SETS[name](data_dir), now, dump, args.limit) for name in args.set or SETS
        }
    finally:
        if dump is not None:
            dump.close()
    print_table(results)
    print(f"time_s {time.perf_counter() - started:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
