"""Pick the key phrases of an article with YAKE, an unsupervised extractor."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yake

# Longer n-grams are mostly sentence fragments (`Russian counterpart
# Vladimir`) in news text; pairs keep names such as `Vladimir Putin` whole.
MAX_NGRAM = 2
# YAKE is asked for more phrases than wanted because the containment filter
# below drops some of them.
_OVERSAMPLE = 3
# YAKE reads up to this many characters: its cost grows faster than linearly
# with length and the key phrases of a news story occur early.
MAX_CHARS = 20_000

# YAKE names its Czech stop-word list `cz`.
_YAKE_LANGUAGE = {"cs": "cz"}
_STOPWORDS_DIR = Path(yake.__file__).parent / "core" / "StopwordsList"
_WORD = re.compile(r"\w+")


@functools.cache
def _any_language_stopwords() -> frozenset[str]:
    """
    Return the stop words of every language YAKE knows.

    YAKE's own fallback list is empty, so text of unknown language would get
    `the` and `and` as key phrases; a word that is a function word in some
    language is a poor key phrase in any.
    """
    words: set[str] = set()
    for path in _STOPWORDS_DIR.glob("stopwords_*.txt"):
        words.update(path.read_text(encoding="utf-8", errors="replace").lower().split())
    return frozenset(words)


@functools.cache
def _extractor(language: str | None, top: int) -> yake.KeywordExtractor:
    """Build one extractor per language and size: it reads a stop-word file."""
    code = _YAKE_LANGUAGE.get(language, language) if language else None
    if code is not None and (_STOPWORDS_DIR / f"stopwords_{code}.txt").is_file():
        return yake.KeywordExtractor(lan=code, n=MAX_NGRAM, top=top * _OVERSAMPLE)
    return yake.KeywordExtractor(n=MAX_NGRAM, top=top * _OVERSAMPLE, stopwords=_any_language_stopwords())


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Tell whether one phrase occurs word for word inside the other."""
    return _contains(a, b) if len(a) >= len(b) else _contains(b, a)


def extract_keywords(text: str, language: str | None, *, top: int = 10) -> list[str]:
    """
    Return up to `top` lower-case key phrases of the text, best first.

    A phrase whose words occur inside a better-ranked phrase, or that
    contains one, is dropped: `putin` adds nothing after `vladimir putin`.

    Args:
        text: The article body.
        language: ISO 639-1 code of the text, for YAKE's stop words; None
            when unknown, which uses the stop words of all languages.
        top: The most phrases returned.

    Returns:
        The phrases, or an empty list for empty text.
    """
    if top <= 0 or not text.strip():
        return []
    ranked = _extractor(language, top).extract_keywords(text[:MAX_CHARS])
    kept: dict[str, tuple[str, ...]] = {}
    for phrase, _score in ranked:
        lowered = " ".join(phrase.lower().split())
        words = tuple(_WORD.findall(lowered))
        if words and not any(_overlaps(words, k) for k in kept.values()):
            kept[lowered] = words
        if len(kept) == top:
            break
    return list(kept)
