"""
Measure near-duplicate detection on perturbed copies and distinct pairs of real articles.

Run: `.venv/bin/python bench/neardup_eval.py` (about a minute the first time:
the pages are cleaned once by `clean_html`, as the pipeline cleans them, and the texts cached
under /tmp until the cleaning code changes).
`INGEST_EVAL_DIR` points at the extraction development set (pages.tar.gz is
read in place, never unpacked).  When a Redis server answers at
`NEARDUP_REDIS_URL` (default redis://127.0.0.1:6379/15), the storage layout
is also measured for real with the reference check-and-insert script, under
a unique key prefix that is deleted afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import statistics
import sys
import tarfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.process import neardup as nd
from worker.state.redis import RedisStore

SEED = 20240607
ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(os.environ.get("INGEST_EVAL_DIR", "/work/shared/data/extraction-dev"))
FIXTURE = ROOT / "tests" / "fixtures" / "000_df02527578575e69.txt"
REDIS_URL = os.environ.get("NEARDUP_REDIS_URL", "redis://127.0.0.1:6379/15")
RECORD_ID_BYTES = 16  # what the layout budgets for the id a duplicate points to


@dataclass(frozen=True)
class Page:
    """One real article: its site, main text and the chrome segments its page had."""

    name: str
    site: str
    text: str
    chrome: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    """Two texts and whether they are the same story."""

    kind: str
    a: str
    b: str
    duplicate: bool


def _extract_all(eval_dir: Path) -> dict[str, str]:
    """Clean every page of the set as the pipeline does (`clean_html`; slow: cached), by file name."""
    from trafilatura.utils import decode_file

    from bench.eval_extraction import load, page_bytes
    from worker.process.clean.html import clean_html

    evaldata, files = load(eval_dir)
    texts: dict[str, str] = {}
    for url, item in evaldata.items():
        raw = page_bytes(files, str(item["file"]))
        if raw is not None:
            texts[str(item["file"])] = clean_html(decode_file(raw), url).text
    return texts


def _cleaning_version() -> str:
    """Return a digest of the cleaning code, so that cached texts are made again when it changes."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted((ROOT / "worker" / "process" / "clean").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_pages(eval_dir: Path) -> list[Page]:
    """Read the pages, their URLs and chrome segments; reuse a /tmp cache of extracted texts."""
    tar_path = eval_dir / "pages.tar.gz"
    stat = tar_path.stat()
    cache = Path(f"/tmp/neardup-eval-{stat.st_size}-{int(stat.st_mtime)}-{_cleaning_version()}.json")
    if cache.exists():
        texts = json.loads(cache.read_text())
    else:
        texts = _extract_all(eval_dir)
        cache.write_text(json.dumps(texts))
    with tarfile.open(tar_path) as tar:
        handle = tar.extractfile("evaldata.json")
        assert handle is not None
        meta = json.load(handle)
    pages = []
    for url, info in meta.items():
        text = texts.get(info["file"], "")
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        site = host if host and host != "web.archive.org" else info["file"]
        if host == "web.archive.org":
            # Archived copies share the Wayback chrome: treat them as one site.
            site = host
        pages.append(Page(info["file"], site, text, tuple(info.get("without", ()))))
    pages.append(Page(FIXTURE.name, "fixture", FIXTURE.read_text(), ()))
    return pages


def usable(pages: list[Page]) -> list[Page]:
    """Keep pages long enough for the near-dup check, one per distinct text."""
    seen: set[str] = set()
    out = []
    for page in pages:
        key = " ".join(nd.words(page.text))
        if len(nd.words(page.text)) >= nd.MIN_WORDS and key not in seen:
            seen.add(key)
            out.append(page)
    return out


# --- perturbations -----------------------------------------------------------


def chrome_lines(rng: random.Random, pages: list[Page], count: int) -> list[str]:
    """Draw `count` chrome segments (navigation, footers, prompts) from random pages."""
    pool = [p for p in pages if p.chrome]
    return [rng.choice(rng.choice(pool).chrome) for _ in range(count)]


def with_chrome(text: str, header: list[str], footer: list[str]) -> str:
    """Wrap a text in header and footer lines, as another site's template would."""
    return "\n".join([*header, text, *footer])


def edit_words(rng: random.Random, text: str, rate: float, vocabulary: list[str]) -> str:
    """Substitute or delete about `rate` of the words, keeping line breaks."""
    lines = []
    for line in text.split("\n"):
        out = []
        for word in line.split():
            if rng.random() < rate:
                if rng.random() < 0.5:
                    out.append(rng.choice(vocabulary))
                continue
            out.append(word)
        lines.append(" ".join(out))
    return "\n".join(lines)


def drop_passage(rng: random.Random, text: str) -> str:
    """Drop one paragraph of at most 15% of the words, else one sentence."""
    paras = [p for p in text.split("\n") if p.strip()]
    total = sum(len(p.split()) for p in paras)
    small = [i for i, p in enumerate(paras) if len(p.split()) <= 0.15 * total]
    if len(paras) > 2 and small:
        del paras[rng.choice(small)]
        return "\n".join(paras)
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > 2:
        del sentences[rng.randrange(len(sentences))]
    return " ".join(sentences)


def restyle(rng: random.Random, text: str) -> str:
    """Re-wrap paragraphs and change quotes, dashes and some commas, as a CMS would."""
    text = text.replace("'", "’").replace(' "', " “").replace('" ', "” ").replace(" - ", " – ")
    text = re.sub(r",(?= )", lambda m: "" if rng.random() < 0.2 else ",", text)
    words = text.split()
    lines, line = [], []
    for word in words:
        line.append(word)
        if len(" ".join(line)) > rng.choice((60, 72, 80)):
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(lines)


def truncate(text: str, share: float) -> str:
    """Keep the first `share` of the characters, cut at a space, as a cut-off copy does."""
    cut = text.rfind(" ", 0, int(len(text) * share))
    return text[: cut if cut > 0 else int(len(text) * share)]


def adapt(rng: random.Random, text: str, pages: list[Page], vocabulary: list[str]) -> str:
    """
    Adapt a wire story as another outlet's editor does: a lead of their own, words changed, the tail cut.

    The first paragraph gives way to one of another story (a new lead), 5-10 % of the words are
    substituted or dropped, a paragraph of another story comes in (context the outlet adds), and
    the last paragraph or two go; at least half of the paragraphs stay.
    """
    paras = [p for p in text.split("\n") if p.strip()]
    if len(paras) < 4:
        return edit_words(rng, text, rng.uniform(0.05, 0.1), vocabulary)
    other = [q for q in rng.choice(pages).text.split("\n") if q.strip()] or [""]
    paras[0] = rng.choice(other)
    cut = rng.randint(1, min(2, len(paras) // 2))
    paras = paras[: len(paras) - cut]
    paras.insert(rng.randrange(1, len(paras) + 1), rng.choice(other))
    return edit_words(rng, "\n".join(paras), rng.uniform(0.05, 0.1), vocabulary)


def positives(rng: random.Random, pages: list[Page]) -> Iterator[Pair]:
    """Make a syndicated copy, a truncated copy and an adapted copy of every page."""
    vocabulary = sorted({w for p in pages[:200] for w in p.text.split() if w.isalpha()})
    for page in pages:
        header, footer = chrome_lines(rng, pages, rng.randint(1, 3)), chrome_lines(rng, pages, 3)
        copy = edit_words(rng, page.text, rng.uniform(0.01, 0.05), vocabulary)
        copy = restyle(rng, drop_passage(rng, copy))
        yield Pair("syndicated", page.text, with_chrome(copy, header, footer), True)
        header, footer = chrome_lines(rng, pages, rng.randint(1, 3)), chrome_lines(rng, pages, 3)
        cut = restyle(rng, truncate(page.text, 0.8))
        yield Pair("truncated80", page.text, with_chrome(cut, header, footer), True)
        header, footer = chrome_lines(rng, pages, rng.randint(1, 3)), chrome_lines(rng, pages, 3)
        adapted = restyle(rng, adapt(rng, page.text, pages, vocabulary))
        yield Pair("adapted", page.text, with_chrome(adapted, header, footer), True)


def content_words(text: str) -> set[str]:
    """Return the words of four letters or more: what two same-topic stories share."""
    return {w for w in nd.words(text) if len(w) >= 4}


def same_topic_pairs(pages: list[Page], limit: int) -> list[tuple[int, int]]:
    """Return the `limit` pairs of distinct pages with the highest content-word Jaccard."""
    sets = [content_words(p.text) for p in pages]
    df = Counter(w for s in sets for w in s)
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for w in s:
            if df[w] <= 40:  # rare words find the candidates; common ones only add noise
                index[w].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in index.values():
        shared.update(combinations(docs, 2))
    scored = []
    for (i, j), _ in shared.most_common(limit * 20):
        union = len(sets[i] | sets[j])
        scored.append((len(sets[i] & sets[j]) / union if union else 0.0, i, j))
    scored.sort(reverse=True)
    return [(i, j) for _, i, j in scored[:limit]]


def shares_most(a: str, b: str, n: int = 8) -> bool:
    """
    Tell whether most word 8-grams of the shorter text occur in the other: one story copied.

    Containment of long n-grams, not the Jaccard of 3-shingles that is under
    test, so the label does not simply restate the detector.
    """
    wa, wb = nd.words(a), nd.words(b)
    ga = {tuple(wa[i : i + n]) for i in range(len(wa) - n + 1)}
    gb = {tuple(wb[i : i + n]) for i in range(len(wb) - n + 1)}
    return len(ga & gb) >= 0.5 * max(1, min(len(ga), len(gb)))


def wild_copies(pages: list[Page], topical: list[tuple[int, int]]) -> Iterator[Pair]:
    """Yield the same-topic pairs that are in fact one text on two sites (the set has a few)."""
    for i, j in topical:
        if shares_most(pages[i].text, pages[j].text):
            print(f"  wild copy: {pages[i].name} ~ {pages[j].name}")
            yield Pair("wild_copy", pages[i].text, pages[j].text, True)


def negatives(rng: random.Random, pages: list[Page], topical: list[tuple[int, int]]) -> Iterator[Pair]:
    """Make distinct-story pairs: same topic, same site, shared chrome and random."""
    for i, j in topical:
        yield Pair("same_topic", pages[i].text, pages[j].text, False)
    # The hardest case: same-topic stories on one site, inside identical chrome.
    for i, j in topical[:300]:
        header, footer = chrome_lines(rng, pages, 3), chrome_lines(rng, pages, 3)
        a, b = with_chrome(pages[i].text, header, footer), with_chrome(pages[j].text, header, footer)
        yield Pair("shared_chrome", a, b, False)
    by_site: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_site[page.site].append(page)
    for group in by_site.values():
        for one, other in combinations(group, 2):
            yield Pair("same_site", one.text, other.text, False)
    for _ in range(2000):
        one, other = rng.sample(pages, 2)
        yield Pair("random", one.text, other.text, False)


# --- scoring -----------------------------------------------------------------


@dataclass
class Score:
    """Counts of one decision rule over the pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, said: bool) -> None:
        """Count one decision."""
        if truth:
            self.tp += said
            self.fn += not said
        else:
            self.fp += said
            self.tn += not said

    def line(self, name: str) -> str:
        """Format precision, recall and F1."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return (
            f"{name:<34} precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  "
            f"(tp {self.tp} fp {self.fp} fn {self.fn} tn {self.tn})"
        )


def exact_jaccard(a: str, b: str) -> float:
    """Return the true Jaccard similarity of the two shingle sets."""
    sa, sb = nd.shingle_hashes(a)[0], nd.shingle_hashes(b)[0]
    union = np.union1d(sa, sb).size
    return np.intersect1d(sa, sb).size / union if union else 0.0


def evaluate(pairs: list[Pair], sign: Callable[[str], nd.Signature]) -> None:
    """Print precision and recall of the LSH + sketch rule and of the rules it approximates."""
    rules = {
        f"lsh + sketch >= {nd.DEFAULT_THRESHOLD} (proposed)": Score(),
        "lsh candidates only": Score(),
        f"lsh + full signature >= {nd.DEFAULT_THRESHOLD}": Score(),
        f"exact Jaccard >= {nd.DEFAULT_THRESHOLD}": Score(),
    }
    per_kind: dict[str, Score] = defaultdict(Score)
    jacc: dict[str, list[float]] = defaultdict(list)
    sweep = {t: Score() for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)}
    sweep_kind: dict[tuple[float, str], Score] = defaultdict(Score)
    for pair in pairs:
        sa, sb = sign(pair.a), sign(pair.b)
        candidate = bool(set(nd.band_keys(sa)) & set(nd.band_keys(sb)))
        verdict = candidate and nd.is_near_duplicate(sb, nd.sketch(sa))
        exact = exact_jaccard(pair.a, pair.b)
        jacc[pair.kind].append(exact)
        scores = iter(rules.values())
        next(scores).add(pair.duplicate, verdict)
        next(scores).add(pair.duplicate, candidate)
        next(scores).add(pair.duplicate, candidate and nd.similarity(sa, sb) >= nd.DEFAULT_THRESHOLD)
        next(scores).add(pair.duplicate, exact >= nd.DEFAULT_THRESHOLD)
        per_kind[pair.kind].add(pair.duplicate, verdict)
        for threshold, score in sweep.items():
            verdict_at = candidate and nd.is_near_duplicate(sb, nd.sketch(sa), threshold)
            score.add(pair.duplicate, verdict_at)
            sweep_kind[threshold, pair.kind].add(pair.duplicate, verdict_at)
    print("\npairs by kind (exact shingle Jaccard: min / p05 / median / max)")
    for kind, values in jacc.items():
        q = np.quantile(values, [0, 0.05, 0.5, 1])
        score = per_kind[kind]
        said = score.tp + score.fp
        print(
            f"  {kind:<14} {len(values):5d} pairs  J {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f} / {q[3]:.3f}"
            f"  called duplicate: {said}"
        )
    print()
    for name, score in rules.items():
        print(score.line(name))
    print("\nthreshold sweep (lsh + sketch)")
    kinds = list(jacc)
    for threshold, score in sweep.items():
        print("  " + score.line(f"t = {threshold}"))
        called = ", ".join(
            f"{k} {s.tp + s.fp}/{s.tp + s.fn + s.fp + s.tn}"
            for k in kinds
            if (s := sweep_kind[threshold, k]).tp + s.fp + s.fn
        )
        print(f"      called duplicate: {called}")


def time_signatures(pages: list[Page]) -> None:
    """Print CPU milliseconds per signature over the real texts, and datasketch's for comparison."""
    texts = [p.text for p in pages]
    words = [len(nd.words(t)) for t in texts]
    start = time.process_time()
    for text in texts:
        nd.signature(text)
    ours = (time.process_time() - start) * 1000 / len(texts)
    print(f"\nsignature: {ours:.3f} CPU ms per article (mean {statistics.mean(words):.0f} words, ", end="")
    print(f"median {statistics.median(words):.0f}; {nd.NUM_PERM} permutations)")
    try:
        from datasketch import MinHash
    except ImportError:
        return
    sample = texts[:200]
    start = time.process_time()
    for text in sample:
        tokens = nd.words(text)
        shingles = [" ".join(tokens[i : i + 3]).encode() for i in range(max(1, len(tokens) - 2))]
        MinHash(num_perm=nd.NUM_PERM, seed=1).update_batch(shingles)
    theirs = (time.process_time() - start) * 1000 / len(sample)
    print(f"datasketch MinHash.update_batch, same shingles: {theirs:.3f} CPU ms per article")


# --- storage -----------------------------------------------------------------


def estimate_bytes() -> float:
    """Estimate Redis bytes per article from listpack entry sizes (see the module layout)."""
    band_entry = (4 + 1) + (5 + 1)  # 24-bit int field, 32-bit int value, each with its back-length
    sketch_entry = (1 + 1) + (1 + len(b"\0" * 32) + RECORD_ID_BYTES + 1)
    key_overhead = 90  # robj, dict entry, key sds, listpack header and expiry entry
    per_key = key_overhead * (nd.BANDS / 64 + 1 / 100)
    return nd.BANDS * band_entry + sketch_entry + per_key


def measure_redis(pages: list[Page], articles: int) -> None:
    """Insert `articles` texts through the Redis store's check-and-insert; measure its keys' MEMORY USAGE."""
    try:
        import redis
    except ImportError:
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"redis: not measured ({exc.__class__.__name__})")
        return
    prefix = f"neardup-bench-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(REDIS_URL, prefix=prefix, nd_articles_per_generation=articles)
    bits = store.nd_shard_bits
    rng = random.Random(SEED)
    texts = [p.text for p in pages]

    def run(sig: nd.Signature, record_id: str) -> list[Any]:
        # [0] for an insert, [1] for a duplicate, as the reference script's first value said.
        return [0 if store.near_claim(record_id, nd.near_key(sig), 30 * 86400) is None else 1]

    inserted = duplicates = found = 0
    try:
        for k in range(articles):
            base = texts[k % len(texts)]
            # Past the real pages, rewrite most words so each text is a new story, not a repeat.
            text = base if k < len(texts) else edit_words(rng, base, 0.6, base.split())
            sig = nd.signature(text)
            if not nd.band_keys(sig):
                continue
            record_id = hashlib.blake2b(text.encode(), digest_size=RECORD_ID_BYTES // 2).hexdigest()
            if int(run(sig, record_id)[0]) == 0:
                inserted += 1
            else:
                duplicates += 1
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        total = sum(int(client.memory_usage(k, samples=0) or 0) for k in keys)
        # The script must agree with the Python rule: restyled copies of stored pages are found.
        for page in pages[:50]:
            found += int(run(nd.signature(restyle(rng, page.text)), "copy")[0]) == 1
        print(
            f"redis MEMORY USAGE: {total / max(1, inserted):.1f} bytes per article "
            f"({inserted} inserted, {duplicates} found duplicate, {len(keys)} keys, "
            f"shard_bits {bits}); restyled copies found by the script: {found}/50"
        )
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


def main() -> None:
    """Build the evaluation set and print every figure."""
    rng = random.Random(SEED)
    pages = usable(load_pages(EVAL_DIR))
    topical = same_topic_pairs(pages, 600)
    copies = list(wild_copies(pages, topical))
    copied = {(p.a, p.b) for p in copies}
    distinct = [(i, j) for i, j in topical if (pages[i].text, pages[j].text) not in copied]
    pairs = list(positives(rng, pages)) + copies + list(negatives(rng, pages, distinct))
    cache: dict[str, nd.Signature] = {}

    def sign(text: str) -> nd.Signature:
        if text not in cache:
            cache[text] = nd.signature(text)
        return cache[text]

    print(f"{len(pages)} articles of >= {nd.MIN_WORDS} words; seed {SEED}")
    print(
        f"shingles of {nd.SHINGLE_WORDS} words; {nd.BANDS} bands x {nd.ROWS} rows; "
        f"sketch {nd.SKETCH_SIZE} x {nd.SKETCH_BITS} bits"
    )
    evaluate(pairs, sign)
    time_signatures(pages)
    print(f"\nestimated Redis bytes per article: {estimate_bytes():.0f}")
    measure_redis(pages, 5000)


if __name__ == "__main__":
    main()
