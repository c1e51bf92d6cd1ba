"""Tests for tag normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process.enrich.tags import normalise_tag, normalise_tags, split_tags


class TestSplitTags:
    def test_seed_tags_line(self) -> None:
        """The seed file's pipe-joined tags lose case duplicates and keep first-seen order."""
        raw = "Russia | Syria | syria | conflict | russia | assad"

        expected = ["russia", "syria", "conflict", "assad"]

        assert expected == split_tags(raw)

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("a, b; c", ["a", "b", "c"]),
            ("a|b|c", ["a", "b", "c"]),
            ("  Middle   East ;middle east,, ", ["middle east"]),
            ("", []),
            (" | ; , ", []),
            ("single", ["single"]),
        ],
        ids=[
            "comma-semicolon",
            "pipes-no-spaces",
            "whitespace-and-empties",
            "empty",
            "only-separators",
            "one",
        ],
    )
    def test_separators(self, raw: str, expected: list[str]) -> None:
        """Pipes, commas and semicolons all separate tags; empty pieces vanish."""
        assert expected == split_tags(raw)


class TestNormaliseTags:
    @pytest.mark.parametrize(
        ("tags", "expected"),
        [
            (["  Foo\tBar  ", "foo bar"], ["foo bar"]),
            (["STRASSE", "Straße"], ["strasse"]),
            (["", "   ", "x"], ["x"]),
            (["b", "a", "B"], ["b", "a"]),
        ],
        ids=["collapse-whitespace", "casefold", "drop-empty", "first-seen-order"],
    )
    def test_examples(self, tags: list[str], expected: list[str]) -> None:
        """Tags are case-folded, trimmed, collapsed and deduplicated in first-seen order."""
        assert expected == normalise_tags(tags)

    def test_accepts_any_iterable(self) -> None:
        """A generator of tags is read once, like a list."""
        expected = ["a", "b"]

        assert expected == normalise_tags(t for t in ("A", "b", "a"))

    @given(st.lists(st.text()))
    def test_idempotent(self, tags: list[str]) -> None:
        """Normalising normalised tags changes nothing."""
        once = normalise_tags(tags)

        assert once == normalise_tags(once)

    @given(st.lists(st.text()))
    def test_order_preserving_and_distinct(self, tags: list[str]) -> None:
        """The output holds each non-empty normalised tag once, in order of first appearance."""
        normalised = [normalise_tag(t) for t in tags]
        result = normalise_tags(tags)

        assert len(result) == len(set(result))
        assert "" not in result
        assert set(result) == {t for t in normalised if t}
        assert [normalised.index(t) for t in result] == sorted(normalised.index(t) for t in result)

    @given(st.lists(st.text(alphabet=st.characters(exclude_characters="|,;"), min_size=1)))
    def test_split_inverts_join(self, tags: list[str]) -> None:
        """Joining tags with pipes and splitting them again gives the normalised tags."""
        assert normalise_tags(tags) == split_tags(" | ".join(tags))
