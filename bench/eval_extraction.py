"""
Score `clean_html` against bare trafilatura on the extraction development set.

Two trafilatura rows: its defaults (`trafilatura.extract`, comments included), and
`bare_extraction` with the options `clean_html` passes (`trafilatura_options`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import trafilatura
from trafilatura.utils import decode_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from worker.process.clean.html import clean_html, trafilatura_options  # noqa: E402

DEFAULT_DIR = REPO.parent / "shared" / "data" / "extraction-dev"
WHERE = (
    "The set is the evaluation data published with trafilatura (adbar/trafilatura, tests/eval,"
    " tests/cache and tests/evaldata.json, Apache-2.0), packed as pages.tar.gz with a README.md;"
    " put it in {path} or point INGEST_EVAL_DIR at it."
)


@dataclass
class Score:
    """Confusion counts over all pages, and the time spent extracting."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    seconds: float = 0.0
    errors: int = 0

    def add(self, counts: tuple[int, int, int, int]) -> None:
        """Add one page's (tp, fp, fn, tn)."""
        self.tp += counts[0]
        self.fp += counts[1]
        self.fn += counts[2]
        self.tn += counts[3]

    def prf(self) -> tuple[float, float, float]:
        """Return precision, recall and F1."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def norm(text: str) -> str:
    """Collapse whitespace, as the data set's scoring does."""
    return re.sub(r"\s+", " ", text).strip()


def count(item: dict[str, list[str]], output: str | None) -> tuple[int, int, int, int]:
    """Return (tp, fp, fn, tn) of one page: `with` snippets found, `without` snippets found."""
    found = norm(output or "")
    tp = sum(1 for s in item["with"] if output is not None and norm(s) in found)
    fp = sum(1 for s in item["without"] if output is not None and norm(s) in found)
    return tp, fp, len(item["with"]) - tp, len(item["without"]) - fp


def load(data_dir: Path) -> tuple[dict[str, dict[str, list[str]]], dict[str, bytes]]:
    """Read the annotations and the pages straight from the archive, without unpacking it."""
    with tarfile.open(data_dir / "pages.tar.gz") as archive:
        files: dict[str, bytes] = {}
        evaldata: dict[str, dict[str, list[str]]] = {}
        for member in archive:
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            if member.name.endswith("evaldata.json"):
                evaldata = json.loads(handle.read())
            else:
                files[member.name] = handle.read()
    return evaldata, files


def page_bytes(files: dict[str, bytes], name: str) -> bytes | None:
    """Find a page in `eval/`, then in `cache/`, as the README says."""
    for folder in ("eval", "cache"):
        for key in (f"{folder}/{name}", f"./{folder}/{name}"):
            if key in files:
                return files[key]
    return None


def run(limit: int | None, verbose: bool, data_dir: Path) -> None:
    """Extract every page with both extractors and print the scores."""
    evaldata, files = load(data_dir)
    items = list(evaldata.items())[:limit] if limit else list(evaldata.items())
    now = datetime.now(UTC)

    def bare_with_options(html: str, url: str) -> str | None:
        found = trafilatura.bare_extraction(html, url=url, **trafilatura_options(now))
        return None if found is None else str(found.as_dict().get("text") or "")

    extractors: dict[str, Callable[[str, str], str | None]] = {
        "trafilatura (bare)": lambda html, url: trafilatura.extract(html),
        "trafilatura (options)": bare_with_options,
        "clean_html (project)": lambda html, url: clean_html(html, url).text,
    }
    scores = {name: Score() for name in extractors}
    missing = 0
    for url, item in items:
        raw = page_bytes(files, item["file"])
        if raw is None:
            missing += 1
            continue
        html = decode_file(raw)
        per_page: dict[str, tuple[int, int, int, int]] = {}
        for name, extract in extractors.items():
            start = time.perf_counter()
            try:
                output = extract(html, url)
            except Exception:
                output = None
                scores[name].errors += 1
            scores[name].seconds += time.perf_counter() - start
            per_page[name] = count(item, output)
            scores[name].add(per_page[name])
        if verbose and len(set(per_page.values())) > 1:
            print(item["file"], per_page)
    print(f"pages scored: {len(items) - missing} (missing files: {missing})")
    print(f"{'extractor':24} {'precision':>9} {'recall':>7} {'F1':>7} {'time_s':>8} {'errors':>6}")
    for name, score in scores.items():
        precision, recall, f1 = score.prf()
        print(f"{name:24} {precision:9.3f} {recall:7.3f} {f1:7.3f} {score.seconds:8.1f} {score.errors:6d}")


def main() -> int:
    """Parse arguments and run; exit 2 when the data set is missing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    parser.add_argument("--verbose", action="store_true", help="list pages where the two differ")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("INGEST_EVAL_DIR") or DEFAULT_DIR)
    if not (data_dir / "pages.tar.gz").is_file():
        print(f"extraction set not found in {data_dir}", file=sys.stderr)
        print(WHERE.format(path=DEFAULT_DIR), file=sys.stderr)
        return 2
    run(args.limit, args.verbose, data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
