"""Tests for HTML cleaning: text, metadata, page type, dates and robustness."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from trafilatura.utils import INVALID_XML_CHARS, repair_faulty_html
from trafilatura.utils import load_html as trafilatura_load_html

from worker.process.clean.chrome import fingerprint
from worker.process.clean.html import INVALID_XML, clean_html, load_html, repaired_html, valid_date
from worker.process.clean.lead import find_lead
from worker.process.clean.metadata import Hints

FIXTURES = Path(__file__).parent.parent / "fixtures" / "html"
URL = "https://ledger.example/news/harbour-ferry"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def article():
    return clean_html(read("article.html"), URL, now=NOW)


class TestArticle:
    def test_is_article(self, article):
        """An article page is recognised as one."""
        assert article.is_article

    def test_text(self, article):
        """The body is found without byline, credit or page chrome; it starts with its dateline."""
        assert article.text.startswith("PORTSMOUTH (AP) — The harbour council on Thursday approved")
        assert article.text.endswith("inspected by the port authority.")
        for chrome in ("Share this", "Follow us", "About us", "All rights reserved", "©", "By Jane Doe"):
            assert chrome not in article.text

    def test_paragraphs(self, article):
        """Paragraphs are separated by one blank line."""
        assert 5 == len(article.text.split("\n\n"))

    def test_metadata(self, article):
        """Title, date, author, dateline, credit and page metadata are read."""
        assert "Harbour Council Approves New Ferry Line" == article.title
        assert "2021-03-04T10:15:00+00:00" == article.published
        assert ("Jane Doe",) == article.authors
        assert ("PORTSMOUTH", "AP") == (article.dateline, article.credit)
        assert "https://ledger.example/news/harbour-ferry" == article.canonical_url
        assert "https://ledger.example/img/ferry.jpg" == article.image
        assert "The Coastal Ledger" == article.site_name

    def test_learned_chrome(self):
        """A paragraph learned as chrome for the source is dropped."""
        line = (
            "Opponents argued that the money would be better spent on repairing the old bridge, which has "
            "been closed to vehicles since a storm damaged its supports three winters ago."
        )
        learned = frozenset({fingerprint(line)})

        extracted = clean_html(read("article.html"), URL, now=NOW, learned_chrome=learned)

        assert line not in extracted.text
        assert 4 == len(extracted.text.split("\n\n"))


class TestListPage:
    def test_index_not_article(self):
        """An index page of teasers is not an article."""
        assert not clean_html(read("index.html"), "https://ledger.example/news", now=NOW).is_article


class TestDates:
    @pytest.mark.parametrize(
        ("date", "expected"),
        [
            ("2999-01-01T00:00:00+00:00", None),
            ("1985-05-05T00:00:00+00:00", None),
            ("2021-03-04T10:15:00+00:00", "2021-03-04T10:15:00+00:00"),
        ],
        ids=["future", "before-1990", "valid"],
    )
    def test_published_range(self, date, expected):
        """Dates in the future or before 1990 are rejected."""
        # The footer years go too, so no other date on the page can stand in.
        html = read("article.html").replace("2021-03-04T10:15:00+00:00", date).replace("2021 ", "")

        assert expected == clean_html(html, URL, now=NOW).published

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2024-06-02", "2024-06-02"),
            ("2024-06-03", None),
            ("1989-12-31", None),
            ("not a date", None),
            (None, None),
        ],
        ids=["within-slack", "future", "too-old", "junk", "none"],
    )
    def test_valid_date(self, value, expected):
        """A day of slack is allowed for time zones; junk is rejected."""
        assert expected == valid_date(value, NOW)


class TestRobust:
    @pytest.mark.parametrize(
        "html",
        [
            "",
            "   ",
            "\x00\x01\x02",
            "<html>",
            "<" * 1000,
            "<div>" * 5000 + "deep" + "</div>" * 5000,
            "plain words",
        ],
        ids=["empty", "blank", "binary", "unclosed", "brackets", "deep-nesting", "no-tags"],
    )
    def test_junk(self, html):
        """Junk input gives an empty non-article, not an exception."""
        extracted = clean_html(html, "https://example.org/")

        assert not extracted.is_article

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(max_size=300))
    def test_never_raises(self, html):
        """Any text is handled without raising."""
        extracted = clean_html(html, "https://example.org/a")

        assert isinstance(extracted.text, str)

    @pytest.mark.parametrize(
        "html",
        [
            "",
            "plain words",
            '<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>Caf\u00e9</p></body></html>',
            "<html><head><title>T</title></head><body><form><input name=q></form><p>x</p></body></html>",
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" />\n<html><body><p>x</p></body></html>',
            '<html lang="en" />\n<body><p>x</p></body>',
            "<html><body><p>a\x00b\x0bc\ufffe</p></body></html>",
        ],
        ids=[
            "empty",
            "no-tags",
            "encoding-declaration",
            "form",
            "xml-doctype",
            "self-closed-html",
            "control",
        ],
    )
    def test_parses_as_trafilatura_does(self, html):
        """Our parser gives trafilatura's tree (or its None), every element a plain HtmlElement."""
        ours, theirs = load_html(html), trafilatura_load_html(html)

        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert lxml_html.tostring(ours) == lxml_html.tostring(theirs)
            assert {type(e) for e in ours.iter()} == {lxml_html.HtmlElement}


class TestRepair:
    def test_looks_for_what_trafilatura_deletes(self) -> None:
        """The characters looked for are exactly those trafilatura's pattern deletes."""
        assert {chr(c) for c in range(0x110000) if INVALID_XML_CHARS.match(chr(c))} == set(INVALID_XML)

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.sampled_from(
                ["<!DOCTYPE html/>", "<!doctype x>", "<html a='b' />", "<html>", "\n", "\x00", "\x1f"]
            )
            | st.text(max_size=20),
            max_size=12,
        ).map("".join)
    )
    def test_repairs_as_trafilatura_does(self, text: str) -> None:
        """Doctype, self-closed `<html/>` and deletions: the same string as `repair_faulty_html`."""
        beginning = text[:50].lower()

        assert repair_faulty_html(text, beginning) == repaired_html(text, beginning)


STORY = [
    "The harbour council on Thursday approved a new ferry line linking the north and south piers.",
    "The line will run every twenty minutes during the day and every hour at night, the council said.",
    "Opponents argued that the money would be better spent on repairing the old bridge instead.",
    "The first boats are expected to enter service in the autumn, once the landing stages are rebuilt.",
]


def news_page(*, head: str = "", before: str = "", after: str = "") -> str:
    """Return a news page with the story's paragraphs between `before` and `after`."""
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    return (
        f"<html><head><title>Ferry line approved</title>{head}</head><body>"
        f"<main><article><h1>Ferry line approved</h1>{before}{paragraphs}{after}</article></main>"
        "</body></html>"
    )


class TestPagesFromFiles:
    def test_a_page_from_an_archive_is_read_at_its_canonical_address(self):
        """Without a web address of its own, the page's canonical one names its site: the title loses it."""
        story = "".join(f"<p>{p}</p>" for p in STORY)
        html = (
            "<html><head><title>Ferry line approved | Ledger</title>"
            '<link rel="canonical" href="https://ledger.example/news/2021/03/04/ferry"></head>'
            f"<body><main><article>{story}</article></main></body></html>"
        )

        from_file = clean_html(html, "archive:pages/ferry.html", now=NOW)
        from_web = clean_html(html, "https://ledger.example/news/2021/03/04/ferry", now=NOW)

        assert ("Ferry line approved", "Ferry line approved") == (from_file.title, from_web.title)
        assert from_web.published == from_file.published


class TestLead:
    def test_lead_kept_once(self):
        """A standfirst above the body is the text's first paragraph, and appears once."""
        lead = "Seven votes to two: the council ends a two-year debate about the crossing."
        html = news_page(
            head=f'<meta name="description" content="{lead}">', before=f'<p class="lead">{lead}</p>'
        )

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith(lead)
        assert 1 == text.count(lead)

    def test_teaser_box_is_no_lead(self):
        """A classed box of several links above the body is not taken for a lead."""
        box = (
            '<div class="teaser-text">'
            + "".join(f'<a href="/s{i}">Other story number {i} today</a>' for i in range(4))
            + "</div>"
        )

        text = clean_html(news_page(before=box), URL, now=NOW).text

        assert "Other story" not in text

    def test_a_lead_classed_block_after_the_body_start_is_no_lead(self):
        """Only what precedes the body's first paragraph can be its lead: a teaser below is not."""
        teaser = "Another story entirely: a driver was stopped with a kilo of contraband on Sunday."
        html = news_page(head=f'<meta name="description" content="{teaser}">').replace(
            "</main>", f'</main><div class="intro">{teaser}</div>'
        )

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith(STORY[0])

    def test_a_lede_picture_with_its_caption_is_no_lead(self):
        """The block of a story's lead picture ("lede" image) holds a caption and a credit, no lead."""
        picture = (
            '<div class="image__lede"><picture><img src="/p.jpg" alt="x"></picture>'
            "<div>The harbour master at the new north pier on Thursday afternoon.</div>"
            "<figcaption>Photo: Ledger/Rui Sousa</figcaption></div>"
        )

        text = clean_html(news_page().replace("<main>", picture + "<main>"), URL, now=NOW).text

        assert text.startswith(STORY[0])

    def test_a_lead_keeps_the_space_at_a_link_edge(self):
        """A lead with a link keeps its words apart ("Harbour council </a>ends"), and is not doubled."""
        lead = (
            'The <a href="/council">harbour council </a>ends a two-year debate about the crossing'
            " with seven votes to two."
        )
        html = news_page().replace("<main>", f'<p class="lead">{lead}</p><main>')

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith("The harbour council ends a two-year debate")
        assert 1 == text.count("two-year debate")

    def test_a_classed_copy_of_the_headline_is_passed_over_for_the_lead(self):
        """A classed span repeating the headline is no lead: the search goes on to the lead below it."""
        headline = "Harbour council approves the new ferry line after two years of debate"
        lead = "Seven votes to two: the council ends a two-year debate about the crossing."
        html = (
            f"<html><head><title>{headline}</title></head><body><main><article>"
            f'<h1><span class="article-teaser-headline">{headline}</span></h1>'
            f'<div class="article-teaser-intro"><p>{lead}</p></div>'
            + "".join(f"<p>{p}</p>" for p in STORY)
            + "</article></main></body></html>"
        )

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith(lead)
        assert headline not in text

    def test_a_lead_above_a_body_opening_in_bold(self):
        """The body's first paragraph may open in bold (`<p><b>…</b></p>`): the lead above it is found."""
        lead = "Seven votes to two: the council ends a two-year debate about the crossing."
        body = f"<p><b>{STORY[0]}</b></p>" + "".join(f"<p>{p}</p>" for p in STORY[1:])
        html = (
            "<html><head><title>Ferry line approved</title></head><body><main><article>"
            f'<h1>Ferry line approved</h1><div class="teaser-text"><p>{lead}</p></div>{body}'
            "</article></main></body></html>"
        )

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith(lead)
        assert 1 == text.count(lead)

    def test_a_login_box_in_the_site_banner_is_no_lead(self):
        """An "intro" block in the site's banner (a `header` with the menu, no headline) is no lead."""
        banner = (
            '<header id="header"><nav><a href="/">Home</a> <a href="/news">News</a></nav>'
            '<div id="login-layer"><h3>Login</h3>'
            '<div class="intro">Choose one of the two ways to log in to your account</div></div></header>'
        )
        body = f"<p><b>{STORY[0]}</b></p>" + "".join(f"<p>{p}</p>" for p in STORY[1:])
        html = (
            f"<html><head><title>Ferry line approved</title></head><body>{banner}<main><article>"
            f"<h1>Ferry line approved</h1>{body}</article></main></body></html>"
        )

        text = clean_html(html, URL, now=NOW).text

        assert text.startswith(STORY[0])

    def test_an_unclassed_standfirst_under_the_headline_in_the_article_header(self):
        """A plain `p` after the `h1` in the article's `header`, in whole sentences, is its lead."""
        lead = "Seven votes to two: the council ends a two-year debate about the crossing."
        tree = load_html(
            news_page().replace(
                "<h1>Ferry line approved</h1>", f"<header><h1>Ferry line approved</h1><p>{lead}</p></header>"
            )
        )

        assert lead == find_lead(tree, STORY[0], None, "Ferry line approved")

    @pytest.mark.parametrize(
        "header",
        [
            # A blog's tagline under its name, in the site's header outside the article.
            "<header><h1>Harbour Notes</h1>"
            "<p>Ferries, piers, bridges. And whatever else floats by on the water.</p></header><main>",
            # A byline under the headline, linking to the author.
            '<main><header><h1>Ferry line approved</h1><p>By <a href="/a/rui">Rui Sousa</a> on 3 March 2021'
            " | 18 comments on this story.</p></header>",
            # A kicker under the headline, no sentence.
            "<main><header><h1>Ferry line approved</h1>"
            "<p>Harbour, ferries and the new north pier: the plans</p></header>",
        ],
        ids=["site-tagline", "byline", "no-sentence"],
    )
    def test_a_tagline_or_byline_under_a_headline_is_no_lead(self, header):
        """Only whole sentences with no link, in the article, count as an unclassed standfirst."""
        tree = load_html(news_page().replace("<main>", header))

        assert find_lead(tree, STORY[0], None, "Ferry line approved") is None


class TestHeadlineInText:
    @pytest.mark.parametrize(
        ("first", "kept"),
        [
            ("Strompreisbremse: Bund drosselt Bioenergie", False),
            ("Strompreisbremse – Erlösabschöpfung: Bund drosselt Bioenergie", False),
            ("Bund drosselt Bioenergie", False),
            ("Wie Strompreisbremse und Bund drosselt Bioenergie", True),
        ],
        ids=["kicker-colon", "kicker-dash-colon", "headline-alone", "a-sentence-ending-with-it"],
    )
    def test_first_line_of_kicker_and_headline_is_dropped(self, first, kept):
        """The headline printed again atop the text, alone or after its kicker, is not text; a sentence is."""
        body = " ".join(["Die Bundesregierung hat am Freitag den Gesetzentwurf beschlossen."] * 6)
        html = (
            '<html lang="de"><head><meta property="og:title" content="Bund drosselt Bioenergie"></head>'
            f"<body><article><h1>Bund drosselt Bioenergie</h1><p>{first}</p><p>{body}</p><p>{body}</p>"
            "</article></body></html>"
        )

        found = clean_html(html, "https://energie.example/2022/bund", now=NOW)

        assert "Bund drosselt Bioenergie" == found.title
        assert kept == found.text.startswith(first)

    @pytest.mark.parametrize(
        ("above", "kept"),
        [
            (["Main Content", "Energie"], False),
            (["Posted on"], False),
            (["Die Regierung hat am Freitag entschieden, das Gesetz zu ändern."], True),
            (["Energie", "Wind", "Sonne", "Biogas"], True),
        ],
        ids=["skip-link-and-section", "posted-on", "a-sentence-above", "more-than-three-lines"],
    )
    def test_short_lines_above_the_headline_go_with_it(self, above, kept):
        """Section labels and skip links above the headline are furniture; text above it stays."""
        body = " ".join(["Die Bundesregierung hat am Freitag den Gesetzentwurf beschlossen."] * 6)
        lines = "".join(f"<p>{line}</p>" for line in [*above, "Bund drosselt Bioenergie"])
        html = (
            '<html lang="de"><head><meta property="og:title" content="Bund drosselt Bioenergie"></head>'
            f"<body><article>{lines}<p>{body}</p><p>{body}</p></article></body></html>"
        )

        found = clean_html(html, "https://energie.example/2022/bund", now=NOW)

        assert "Bund drosselt Bioenergie" == found.title
        assert kept == ("Bund drosselt Bioenergie" in found.text)
        assert kept == found.text.startswith(above[0])
        assert found.text.rstrip().endswith("beschlossen.")


class TestFeedItems:
    CARDS = "".join(
        f'<article class="card"><h3><a href="/n{i}">Teaser {i}</a></h3></article>' for i in range(5)
    )

    def test_feed_item_with_teaser_cards_is_an_article(self):
        """og:type=website and teaser cards skip a page, but not an item a feed listed as an entry."""
        html = news_page(head='<meta property="og:type" content="website">', after=self.CARDS)

        alone = clean_html(html, URL, now=NOW)
        from_feed = clean_html(html, URL, now=NOW, hints=Hints(from_feed=True))

        assert (False, True) == (alone.is_article, from_feed.is_article)
        assert alone.extra["not_article"].startswith("an index page")

    def test_feed_item_without_text_is_skipped_with_a_reason(self):
        """A feed entry whose page has next to no text is still no article, and says why."""
        html = "<html><body><article><h1>Gallery</h1><p>Photos.</p></article></body></html>"

        found = clean_html(html, URL, now=NOW, hints=Hints(from_feed=True))

        assert not found.is_article
        assert found.extra["not_article"].startswith("too little text")

    def test_feed_date_survives_a_date_in_the_text(self):
        """The feed's explicit date wins over a date a search of the text finds."""
        html = news_page(after="<p>Posted 01/01/2009 in the archive.</p>")

        found = clean_html(html, URL, now=NOW, hints=Hints(published="2021-03-04T10:15:00Z"))

        assert "2021-03-04T10:15:00+00:00" == found.published


class TestTrailingTeasers:
    def test_links_closing_the_text_are_teasers(self):
        """A paragraph closing the story that is one whole link to another story is dropped."""
        teaser = "Herbstlicher Wochenend-Ausflug in die Südoststeiermark und mehr"
        after = f'<p><a href="https://ledger.example/news/2021/roadtrip">{teaser}</a></p>'

        text = clean_html(news_page(after=after), URL, now=NOW).text

        assert text.endswith(STORY[-1])

    def test_a_link_inside_the_story_stays(self):
        """A whole-link paragraph followed by more of the story is part of it."""
        before = '<p><a href="/docs/ferry-plan.pdf">The ferry plan as the council adopted it</a></p>'

        text = clean_html(news_page(before=before), URL, now=NOW).text

        assert "The ferry plan as the council adopted it" in text


class TestCaptions:
    PHOTO = "Harbour master Ines Duarte at the new pier. Photo: Ledger/Rui Sousa"

    def test_a_caption_repeating_its_photo_alt_is_dropped(self):
        """The line under a picture that repeats the picture's `alt` is a caption, not the story."""
        figure = f'<div class="foto"><img src="/p.jpg" alt="{self.PHOTO}"><p>{self.PHOTO}</p></div>'
        html = news_page(before=figure)

        found = clean_html(html, URL, now=NOW)

        assert self.PHOTO not in found.text
        assert found.text.startswith(STORY[0])

    def test_a_story_line_that_is_also_a_photo_alt_elsewhere_stays(self):
        """A step's text that a separate step photo repeats in its `alt` is still the story's."""
        photo = f'<div class="step-photo"><picture><img src="/s.jpg" alt="{STORY[1]}"></picture></div>'
        html = news_page(after=photo)

        found = clean_html(html, URL, now=NOW)

        assert STORY[1] in found.text


class TestHiddenMarkup:
    PROMPT = (
        "Only subscribers can save articles. Saved articles can be read on your phone and tablet as well."
    )

    @pytest.mark.parametrize(
        "hidden",
        ['style="display: none;"', 'style="visibility:hidden"', "hidden"],
        ids=["display-none", "visibility-hidden", "hidden-attribute"],
    )
    def test_what_the_page_hides_is_not_text(self, hidden):
        """A pop-up or pull-down the page hides (a member prompt) is none of the story's text."""
        popup = f"<div {hidden}><p>{self.PROMPT}</p><p>{self.PROMPT}</p></div>"
        html = news_page(before=popup)

        found = clean_html(html, URL, now=NOW)

        assert "subscribers" not in found.text
        assert found.text.startswith(STORY[0])

    def test_hidden_structured_data_is_still_read(self):
        """Microdata a page keeps in a hidden block (the publication time) still reaches the metadata."""
        stamp = '<meta itemprop="datePublished" content="2021-03-04T10:15:00+01:00">'
        data = f'<div style="display:none">{stamp}</div>'
        html = news_page(before=data).replace(
            "<article>", '<article itemscope itemtype="https://schema.org/NewsArticle">'
        )

        found = clean_html(html, URL, now=NOW)

        assert "2021-03-04T10:15:00+01:00" == found.published

    ITEMS = (
        "Bender-shaped covers for assistants",
        "A bookshelf made from a baby grand piano",
        "A remote control with a headphone plug",
        "A ring shaped like a hug",
    )

    def slides(self, count: int, *, text: str) -> str:
        """Return `count` hidden gallery items of one class, each with a heading and `text`."""
        return "".join(
            f'<div class="gallery-section hidden" style="display: none;">'
            f"<h2>{n}. {item}</h2><p>{text}</p></div>"
            for n, item in enumerate(self.ITEMS[:count], start=1)
        )

    def test_a_paginated_list_keeps_its_hidden_items(self):
        """A list shown one item at a time hides the others the same way; they are the story."""
        text = " ".join(STORY[:3])
        html = news_page(after=self.slides(4, text=text))

        found = clean_html(html, URL, now=NOW)

        assert all(item in found.text for item in self.ITEMS)

    def test_two_hidden_panels_are_not_a_list(self):
        """Below three items, hidden blocks of one class are pop-ups and stay out."""
        text = " ".join(STORY[:3])
        html = news_page(after=self.slides(2, text=text))

        found = clean_html(html, URL, now=NOW)

        assert not any(item in found.text for item in self.ITEMS)

    def test_short_hidden_menus_are_not_a_list(self):
        """Hidden sub-menus of one class hold a few words each: they stay out."""
        html = news_page(after=self.slides(4, text="More"))

        found = clean_html(html, URL, now=NOW)

        assert not any(item in found.text for item in self.ITEMS)


class TestAuthorBio:
    BIO = "Ines Duarte covers the harbour and its ferries for the Ledger. She lives in Porto with two cats."

    def page(self, closing: str) -> str:
        head = '<meta name="author" content="Ines Duarte">'
        byline = '<p class="byline">By <a rel="author" href="/authors/ines-duarte">Ines Duarte</a></p>'
        return news_page(head=head, before=byline, after=f"<p>{closing}</p>")

    def test_the_author_bio_closing_the_text_goes(self):
        """A closing paragraph opening with the author's name that reads as a sentence is a bio."""
        found = clean_html(self.page(self.BIO), URL, now=NOW)

        assert ("Ines Duarte",) == found.authors
        assert "cats" not in found.text
        assert found.text.rstrip().endswith(STORY[-1])

    def test_a_closing_byline_stays(self):
        """A closing byline ("Ines Duarte, Ledger") is too short for a bio and stays in the text."""
        found = clean_html(self.page("Ines Duarte, Ledger"), URL, now=NOW)

        assert found.text.rstrip().endswith("Ines Duarte, Ledger")
