"""Tests for YAKE key phrase extraction."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.process.enrich.keywords import extract_keywords

FIXTURE = Path(__file__).parents[1] / "fixtures" / "000_df02527578575e69.txt"


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", phrase))


def _inside(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return any(long[i : i + n] == short for i in range(len(long) - n + 1))


@pytest.fixture(scope="module")
def body() -> str:
    text = FIXTURE.read_text(encoding="utf-8")
    start = text.index("Syria's foreign minister")
    end = text.index("the approval of Congress.") + len("the approval of Congress.")
    return text[start:end]


class TestExtractKeywords:
    @pytest.mark.parametrize("text", ["", "   \n\n  "], ids=["empty", "blank"])
    def test_empty_text(self, text: str) -> None:
        """Empty text has no key phrases."""
        assert not extract_keywords(text, "en")

    def test_zero_top(self, body: str) -> None:
        """Asking for no phrases gives none."""
        assert not extract_keywords(body, "en", top=0)

    def test_seed_article(self, body: str) -> None:
        """The seed article's phrases are lower-case, distinct, at most ten, and name its main actor."""
        keywords = extract_keywords(body, "en")

        assert 0 < len(keywords) <= 10
        assert len(keywords) == len(set(keywords))
        assert all(k == k.lower() for k in keywords)
        assert "vladimir putin" in keywords

    @pytest.mark.parametrize("language", ["en", None], ids=["english", "unknown"])
    def test_no_contained_duplicates(self, body: str, language: str | None) -> None:
        """No phrase occurs word for word inside another: `putin` is gone next to `vladimir putin`."""
        keywords = [_words(k) for k in extract_keywords(body, language, top=15)]

        assert not [(a, b) for a in keywords for b in keywords if a != b and _inside(a, b)]
        assert ("putin",) not in keywords

    def test_top_is_a_prefix(self, body: str) -> None:
        """A smaller `top` gives the first phrases of a larger one."""
        assert extract_keywords(body, "en", top=10)[:3] == extract_keywords(body, "en", top=3)

    def test_unknown_language_skips_function_words(self, body: str) -> None:
        """Without a language, common function words of any language are not key phrases."""
        keywords = extract_keywords(body, None, top=15)

        assert not [k for k in keywords if k in {"the", "and", "of", "to", "in", "it", "he"}]

    def test_other_language(self) -> None:
        """French stop words keep `des` and `la` out of French phrases."""
        text = (
            "Le gouvernement a présenté lundi la réforme des retraites. "
            "La réforme des retraites divise les syndicats, qui appellent à la grève. "
            "Les syndicats organisent une grève nationale contre la réforme des retraites."
        )
        keywords = extract_keywords(text, "fr", top=5)

        assert keywords
        assert not [k for k in keywords if {"la", "des", "les"} & set(_words(k))]

    @settings(max_examples=50)
    @given(st.text(), st.sampled_from(["en", "fr", "cs", "sw", None]), st.integers(min_value=0, max_value=5))
    def test_any_text(self, text: str, language: str | None, top: int) -> None:
        """Any text gives at most `top` distinct lower-case phrases."""
        keywords = extract_keywords(text, language, top=top)

        assert len(keywords) <= top
        assert len(keywords) == len(set(keywords))
        assert all(k == k.lower() for k in keywords)
