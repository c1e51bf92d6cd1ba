"""Tests for language detection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process.enrich.language import detect_language

FIXTURE = Path(__file__).parents[1] / "fixtures" / "000_df02527578575e69.txt"


class TestDetectLanguage:
    def test_seed_article(self) -> None:
        """The seed article, tags line and footer included, is English."""
        expected = "en"

        assert expected == detect_language(FIXTURE.read_text(encoding="utf-8"))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Foreign Minister Walid al-Muallem held talks with his Russian counterpart on Monday.", "en"),
            ("Le ministre des Affaires étrangères a rencontré lundi son homologue russe à Moscou.", "fr"),
            ("Der Außenminister traf sich am Montag in Moskau mit seinem russischen Amtskollegen.", "de"),
            ("El ministro de Asuntos Exteriores se reunió el lunes en Moscú con su homólogo ruso.", "es"),
            ("Министр иностранных дел в понедельник провёл переговоры со своим российским коллегой.", "ru"),
            ("外務大臣は月曜日にモスクワでロシアの外務大臣と会談しました。", "ja"),
        ],
        ids=["en", "fr", "de", "es", "ru", "ja"],
    )
    def test_languages(self, text: str, expected: str) -> None:
        """A news sentence gets the ISO 639-1 code of its language."""
        assert expected == detect_language(text)

    def test_shouted_text(self) -> None:
        """An all-capitals sentence is still recognised."""
        expected = "en"

        assert expected == detect_language(
            "FOREIGN MINISTER WALID AL-MUALLEM HELD TALKS WITH HIS RUSSIAN COUNTERPART."
        )

    @pytest.mark.parametrize(
        "text",
        ["", "    \n\t", "Putin", "Moscow, Syria", "12345 67890 - 2013-09-09 04:11 / 100,000", "!!! ??? ..."],
        ids=["empty", "whitespace", "one-word", "two-names", "digits", "punctuation"],
    )
    def test_too_little_text(self, text: str) -> None:
        """Empty, short or letter-less text has no language."""
        assert detect_language(text) is None

    def test_threshold_applies(self) -> None:
        """A confidence no probability can reach gives None for clear English."""
        text = "Foreign Minister Walid al-Muallem held talks with his Russian counterpart on Monday."

        expected = ["en", None]

        assert expected == [
            detect_language(text, min_confidence=0.5),
            detect_language(text, min_confidence=1.01),
        ]

    def test_min_letters_applies(self) -> None:
        """The letter minimum is counted on letters and can be lowered."""
        text = "Le ministre a rencontré son homologue."

        expected = [None, "fr"]

        assert expected == [
            detect_language(text, min_letters=len(text)),
            detect_language(text, min_letters=10),
        ]

    @given(st.text())
    def test_never_raises(self, text: str) -> None:
        """Any text gives None or a two-letter lower-case code."""
        code = detect_language(text)

        assert code is None or re.fullmatch(r"[a-z]{2}", code)
