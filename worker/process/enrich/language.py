"""Tell which language an article is written in, as an ISO 639-1 code."""

from __future__ import annotations

import functools

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Below this many letters the character n-grams say little: a headline
# fragment such as `Putin` scores as Breton.
MIN_LETTERS = 20
# The normalised probability of the best language must reach this; mixed or
# garbled text spreads the mass over many languages and gets no code.
MIN_CONFIDENCE = 0.5
# The first characters settle the language of a news text; scanning a whole
# long archive record only costs time.
MAX_CHARS = 10_000

# The model also knows varieties with ISO 639-3 codes only; those with an
# ISO 639-1 macrolanguage report it, the rest (and `zxx`, "no linguistic
# content") report no language.
_MACROLANGUAGE = {"arz": "ar", "ary": "ar", "uzs": "uz", "wuu": "zh", "yue": "zh", "gug": "gn"}


@functools.cache
def _identifier() -> LanguageIdentifier:
    """
    Load the language model once per process.

    `norm_probs=True` turns the raw naive-Bayes scores into probabilities that
    sum to one, so a confidence threshold means the same for short and long texts.
    """
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _iso639_1(code: str) -> str | None:
    code = _MACROLANGUAGE.get(code, code)
    return code if len(code) == 2 else None


def _has_letters(text: str, n: int) -> bool:
    """Tell whether the text has at least `n` letters, reading no further than the n-th."""
    if n <= 0:
        return True
    for c in text:
        if c.isalpha():
            n -= 1
            if n == 0:
                return True
    return False


def detect_language(
    text: str, *, min_letters: int = MIN_LETTERS, min_confidence: float = MIN_CONFIDENCE
) -> str | None:
    """
    Return the ISO 639-1 code of the text's language, or None when unsure.

    Args:
        text: The article body (the title alone is often too short).
        min_letters: Fewer alphabetic characters than this give None.
        min_confidence: A best-language probability below this gives None.

    Returns:
        A two-letter code such as `en`, or None for empty, short, ambiguous or
        non-linguistic text.
    """
    sample = text[:MAX_CHARS]
    if not _has_letters(sample, min_letters):
        return None
    ranked = _identifier().rank(sample)
    if not ranked:
        return None
    code, probability = ranked[0]
    if probability < min_confidence:
        return None
    return _iso639_1(str(code))
