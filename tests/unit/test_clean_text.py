"""Tests for seed-format text cleaning and the shared dateline, credit and byline rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.process.clean.text import (
    clean_text,
    is_date_line,
    parse_byline,
    parse_credit,
    parse_dateline,
    parse_signoff,
    split_paragraphs,
)

SEED = Path(__file__).parent.parent / "fixtures" / "000_df02527578575e69.txt"


@pytest.fixture(scope="module")
def seed():
    return clean_text(SEED.read_text(encoding="utf-8"))


class TestSeed:
    def test_title(self, seed):
        """The line after the tags is the title."""
        assert "Top Syrian Diplomat Passes Assad's Thanks to Russia" == seed.title

    def test_tags_raw(self, seed):
        """Tags are kept as found, duplicates and case included: enrich normalises them."""
        assert ("Russia", "Syria", "syria", "conflict", "russia", "assad") == seed.tags

    def test_published_raw(self, seed):
        """The date line is returned as the raw string."""
        assert "Monday, 09 Sep 2013 04:11 AM" == seed.published

    def test_dateline_and_credit(self, seed):
        """The dateline place and the © credit are read off the body."""
        assert ("MOSCOW", "AFP") == (seed.dateline, seed.credit)

    def test_text_start_and_end(self, seed):
        """The body starts with its dateline, as written, and ends with the last paragraph."""
        assert seed.text.startswith("MOSCOW — Syria's foreign minister on Monday")
        assert seed.text.endswith("the approval of Congress.")

    @pytest.mark.parametrize(
        "chrome",
        ["Like our page", "trademark", "America's News Page", "All Rights Reserved", "©", "Tags:"],
        ids=["social", "trademark", "slogan", "rights", "copyright", "tags"],
    )
    def test_no_chrome(self, seed, chrome):
        """No site chrome is left in the text."""
        assert chrome not in seed.text

    def test_paragraphs_separated_by_one_blank_line(self, seed):
        """Every body paragraph of the source is kept, joined by exactly one blank line."""
        raw = SEED.read_text(encoding="utf-8").split("\n\n")
        body = raw[raw.index("Monday, 09 Sep 2013 04:11 AM") + 1 : raw.index("© AFP 2015")]

        assert "\n\n\n" not in seed.text
        assert len(body) == len(seed.text.split("\n\n"))

    def test_is_article(self, seed):
        """A text with a body is an article."""
        assert seed.is_article


class TestDateline:
    @pytest.mark.parametrize(
        ("paragraph", "expected"),
        [
            ("MOSCOW — Syria's minister spoke.", ("MOSCOW", None, "Syria's minister spoke.")),
            ("WASHINGTON (AP) — The Senate voted.", ("WASHINGTON", "AP", "The Senate voted.")),
            ("LONDON, March 3 (Reuters) - Shares fell.", ("LONDON", "Reuters", "Shares fell.")),
            ("PARIS (AFP) - Strikes began.", ("PARIS", "AFP", "Strikes began.")),
            ("PARIS (AFP) -Strikes began.", ("PARIS", "AFP", "Strikes began.")),
            ("SAN JUAN, Puerto Rico (AP) — Power is back.", ("SAN JUAN", "AP", "Power is back.")),
            ("NEW YORK — Markets rose.", ("NEW YORK", None, "Markets rose.")),
        ],
        ids=["em-dash", "ap", "reuters-date", "afp-hyphen", "afp-tight", "region", "two-words"],
    )
    def test_parsed(self, paragraph, expected):
        """Datelines give place, agency and the rest of the paragraph."""
        assert expected == parse_dateline(paragraph)

    @pytest.mark.parametrize(
        "paragraph",
        [
            "Moscow — the capital — was quiet.",
            "PARIS-based group said on Monday it would expand.",
            "NATO, the alliance said - nothing more.",
            "The minister spoke - briefly.",
            "MOSCOW —",
        ],
        ids=["lower-case", "hyphenated-word", "lower-case-extra", "sentence", "nothing-after"],
    )
    def test_not_a_dateline(self, paragraph):
        """Text that only looks a bit like a dateline is left alone."""
        assert (None, None, paragraph) == parse_dateline(paragraph)

    def test_dateline_read_and_kept_in_text(self):
        """The dateline is also stored apart and its agency becomes the credit; the text keeps it."""
        extracted = clean_text("WASHINGTON (AP) — The Senate voted on Tuesday.\n\nMore text follows here.")

        assert ("WASHINGTON", "AP") == (extracted.dateline, extracted.credit)
        assert extracted.text.startswith("WASHINGTON (AP) — The Senate voted")


class TestCredit:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("© AFP 2015", "AFP"),
            ("(c) Reuters 2020", "Reuters"),
            ("Copyright 2019 The Associated Press. All rights reserved.", "The Associated Press"),
            ("AFP", "AFP"),
            ("— Reuters", "Reuters"),
            ("(dpa)", "dpa"),
            ("aja/PAP", "PAP"),
            ("Reuters is a news agency.", None),
            ("The end.", None),
        ],
        ids=[
            "afp",
            "reuters-c",
            "ap-long",
            "lone-afp",
            "dash-reuters",
            "paren-dpa",
            "initials",
            "sentence",
            "other",
        ],
    )
    def test_parse_credit(self, line, expected):
        """Credit lines give the credited holder; other lines give None."""
        assert expected == parse_credit(line)

    def test_agency_preferred_to_site_copyright(self):
        """An agency credit wins over the site's own copyright footer."""
        extracted = clean_text("Body text of the story.\n\n© 2020 Example Media Inc.\n\n© AFP 2020")

        assert "AFP" == extracted.credit
        assert "Body text of the story." == extracted.text


class TestAuthors:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("By Jane Doe and John Roe", ("Jane Doe", "John Roe")),
            ("By Jane Doe, John Roe and Ann Poe", ("Jane Doe", "John Roe", "Ann Poe")),
            ("By Ludwig van Beethoven", ("Ludwig van Beethoven",)),
            ("By Jane Doe, Reuters", ("Jane Doe",)),
            ("By the way, this is a sentence.", ()),
            ("Bystanders fled the scene.", ()),
            ("Autor: Peter Maahn", ("Peter Maahn",)),
            ("Autori:Anna Ūdre(LTV Ziņu dienesta ārzemju ziņu redaktore)", ("Anna Ūdre",)),
            ("Por Ana Gómez y Luis Pérez", ("Ana Gómez", "Luis Pérez")),
            ("Por favor, llame a la policía.", ()),
            ("Autoren Jelko Djuren und Jutta Klaukien", ("Jelko Djuren", "Jutta Klaukien")),
            ("Autoren schreiben gern über sich selbst.", ()),
            ("Autor Max Frisch", ()),
        ],
        ids=[
            "two",
            "three",
            "particle",
            "with-agency",
            "sentence",
            "prefix-word",
            "label",
            "label-and-role-in-brackets",
            "spanish",
            "spanish-sentence",
            "plural-label-without-colon",
            "plural-label-in-a-sentence",
            "singular-label-needs-its-colon",
        ],
    )
    def test_parse_byline(self, line, expected):
        """Bylines give author names; sentences give nothing."""
        assert expected == parse_byline(line)

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("Reporting by Jane Doe; Editing by John Roe", ("Jane Doe",)),
            ("(Reporting by Jane Doe in Moscow; Editing by Tom Brown)", ("Jane Doe",)),
            (
                "Reporting by Jane Doe and Ann Poe; Additional reporting by Bob Roe",
                ("Jane Doe", "Ann Poe", "Bob Roe"),
            ),
            ("Editing by Tom Brown", ()),
            ("Reporting is hard work.", None),
        ],
        ids=["basic", "parenthesised", "additional", "editor-only", "sentence"],
    )
    def test_parse_signoff(self, line, expected):
        """Sign-offs give reporters, not editors; other lines give None."""
        assert expected == parse_signoff(line)

    def test_byline_and_signoff_removed(self):
        """Byline and sign-off lines leave the text and feed the authors."""
        raw = "By Jane Doe\n\nThe vote passed.\n\n(Reporting by Bob Roe; Editing by Tom Brown)"

        extracted = clean_text(raw)

        assert ("Jane Doe", "Bob Roe") == extracted.authors
        assert "The vote passed." == extracted.text

    @pytest.mark.parametrize(
        ("closing", "expected"),
        [("Von Cosima Künzel", ("Cosima Künzel",)), ("Von dort ging es weiter.", ())],
        ids=["byline", "sentence"],
    )
    def test_closing_byline_credits_and_stays(self, closing, expected):
        """A byline closing a story names its author; the line stays in the text as the publisher wrote it."""
        raw = "\n\n".join(["The vote passed.", "The council met.", "The mayor spoke.", closing])

        extracted = clean_text(raw)

        assert expected == extracted.authors
        assert extracted.text.endswith(closing)

    @pytest.mark.parametrize(
        ("credit", "expected"),
        [
            ("Ein Interview von Eugen Zentner mit Sonja Silberhorn.", ("Eugen Zentner",)),
            ("An interview by Jane Doe with the mayor", ("Jane Doe",)),
            ("Ein Interview von heute mit der Bürgermeisterin.", ()),
        ],
        ids=["german", "english", "sentence"],
    )
    def test_interview_credit_names_the_interviewer(self, credit, expected):
        """An interview's credit line names its interviewer, not the interviewee, and stays in the text."""
        extracted = clean_text(
            f"„Es gibt mehr Leser als gedacht.“\n\n{credit}\n\nDie Autorin hat ein Buch geschrieben."
        )

        assert expected == extracted.authors
        assert credit in extracted.text


class TestDateLine:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("Monday, 09 Sep 2013 04:11 AM", True),
            ("March 3, 2020", True),
            ("Updated: 2020-03-03 10:00 UTC", True),
            ("24. März 2004", True),
            ("+81 158-23-2012", False),
            ("Monday was a good day", False),
            ("2013", False),
        ],
        ids=["seed", "us", "iso-label", "german", "phone", "sentence", "year-only"],
    )
    def test_is_date_line(self, line, expected):
        """Only lines made of a date and date words count as date lines."""
        assert expected == is_date_line(line)


class TestDegrades:
    def test_no_header(self):
        """Text without tags, title or date is all body."""
        extracted = clean_text("First paragraph here.\n\nSecond paragraph here.")

        assert (None, None, ()) == (extracted.title, extracted.published, extracted.tags)
        assert "First paragraph here.\n\nSecond paragraph here." == extracted.text

    def test_empty(self):
        """Empty input gives an empty, non-article result."""
        extracted = clean_text("")

        assert ("", False) == (extracted.text, extracted.is_article)

    def test_learned_chrome_removed(self):
        """A footer learned for the source is removed though no rule knows it."""
        from worker.process.clean.chrome import fingerprint

        raw = "The story itself.\n\nBrought to you by the Gazette team"
        learned = frozenset({fingerprint("Brought to you by the Gazette team")})

        assert "The story itself." == clean_text(raw, learned_chrome=learned).text


class TestProperties:
    @settings(max_examples=200, deadline=None)
    @given(st.text())
    def test_never_raises(self, raw):
        """Any text cleans without error to paragraphs joined by single blank lines."""
        text = clean_text(raw).text

        assert "\n\n\n" not in text

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.text(),
                st.sampled_from(
                    [
                        "Tags: a | b",
                        "Monday, 09 Sep 2013 04:11 AM",
                        "MOSCOW — It began.",
                        "© AFP 2015",
                        "By Jane Doe",
                        "Related",
                        "Like our page",
                        "Reporting by X Y; Editing by Z",
                    ]
                ),
            ),
            max_size=8,
        ).map("\n\n".join)
    )
    def test_idempotent(self, raw):
        """Cleaning the cleaned text again changes nothing."""
        once = clean_text(raw).text

        assert once == clean_text(once).text

    @given(st.text())
    def test_split_round_trips(self, raw):
        """Joined paragraphs split back into the same paragraphs."""
        paragraphs = split_paragraphs(raw)

        assert paragraphs == split_paragraphs("\n\n".join(paragraphs))
