"""
Pick the key phrases of an article: names and short content-word phrases, scored by frequency and position.

The default method (`fast`) reuses the tokens and entities of the spaCy
document NER already made, when there is one, and otherwise splits the text
with one regular expression; either way it costs about a millisecond a
article, against tens for YAKE (`yake`, kept as an option).  Measured with
`bench/eval_keywords.py`: recall of publisher tags among the top 10 phrases
is higher than YAKE's in every language the set has much of.

Candidates never cross a sentence, a punctuation mark, a stop word or the
edge of a name: a name (an entity NER found, or without NER a run of two or
more capitalised words) is a candidate of its own, whole; between names, a
run of content words gives its words and pairs of words.  A candidate scores
the sum, over its occurrences, of `1 / log2(2 + sentence index)` (the lead
of a news story names its subject), times bonuses for names and pairs, for
being mostly capitalised mid-sentence, and for occurring in the title.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from worker.process.enrich.entities import LABELS
from worker.settings_types import KeywordMethod

if TYPE_CHECKING:
    import yake
    from spacy.tokens import Doc

# Content-word runs give phrases of at most this many words; longer ones are
# mostly fragments in news text (`Russian counterpart Vladimir`).  Names are whole.
MAX_NGRAM = 2
# Bonuses (multipliers) of the fast method.  Any of them halved or doubled
# moves the tag recall of `bench/eval_keywords.py` by at most 0.03.
PAIR_BONUS = 1.5
NAME_BONUS = 1.5
CAPITALISED_BONUS = 2.0
TITLE_BONUS = 3.0
# YAKE reads up to this many characters: its cost grows faster than linearly
# with length and the key phrases of a news story occur early.
MAX_CHARS = 20_000
# The stop words of these languages stand in when the language is unknown:
# a function word of some language is a poor key phrase in any.
FALLBACK_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl")
# py3langid's codes where spaCy's module has another name.
_SPACY_LANGUAGE = {"no": "nb"}

# Words (letters and digits, inner hyphens, apostrophes and dots kept: `U.S.`,
# `covid-19`, `O'Brien`), a possessive `'s` apart (as spaCy splits it), single
# punctuation marks, and line breaks.
_TOKEN = re.compile(r"\w+(?:[-.]\w+|['’](?![sS]\b)\w+)*|['’][sS]\b|[^\w\s]|\n")
_SENTENCE_END = frozenset(".!?…\n")
# YAKE names its Czech stop-word list `cz`; it is asked for more phrases than
# wanted because the containment filter drops some.
_YAKE_LANGUAGE = {"cs": "cz"}
_YAKE_OVERSAMPLE = 3
_WORD = re.compile(r"\w+")


@functools.cache
def stop_words(language: str | None) -> frozenset[str]:
    """
    Return spaCy's stop words of a language, case-folded.

    An unknown language or one spaCy has no list for gets the union of
    `FALLBACK_LANGUAGES`' lists.
    """
    for code in [_SPACY_LANGUAGE.get(language, language)] if language else []:
        try:
            module = importlib.import_module(f"spacy.lang.{code}.stop_words")
        except ImportError:
            break
        return frozenset(w.casefold() for w in module.STOP_WORDS)
    words: set[str] = set()
    for code in FALLBACK_LANGUAGES:
        words |= stop_words(code)
    return frozenset(words)


def _is_word(token: str) -> bool:
    """Tell a content-word candidate: two characters or more, a letter among them, none of `'s` and `-`."""
    if len(token) < 2 or not token[0].isalnum():
        return False
    # Most tokens are all letters: one C call says so before the scan for a letter.
    return token.isalpha() or any(c.isalpha() for c in token)


# A token: its text and the index of the name it belongs to (-1: none).
Token = tuple[str, int]


def doc_tokens(doc: Doc) -> list[Token]:
    """
    Return the tokens of a spaCy document, with the names NER found marked.

    A leading `the` and a trailing possessive are not part of a name.  Line
    breaks are kept as tokens (they end a sentence); other spaces are dropped.
    """
    name_of = [-1] * len(doc)
    for index, ent in enumerate(doc.ents):
        if ent.label_ not in LABELS:
            continue
        start, end = ent.start, ent.end
        if doc[start].lower_ == "the":
            start += 1
        if end - 1 > start and doc[end - 1].lower_ in {"'s", "’s"}:
            end -= 1
        name_of[start:end] = [index] * (end - start)
    tokens: list[Token] = []
    for token in doc:
        text = token.text
        if token.is_space:
            if "\n" in text:
                tokens.append(("\n", -1))
            continue
        tokens.append((text, name_of[token.i]))
    return tokens


def text_tokens(text: str, stops: frozenset[str]) -> list[Token]:
    """
    Return the tokens of a text, runs of two or more capitalised content words marked as names.

    A sentence's first word starts no name: its capital says nothing.
    """
    words = _TOKEN.findall(text)
    names = [-1] * len(words)
    index = i = 0
    while i < len(words):
        j = i
        if i > 0 and words[i - 1] not in _SENTENCE_END:
            while j < len(words) and _is_capitalised(words[j], stops):
                j += 1
        if j - i >= 2:
            names[i:j] = [index] * (j - i)
            index += 1
        i = max(j, i + 1)
    return list(zip(words, names, strict=True))


def _is_capitalised(word: str, stops: frozenset[str]) -> bool:
    return word[:1].isupper() and _is_word(word) and word.casefold() not in stops


class _Scores:
    """Per candidate (its case-folded words): [score, occurrences, capitalised occurrences]."""

    def __init__(self) -> None:
        self.of: dict[tuple[str, ...], list[float]] = {}
        self.names: set[tuple[str, ...]] = set()

    def add(self, key: tuple[str, ...], weight: float, capitalised: bool) -> None:
        entry = self.of.get(key)
        if entry is None:
            self.of[key] = [weight, 1, capitalised]
        else:
            entry[0] += weight
            entry[1] += 1
            entry[2] += capitalised

    def join_short_names(self) -> None:
        """
        Count a capitalised word that ends a longer name as that name: `Putin` as `Vladimir Putin`.

        When two names end with it (`Bashar Assad`, `Hafez Assad`), the better-scored one takes it.
        """
        by_last: dict[str, tuple[str, ...]] = {}
        for key in sorted(self.names, key=lambda k: (-self.of[k][0], k)):
            if len(key) > 1:
                by_last.setdefault(key[-1], key)
        for key in [k for k in self.of if len(k) == 1 and k[0] in by_last]:
            entry = self.of[key]
            if 2 * entry[2] < entry[1]:
                continue
            target = self.of[by_last[key[0]]]
            for i in range(3):
                target[i] += entry[i]
            del self.of[key]
            self.names.discard(key)


def _add_run(scores: _Scores, run: list[tuple[str, bool]], weight: float) -> None:
    """Add the words and word pairs of a run of content words; `run` holds (folded word, capitalised)."""
    pair_weight = weight * PAIR_BONUS
    previous: tuple[str, bool] | None = None
    for word, capitalised in run:
        scores.add((word,), weight, capitalised)
        if previous is not None:
            scores.add((previous[0], word), pair_weight, previous[1] and capitalised)
        previous = (word, capitalised)


def _score(tokens: Iterable[Token], stops: frozenset[str]) -> _Scores:
    """
    Score the candidates of the tokens: names whole, content-word runs as words and pairs.

    A word counts as capitalised unless it starts its sentence.
    """
    scores = _Scores()
    # Per distinct token text: its case-folded form ("" for a stop word or a non-word), and
    # whether it is a word at all.
    folded: dict[str, tuple[str, bool]] = {}
    sentence = 0
    weight = 1.0
    starts = True
    run: list[tuple[str, bool]] = []
    name: list[str] = []
    current = -1

    def add_name() -> None:
        key = tuple(w.casefold() for w in name)
        scores.add(key, weight * NAME_BONUS * (PAIR_BONUS if len(key) > 1 else 1.0), True)
        scores.names.add(key)

    for text, name_index in tokens:
        if name and name_index != current:
            add_name()
            name = []
        if name_index >= 0:
            if run:
                _add_run(scores, run, weight)
                run = []
            name.append(text)
            current = name_index
            starts = False
            continue
        current = -1
        known = folded.get(text)
        if known is None:
            low, wordlike = text.casefold(), _is_word(text)
            known = folded[text] = (low if wordlike and low not in stops else "", wordlike)
        word = known[0]
        if not word:
            if run:
                _add_run(scores, run, weight)
                run = []
            if text in _SENTENCE_END:
                sentence += 1
                weight = 1 / math.log2(2 + sentence)
                starts = True
            elif known[1]:
                starts = False
            continue
        run.append((word, not starts and text[0].isupper()))
        starts = False
    if run:
        _add_run(scores, run, weight)
    if name:
        add_name()
    scores.join_short_names()
    return scores


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Tell whether one phrase occurs word for word inside the other."""
    return _contains(a, b) if len(a) >= len(b) else _contains(b, a)


def rank_phrases(tokens: Iterable[Token], stops: frozenset[str], *, title: str | None, top: int) -> list[str]:
    """
    Return up to `top` key phrases of the tokens, best first (the fast method).

    Args:
        tokens: The article's tokens, names marked (`doc_tokens`, `text_tokens`).
        stops: The stop words of its language, case-folded.
        title: The headline; its phrases get `TITLE_BONUS`.
        top: The most phrases returned.
    """
    scores = _score(tokens, stops)
    headline = " " + " ".join(t.casefold() for t in _TOKEN.findall(title or "")) + " "
    final: dict[tuple[str, ...], float] = {}
    for key, (value, count, capitalised) in scores.of.items():
        if 2 * capitalised > count:
            value *= CAPITALISED_BONUS
        if title and f" {' '.join(key)} " in headline:
            value *= TITLE_BONUS
        final[key] = value
    kept: list[tuple[str, ...]] = []
    for key in sorted(final, key=lambda k: -final[k]):
        if not any(_overlaps(key, k) for k in kept):
            kept.append(key)
            if len(kept) == top:
                break
    return [" ".join(k) for k in kept]


@functools.cache
def _yake_stop_words() -> frozenset[str]:
    """
    Return the stop words of every language YAKE knows, for text of unknown language.

    YAKE's own fallback list is empty, so such text would get `the` and `and` as key phrases.
    """
    import yake

    words: set[str] = set()
    for path in (Path(yake.__file__).parent / "core" / "StopwordsList").glob("stopwords_*.txt"):
        words.update(path.read_text(encoding="utf-8", errors="replace").lower().split())
    return frozenset(words)


@functools.cache
def _yake_extractor(language: str | None, top: int) -> yake.KeywordExtractor:
    """Build one YAKE extractor per language and size: it reads a stop-word file."""
    import yake

    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    code = _YAKE_LANGUAGE.get(language, language) if language else None
    if code is not None and (folder / f"stopwords_{code}.txt").is_file():
        return yake.KeywordExtractor(lan=code, n=MAX_NGRAM, top=top * _YAKE_OVERSAMPLE)
    return yake.KeywordExtractor(n=MAX_NGRAM, top=top * _YAKE_OVERSAMPLE, stopwords=_yake_stop_words())


def _yake_keywords(text: str, language: str | None, top: int) -> list[str]:
    """Return YAKE's phrases, lower-cased, without those overlapping a better one."""
    ranked = _yake_extractor(language, top).extract_keywords(text[:MAX_CHARS])
    kept: dict[str, tuple[str, ...]] = {}
    for phrase, _score in ranked:
        lowered = " ".join(phrase.lower().split())
        words = tuple(_WORD.findall(lowered))
        if words and not any(_overlaps(words, k) for k in kept.values()):
            kept[lowered] = words
        if len(kept) == top:
            break
    return list(kept)


def extract_keywords(
    text: str,
    language: str | None,
    *,
    top: int = 10,
    title: str | None = None,
    doc: Doc | None = None,
    method: KeywordMethod = "fast",
) -> list[str]:
    """
    Return up to `top` lower-case key phrases of the text, best first.

    A phrase whose words occur inside a better-ranked phrase, or that
    contains one, is dropped: `putin` adds nothing after `vladimir putin`.

    Args:
        text: The article body.
        language: ISO 639-1 code of the text, for its stop words; None when
            unknown, which uses those of `FALLBACK_LANGUAGES`.
        top: The most phrases returned.
        title: The headline, whose phrases rank higher (fast method).
        doc: The spaCy document NER made of `text`, whose tokens and names
            are reused (fast method); None splits the text itself.
        method: `fast`, or `yake` (about 20 times the CPU, lower tag recall).

    Returns:
        The phrases, or an empty list for empty text.
    """
    if top <= 0 or not text.strip():
        return []
    if method == "yake":
        return _yake_keywords(text, language, top)
    stops = stop_words(language)
    if doc is None:
        tokens = text_tokens(text, stops)
    else:
        # NER may have read only the start of a long text: the rest is split here.  (The length
        # read comes from the last token: `doc.text` would join every token's text again.)
        read = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
        tokens = doc_tokens(doc) + text_tokens(text[read:], stops)
    return rank_phrases(tokens, stops, title=title, top=top)
