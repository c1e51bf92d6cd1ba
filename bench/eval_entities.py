"""
Measure what NER costs on real English articles and what each way of cutting that cost keeps of its entities.

The texts: the English pages of extraction-dev (as `real_pipeline_bench.py`
selects them), cleaned by `clean_html`, articles only.  The reference is
NER on each full text with the model as `load_nlp` loads it.  Entity
agreement of a cut is the micro recall of each article's full-text top-10
entities by mention count (ties at the tenth count included) among the
entities the cut finds (`recall`), and among its own top 10 (`recall_top10`);
the goal is 98 %.  CPU is `time.process_time()` of this process, median of
`--rounds` runs, one text a call unless said otherwise.  Last, the labels:
how many names of the hand-checked texts (`LABELS_FILE`) the model alone and
the model with our rules (`entities._label`) label right.

    .venv/bin/python bench/eval_entities.py [--rounds N] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL = 0.98
# Texts whose names' labels were checked by hand (countries, capitals, people, companies).
LABELS_FILE = ROOT / "bench" / "labels" / "entities-handchecked.jsonl"
CAPS = (10_000, 15_000, 20_000, 30_000)
ALL_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“‘(])")


def english_texts(limit: int | None) -> list[str]:
    """Return the cleaned texts of the English article pages of extraction-dev."""
    from bench.real_pipeline_bench import DATA_DIR, english_pages
    from worker.process.clean.html import clean_html

    data_dir = Path(os.environ.get("INGEST_EVAL_DIR") or DATA_DIR)
    texts = []
    for page in english_pages(data_dir, None):
        ex = clean_html(page["html"], "http://127.0.0.1" + page["path"])
        if ex.is_article and ex.text.strip():
            texts.append(ex.text)
    return texts[:limit] if limit else texts


def top10(entities: Sequence[Any]) -> set[str]:
    """Return the texts of the entities at or above the tenth-highest mention count."""
    if not entities:
        return set()
    counts = sorted((e.count for e in entities), reverse=True)
    cut = counts[min(9, len(counts) - 1)]
    return {e.text for e in entities if e.count >= cut}


def agreement(reference: list[set[str]], found: list[list[Any]]) -> dict[str, float]:
    """Return the micro recall of the reference top-10 sets among all found entities and their top 10."""
    total = sum(len(r) for r in reference) or 1
    anywhere = sum(len(r & {e.text for e in f}) for r, f in zip(reference, found, strict=True))
    in_top = sum(len(r & top10(f)) for r, f in zip(reference, found, strict=True))
    return {"recall": round(anywhere / total, 4), "recall_top10": round(in_top / total, 4)}


def cpu_ms(run: Callable[[], object], n: int, rounds: int) -> float:
    """Return the median CPU ms per text of `run` over `rounds` runs."""
    times = []
    for _ in range(rounds):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return round(statistics.median(times) * 1000 / max(n, 1), 2)


def select_sentences(text: str, stops: frozenset[str]) -> str:
    """Keep the sentences with a capitalised word other than a sentence-initial stop word."""
    kept_paragraphs = []
    for paragraph in text.split("\n\n"):
        kept = []
        for sentence in _SENTENCE.split(paragraph):
            words = sentence.split()
            if any(
                any(c.isupper() for c in w) and not (i == 0 and w.strip('"“‘(').casefold() in stops)
                for i, w in enumerate(words)
            ):
                kept.append(sentence)
        if kept:
            kept_paragraphs.append(" ".join(kept))
    return "\n\n".join(kept_paragraphs)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the measurements; return the figures."""
    import spacy

    from worker import config
    from worker.process.enrich.entities import entities_from_doc, load_nlp, single_threaded_openblas
    from worker.process.enrich.keywords import stop_words

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="CPU runs per figure, the median reported")
    parser.add_argument("--limit", type=int, help="only the first N texts")
    args = parser.parse_args(argv)
    model = config.load().spacy_model
    texts = english_texts(args.limit)
    n = len(texts)
    nlp = load_nlp(model, keep=("ner",))
    nlp(texts[0])

    def entities_of(inputs: Iterable[str]) -> list[list[Any]]:
        return [entities_from_doc(nlp(t)) for t in inputs]

    reference = [top10(e) for e in entities_of(texts)]
    chars = sum(len(t) for t in texts)
    tokens = sum(len(nlp.make_doc(t)) for t in texts)
    result: dict[str, Any] = {
        "texts": n,
        "chars_mean": round(chars / n),
        "chars_median": statistics.median(len(t) for t in texts),
        "tokens_mean": round(tokens / n),
        "goal_recall": GOAL,
        "openblas_pinned": single_threaded_openblas(),
        "ner_ops_use_blis": nlp.get_pipe("ner").model.ops.use_blis,
    }
    full_ms = cpu_ms(lambda: [nlp(t) for t in texts], n, args.rounds)
    result["cpu_ms"] = {
        "ner_full_text_batch_1": full_ms,
        "ner_full_text_batch_16": cpu_ms(lambda: list(nlp.pipe(texts, batch_size=16)), n, args.rounds),
        "tokenizer_only": cpu_ms(lambda: [nlp.make_doc(t) for t in texts], n, args.rounds),
    }
    # The same model on thinc's default BLAS (BLIS), entities compared.
    blis = spacy.load(model, exclude=[p for p in ALL_PIPES if p != "ner"])
    result["cpu_ms"]["ner_full_text_blis"] = cpu_ms(lambda: [blis(t) for t in texts], n, args.rounds)
    result["blis_same_entities"] = all(
        [(e.text, e.label_) for e in blis(t).ents] == [(e.text, e.label_) for e in nlp(t).ents] for t in texts
    )
    # What the other components would cost (keywords with noun chunks would need the parser).
    for name, keep in (("all_components", ALL_PIPES), ("ner_and_parser", ("tok2vec", "parser", "ner"))):
        full = spacy.load(model, exclude=[p for p in ALL_PIPES if p not in keep])
        full(texts[0])
        result["cpu_ms"][name] = cpu_ms(lambda m=full: [m(t) for t in texts], n, 1)
    cuts: dict[str, dict[str, float]] = {}
    for cap in CAPS:
        cut = [t[:cap] for t in texts]
        cuts[f"first_{cap}_chars"] = {
            **agreement(reference, entities_of(cut)),
            "tokens_share": round(sum(len(nlp.make_doc(t)) for t in cut) / tokens, 3),
            "cpu_ms": cpu_ms(lambda c=cut: [nlp(t) for t in c], n, args.rounds),
        }
    stops = stop_words("en")
    selected = [select_sentences(t, stops) for t in texts]
    cuts["sentences_with_capitals"] = {
        **agreement(reference, entities_of(selected)),
        "tokens_share": round(sum(len(nlp.make_doc(t)) for t in selected) / tokens, 3),
        "cpu_ms": cpu_ms(lambda: [nlp(t) for t in selected], n, args.rounds),
    }
    result["cuts"] = cuts
    result["labels"] = label_accuracy(nlp, handchecked_cases())
    return result


def label_accuracy(nlp: Any, cases: Sequence[dict[str, Any]]) -> dict[str, float]:
    """
    Score entity labels on hand-checked texts: the model's own (majority over mentions) against ours.

    Each case is a text and the label of each of its names (`LABELS_FILE`); a
    name scores when the entities found hold it (case-insensitive) with that label.
    """
    from worker.process.enrich.entities import LABELS, clean_mention, entities_from_doc

    raw_right = ours_right = pairs = 0
    for case in cases:
        doc = nlp(case["text"])
        votes: dict[str, Counter[str]] = {}
        for ent in doc.ents:
            if ent.label_ in LABELS:
                votes.setdefault(clean_mention(ent.text).casefold(), Counter())[LABELS[ent.label_]] += 1
        ours = {e.text.casefold(): e.label for e in entities_from_doc(doc)}
        for name, label in case["labels"].items():
            pairs += 1
            vote = votes.get(name.casefold())
            raw_right += bool(vote) and vote.most_common(1)[0][0] == label
            ours_right += ours.get(name.casefold()) == label
    return {"pairs": pairs, "model": round(raw_right / pairs, 3), "rules": round(ours_right / pairs, 3)}


def handchecked_cases() -> list[dict[str, Any]]:
    """Return the hand-checked texts and labels of `LABELS_FILE`."""
    return [json.loads(line) for line in LABELS_FILE.read_text(encoding="utf-8").splitlines() if line]


def print_table(r: dict[str, Any]) -> None:
    """Print the figures."""
    print(
        f"NER on {r['texts']} real English articles ({r['chars_mean']} characters on average,"
        f" median {r['chars_median']:.0f}; {r['tokens_mean']} tokens)"
    )
    print(f"  OpenBLAS pinned to one thread: {r['openblas_pinned']}; NER on BLIS: {r['ner_ops_use_blis']}")
    print("  CPU ms per article:")
    for name, value in r["cpu_ms"].items():
        print(f"    {name:<28}{value:>8.1f}")
    print(f"  BLIS and OpenBLAS find the same entities: {r['blis_same_entities']}")
    print(f"  cuts against full-text NER (goal: recall >= {r['goal_recall']}):")
    print(f"    {'cut':<26}{'recall':>8}{'top10':>8}{'tokens':>8}{'CPU ms':>8}")
    for name, c in r["cuts"].items():
        verdict = "ok" if c["recall"] >= r["goal_recall"] else "below goal"
        print(
            f"    {name:<26}{c['recall']:>8.3f}{c['recall_top10']:>8.3f}{c['tokens_share']:>8.3f}"
            f"{c['cpu_ms']:>8.1f}  {verdict}"
        )
    labels = r["labels"]
    print(
        f"  labels right on {labels['pairs']} hand-checked names ({LABELS_FILE.name}):"
        f" model {labels['model']:.3f}, with the rules {labels['rules']:.3f}"
    )


if __name__ == "__main__":
    print_table(main())
