"""Tests for key phrase extraction: the fast method (on spaCy's tokens or the text's) and YAKE."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language
from spacy.tokens import Doc

from worker.config import Settings
from worker.process.enrich.entities import load_nlp
from worker.process.enrich.keywords import FALLBACK_LANGUAGES, extract_keywords, stop_words, text_tokens
from worker.settings_types import KeywordMethod

FIXTURE = Path(__file__).parents[1] / "fixtures" / "000_df02527578575e69.txt"
METHODS: list[KeywordMethod] = ["fast", "yake"]


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


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(Settings().spacy_model, keep=("ner",))


@pytest.fixture(scope="module")
def doc(nlp: Language, body: str) -> Doc:
    return nlp(body)


@pytest.mark.parametrize("method", METHODS)
class TestExtractKeywords:
    @pytest.mark.parametrize("text", ["", "   \n\n  "], ids=["empty", "blank"])
    def test_empty_text(self, text: str, method: KeywordMethod) -> None:
        """Empty text has no key phrases."""
        assert not extract_keywords(text, "en", method=method)

    def test_zero_top(self, body: str, method: KeywordMethod) -> None:
        """Asking for no phrases gives none."""
        assert not extract_keywords(body, "en", top=0, method=method)

    def test_seed_article(self, body: str, method: KeywordMethod) -> None:
        """The seed article's phrases are lower-case, distinct, at most ten, and name its main actor."""
        keywords = extract_keywords(body, "en", method=method)

        assert 0 < len(keywords) <= 10
        assert len(keywords) == len(set(keywords))
        assert all(k == k.lower() for k in keywords)
        assert "vladimir putin" in keywords

    @pytest.mark.parametrize("language", ["en", None], ids=["english", "unknown"])
    def test_no_contained_duplicates(self, body: str, language: str | None, method: KeywordMethod) -> None:
        """No phrase occurs word for word inside another: `putin` is gone next to `vladimir putin`."""
        keywords = [_words(k) for k in extract_keywords(body, language, top=15, method=method)]

        assert not [(a, b) for a in keywords for b in keywords if a != b and _inside(a, b)]
        assert ("putin",) not in keywords

    def test_top_is_a_prefix(self, body: str, method: KeywordMethod) -> None:
        """A smaller `top` gives the first phrases of a larger one."""
        assert extract_keywords(body, "en", top=10, method=method)[:3] == extract_keywords(
            body, "en", top=3, method=method
        )

    def test_unknown_language_skips_function_words(self, body: str, method: KeywordMethod) -> None:
        """Without a language, common function words of any language are not key phrases."""
        keywords = extract_keywords(body, None, top=15, method=method)

        assert not [k for k in keywords if k in {"the", "and", "of", "to", "in", "it", "he"}]

    def test_other_language(self, method: KeywordMethod) -> None:
        """French stop words keep `des` and `la` out of French phrases."""
        text = (
            "Le gouvernement a présenté lundi la réforme des retraites. "
            "La réforme des retraites divise les syndicats, qui appellent à la grève. "
            "Les syndicats organisent une grève nationale contre la réforme des retraites."
        )
        keywords = extract_keywords(text, "fr", top=5, method=method)

        assert keywords
        assert not [k for k in keywords if {"la", "des", "les"} & set(_words(k))]


class TestAnyText:
    @settings(max_examples=50, deadline=None)
    @given(
        st.text(),
        st.sampled_from(["en", "fr", "cs", "sw", None]),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(METHODS),
    )
    def test_any_text(self, text: str, language: str | None, top: int, method: KeywordMethod) -> None:
        """Any text gives at most `top` distinct lower-case phrases."""
        keywords = extract_keywords(text, language, top=top, method=method)

        assert len(keywords) <= top
        assert len(keywords) == len(set(keywords))
        assert all(k == k.lower() for k in keywords)


class TestReproducible:
    def test_the_same_text_gives_the_same_phrases_in_every_process(self) -> None:
        """
        Ties between names never fall to set order, which string hashing changes per process.

        Two names share their last word with equal scores, and the word alone joins one of
        them: each of six hash seeds must pick the same one.
        """
        code = (
            "from worker.process.enrich.keywords import extract_keywords; print(extract_keywords("
            "'talks with Bashar Assad and Hafez Assad went on, and Assad left the room at noon.', 'en'))"
        )
        answers = {
            subprocess.run(
                [sys.executable, "-c", code],
                env={**os.environ, "PYTHONHASHSEED": str(seed)},
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
            for seed in range(6)
        }

        assert 1 == len(answers), answers


class TestFastMethod:
    def test_doc_gives_the_same_kind_of_phrases(self, body: str, doc: Doc) -> None:
        """With NER's document, names come whole from its entities and the main actor is found."""
        keywords = extract_keywords(body, "en", doc=doc)

        assert "vladimir putin" in keywords
        assert "sergei lavrov" in keywords

    def test_no_fragment_across_a_name(self, nlp: Language) -> None:
        """A phrase never joins a name to the word before it: `counterpart vladimir` is no phrase."""
        text = (
            "The minister met his Russian counterpart Vladimir Putin in Moscow. "
            "Russian counterpart Vladimir Putin said the talks went well. "
            "Putin's counterpart Vladimir Putin hosted them."
        )
        keywords = extract_keywords(text, "en", doc=nlp(text), top=20)

        assert not [
            k for k in keywords if "counterpart vladimir" in k or ("counterpart" in k and "putin" in k)
        ]

    @pytest.mark.parametrize("with_doc", [True, False], ids=["doc", "text"])
    def test_no_fragment_across_a_sentence(self, nlp: Language, with_doc: bool) -> None:
        """A phrase never spans a full stop: `paris markets` is no phrase."""
        text = "Ministers met in Paris. Markets fell sharply. Paris markets? Never joined. " * 3
        keywords = extract_keywords(text, "en", doc=nlp(text) if with_doc else None, top=20)

        assert "paris markets" not in keywords
        assert "paris" in keywords

    def test_title_phrase_ranks_first(self) -> None:
        """Of two equally frequent phrases, the one in the headline ranks first."""
        text = "Wildfires again. Drought again. Wildfires again. Drought again."

        assert "wildfires" == extract_keywords(text, "en", top=1)[0]
        assert "drought" == extract_keywords(text, "en", title="Drought in Spain", top=1)[0]

    def test_rest_of_a_capped_doc_is_read(self, nlp: Language) -> None:
        """When NER read only the start of a long text, phrases of the rest still count."""
        text = "Markets were calm. " * 3 + "Volcano eruption. " * 5
        keywords = extract_keywords(text, "en", doc=nlp(text[:40]), top=3)

        assert "volcano eruption" in keywords

    @pytest.mark.parametrize("start", ["", "Markets were calm.  \n "], ids=["empty-doc", "trailing-space"])
    def test_text_after_the_doc_is_read_from_where_it_ends(self, nlp: Language, start: str) -> None:
        """The text NER did not read starts right after the doc's last token and its spaces."""
        text = start + "Volcano eruption. " * 5
        keywords = extract_keywords(text, "en", doc=nlp(start), top=3)

        assert "volcano eruption" in keywords

    def test_possessive_is_not_part_of_a_word(self) -> None:
        """`Syria's` is split as spaCy splits it, so the word is `syria`, not `syria's`."""
        expected = [("Syria", -1), ("'s", -1), ("army", -1)]

        assert expected == text_tokens("Syria's army", stop_words("en"))

    def test_capitalised_run_is_a_name(self) -> None:
        """Without NER, two or more capitalised content words in a row are a name, a sentence's first not."""
        names = [n for _, n in text_tokens("Yesterday Vladimir Putin spoke", stop_words("en"))]

        assert [-1, 0, 0, -1] == names


class TestStopWords:
    def test_language_with_a_list(self) -> None:
        """A language spaCy knows gets its own list."""
        assert "und" in stop_words("de")
        assert "und" not in stop_words("en")

    @pytest.mark.parametrize("language", [None, "zz", "sw"], ids=["unknown", "invalid", "no-list"])
    def test_fallback(self, language: str | None) -> None:
        """An unknown language, or one spaCy has no list for, gets the lists of the fallback languages."""
        words = stop_words(language)

        assert {"the", "und", "les", "los"} <= words
        assert all(stop_words(code) <= words for code in FALLBACK_LANGUAGES)
