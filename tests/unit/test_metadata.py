"""Tests for the metadata resolver: one rule per case, on markup shaped like real news pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.process.clean.bylines import name_key, shown_names, sort_names, split_names, strip_prefix
from worker.process.clean.headline import strip_site
from worker.process.clean.html import captured_url, clean_html, load_html
from worker.process.clean.metadata import Hints, Image, resolve
from worker.process.clean.structured import read_page
from worker.process.clean.topics import split_keywords

URL = "https://www.harbour-gazette.example/local/2024/03/04/ferry-line-approved"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
BODY = "<p>" + " ".join(["The harbour council approved a new ferry line on Thursday."] * 8) + "</p>"


def page(head: str = "", body: str = "", *, lang: str = "en-GB") -> str:
    """Return a page with `head` in its head and `body` before a paragraph of article text."""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
        f"<body><main><article>{body}{BODY}</article></main></body></html>"
    )


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


JANE_DOE_ARTICLE = {
    "@type": "NewsArticle",
    "headline": "Ferry",
    "author": {"@type": "Person", "name": "Jane Doe"},
}


def meta(prop: str, content: str, attr: str = "property") -> str:
    return f'<meta {attr}="{prop}" content="{content}">'


DECK = "Der Bund fördert künftig den Ausbau der Waldwege in den Ländern und Gemeinden. " * 3


def run(html: str, url: str = URL, hints: Hints | None = None, found: dict | None = None):
    return resolve(load_html(html), url, now=NOW, hints=hints, found=found)


class TestStructuredData:
    def test_graph_with_references(self):
        """An article inside @graph, its author and publisher given as @id references, is read."""
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Person", "@id": "#jane", "name": "Jane Doe"},
                {"@type": "NewsMediaOrganization", "@id": "#org", "name": "Harbour Gazette"},
                {
                    "@type": "NewsArticle",
                    "headline": "Ferry line approved",
                    "author": {"@id": "#jane"},
                    "publisher": {"@id": "#org"},
                    "datePublished": "2024-03-04T10:15:00+01:00",
                },
            ],
        }

        found = run(page(ld(graph), "<p>By JANE DOE</p>"))

        assert (("Jane Doe",), "Harbour Gazette", "2024-03-04T10:15:00+01:00") == (
            found.authors,
            found.publisher,
            found.published,
        )

    def test_page_article_chosen_among_teasers(self):
        """Of several articles in JSON-LD, the one whose mainEntityOfPage is this page is the article."""
        teaser = {"@type": "NewsArticle", "headline": "Other story", "datePublished": "2024-01-01T08:00:00Z"}
        own = {
            "@type": "ReportageNewsArticle",
            "headline": "Ferry line approved",
            "mainEntityOfPage": {"@id": URL},
            "datePublished": "2024-03-04T10:15:00+01:00",
        }

        found = run(page(ld([teaser, own])))

        assert "2024-03-04T10:15:00+01:00" == found.published

    def test_broken_json_ld_trailing_comma(self):
        """Hand-written JSON-LD with a trailing comma is still read."""
        script = '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "Ferry", }</script>'

        data = read_page(load_html(page(script)), URL)

        assert data.article is not None
        assert "Ferry" == data.article["headline"]

    def test_json_ld_with_line_comments(self):
        """`//` comments (a line, or after a value) are read past; a URL's `//` inside a string stays."""
        script = (
            '<script type="application/ld+json">{"@type": "NewsArticle",\n'
            '  //"interactionCount": "", // 文章互動數\n'
            '  "url": "https://www.harbour-gazette.example/ferry", // the story\n'
            '  "headline": "Ferry"}</script>'
        )

        data = read_page(load_html(page(script)), URL)

        assert data.article is not None
        assert "Ferry" == data.article["headline"]
        assert "https://www.harbour-gazette.example/ferry" == data.article["url"]


class TestTitle:
    @pytest.mark.parametrize(
        ("h1", "declared", "expected"),
        [
            (
                '<h1><span class="article-heading__kicker">Klimaschutz</span>'
                '<span class="visually-hidden">: </span><span class="article-heading__title">'
                "Bohren, bis es heiß wird</span></h1>",
                "Klimaschutz: Bohren, bis es heiß wird | ZEIT ONLINE",
                "Bohren, bis es heiß wird",
            ),
            (
                '<h1 class="entry-title"><span class="roofline">Immobilienkrise </span>'
                "Signa in Sorge – Finanzdaten und Berater-Auftrag</h1>",
                "Signa in Sorge - Finanzdaten und Berater-Auftrag",
                "Signa in Sorge – Finanzdaten und Berater-Auftrag",
            ),
            (
                '<h2 class="dm_article_headline"><strong>Düsseldorf</strong><span class="hiddenElement">:'
                "</span> Tote Tauben im ISS Dome gefunden</h2>",
                "Düsseldorf: Tote Tauben im ISS Dome gefunden | Express.de",
                "Tote Tauben im ISS Dome gefunden",
            ),
            (
                '<h1 class="logo"><a href="/">Harbour Gazette</a></h1><h1>Ferry line approved</h1>',
                "Ferry line approved - Harbour Gazette",
                "Ferry line approved",
            ),
            (
                '<nav><ol class="breadcrumb"><li><a href="/">Home</a></li><li><h1>Ferry line approved, '
                'the long version</h1></li></ol></nav><h2 class="article-title">Ferry line approved</h2>',
                "Ferry line approved | Harbour Gazette",
                "Ferry line approved",
            ),
            (
                "<h1>子<ruby>供<rt>こども</rt></ruby>の法律</h1>",
                "NEWS WEB EASY|子供の法律",
                "子供の法律",
            ),
            (
                '<h2 class="atc-Headline"><span class="atc-HeadlineEmphasis"><span>Nutzerbasierte Abrechnung'
                '</span><span class="o-VisuallyHidden">: </span></span><span class="atc-HeadlineText">'
                "Musik-Stars fordern neues Streaming-Modell</span></h2>",
                "Nutzerbasierte Abrechnung: Musik-Stars fordern neues Streaming-Modell",
                "Musik-Stars fordern neues Streaming-Modell",
            ),
            (
                '<h1><span class="subtitle">Olympische Spiele in Paris</span> Getränke per Schiff</h1>',
                "Olympische Spiele in Paris - Getränke per Schiff - Lebensmittelpraxis.de",
                "Getränke per Schiff",
            ),
            (
                '<div class="issue-title">Harbour Gazette 52/2018</div>'
                '<nav class="breadcrumb"><h1>Ferry line approved</h1></nav>',
                "Ferry line approved - Harbour Gazette 52/2018",
                "Ferry line approved",
            ),
            (
                '<h1 class="ticker"><a href="/b">Another story entirely about the harbour</a></h1>'
                '<h2 id="story_art_title">Ferry line approved</h2>',
                "Ferry line approved | Local | Harbour Gazette",
                "Ferry line approved",
            ),
            (
                '<h1 class="header-title"><a href="/ro/">Rondônia</a></h1>'
                '<h1 class="content-head__title">Ferry line approved</h1>',
                "Ferry line approved | Rondônia | Harbour Gazette",
                "Ferry line approved",
            ),
            (
                '<h1><span class="headline">Frain</span> Ferry line approved by the council</h1>',
                "Frain. Ferry line approved by the council",
                "Ferry line approved by the council",
            ),
            (
                '<h1><span class="first-word">Ehezoff</span> der Pochers eskaliert am Wochenende</h1>',
                "Ehezoff der Pochers eskaliert am Wochenende",
                "Ehezoff der Pochers eskaliert am Wochenende",
            ),
        ],
        ids=[
            "kicker-span",
            "roofline",
            "hidden-separator-h2",
            "logo-h1",
            "breadcrumb-h1",
            "ruby",
            "hidden-separator-ending-the-kicker",
            "subtitle-kicker",
            "brand-block-beside-a-breadcrumb-h1",
            "title-named-by-its-id-under-a-ticker-h1",
            "accented-section-name-is-no-headline",
            "place-kicker-in-its-own-element",
            "first-word-styled-apart-is-the-headlines",
        ],
    )
    def test_headline_shown(self, h1, declared, expected):
        """The h1 (or headline element) shown is the title, without kicker, logo, breadcrumb or ruby."""
        html = page(meta("og:title", declared) + meta("og:site_name", "Harbour Gazette"), h1)

        assert expected == run(html).title

    @pytest.mark.parametrize(
        ("title", "expected"),
        [
            ("Ferry line approved | Harbour Gazette", "Ferry line approved"),
            ("Harbour Gazette - Ferry line approved", "Ferry line approved"),
            ("Ferry line approved – Harbour Gazette – 13.06.2023", "Ferry line approved"),
            ("Ferry line approved · harbour-gazette.example", "Ferry line approved"),
            ("Cats – a love story", "Cats – a love story"),
            ("Ferry line approved | Harbour Gazette | Subscribe now!", "Ferry line approved"),
            ("Ferry line approved | Hårbour Gazétte", "Ferry line approved"),
            ("Ferry line – 13.06.2023 – approved", "Ferry line – 13.06.2023 – approved"),
        ],
        ids=["suffix", "prefix", "site-and-date", "host", "own-dash", "tagline", "accents", "inner-date"],
    )
    def test_site_name_stripped(self, title, expected):
        """A site name or date beside a separator goes; a headline's own dash stays."""
        assert expected == strip_site(title, ["Harbour Gazette", "harbour-gazette.example"])

    def test_site_name_spelled_as_its_host(self):
        """ "Ökologisch Bauen" is the site of oekologisch-bauen.example: umlauts are spelled out in hosts."""
        assert "Stromcheck" == strip_site("Stromcheck | Ökologisch Bauen", ["oekologisch-bauen.example"])

    def test_headline_inside_a_title_block(self):
        """A title block holding the headline beside its category and comment links gives the headline."""
        block = (
            '<div class="post-title"><h2><a href="/a">Ferry line approved</a></h2>'
            '<span class="post-cat"><a href="/c">Local</a></span> <a href="#respond">Comment</a></div>'
        )
        html = page(meta("og:title", "Ferry line approved | Harbour Gazette"), block)

        assert "Ferry line approved" == run(html).title

    def test_kicker_of_a_heading_inside_a_headline_block(self):
        """A headline block's heading drops its kicker set off by a hidden separator, as the page shows it."""
        block = (
            '<div class="atc-HeadlineContainer"><h2 class="atc-Headline"><span class="atc-HeadlineEmphasis">'
            '<span>Ferry vote</span><span class="o-VisuallyHidden">: </span></span>'
            "<span>Council approves the new line</span></h2></div>"
        )
        html = page(meta("og:title", "Ferry vote: Council approves the new line"), block)

        assert "Council approves the new line" == run(html).title

    def test_an_h1_classed_as_a_kicker_is_not_the_headline(self):
        """A theme setting its kicker in `<h1 class="strapline">` shows the headline in the next heading."""
        body = '<h1 class="strapline">Ferry vote: new line</h1>'
        body += '<h2 class="title">Council approves the new ferry line</h2>'
        html = page(meta("og:title", "Council approves the new ferry line - Ferry vote: new line"), body)

        assert "Council approves the new ferry line" == run(html).title

    def test_archived_page_is_named_by_its_original_site(self):
        """A web-archive capture's site is the captured address's host, not the archive's."""
        url = "https://web.archive.org/web/20080731095558/http://www.dimido.de/2008/07/29/virales/"
        html = page("<title>Was ist Virales Marketing? | DimidoBlog</title>")

        assert "Was ist Virales Marketing?" == clean_html(html, url, now=NOW).title
        assert "http://www.dimido.de/2008/07/29/virales/" == captured_url(url)
        assert URL == captured_url(URL)

    def test_declared_title_without_h1(self):
        """Without a visible h1 the declared title is used, site name removed."""
        html = page(
            meta("og:title", "Ferry line approved | Harbour Gazette")
            + meta("og:site_name", "Harbour Gazette")
        )

        assert "Ferry line approved" == run(html).title

    @pytest.mark.parametrize("wrapper", ["container_wrap sidebar_right", "layout has-sidebar"])
    def test_headline_in_the_column_beside_a_sidebar(self, wrapper):
        """
        A theme classing the article's column after its sidebar does not make the headline chrome.

        Else the breadcrumb in a title container ("You are here: Home / News / Headline") won.
        """
        crumbs = (
            '<div class="title_container"><div class="breadcrumb"><span>You are here:</span> '
            '<a href="/">Home</a> / <a href="/news/">News</a> / <span>Ferry line approved</span></div></div>'
        )
        paragraphs = "".join(f"<p>The council met for the {n} time on Thursday.</p>" for n in range(4))
        html = (
            f"<html><head>{meta('og:title', 'Ferry line approved')}</head><body>{crumbs}"
            f'<div class="{wrapper}"><main><h1 class="entry-title">Ferry line approved</h1>'
            f"{paragraphs}</main>"
            '<aside class="sidebar"><p>Most read</p></aside></div></body></html>'
        )

        assert "Ferry line approved" == run(html).title

    def test_a_breadcrumb_h1_stays_chrome(self):
        """An `h1` inside a breadcrumb is chrome even when its page has few paragraphs."""
        html = (
            f"<html><head>{meta('og:title', 'Ferry line approved')}</head><body>"
            '<div class="breadcrumb"><h1>News / Ferry line approved</h1></div>'
            "<article><h2 class='headline'>Ferry line approved</h2><p>The council met.</p></article>"
            "</body></html>"
        )

        assert "Ferry line approved" == run(html).title


class TestAuthors:
    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
            ("Von Hanna Schmidt und Jonas Weber", ["Hanna Schmidt", "Jonas Weber"]),
            ("Par Stefan Häne", ["Stefan Häne"]),
            ("Por Isabel Caro y José Miguel Wilson", ["Isabel Caro", "José Miguel Wilson"]),
            ("Door Jan de Vries", ["Jan de Vries"]),
            ("Av Anna Lindqvist", ["Anna Lindqvist"]),
            ("Autor: Peter Maahn/SP-X", ["Peter Maahn", "SP-X"]),
            ("Auteur : Kossivi Tiassou", ["Kossivi Tiassou"]),
            ("作者： 记者王敬照", ["王敬照"]),
            ("Doe, Jane", ["Jane Doe"]),
            ("Von der Leyen", ["Von der Leyen"]),
            ("Richard David Precht im Gespräch mit Karin Fischer", ["Karin Fischer"]),
            ("Erstellt von Andri Bryner", ["Andri Bryner"]),
            ("Zeige alle Beiträge von Petra Ruland", ["Petra Ruland"]),
            ("Written by: Charnele Henry", ["Charnele Henry"]),
            ("View all posts by Jane Doe", ["Jane Doe"]),
            ("Jens Bergmann Foto: Michael Hudler", ["Jens Bergmann"]),
            ("By GARY B. GRAVES, AP Sports Writer", ["GARY B. GRAVES"]),
            ("Jane Doe and John Roe, Staff Writers", ["Jane Doe", "John Roe"]),
            ("Hans Muster, Wirtschaftsredakteur", ["Hans Muster"]),
            ("Jane Doe, John Roe", ["Jane Doe", "John Roe"]),
            ("聯合報 記者林宸誼／即時報導", ["林宸誼"]),
            ("記者王小明、李大同／台北報導", ["王小明", "李大同"]),
            ("新华社记者 张三", ["张三"]),
            ("Piše: P. Mucović", ["P. Mucović"]),
            ("Pisze Jan Kowalski", ["Jan Kowalski"]),
            ("كتبت أسماء نصار", ["أسماء نصار"]),
            ("Pišerová Jana", ["Pišerová Jana"]),
            ("كتبي محمد", ["كتبي محمد"]),
        ],
        ids=[
            "by-and",
            "von-und",
            "par",
            "por-y",
            "door-particle",
            "av",
            "autor-label-agency",
            "auteur-label",
            "chinese-labels",
            "last-first",
            "surname-not-prefix",
            "interview",
            "erstellt-von",
            "alle-beitraege-von",
            "by-colon",
            "view-all-posts-by",
            "photo-credit-after",
            "job-title-after-comma",
            "plural-job-title",
            "german-job-title",
            "second-person-is-no-job",
            "paper-reporter-name-reports",
            "two-reporters-place-reports",
            "agency-reporter-name",
            "writes-colon-initial",
            "writes-polish",
            "wrote-arabic",
            "surname-starting-like-writes",
            "arabic-name-starting-like-wrote",
        ],
    )
    def test_split_names(self, byline, expected):
        """Byline words and labels of the main news languages go; names are split and turned round."""
        assert expected == split_names(byline)

    @pytest.mark.parametrize(
        ("raw", "persons", "organisations"),
        [
            (["Jane Doe", "jane-doe", "JANE DOE"], ("Jane Doe",), ()),
            (["Markus M. Haefliger, London, Beat Bumbacher"], ("Markus M. Haefliger", "Beat Bumbacher"), ()),
            (["By Glen Owen And Brendan Carlin For The Mail On Sunday"], ("Glen Owen", "Brendan Carlin"), ()),
            (["Redaktion", "dpa", "Harbour Gazette"], (), ("Redaktion", "dpa", "Harbour Gazette")),
            (["https://www.facebook.com/harbourgazette", "@janedoe"], (), ()),
            (["Perry Bacon Jr."], ("Perry Bacon Jr.",), ()),
            (["ARD"], (), ("ARD",)),
            ([f"Jane {chr(65 + i)}orster" for i in range(14)], None, ()),
            (["Photograph by Ed Marshall", "Ilustrator: Adriaan Prent"], (), ()),
            (["Posted", "Datum", "Courtesy", "zvg", "Quelle"], (), ()),
            (["Projektleiterin der HSS in Tunesien", "Mein Motto: Fazit", "2 Fictions"], (), ()),
            (["Ursula von der Leyen", "Bashar al-Assad", "Luiz da Silva"], None, ()),
            (["Nordex SE", "University of Michigan"], (), ("Nordex SE", "University of Michigan")),
            (["Brasília", "Nairobi", "Laura Jordán"], ("Laura Jordán",), ()),
            (["Glory Global Solutions Germany"], (), ("Glory Global Solutions Germany",)),
            (
                ["Autor: Steffen PACHE, Sächsische Landesanstalt für Landwirtschaft, Köllitsch (D)"],
                ("Steffen PACHE",),
                (),
            ),
            (["Jane Doe, 王小明"], ("Jane Doe", "王小明"), ()),
            (["Jane Doe, cpm"], ("Jane Doe", "cpm"), ()),
            (["Do UOL, em São Paulo", "Da Redação"], (), ("UOL", "Redação")),
            (["Da Silva", "Dora Kramer", "Do Kwon"], ("Da Silva", "Dora Kramer", "Do Kwon"), ()),
            (["Af Ritzau", "Av NTB", "Par AFP"], (), ("Ritzau", "NTB", "AFP")),
            (["Af Klint"], ("Af Klint",), ()),
            (["حسام أبو العلا - القاهرة", "Jane Doe - London"], ("حسام أبو العلا", "Jane Doe"), ()),
            (["Jane Doe - Reuters"], ("Jane Doe",), ("Reuters",)),
            (["John Roe - Jane Doe Smith"], ("John Roe - Jane Doe Smith",), ()),
            (["Harbour Today - Harbour Gazette"], (), ("Harbour Today - Harbour Gazette",)),
        ],
        ids=[
            "variants-and-slug",
            "place-dropped",
            "for-outlet",
            "organisations",
            "urls-handles",
            "jr",
            "acronym",
            "cap",
            "picture-credits",
            "placeholders",
            "phrases-not-names",
            "particles-kept",
            "company-and-university",
            "place-alone",
            "solutions-company",
            "accented-place-after-institution",
            "caseless-name-beside-a-full-name",
            "initials-beside-a-full-name",
            "from-the-outlet",
            "names-starting-like-from",
            "byline-word-and-agency",
            "particle-and-surname",
            "name-dash-place",
            "name-dash-agency",
            "name-dash-names-stays",
            "site-and-tagline-stays-whole",
        ],
    )
    def test_sort_names(self, raw, persons, organisations):
        """Persons are deduplicated and capped; organisations, places, URLs, credits and phrases are not."""
        found = sort_names(raw, ["Harbour Gazette"])

        if persons is None:
            assert min(10, len(raw)) == len(found.persons)
        else:
            assert persons == found.persons
        assert organisations == found.organisations

    @pytest.mark.parametrize(("count", "kept"), [(2, 2), (5, 0)])
    def test_long_guess_is_a_teaser_list(self, count, kept):
        """trafilatura's guess naming every teaser's author is no byline; a short one, shown, is kept."""
        names = ["Elena Kuss", "Heidrun Mittler", "Manuel Glasfort", "Bettina Roettig", "Jens Hertling"]
        names = names[:count]
        teasers = "".join(
            f'<div class="item"><h4>Story {n}</h4><span class="item__meta">{name}</span></div>'
            for n, name in enumerate(names)
        )
        html = page(body=teasers)

        found = run(html, found={"author": "; ".join(names)})

        assert tuple(names[:kept]) == found.authors

    @pytest.mark.parametrize(
        ("box", "expected"),
        [
            ('<div class="byline"><p class="meta">Wednesday, 08 Apr 2020 11:39 PM MYT</p></div>', ()),
            (
                '<div class="author"><a></a><a href="/actualidad/internacional">'
                '<span class="assigned-section">Internacional </span></a></div>',
                (),
            ),
            ('<div class="author"><a href="/jane-doe">Jane Doe</a></div>', ("Jane Doe",)),
            ('<div class="author"><a href="/autor/dominique">Dominique</a></div>', ("Dominique",)),
        ],
        ids=["date-line-in-a-byline-box", "section-link-in-an-author-box", "author-page-by-slug", "one-name"],
    )
    def test_byline_box_holding_no_name(self, box, expected):
        """A byline box holding only its date line or a link to the story's section names no author."""
        assert expected == run(page(body=box)).authors

    @pytest.mark.parametrize(
        ("shown", "guess", "expected"),
        [
            (
                '<div class="author_share"><span>so</span><ul><li>Artikel empfehlen:</li></ul></div>',
                "So Artikel Empfehlen",
                (),
            ),
            ("<p><b>Jane Doe</b></p>", "Jane Doe", ("Jane Doe",)),
            ("<p><b>JANE DOE</b></p>", "Jane Doe", ("Jane Doe",)),
        ],
        ids=["lower-case-words-joined", "written-as-given", "written-in-capitals"],
    )
    def test_guess_must_be_written_as_a_name(self, shown, guess, expected):
        """trafilatura title-cases what it guesses: words the page writes in lower case are no name."""
        found = run(page(body=shown), found={"author": guess})

        assert expected == found.authors

    @pytest.mark.parametrize(
        ("raw", "persons", "organisations"),
        [
            (["Shaun Walker in Kyiv"], ("Shaun Walker",), ()),
            (["Jane Doe and John Roe in London"], ("Jane Doe", "John Roe"), ()),
            (["Maria Silva, em Brasília"], ("Maria Silva",), ()),
            (["Do UOL Em São Paulo (SP) 23/06/2020 16h45"], (), ("UOL",)),
            (["Em São Paulo (SP)"], (), ()),
            (["Kim In Young"], ("Kim In Young",), ()),
            (["Jane Doe in Harbourview"], (), ()),
        ],
        ids=[
            "in-place",
            "two-in-place",
            "em-place",
            "outlet-em-place",
            "place-alone",
            "in-in-a-name",
            "in-unknown-place-not-a-byline",
        ],
    )
    def test_place_after_in_or_em(self, raw, persons, organisations):
        """A byline closing on "in Kyiv" or "em São Paulo" names the place, not a person."""
        found = sort_names(raw, ["Harbour Gazette"])

        assert persons == found.persons
        assert organisations == found.organisations

    @pytest.mark.parametrize(
        ("raw", "persons"),
        [
            (["Bundesverband Wind", "revamp-it Webteam", "Kulturstiftung NRW"], ()),
            (["Deutsches Rotes Kreuz", "Forschung WBF", "Gesponserte Inhalte"], ()),
            (["Letters To The", "About DW"], ()),
            (["Jane Steam", "Anna Kreuzer", "Max Teamer"], ("Jane Steam", "Anna Kreuzer", "Max Teamer")),
        ],
        ids=["compound-endings", "org-words", "link-texts", "names-near-miss"],
    )
    def test_organisations_in_more_words(self, raw, persons):
        """Compounds ending in an organisation's word and a few more words of one name no person."""
        assert persons == sort_names(raw).persons

    @pytest.mark.parametrize(
        ("raw", "persons"),
        [
            (["Polizei Steinfurt", "Bundespolizei", "Police Scotland"], ()),
            (["Unsubscribe", "Follow", "Undo"], ()),
            (["Jane Polizzi", "Anna Policek"], ("Jane Polizzi", "Anna Policek")),
        ],
        ids=["police", "controls", "names-near-miss"],
    )
    def test_police_and_controls_name_no_one(self, raw, persons):
        """A police press office and a control's label ("Unsubscribe") are no person."""
        assert persons == sort_names(raw).persons

    @pytest.mark.parametrize(
        ("raw", "persons"),
        [
            (["Acme Kredit, Frankfurt a. M., Germany"], ()),
            (["Kreditwerk, Frankfurt, Germany"], ()),
            (["Jane Doe, London"], ("Jane Doe",)),
            (["Doe, Jane"], ("Jane Doe",)),
        ],
        ids=["company-address", "one-word-company-address", "name-and-place", "last-first"],
    )
    def test_an_address_names_no_one(self, raw, persons):
        """An author string ending in a country is an address: its single words are its places."""
        assert persons == sort_names(raw, ["Acme Kredit"]).persons

    def test_social_handle_after_the_name(self):
        """ "Jane Doe @janedoe": the handle is no part of the name."""
        assert ("Williams Perdomo",) == sort_names(["Williams Perdomo @wperdomod"]).persons

    def test_html_in_a_json_ld_name(self):
        """A CMS writes the author's link into JSON-LD's name: the name is the link's text."""
        article = {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": [
                {"@type": "Person", "name": '<a href="/experts/jane-doe" hreflang="en">Jane Doe</a>'},
                {"@type": "Person", "name": '<a href="/experts/john-roe" hreflang="en">John Roe</a>'},
            ],
        }
        box = (
            '<div class="field--name-field-authors">'
            '<div class="field--item"><a href="/experts/jane-doe">Jane Doe</a></div>\n'
            '<div class="field--item"><a href="/experts/john-roe">John Roe</a></div></div>'
        )

        assert ("Jane Doe", "John Roe") == run(page(ld(article), body=box)).authors

    def test_guess_restating_a_company_address(self):
        """trafilatura's reading of a company's address ("Acme; Frankfurt a M; Germany") names no one."""
        head = meta("author", "Acme Kredit, Frankfurt a. M., Germany", attr="name") + meta(
            "og:site_name", "Acme Kredit"
        )
        body = "<p>Acme Kredit, Frankfurt a. M.</p>"

        found = run(page(head, body=body), found={"author": "Acme Kredit; Frankfurt a M; Germany"})

        assert () == found.authors

    def test_guess_beside_a_company_author(self):
        """A guess naming someone else than the organisation's author string is still read."""
        head = meta("author", "Acme Kredit, Frankfurt a. M., Germany", attr="name") + meta(
            "og:site_name", "Acme Kredit"
        )
        body = "<p>Text: Jane Doe</p>"

        assert ("Jane Doe",) == run(page(head, body=body), found={"author": "Jane Doe"}).authors

    @pytest.mark.parametrize(
        ("box", "expected"),
        [
            (
                '<div class="child-feedback-confirmation"><span class="undo">Peter Miller</span></div>',
                (),
            ),
            ('<button class="author-follow" type="button">Peter Miller</button>', ()),
            ('<div class="nota__firma">Por Peter Miller</div>', ("Peter Miller",)),
        ],
        ids=["firma-inside-a-word", "button", "firma-class"],
    )
    def test_byline_marks(self, box, expected):
        """ "firma" marks a byline as a class's word, not inside "confirmation"; a button is a control."""
        assert expected == run(page(body=box)).authors

    @pytest.mark.parametrize(
        ("raw", "persons"),
        [
            (["Autor/in: Korinna Hennig"], ("Korinna Hennig",)),
            (["Autor*innen: Jane Doe und John Roe"], ("Jane Doe", "John Roe")),
            (["AutorIn: Jane Doe"], ("Jane Doe",)),
            (["Redakteur:in: Jane Doe"], ("Jane Doe",)),
            (["Autorin: Jane Doe"], ("Jane Doe",)),
        ],
        ids=["slash", "star-plural", "capital-i", "colon", "plain-feminine"],
    )
    def test_gender_inclusive_labels(self, raw, persons):
        """German's gender-inclusive author labels ("Autor/in:") are labels, not part of the name."""
        assert persons == sort_names(raw).persons

    @pytest.mark.parametrize(
        ("raw", "persons", "organisations"),
        [
            (["Emily Co"], ("Emily Co",), ()),
            (
                ["Acme Co.", "Schmidt Co KG", "Ford Motor Co"],
                (),
                ("Acme Co.", "Schmidt Co KG", "Ford Motor Co"),
            ),
        ],
        ids=["surname", "company"],
    )
    def test_co_is_a_company_only_as_one(self, raw, persons, organisations):
        """ "Co." or "Co KG" closes a company's name; "Co" after a given name is a surname."""
        found = sort_names(raw)

        assert (persons, organisations) == (found.persons, found.organisations)

    def test_microdata_authors_of_other_items(self):
        """Page-wide microdata names every teaser's author: the byline says which of them wrote this one."""
        teasers = "".join(
            f'<div class="card"><h3>Story {i}</h3><span itemprop="author">by {name}</span></div>'
            for i, name in enumerate(["Ben Popper", "Max Pekarsky"])
        )
        byline = (
            '<div class="meta"><span class="author" itemprop="author">by '
            '<a href="/authors/jane-doe">Jane Doe</a></span> <time>4 March 2024</time></div>'
        )

        assert ("Jane Doe",) == run(page(body=byline + BODY + teasers)).authors

    def test_microdata_co_authors_beside_the_byline(self):
        """Without a byline naming one of them, the microdata authors the page shows stay authors."""
        body = (
            '<p class="credits">Written by <span itemprop="author">Jane Doe</span> with '
            '<span itemprop="author">John Roe</span></p>'
        )

        assert ("Jane Doe", "John Roe") == run(page(body=body)).authors

    def test_byline_box_of_outlet_and_place(self):
        """An outlet's byline, its place in an element of its own ("Do UOL" / "Em São Paulo"): no author."""
        box = (
            '<div class="author"><p class="p-author">Do UOL</p>'
            '<p class="p-author-local">Em São Paulo (SP)</p>'
            '<p class="p-author time">23/06/2020 16h45</p></div>'
        )

        found = run(page(body=box))

        assert () == found.authors
        assert "UOL" == found.publisher

    def test_organisation_author_becomes_publisher(self):
        """A JSON-LD Organization as author is no author; it is the publisher when none is declared."""
        article = {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": {"@type": "Organization", "name": "Telebasel"},
        }

        found = run(page(ld(article)))

        assert ((), "Telebasel") == (found.authors, found.publisher)

    @pytest.mark.parametrize(
        ("itemtype", "expected"),
        [("Organization", ((), "Московский Комсомолец")), ("Person", (("Валерия Пестрякова",), None))],
    )
    def test_microdata_organisation_author_is_no_author(self, itemtype, expected):
        """A microdata author item typed Organization is the publisher, not a person; a Person stays."""
        name = "Московский Комсомолец" if itemtype == "Organization" else "Валерия Пестрякова"
        item = (
            f'<div itemprop="author" itemscope itemtype="https://schema.org/{itemtype}">'
            f'<meta itemprop="name" content="{name}"></div><footer>© {name}</footer>'
        )
        shown = "" if itemtype == "Organization" else f"<p>{name}</p>"

        found = run(page(body=shown + item, lang="ru"))

        assert expected == (found.authors, found.publisher)

    def test_byline_markup_adds_co_author(self):
        """A byline showing one more name than the structured data gives both, in the byline's order."""
        article = {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": {"@type": "Person", "name": "John Roe"},
        }
        byline = (
            '<div class="byline">By <a href="/author/jane-doe">Jane Doe</a>'
            ' and <a href="/author/john-roe">John Roe</a></div>'
        )

        found = run(page(ld(article), byline))

        assert ("Jane Doe", "John Roe") == found.authors

    def test_a_structured_author_the_page_never_shows_is_no_author(self):
        """Structured data crediting someone the reader never sees (an editor, a CMS account) is dropped."""
        article = {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": [
                {"@type": "Person", "name": "Jane Doe"},
                {"@type": "Person", "name": "Mark Webb"},
            ],
        }

        found = run(page(ld(article), "<p>Reporting: Jane  Doe, Harbour City</p>"))

        assert ("Jane Doe",) == found.authors

    def test_a_name_only_in_a_script_in_the_body_is_not_shown(self):
        """JSON-LD placed in the body names the author too: that copy does not count as shown."""
        article = {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": {"@type": "Person", "name": "Jane Doe"},
        }

        found = run(page(body=ld(article)))

        assert () == found.authors

    @pytest.mark.parametrize(
        "where",
        [
            '<span class="hidden"><span class="av-structured-data">{}</span></span>',
            '<div class="td-author-name" style="display: none">{}</div>',
            '<div class="o-teaser"><h3>Other story</h3><div class="author-name">Von {}</div></div>',
            '<ul><li class="recentcomments"><span class="comment-author-link">{}</span> on A</li></ul>',
            '<section class="article-list"><ul><li><article class="card"><h3>Other</h3>'
            '<span class="e-byline">By {}</span></article></li></ul></section>',
        ],
        ids=["hidden-class", "display-none", "teaser", "comment-widget", "article-list"],
    )
    def test_a_name_shown_only_hidden_or_on_other_stories_is_no_author(self, where):
        """The site's usual author, named in hidden markup or on other stories' teasers, is not this one's."""
        assert () == run(page(ld(JANE_DOE_ARTICLE), where.format("Jane Doe"))).authors

    @pytest.mark.parametrize(
        "wrapper",
        [
            "article container has-related-articles",
            "node node--type-article node--promoted",
            "teaser--only-body",
        ],
    )
    def test_a_byline_in_a_wrapper_named_after_what_the_page_has(self, wrapper):
        """A wrapper holding the article's paragraphs is no block of other stories, whatever its class."""
        story = "".join(f"<p>The harbour council met for the {n} time.</p>" for n in range(4))
        teasers = '<div class="related"><p>Other story</p></div>'
        body = (
            f'<div class="{wrapper}"><h1>Ferry line approved</h1>'
            '<div class="author__name">Jane Doe</div>'
            f"{story}</div>{teasers}"
        )

        assert ("Jane Doe",) == run(page(ld(JANE_DOE_ARTICLE), body)).authors
        assert ("Jane Doe",) == run(page(body=body)).authors

    def test_a_field_whose_label_is_hidden_is_shown(self):
        """Drupal's `field--label-hidden` hides the field's label, not the byline in it."""
        body = (
            '<div class="field field--name-field-tag-author field--label-hidden field__item">'
            '<a href="/autor/jil-schuller">Jil Schuller</a></div>'
        )

        assert ("Jil Schuller",) == run(page(body=body)).authors

    @pytest.mark.parametrize(
        "byline",
        [
            '<div itemprop="author" itemscope itemtype="http://schema.org/Person">'
            '<span itemprop="name"><div>Jane Doe</div></span></div>',
            '<p class="tw-text-14"><br class="tw-block md:tw-hidden"> 1. Februar 2022 , Jane Doe</p>',
        ],
        ids=["microdata-byline", "date-and-name-line"],
    )
    @pytest.mark.parametrize("clip", ["container overflow-hidden", "relative tw-overflow-x-hidden"])
    def test_a_byline_in_a_box_that_clips_its_overflow_is_shown(self, byline, clip):
        """`overflow-hidden` (Tailwind and alike, often on the page's `<main>`) clips a box, hides nothing."""
        html = (
            f'<!doctype html><html lang="de"><head>{ld(JANE_DOE_ARTICLE)}</head><body>'
            f'<main class="{clip}"><article><h1>Heizen mit Laub</h1>{byline}{BODY}</article></main>'
            "</body></html>"
        )

        assert ("Jane Doe",) == run(html).authors

    @pytest.mark.parametrize("hiding", ["hidden", "md-hidden", "is-hidden"])
    def test_a_byline_in_a_hidden_box_stays_hidden(self, hiding):
        """Near miss of the above: a class that hides the box itself still hides the name."""
        html = (
            f'<!doctype html><html lang="de"><head>{ld(JANE_DOE_ARTICLE)}</head><body>'
            f'<main class="container"><article><h1>Heizen mit Laub</h1><div class="{hiding}">'
            f'<span class="author">Jane Doe</span></div>{BODY}</article></main></body></html>'
        )

        assert () == run(html).authors

    def test_a_name_in_an_opinion_piece_footer_is_shown(self):
        """A "commentary" class marks an opinion piece, not comments; a footer credit is shown."""
        body = '<div class="commentary"><footer><div class="contributor-name">Jane Doe</div></footer></div>'

        assert ("Jane Doe",) == run(page(ld(JANE_DOE_ARTICLE), body)).authors

    def test_visible_byline_without_structured_data(self):
        """With no structured author the byline markup is read."""
        found = run(page(body='<p class="article-author">Von <span>Hanna Schmidt</span></p>'))

        assert ("Hanna Schmidt",) == found.authors

    def test_an_nitf_byline_element(self):
        """NITF's `<byline>` element, kept in agency copy, is a byline; the agency after the name is not."""
        body = "<p>Quelle: dpa-AFX</p><byline>Von David Hutzler, dpa</byline>"

        found = run(page(meta("author", "harbour-gazette.example", "name"), body))

        assert ("David Hutzler",) == found.authors

    def test_a_caption_in_author_markup_is_no_byline(self):
        """A photo caption inside an element classed "author" reads as a sentence: nobody is taken from it."""
        caption = (
            '<figure><figcaption class="author-photo-caption">Juan Ortega (left) and Ana Ruiz could meet'
            " face to face in New York. Photos: AFP</figcaption></figure>"
        )

        assert () == run(page(body=caption)).authors

    @pytest.mark.parametrize(
        ("raw", "persons", "organisations"),
        [
            (["Adam Aaronson PhillyVoice Staff"], ("Adam Aaronson",), ("PhillyVoice Staff",)),
            (["Harbour Gazette Staff"], (), ("Harbour Gazette Staff",)),
            (["Jane Doe - Harbour Gazette"], (), ("Jane Doe - Harbour Gazette",)),
            (["Лурер Гайастан Harbour Gazette"], ("Лурер Гайастан",), ("Harbour Gazette",)),
            (["أخبار اليوم Harbour Gazette"], (), ("أخبار اليوم Harbour Gazette",)),
        ],
        ids=["name-then-site", "site-staff-alone", "name-dash-site", "cased-script", "caseless-script"],
    )
    def test_a_byline_printing_the_outlet_after_the_name(self, raw, persons, organisations):
        """ "Name Site Staff" gives the person and the outlet; only the site's own name splits one off."""
        found = sort_names(raw, ["PhillyVoice", "Harbour Gazette"])

        assert (persons, organisations) == (found.persons, found.organisations)

    def test_contributor_link_in_a_byline(self):
        """A byline linking to `/staff-contributors/<name>/` gives the linked name, not the whole line."""
        byline = (
            '<div class="article-byline"><span class="by">By</span> '
            '<a class="name" href="/staff-contributors/adam-aaronson/">Adam Aaronson</a><br>'
            '<span class="staff">Harbour Gazette Staff</span></div>'
        )

        assert ("Adam Aaronson",) == run(page(body=byline)).authors

    @pytest.mark.parametrize(
        "byline",
        [
            '<p><em>Written by: <a href="https://elsewhere.example/story">Julie Mollins</a> </em></p>',
            "<p><strong>Written by:</strong> Julie Mollins</p>",
            "<h5>Autor: </h5>Julie Mollins",
        ],
        ids=["name-in-a-link-inside-the-label", "name-after-the-label-element", "name-after-a-heading"],
    )
    def test_name_after_a_byline_label(self, byline):
        """The name after a label ("Written by:", "Autor:") is the author, wherever the markup puts it."""
        assert ("Julie Mollins",) == run(page(body=byline)).authors

    @pytest.mark.parametrize(
        ("credit", "expected"),
        [
            (
                '<section class="single-credits"><div class="credits-credit">'
                '<div class="credits-credit-label">Interview</div>'
                '<div class="credits-credit-text">SVEN MICHAELSEN</div></div>'
                '<div class="credits-credit"><div class="credits-credit-label">Fotograf</div>'
                '<div class="credits-credit-text">ERIC ROY</div></div></section>',
                ("Sven Michaelsen",),
            ),
            (
                '<div class="field"><div class="field__label">Autor</div>'
                '<div class="field__item">Jane Doe</div></div>',
                ("Jane Doe",),
            ),
            ("<dl><dt>Text</dt><dd>Jane Doe</dd><dt>Fotos</dt><dd>John Roe</dd></dl>", ("Jane Doe",)),
            ('<ul class="topics"><li><a href="/interview">Interview</a></li><li>Jane Doe</li></ul>', ()),
            (
                '<span class="label">Interview</span>'
                "<span>Has the council become the kingmaker of the port?</span>",
                (),
            ),
            ("<h2>Interview</h2><h3>Sharon Stone</h3>", ()),
            (
                '<div class="credit-label">Text</div>'
                '<div class="credit-text">Jane Doe, Harbour Gazette</div>',
                (),
            ),
        ],
        ids=[
            "credit-list",
            "drupal-field",
            "definition-list",
            "menu-link",
            "label-before-headline",
            "interview-heading",
            "name-and-more",
        ],
    )
    def test_a_label_and_its_name_in_two_elements(self, credit, expected):
        """A label alone in its element ("Interview", "Autor", no colon) credits the name in the next one."""
        assert expected == run(page(body=f"{BODY}{credit}")).authors

    @pytest.mark.parametrize(
        ("signature", "expected"),
        [
            ('<p align="right"><em><font size="2">Denis Clerc</font></em></p>', ("Denis Clerc",)),
            ('<p class="has-text-align-right">Jane Doe</p>', ("Jane Doe",)),
            ('<div style="TEXT-ALIGN: right">Par Jane Doe</div>', ("Jane Doe",)),
            ('<p style="text-align: right">Tim Thabe, CEO von Creditshelf</p>', ()),
            ('<p align="right">PM DJV/fh</p>', ()),
            ('<p style="margin-right: 2em">Jane Doe</p>', ()),
            ('<p align="right">Harbour Gazette Redaktion</p>', ()),
        ],
        ids=[
            "align-right",
            "gutenberg-class",
            "style",
            "quote-attribution",
            "press-release-initials",
            "margin-not-alignment",
            "newsroom",
        ],
    )
    def test_a_signature_set_right_after_the_text(self, signature, expected):
        """A name alone in a block set right after the prose signs the story; more than a name does not."""
        prose = "<p>" + " ".join(["Travailler trop peu peut signifier une faible part de la population."] * 3)
        assert expected == run(page(body=f"{prose}</p>{signature}")).authors

    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            ('<span class="writeBy">كتبت أسماء نصار</span>', ("أسماء نصار",)),
            ('<div class="written-by">Jane Doe</div>', ("Jane Doe",)),
            ('<div class="rewrite-by-line">Jane Doe</div>', ()),
        ],
        ids=["write-by-class", "written-by-class", "other-class"],
    )
    def test_a_byline_classed_for_written_by(self, byline, expected):
        """A class named for "Written by" marks a byline; "By"-like words in other classes do not."""
        assert expected == run(page(body=byline)).authors

    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            (
                '<div class="author-wrapper"><div class="author-box"><span>Piše: P. Mucović </span>'
                '<span class="published">prije 26 minuta</span></div></div>',
                ("P. Mucović",),
            ),
            ('<div class="byline"><span>Von Reuters</span><span>vor 26 Minuten</span></div>', ()),
        ],
        ids=["prefixed-name-beside-date", "prefixed-agency-beside-date"],
    )
    def test_a_byline_box_holding_a_date_too(self, byline, expected):
        """In a box that holds more than a name, the text a byline word opens is the byline."""
        assert expected == run(page(body=byline)).authors

    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            ('<div class="author">Снимка: <em>Getty Images/Guliver</em></div>', ()),
            ('<div class="author">Fotó: Jane Doe</div>', ()),
            ('<div class="author">Foto: Getty Images/Guliver | Von Jane Doe</div>', ("Jane Doe",)),
            ('<div class="author">Foto: Guliver, Text: Jane Doe</div>', ("Jane Doe",)),
        ],
        ids=["photo-credit", "photo-credit-hungarian", "credit-then-byline", "credit-then-label"],
    )
    def test_a_photo_credit_marked_as_a_byline(self, byline, expected):
        """A photo credit's names, up to the next bar or label, are the picture's; a byline after counts."""
        assert expected == run(page(body=byline)).authors

    def test_a_byline_in_a_card_of_another_story(self):
        """A byline beside another story's picture and headline, both linked to it, is that story's."""
        card = (
            '<div class="offer"><a href="/other-story/"><img src="/a.jpg"></a><div class="offer-info">'
            '<a href="/other-story/">Sárkányos gerillák eveztek a csatornán</a>'
            '<span class="offer-author">Jane Doe</span></div></div>'
        )
        header = (
            '<div class="top"><a href="/gallery/"><img src="/a.jpg"></a><a href="/gallery/">Gallery</a>'
            '<span class="author">Jane Doe</span></div>'
        )

        assert () == run(page(body=card)).authors
        assert ("Jane Doe",) == run(page(body=header)).authors

    def test_a_signature_yields_to_a_byline(self):
        """A byline under the headline wins over a name set right at the end (a quoted person's, say)."""
        prose = "<p>" + " ".join(["Travailler trop peu peut signifier une faible part de la population."] * 3)
        body = f'<p class="byline">Von Jane Doe</p>{prose}</p><p align="right">Denis Clerc</p>'

        assert ("Jane Doe",) == run(page(body=body)).authors

    def test_feed_authors_when_the_page_names_none(self):
        """The feed entry's authors are used when the page names nobody."""
        found = run(page(), hints=Hints(authors=("Jane Doe",)))

        assert ("Jane Doe",) == found.authors

    def test_name_key_joins_variants(self):
        """Slug, case and accents do not make another name."""
        assert name_key("Jane-Doe") == name_key("jane doe") == name_key("JANE DOE")

    def test_prefix_alone_is_no_name(self):
        """A byline word with nothing after it leaves nothing."""
        assert "" == strip_prefix("By")

    @pytest.mark.parametrize(
        ("raw", "persons", "organisations"),
        [
            (["वाराणसी ब्यूरो"], (), ("वाराणसी ब्यूरो",)),
            (["ΣΥΝΤΑΚΤΙΚΗ ΟΜΑΔΑ"], (), ("Συντακτικη Ομαδα",)),
            (["Zespół Wiadomości"], (), ("Zespół Wiadomości",)),
            (["فريق التحرير"], (), ("فريق التحرير",)),
            (["BBNTEAM"], (), ("Bbnteam",)),
            (["Onlineredaktion"], (), ("Onlineredaktion",)),
            (["Karl Bigstaff"], ("Karl Bigstaff",), ()),
        ],
        ids=[
            "hindi-bureau",
            "greek-team",
            "polish-team",
            "arabic-team",
            "glued-team",
            "glued-desk",
            "surname",
        ],
    )
    def test_a_newsroom_named_in_its_language_is_no_person(self, raw, persons, organisations):
        """A bureau, desk or editorial team, in its language or glued into one handle, is an organisation."""
        found = sort_names(raw)

        assert (persons, organisations) == (found.persons, found.organisations)

    def test_a_trimmed_copy_of_a_bureau_is_no_person(self):
        """A guess that lost a bureau's last vowel sign ("ब्यूर") is still the bureau, not a person."""
        html = page(
            meta("author", "वाराणसी ब्यूरो", "name"),
            '<a href="/authors/varanasi-bureau" class="author">वाराणसी ब्यूरो</a>',
            lang="hi",
        )

        assert () == run(html, found={"author": "वाराणसी ब्यूर"}).authors

    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            ('<div class="author">Autor: asty//now</div>', ()),
            ('<div class="author">john</div>', ()),
            ('<div class="author">Autor: cpm</div>', ("cpm",)),
            ('<div class="author">Jane Doe//AP</div>', ("Jane Doe",)),
        ],
        ids=["double-slash-handles", "four-letter-handle", "initials", "name-and-agency"],
    )
    def test_lower_case_handles_are_no_names(self, byline, expected):
        """Lower-case handles ("asty//now", "john") name no one; an editor's initials ("cpm") are kept."""
        assert expected == run(page(body=byline)).authors

    @pytest.mark.parametrize(
        ("body", "shown"),
        [
            ('<div class="detail_author"><span>责任编辑：Jane Doe</span></div>', []),
            ("<p>Editor: Jane Doe</p>", []),
            ("<p><span>Edited by</span> <span>Jane Doe</span></p>", []),
            ('<p class="byline">By Jane Doe</p><p>Editor: Jane Doe</p>', ["Jane Doe"]),
            ("<p>Jane Doe, editor</p>", ["Jane Doe"]),
        ],
        ids=["chinese-editor", "editor-colon", "edited-by-in-two-elements", "byline-too", "title-after"],
    )
    def test_a_name_shown_only_as_the_editor_is_not_shown_as_author(self, body, shown):
        """An editor's credit ("责任编辑：", "Editor:", "Edited by") does not show a structured author."""
        assert shown == shown_names(load_html(page(body=body)), ["Jane Doe"])

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<p><span style="color: rgb(127, 127, 127);"><strong>半月谈记者 史卫燕</strong></span></p>'
                '<div class="detail_author"><span>责任编辑：孔德明</span></div>',
                ("史卫燕",),
            ),
            ("<p><strong>新华社记者 王小明 摄</strong></p>", ()),
            ('<ul><li><a href="/markets/kigyo/">記者の目</a></li></ul>', ()),
        ],
        ids=["paper-reporter-name-and-editor", "photo-credit", "column-name"],
    )
    def test_a_chinese_reporter_line_in_the_text(self, body, expected):
        """ "半月谈记者 史卫燕" alone in its element is the byline; the editor in the meta tag is none."""
        head = "<title>益阳：“数字”是优长</title>" + meta("author", "孔德明", "name")

        assert expected == run(page(head, body, lang="zh")).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<div style="font-size: 10pt;"><span>이용민 기자 | </span> 2020-03-04 16:52:59</div>',
                ("이용민",),
            ),
            ('<li class="author"><a href="/search?writer=x">스포츠조선=선수민 기자</a></li>', ("선수민",)),
            ("<figure><figcaption>잠실=최문영 기자</figcaption></figure>", ()),
            ("<p>기자회견</p>", ()),
        ],
        ids=["name-reporter", "paper-equals-name", "photo-caption", "press-conference"],
    )
    def test_a_korean_reporter_byline(self, body, expected):
        """ "이용민 기자" names the reporter (기자 dropped), the paper before "=" too; a caption does not."""
        assert (
            expected == run(page("<title>코로나19 극복 성금 기탁 줄 잇는다</title>", body, lang="ko")).authors
        )

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<div class="c-byline"><span class="c-byline-wrapper">By <span class="c-byline__item">'
                '<a href="/authors/associated-press"><span class="c-byline__author-name">Associated Press'
                '</span></a></span> <time datetime="2020-06-24T20:53:52">Jun 24, 2020, 3:53pm CDT</time>'
                '<div class="c-byline__additional"><strong>Matthew Daly</strong></div></span></div>',
                ("Matthew Daly",),
            ),
            (
                '<div class="byline">By <a href="/authors/reuters">Reuters</a></div>'
                '<p>The harbour reopened.</p><span class="author">John Roe</span>',
                (),
            ),
        ],
        ids=["reporter-inside-the-agency-byline", "name-outside-the-box"],
    )
    def test_a_reporter_after_an_agency_in_one_byline_box(self, body, expected):
        """A byline naming an agency may name the reporter further in its box; a name outside it is not."""
        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<div id="taxonomies"><div><strong>Por: </strong>'
                '<a href="/autor/yaima-puig-meneses/" rel="category tag">Yaima Puig Meneses</a>, '
                '<a href="/autor/alina-perera/" rel="category tag">Alina Perera Robbio</a>, '
                '<a href="/autor/rene-tamayo/" rel="category tag">René Tamayo</a></div></div>',
                ("Yaima Puig Meneses", "Alina Perera Robbio", "René Tamayo"),
            ),
            (
                '<div><strong>Por: </strong><a href="/autor/yaima-puig/">Yaima Puig Meneses</a></div>',
                ("Yaima Puig Meneses",),
            ),
        ],
        ids=["three-links", "one-link"],
    )
    def test_author_links_side_by_side_are_one_byline(self, body, expected):
        """Links to author pages next to each other in one element name every co-author."""
        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<div class="news-line content-author"><p class="news-author"><span>Por</span> '
                "<span>Laura Jordán / Javier Urbina</span></p>"
                '<time class="news-date">22 de Abril de 2022 - 00:00 HS</time></div>',
                ("Laura Jordán", "Javier Urbina"),
            ),
            (
                '<p class="byline"><span class="times pubdate">Uppdaterad '
                '<time datetime="2020-05-28T17:43:48+03:00">28.5.2020 17:43</time></span></p>',
                (),
            ),
        ],
        ids=["names-then-date", "stamp-label-left"],
    )
    def test_a_date_in_a_byline_box_is_no_part_of_a_name(self, body, expected):
        """The date a `<time>` shows in a byline box is left out; the stamp's label left alone is no name."""
        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ('<span class="writter">Por: Juan Diego</span>', ("Juan Diego",)),
            ("<p>By: Jane Doe</p>", ("Jane Doe",)),
            ("<p>Ordenar por: Fecha</p>", ()),
        ],
        ids=["por-colon", "by-colon", "sort-by"],
    )
    def test_a_byline_word_with_a_colon_is_a_label(self, body, expected):
        """ "Por:", "By:" label the names after them, in any element; a colon after other words does not."""
        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<footer class="article__footer"><div class="article__taxonomy__list">'
                '<span class="article__footer__date"><a href="/archiv/2019/06/20">20. Juni 2019</a></span> '
                '<strong><a href="/autor/ann-marie-galazka">Ann-Marie Galazka</a></strong> über '
                '<a href="/stars">Stars</a></div></footer>',
                ("Ann-Marie Galazka",),
            ),
            (
                '<div class="author-bio footer"><h3>Martin Junker</h3>'
                '<p><a href="/author/martin">Alles von Martin Junker</a></p></div>',
                (),
            ),
        ],
        ids=["article-footer", "author-bio-in-the-footer"],
    )
    def test_a_byline_in_the_articles_own_footer(self, body, expected):
        """A `<footer>` in the `<article>` is where it says who wrote it; an author bio there stays chrome."""
        assert expected == run(page(body=body)).authors

    def test_a_byline_in_the_page_footer_stays_chrome(self):
        """The page's footer, outside the article, is chrome: its author links are no byline."""
        html = (
            '<!doctype html><html lang="de"><head><meta charset="utf-8"></head><body><main><article>'
            f'{BODY}</article></main><footer class="site-footer"><a href="/autor/jane-doe">Jane Doe</a>'
            "</footer></body></html>"
        )

        assert () == run(html).authors

    @pytest.mark.parametrize(
        ("href", "expected"),
        [
            ("/redaktion/ann-marie-galazka", ("Ann-Marie Galazka",)),
            ("/Redaktion/DE/Meldung/2022/ann-marie-galazka.html", ()),
        ],
        ids=["journalist-page", "deeper-page"],
    )
    def test_a_newsrooms_page_of_a_journalist(self, href, expected):
        """ "/redaktion/<name>" is a journalist's page, as "/autor/<name>" is; a page deeper down is not."""
        body = f'<div class="meta"><a href="{href}">Ann-Marie Galazka</a></div>'

        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("closing", "expected"),
        [
            ("<p>– David Dunkley</p>", ("David Dunkley",)),
            ("<p>— Associated Press</p>", ()),
            ("<p>– David Dunkley</p><p>The incident drew onlookers.</p>", ()),
        ],
        ids=["dash-name", "dash-agency", "not-the-last-paragraph"],
    )
    def test_a_dash_and_a_name_closing_the_story(self, closing, expected):
        """The last paragraph, a dash and a name, signs the story; an agency or a line before more do not."""
        paragraphs = "".join(
            f"<p>The police inspector was treated and released, part {n}.</p>" for n in range(4)
        )
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body><main><article>'
            f"{BODY}<div>{paragraphs}{closing}</div></article></main></body></html>"
        )

        assert expected == run(html).authors

    @pytest.mark.parametrize(
        ("lead", "expected"),
        [
            (
                "<p><strong><em>By Aaron Humes</em></strong>: The Americas cannot ignore the risk.</p>",
                ("Aaron Humes",),
            ),
            ("<p><strong>By the numbers</strong>: the Americas cannot ignore the risk.</p>", ()),
            ("<p><b>Von Berlin</b> aus fährt der Zug nach Hamburg.</p>", ()),
        ],
        ids=["bold-by-name", "bold-phrase", "bold-place"],
    )
    def test_a_bold_byline_opening_the_text(self, lead, expected):
        """A bold "By Name" opening one of the first paragraphs is the byline, beside a newsroom's handle."""
        body = (
            '<span class="vcard author post-author"><span class="label">Published by</span> '
            '<span class="fn"><a href="/author/bbnteam/">BBNTEAM</a></span></span>'
            f"<p>Posted: Thursday, April 21, 2022. 10:11 pm CST.</p>{lead}"
        )

        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<dl class="article-info"><dt class="article-info-term">Detalles</dt><dd class="published">'
                'Publicado: Jueves, 21 Abril 2022 04:45</dd><dd class="createdby">'
                "Escrito por Jose Pablo Segura Vargas</dd></dl>",
                ("Jose Pablo Segura Vargas",),
            ),
            ('<dl class="article-info"><dd class="createdby">Escrito por admin</dd></dl>', ()),
        ],
        ids=["joomla-createdby", "cms-account"],
    )
    def test_joomlas_written_by_line(self, body, expected):
        """Joomla's `createdby` line is a byline; a CMS account there is no one's name."""
        assert expected == run(page(body=body)).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                '<div class="author_article_block"><img src="/authors_photo/1318.jpg" alt="">'
                '<p class="author_p"> Автор: </p><p class="name_p">'
                '<a href="/ru/olesya-zhukoven_author1318">Олеся Жуковень</a></p></div>',
                ("Олеся Жуковень",),
            ),
            ('<p class="author">Авторы: Иван Петров, Анна Смирнова</p>', ("Иван Петров", "Анна Смирнова")),
        ],
        ids=["avtor-box", "avtory-two"],
    )
    def test_a_cyrillic_author_label(self, body, expected):
        """ "Автор:" labels the names after it, as "Autor:" does."""
        assert expected == run(page(body=body, lang="ru")).authors

    def test_an_outlet_run_on_into_the_last_name(self):
        """ "Isabel KeaneJournal News": a capital inside a word starting an outlet's name splits it off."""
        found = sort_names(["Robert Brum and Isabel KeaneJournal News"])

        assert found.persons == ("Robert Brum", "Isabel Keane")
        assert found.organisations == ("Journal News",)

    def test_a_capital_inside_a_name_without_an_outlet(self):
        """ "LeBron", "McDonald": a capital inside a name before no organisation leaves it whole."""
        assert sort_names(["LeBron James and Jane McDonald"]).persons == ("LeBron James", "Jane McDonald")

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                "<div class=\"author\"><a href='search.php?sh_keyword=上報快訊／范姜佳鈺'>"
                "上報快訊／范姜佳鈺</a>                    2020年03月12日 20:19:00</div>",
                ("范姜佳鈺",),
            ),
            ('<div class="author">文／王小明</div>', ("王小明",)),
        ],
        ids=["desk-slash-reporter", "text-slash-reporter"],
    )
    def test_a_chinese_desk_or_label_before_a_full_width_slash(self, body, expected):
        """ "上報快訊／范姜佳鈺": the desk (its name ends in "newsflash") and a date after are no names."""
        assert expected == run(page(body=body, lang="zh-TW")).authors

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("范姜佳鈺 2020年03月12日 20:19:00", "范姜佳鈺"),
            ("Jane Doe 2020-03-12 20:19", "Jane Doe"),
            ("Jane Doe 12.03.2020", "Jane Doe"),
            ("王小明／台北報導", "王小明"),
            ("Jane Doe 2nd", "Jane Doe 2nd"),
        ],
        ids=["cjk-date", "iso-date", "dotted-date", "place-reports", "no-date"],
    )
    def test_a_date_or_a_dateline_closing_a_byline(self, raw, expected):
        """A date after the name, and "／台北報導" without "記者" before it, close the byline."""
        assert strip_prefix(raw) == expected

    def test_an_arabic_outlets_name_is_no_author(self):
        """ "المدينة نيوز" ("Al-Madina News") is an outlet; an Arabic person's name stays a person."""
        assert sort_names(["المدينة نيوز"]).persons == ()
        assert sort_names(["المدينة نيوز"]).organisations == ("المدينة نيوز",)
        assert sort_names(["حسام أبو العلا"]).persons == ("حسام أبو العلا",)

    @pytest.mark.parametrize(
        ("lead", "expected"),
        [
            ("<p>〔記者巫其倫／台北報導〕財政部今天下午將公佈今年1-2月期統一發票中獎清冊。</p>", ("巫其倫",)),
            ("<p>【記者會】行政院今天下午召開記者會，說明統一發票中獎清冊。</p>", ()),
        ],
        ids=["bracketed-reporter", "bracketed-press-conference"],
    )
    def test_a_bracketed_reporter_opening_the_story(self, lead, expected):
        """ "〔記者X／台北報導〕" opening the story names the reporter; "【記者會】" no one."""
        html = (
            '<!doctype html><html lang="zh-TW"><head><meta charset="utf-8"><title>統一發票中獎清冊</title>'
            f"</head><body><main><article>{lead}{BODY}</article></main></body></html>"
        )

        assert expected == run(html).authors

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ('<span class="autor_sup" itemprop="author">\nmarcos lópez\n</span>', ("Marcos López",)),
            ('<span class="author">leer más</span>', ()),
        ],
        ids=["itemprop-author-lower-case", "author-class-link-words"],
    )
    def test_a_name_in_lower_case_marked_as_the_author(self, body, expected):
        """An element stated to be the author (`itemprop`) may write a name in lower case; a class may not."""
        assert expected == run(page(body=body, lang="es")).authors


class TestShownNames:
    @pytest.mark.parametrize(
        ("body", "shown"),
        [
            ('<p class="byline">By Jane Doe</p>', ["Jane Doe"]),
            ('<p class="byline">By <b>Jane</b> Doe</p>', ["Jane Doe"]),
            ('<p class="byline">By JANE  DOE</p>', ["Jane Doe"]),
            ("<div hidden><p>Jane Doe</p></div>", []),
            ('<div class="related-stories"><a href="/x">A story by Jane Doe</a></div>', []),
            ('<div style="display: none">Jane Doe</div><p class="byline">Jane Doe</p>', ["Jane Doe"]),
            ("<script>var author = 'Jane Doe';</script>", []),
            ("<ul><li>Editor</li><!-- note -->Jane Doe</ul>", ["Jane Doe"]),
            (
                '<div class="fachartikel-listing"><a href="/future-of-work/wie-werte-formen/">'
                "<h3>Wie Werte eine neue Unternehmenskultur formen</h3>"
                "<div>Von <span>Jane Doe</span> am <span>08.12.2022</span></div></a></div>",
                [],
            ),
            ('<p class="meta">Von <a href="/autor/jane-doe/">Jane Doe</a> am 08.12.2022</p>', ["Jane Doe"]),
            (
                '<div class="author"><a href="/Jane-Doe/!a132/"><h4>Jane Doe</h4>'
                "<h5>Redakteurin für Wirtschaft und Umwelt</h5></a></div>",
                ["Jane Doe"],
            ),
            (
                '<p class="meta"><a href="https://social.example/@janedoe">'
                "Jane Doe, Senior Correspondent</a></p>",
                ["Jane Doe"],
            ),
            (
                '<div><a href="/other-story/"><img src="/a.jpg"></a><div class="info"><div class="title">'
                '<a href="/other-story/">Sárkányos gerillák eveztek a csatornán</a></div>'
                '<span class="x-author">Jane Doe</span></div></div>',
                [],
            ),
            (
                '<div class="author"><a href="/author/jane-doe/"><img src="/a.jpg"></a>'
                '<span>Written by</span> <a href="/author/jane-doe/">Read more from Jane Doe</a></div>',
                ["Jane Doe"],
            ),
        ],
        ids=[
            "byline",
            "split",
            "case",
            "hidden",
            "teaser",
            "hidden-and-shown",
            "script",
            "after-comment",
            "story-card-link",
            "author-page-link",
            "author-box-heading-link",
            "short-profile-link",
            "card-picture-and-headline",
            "author-box-portrait",
        ],
    )
    def test_a_name_counts_where_a_reader_sees_it(self, body: str, shown: list[str]) -> None:
        """A name is shown by a text outside scripts, hidden markup and blocks about other stories."""
        tree = load_html(page(body=body))

        assert shown == shown_names(tree, ["Jane Doe"])


class TestDates:
    @pytest.mark.parametrize(
        ("head", "hints", "found", "expected"),
        [
            (
                meta("date", "2024-03-04", "name")
                + ld({"@type": "NewsArticle", "datePublished": "2024-03-04T10:15:00+01:00"}),
                None,
                None,
                "2024-03-04T10:15:00+01:00",
            ),
            (
                meta("article:published_time", "2024-03-04T10:15:00+01:00"),
                None,
                {"date": "2021-05-05"},
                "2024-03-04T10:15:00+01:00",
            ),
            (
                "",
                Hints(published="2009-05-31T10:22:58Z"),
                {"date": "2009-01-01"},
                "2009-05-31T10:22:58+00:00",
            ),
            (
                meta("article:published_time", "2024-03-04 16:43:30")
                + meta("article:modified_time", "2024-03-05T09:00:00-06:00"),
                None,
                None,
                "2024-03-04T16:43:30-06:00",
            ),
            (meta("article:published_time", "2024-03-04 16:43:30"), None, None, "2024-03-04T16:43:30"),
            ("", None, {"date": "2023-01-01"}, "2024-03-04"),
            ("", None, {"date": "2024-02-28"}, "2024-02-28"),
            (
                ld({"@type": "NewsArticle", "datePublished": "2024-01-02T08:00:00Z"})
                + meta("article:published_time", "2024-03-04T10:00:00Z")
                + meta("parsely-pub-date", "2024-03-04T10:00:00Z", "name"),
                None,
                None,
                "2024-03-04T10:00:00+00:00",
            ),
        ],
        ids=[
            "offset-beats-date-only",
            "explicit-beats-heuristic",
            "feed-beats-heuristic",
            "naive-takes-page-offset",
            "naive-stays-naive",
            "january-first-is-a-year",
            "heuristic-when-nothing-else",
            "most-sources-agree",
        ],
    )
    def test_published(self, head, hints, found, expected):
        """Explicit statements by precision, heuristics only without them, offsets from the page."""
        assert expected == run(page(head), hints=hints, found=found).published

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                "<h1>Neue Regeln für die Waldwege</h1><p>Mittwoch, 26.01.2022 - 14:30</p>",
                "2022-01-26T14:30:00",
            ),
            (
                '<h1>Engadget</h1><h1>Apple shows its new phone</h1><a href="/e3">E3 2011</a>'
                '<p class="byline">By <a href="/author/jd">Jane Doe</a></p><span>Aug 18th 2010 7:30PM</span>',
                "2010-08-18T19:30:00",
            ),
            ("<h1>Neue Regeln für die Waldwege</h1><p>Aktualisiert: 27.01.2022, 09:00</p>", "2022-01-25"),
            (
                '<h1>Neue Regeln für die Waldwege</h1><a href="/x">Noch mehr Regeln für die Jagd im Wald</a>'
                "<span>09.08.2020 u 10:52</span>",
                "2022-01-25",
            ),
            (
                "<h1>Colder Temperatures Forecast for Wednesday</h1><p>Written: 2023-11-07 15:03:30</p>",
                "2023-11-07T15:03:30",
            ),
            (
                "<h1>IPN, czyli element infrastruktury krytycznej</h1><p>opublikowano: 7 kwietnia 2021</p>",
                "2021-04-07",
            ),
            (
                '<h1>Neue Regeln für die Waldwege</h1><div class="teaser-detail" itemprop="description">'
                f"<p>{DECK}</p></div><div>12.10.2015, 19:16 Uhr</div>",
                "2015-10-12T19:16:00",
            ),
            (
                f"<h1>Neue Regeln für die Waldwege</h1><p>{DECK}</p><div>12.10.2015, 19:16 Uhr</div>",
                "2022-01-25",
            ),
            (
                "<h1>Neue Regeln für die Waldwege</h1><p>1. Februar 2022 , Jane Doe</p>",
                "2022-02-01",
            ),
            (
                "<h1>Neue Regeln für die Waldwege</h1><p>Jane Doe | 01.02.2022 | 14:30 Uhr</p>",
                "2022-02-01T14:30:00",
            ),
            (
                '<h1>Neue Regeln für die Waldwege</h1><a href="/time/2020-10-13">13 Oct 2020 18:29</a>',
                "2020-10-13T18:29:00",
            ),
        ],
        ids=[
            "date-line",
            "logo-h1-and-author-link-passed",
            "update-line-skipped",
            "teaser-ends-the-header",
            "labelled-iso",
            "labelled-polish",
            "deck-passed",
            "body-paragraph-ends-the-header",
            "date-beside-the-byline",
            "date-and-clock-beside-the-byline",
            "date-linking-to-its-day",
        ],
    )
    def test_date_under_the_headline_beats_a_search_of_the_page(self, body, expected):
        """Without a stated date, the date line under the headline comes before trafilatura's search."""
        found = run(page(body=body, lang="de"), found={"date": "2022-01-25"})

        assert expected == found.published

    def test_date_under_the_headline_the_page_shows_in_an_h2(self):
        """Under a logo `h1` of three words, the heading that shows the title is the headline."""
        body = (
            '<h1>Harbour Gazette Online</h1><nav><a href="/b">Business news from across the whole region</a>'
            "</nav><h2>Ferry line approved</h2><p>Local desk<br>13 Jan 2020, 22:11</p>"
        )

        found = run(page(meta("og:title", "Ferry line approved"), body), found={"date": "2020-01-14"})

        assert "2020-01-13T22:11:00" == found.published

    def test_a_time_element_with_itemprop_is_one_statement(self):
        """`<time itemprop="datePublished">` is the microdata's statement: one vote against the meta tag."""
        head = meta("article:published_time", "2022-12-04T15:00:00+01:00")
        body = (
            '<div itemscope itemtype="https://schema.org/Article">'
            '<time itemprop="dateModified" datetime="2022-12-06T14:42:13+01:00"></time>'
            '<time itemprop="datePublished" datetime="2022-12-06T14:42:13+01:00"></time></div>'
        )

        assert "2022-12-04T15:00:00+01:00" == run(page(head, body)).published

    def test_offsets_tied_go_to_the_publication_statement(self):
        """A UTC time takes the publication's own offset, not a later update's across summer time."""
        head = meta("article:published_time", "2011-11-18T23:00:00Z") + meta(
            "article:modified_time", "2016-09-20T07:06:11-04:00"
        )
        body = '<span itemprop="datePublished" content="2011-11-18T18:00:00-05:00"></span>'

        assert "2011-11-18T18:00:00-05:00" == run(page(head, body)).published

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("Mittwoch, 26.01.2022 - 14:30", "2022-01-26T14:30:00"),
            ("Montag, 03.01.2022 - 14:30", "2022-01-27"),
        ],
        ids=["within-a-day-the-shown-time-wins", "weeks-apart-ignored"],
    )
    def test_stated_bare_day_takes_the_time_shown_under_the_headline(self, line, expected):
        """A date-only statement is refined by the headline's date line when they agree, never replaced."""
        head = meta("date", "2022-01-27", "name")
        body = f"<h1>Neue Regeln für die Waldwege</h1><p>{line}</p>"

        assert expected == run(page(head, body, lang="de")).published

    @pytest.mark.parametrize(
        ("shown", "lang", "expected"),
        [
            ("<p>Erstellt am: 01.11.2023</p>", "de-CH", "2023-11-01T12:43:42"),
            ("<p>Erstellt am: 11.01.2023</p>", "de-CH", "2023-01-11T12:43:42"),
            ("", "de-CH", "2023-01-11T12:43:42"),
            ("", "en-US", "2023-11-01T12:43:42"),
            ("<p>Posted 2023-01-11</p>", "en-US", "2023-01-11T12:43:42"),
        ],
        ids=["shown-dotted", "shown-other-way", "language-day-first", "language-month-first", "shown-iso"],
    )
    def test_ambiguous_numeric_date_read_as_the_page_shows_it(self, shown, lang, expected):
        """`11/01/2023` is read as the page shows that day unambiguously, else by its language."""
        head = meta("date", "11/01/2023 12:43:42", "name")

        assert expected == run(page(head, shown, lang=lang)).published

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Ein Vorspann.\n\n29.11.2022 – Mehrfach hatte die Branche gewarnt.", "2022-11-29"),
            ("Strompreisbremse – Erlösabschöpfung: Bund drosselt\n\nDie Branche protestiert.", "2022-12-02"),
            ("A. \n\nB.\n\nC.\n\n29.11.2022 – too far into the text.", "2022-12-02"),
            ("Aktualisiert 29.11.2022 – Die Branche protestiert.", "2022-12-02"),
        ],
        ids=["date-opens-a-paragraph", "dash-without-a-date", "fourth-paragraph", "update-line"],
    )
    def test_date_opening_the_text_beats_a_search_of_the_page(self, text, expected):
        """Without a stated date, a date opening one of the text's first three paragraphs comes next."""
        found = run(page(lang="de"), found={"date": "2022-12-02", "text": text})

        assert expected == found.published

    @pytest.mark.parametrize(
        ("above", "expected"),
        [
            ("<div>Feb 14, 2016 10:47 AM EST</div>", "2016-02-14T10:47:00-05:00"),
            ("<div>Mar 2, 2016 10:47 AM EST</div>", "2016-02-14"),
            ("<div>Feb 14, 2016</div>", "2016-02-14"),
            (
                '<div><time>Feb 14, 2016,</time><span class="time"><time>10:47pm EST</time></span></div>',
                "2016-02-14T22:47:00-05:00",
            ),
            ("<div><time>Feb 14, 2016,</time></div><p>Sponsored</p><div>10:47pm EST</div>", "2016-02-14"),
        ],
        ids=[
            "same-day-with-time",
            "other-day-ignored",
            "no-time-adds-nothing",
            "day-and-time-in-elements-of-their-own",
            "time-not-next-to-the-day",
        ],
    )
    def test_stated_bare_day_takes_the_time_shown_above_the_headline(self, above, expected):
        """A date line printed over the headline refines a stated bare day it agrees with."""
        head = meta("article:published_time", "2016-02-14")
        html = page(head, f"{above}<h1>CVS Health opens new pharmacy concept</h1>", lang="en-US")

        assert expected == run(html).published

    @pytest.mark.parametrize(
        "body",
        [
            '<span class="mod-date"><time>3 de mayo de 2022</time> <time class="hour">21:25</time></span>',
            '<div class="lay-sidebar"><div class="sidebar__main"><span class="mod-date">'
            '<time>3 de mayo de 2022</time><time class="hour">21:25</time></span></div></div>',
        ],
        ids=["spaced", "adjacent-in-a-layout-column"],
    )
    def test_utc_time_shown_at_the_page_clock(self, body):
        """A UTC timestamp is shown at the offset whose clock time the page prints beside its day."""
        head = meta("article:published_time", "2022-05-04T00:25:56Z")
        url = "https://www.diario.example/politica/nota-123"

        found = run(page(head, body, lang="es"), url=url)

        assert "2022-05-03T21:25:56-03:00" == found.published

    def test_another_storys_clock_is_not_the_pages(self):
        """A teaser's clock showing the same minute and day does not set the page's offset."""
        head = meta("article:published_time", "2022-05-04T00:25:56Z")
        body = '<div class="teaser"><span>3 de mayo de 2022</span> <span>21:25</span></div>'

        assert "2022-05-04T00:25:56+00:00" == run(page(head, body, lang="es")).published

    def test_updated(self):
        """The modification time is the update time, never the publication time."""
        head = meta("article:published_time", "2024-03-04T10:15:00+01:00") + meta(
            "article:modified_time", "2024-03-05T08:00:00+01:00"
        )

        found = run(page(head))

        assert ("2024-03-04T10:15:00+01:00", "2024-03-05T08:00:00+01:00") == (found.published, found.updated)

    def test_day_first_outside_us_english(self):
        """An ambiguous numeric date is day first on a Spanish page."""
        found = run(page(meta("date", "10/05/2022 05:22 pm", "name"), lang="es"))

        assert "2022-05-10T17:22:00" == found.published


class TestTags:
    def test_default_category_and_glued_labels(self):
        """A blog's default category is no topic; "Category: Games" is the tag "Games"."""
        body = (
            '<div class="post-tags"><a href="/category/allgemein">Allgemein</a>'
            '<a href="/category/games">Category: Games</a><a href="/tag/rpg">Tag: RPG</a></div>'
        )

        assert ("Games", "RPG") == run(page(body=body)).tags

    def test_tag_box_links(self):
        """The article's tag box gives its tags; the site menu and links in sentences do not."""
        body = (
            '<nav class="menu"><a href="/thema/politik">Politik</a><a href="/thema/sport">Sport</a></nav>'
            '<p>The council met <a href="/thema/hafen">Hafen</a> officials'
            " after a long debate about the ferry.</p>"
            '<div class="article-tags"><span>Themen:</span><a href="/x">Fähre</a><a href="/y">Hafen</a></div>'
        )

        assert ("Fähre", "Hafen") == run(page(body=body)).tags

    def test_rel_tag(self):
        """Links marked rel=tag are tags."""
        body = (
            '<p class="meta"><a rel="tag" href="/t/ferries">ferries</a>,'
            ' <a rel="tag" href="/t/port">port</a></p>'
        )

        assert ("ferries", "port") == run(page(body=body)).tags

    def test_widgets_prompts_and_teaser_headlines_in_a_tag_box_are_not_tags(self):
        """Share links, a newsletter prompt, labels leading to lists, headlines and icon names go."""
        links = [
            ("/tag/twitter", "Twitter"),
            ("/tag/us-politics", "U.S. Politics"),
            ("https://www.facebook.com/sharer/sharer.php?u=x", "Facebook"),
            ("mailto:?subject=x", "E-Mail"),
            ("/share", "Teilen"),
            ("/newsletter", "Kostenlosen Newsletter bestellen"),
            ("/themen", "Themen >"),
            ("/themen/a-z", "Alle Themen"),
            ("/thema/fahre", "mehr zur Fähre …"),
            ("/news/1", "Ferry late again. Passengers wait"),
            ("/news/2", "Will the new ferry ever run on time?"),
            ("/save", "turned_in"),
        ]
        box = "".join(f'<a href="{href}">{text}</a>' for href, text in links)

        assert ("Twitter", "U.S. Politics") == run(page(body=f'<div class="article-tags">{box}</div>')).tags

    def test_wordpress_entry_footer_tags_not_its_categories(self):
        """The tags in a post's own footer count; its `rel="category tag"` links are the section."""
        item = '<li class="entry-footer__list-item"><a rel="{}" href="/{}/">{}</a></li>'
        body = (
            '<footer class="entry-footer"><ul class="entry-footer__list">'
            + item.format("category tag", "category/news", "News")
            + "</ul><ul class='entry-footer__list'>"
            + item.format("tag", "tag/ferries", "Ferries")
            + item.format("tag", "tag/port", "Port")
            + "</ul></footer>"
        )

        assert ("Ferries", "Port") == run(page(body=body)).tags

    def test_a_site_footer_with_spaced_classes_stays_chrome(self):
        """Only an entry-footer token exempts a `footer`; two spaces between its classes do not."""
        body = '<footer class="site-footer  dark"><a href="/tag/ferries/">Ferries</a></footer>'

        assert () == run(page(body=body)).tags

    def test_a_post_wrapper_naming_its_terms_is_no_tag_box(self):
        """WordPress prints `topics-umwelt` on the post's wrapper: a photo credit in it is no tag."""
        body = (
            '<div class="post-7 post type-post hentry topics-umwelt"><p class="credit">'
            '<a href="https://commons.example/file/7">Jane Roe</a></p>'
            '<section class="tagged-with"><a href="/tags/ferries/">Ferries</a>'
            '<a href="/tags/port/">Port</a></section></div>'
        )

        assert ("Ferries", "Port") == run(page(body=body)).tags

    def test_a_keyword_bar_in_the_site_menu_is_no_tag_box(self):
        """A class naming navigation ("nav-keywords") marks the site's trending bar, not a tag box."""
        bar = '<header><nav class="nav-keywords"><a href="/thema/gamescom">Gamescom</a>'
        bar += '<a href="/thema/dsgvo">DSGVO</a></nav></header>'
        box = '<aside class="topics"><a href="/thema/akkus">Akkus</a>'
        box += '<a href="/thema/recycling">Recycling</a></aside>'

        assert ("Akkus", "Recycling") == run(page(body=bar + box)).tags

    @pytest.mark.parametrize(
        ("items", "expected"),
        [
            (["Datenschutz", "Impressum", "Redaktion"], ("Ferries", "Port")),
            (["Corona", "Datenschutz", "Internet"], ("Corona", "Datenschutz", "Internet")),
        ],
        ids=["footer-menu", "one-service-word-is-a-topic"],
    )
    def test_a_box_linking_legal_pages_is_the_footer_menu(self, items, expected):
        """A box holding two links to legal or service pages is the site's menu; one such word is a topic."""
        lists = "".join(
            f'<ul><li class="gf-Topics_Item"><a href="/{t.lower()}/">{t}</a></li></ul>' for t in items
        )
        head = meta("news_keywords", "Ferries, Port", "name")

        assert expected == run(page(head, f'<section class="gf-Topics">{lists}</section>')).tags

    def test_relative_tag_and_keyword_addresses(self):
        """`tags/port` without a leading slash and SPIP's `mot/…` keyword pages are tag addresses."""
        body = (
            '<div class="categories"><a href="mot/ferries">Ferries</a>, <a href="tags/port">Port</a>, '
            '<a href="mot/harbour">Harbour</a></div>'
        )

        assert ("Ferries", "Port", "Harbour") == run(page(body=body)).tags

    def test_links_under_a_tag_label_are_tags(self):
        """A heading "Verwandte Themen" over links in classes that say nothing marks them as the tags."""
        head = meta("article:tag", "SEO")
        body = (
            '<article><p>Story.</p><aside class="s1"><div class="w"><div class="t"><h3>Verwandte Themen</h3>'
            '<div class="line"></div></div></div><div class="l"><a href="/leagues/bundesliga">Bundesliga</a>'
            '<a href="/teams/freiburg">SC Freiburg</a></div></aside></article>'
        )

        assert ("Bundesliga", "SC Freiburg") == run(page(head, body)).tags

    def test_a_tag_label_marks_only_its_list_not_the_share_buttons(self):
        """The list is the label's next sibling holding links; share links further on are no tags."""
        body = (
            '<div class="submeta"><span class="label">Topics</span><ul>'
            '<li><a href="/ferries">Ferries</a></li><li><a href="/port">Port</a></li></ul>'
            '<ul class="social"><li><a href="https://example.net/like?u=1">Like this</a></li></ul></div>'
        )

        assert ("Ferries", "Port") == run(page(body=body)).tags

    def test_a_labelled_tag_cloud_in_the_sidebar_is_not_the_articles(self):
        """A sidebar's "Tags" widget lists the site's tags; the article's keywords stay the tags."""
        head = meta("news_keywords", "Ferries, Port", "name")
        cloud = '<aside class="widget"><h2>Tags</h2><div><a href="/x/a">Arts</a>'
        cloud += '<a href="/x/b">Books</a></div></aside>'
        html = page(head).replace("</main>", f"</main>{cloud}")

        assert ("Ferries", "Port") == run(html).tags

    def test_a_wrapper_that_has_a_sidebar_is_no_sidebar(self):
        """`has-sidebar` on the content wrapper is a layout switch: the tag box inside it counts."""
        body = (
            '<div class="content-wrapper has-sidebar"><main><article><p>Story.</p></article>'
            '<div class="block"><h4>Tags</h4><div class="c"><a href="/tags/wind">Windparks</a>'
            '<a href="/tags/offshore">Offshore</a></div></div></main></div>'
        )

        assert ("Windparks", "Offshore") == run(page(body=body)).tags

    def test_teaser_cards_and_bare_addresses_in_a_tag_box_are_no_tags(self):
        """A link holding a picture is a teaser's card, and a link showing an address is an embed."""
        body = (
            '<ul class="topicList"><li><a href="/a/8155504,krs.html"><img src="k.jpg" alt="">'
            "Członkowie KRS chcieli dać sobie podwyżki</a></li></ul>"
            '<div class="tags"><a href="/tag/ferries">Ferries</a>'
            '<a href="https://www.instagram.com/p/Cy6H6/">https://www.instagram.com/p/Cy6H6/</a></div>'
        )

        assert ("Ferries",) == run(page(body=body)).tags

    def test_a_topic_card_with_a_picture_leading_to_a_tag_page_counts(self):
        """ "Themen im Artikel" cards hold a picture each; their tag-page addresses make them tags."""
        cards = "".join(
            f'<li><a href="/tag/{t.lower()}/"><img src="/{t}.jpg" alt=""><span>{t}</span></a></li>'
            for t in ("Energiewende", "Kernkraft")
        )
        label = '<p class="headline">Themen <span>im Artikel</span></p>'
        body = f'<div class="col">{label}<div><ul>{cards}</ul></div></div>'

        assert ("Energiewende", "Kernkraft") == run(page(body=body)).tags

    def test_a_label_inside_a_block_claims_no_block_after_it(self):
        """A label climbs only out of blocks it opens: "Themen" after other text names no list below."""
        head = meta("news_keywords", "Ferries, Port", "name")
        body = (
            '<div class="acc"><p>Über uns</p><div><h4>Themen</h4></div></div>'
            '<div class="acc-body"><a href="/story">Unsere Story</a><a href="/jobs">Karriere</a></div>'
        )

        assert ("Ferries", "Port") == run(page(head, body)).tags

    def test_back_links_and_comment_links_in_a_tag_box_are_no_tags(self):
        """Back links, trackback and comment links are prompts; "Kommentar" (an opinion piece) is a topic."""
        links = (
            "Schule",
            "Kommentar",
            "Zurück zur Übersicht",
            "Trackback-URL",
            "Kommentarfeed",
            "3 Kommentare",
        )
        body = (
            '<div class="tags">'
            + "".join(f'<a href="/x/{i}">{t}</a>' for i, t in enumerate(links))
            + "</div>"
        )

        assert ("Schule", "Kommentar") == run(page(body=body)).tags

    def test_the_first_storys_tags_when_the_page_loads_the_next_stories(self):
        """Infinite scroll: each story's `<article>` prints its tags; the page's are the first's."""
        story = "".join(f"<p>Paragraph {n} of the story.</p>" for n in range(3))
        html = "".join(
            f'<article id="article-{i}">{story}<div class="tags"><a href="/tag/{a}">{a}</a>'
            f'<a href="/tag/{b}">{b}</a></div></article>'
            for i, (a, b) in enumerate([("autos", "capuchinos"), ("limpio", "imputados")])
        )

        assert ("autos", "capuchinos") == run(page(body=f"<div>{html}</div>")).tags

    def test_tag_lists_outside_the_story_are_the_sites(self):
        """A story's own tag box wins over tag boxes on sidebar cards and topic lists outside it."""
        story = "".join(f"<p>Paragraph {n} of the story.</p>" for n in range(3))
        card = '<article class="card"><h3>Other</h3><div class="tags">'
        card += '<a href="/tag/wein">Wein</a></div></article>'
        own = '<div class="tags"><a href="/tag/lvmh">LVMH</a><a href="/tag/frankreich">Frankreich</a></div>'
        html = (
            '<!doctype html><html><head></head><body><aside class="sidebar">' + card + "</aside>"
            f"<main><article>{story}{own}</article></main>"
            '<div class="tags"><a href="/tag/handel">Handel</a></div></body></html>'
        )

        assert ("LVMH", "Frankreich") == run(html).tags

    def test_a_paragraph_of_tag_links_is_a_list_not_a_sentence(self):
        """`<p class="tag-links">` joining many tags with counts is no running text around them."""
        links = ", ".join(
            f'<a href="/tag/{t.lower().replace(" ", "-")}/">{t} ({n})</a>'
            for t, n in (("2020 Election", 611), ("Joe Biden", 233), ("Iowa Caucus", 140), ("Iowa", 92))
        )
        body = f'<div class="tags"><p class="tag-links">Filed under {links}</p></div>'

        assert ("2020 Election", "Joe Biden", "Iowa Caucus", "Iowa") == run(page(body=body)).tags

    def test_placement_labels_and_the_sites_slug_are_no_tags(self):
        """Sailthru's "the-verge,front-page" and a "slider" category say where a story runs, not what."""
        head = meta("og:site_name", "The Verge")
        head += meta("sailthru.tags", "the-verge,front-page,apple,slider na stronie głównej,tech", "name")

        assert ("apple", "tech") == run(page(head)).tags

    def test_site_topic_menu_is_not_tags(self):
        """A list of more than 20 topic links is the site's menu."""
        links = "".join(f'<a href="/topic/t{i}">Topic {i}</a>' for i in range(25))

        assert () == run(page(body=f'<div class="topics">{links}</div>')).tags

    def test_structured_tags_without_topic_links(self):
        """Without topic links the stated keywords are the tags, split; the section is not a tag."""
        head = meta("article:section", "Local") + meta("news_keywords", "Ferries, Port; Local", "name")

        found = run(page(head, "<p>No topic links here.</p>"))

        assert (("Ferries", "Port"), "Local") == (found.tags, found.section)

    def test_topic_links_win_over_keywords(self):
        """Visible topic links are the article's tags; the keywords meta tag is then not read."""
        head = meta("keywords", "news, breaking news, ferries", "name")
        links = '<li><a href="/tag/ferries">Ferries</a></li><li><a href="/tag/port">Port</a></li>'
        body = f'<ul class="tags">{links}</ul>'

        assert ("Ferries", "Port") == run(page(head, body)).tags

    def test_first_stating_source_gives_the_tags(self):
        """news_keywords beats JSON-LD keywords with internal labels; plain keywords come last."""
        head = (
            meta("keywords", "site, search, terms", "name")
            + meta("news_keywords", "israel-hamas war,israel,surveillance", "name")
            + ld({"@type": "NewsArticle", "headline": "H", "keywords": ["business", "digital_syndication"]})
        )
        plain = meta("keywords", "Ferries,Port,digital_syndication", "name")

        assert ("israel-hamas war", "israel", "surveillance") == run(page(head)).tags
        assert ("Ferries", "Port") == run(page(plain)).tags

    def test_tag_address_among_menu_links_is_not_a_tag(self):
        """One link to a tag page in a list of section links is a menu entry, not the article's tag."""
        items = [("/category/science/", "Science"), ("/category/ai/", "AI"), ("/tag/video-games/", "Games")]
        menu = "<ul>" + "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in items) + "</ul>"
        head = meta("news_keywords", "surveillance, security", "name")

        assert ("surveillance", "security") == run(page(head, menu)).tags

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            (["a, b; c"], ["a", "b", "c"]),
            (["#Elektroauto", "#Skoda"], ["Elektroauto", "Skoda"]),
            (["2020 Election (611 posts)"], ["2020 Election"]),
            (["a|b", ""], ["a", "b"]),
        ],
        ids=["joined", "hashes", "post-count", "pipes-empty"],
    )
    def test_split_keywords(self, values, expected):
        """Joined keywords split; hashes and post counts go."""
        assert expected == split_keywords(values)


class TestOtherFields:
    def test_image_caption_credit(self):
        """JSON-LD image gives URL, caption and credit; og:image alone gives the URL."""
        article = {
            "@type": "NewsArticle",
            "image": [
                {
                    "@type": "ImageObject",
                    "url": "https://cdn.example/f.jpg",
                    "caption": "The pier",
                    "creditText": "Jane Roe",
                }
            ],
        }

        assert Image("https://cdn.example/f.jpg", "The pier", "Jane Roe") == run(page(ld(article))).image
        assert (
            Image("https://cdn.example/g.jpg")
            == run(page(meta("og:image", "https://cdn.example/g.jpg"))).image
        )

    @pytest.mark.parametrize(
        ("article", "head", "expected"),
        [
            ({"@type": "NewsArticle", "isAccessibleForFree": False}, "", False),
            ({"@type": "NewsArticle", "isAccessibleForFree": "True"}, "", True),
            (
                {
                    "@type": "NewsArticle",
                    "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": "False"},
                },
                "",
                False,
            ),
            ({"@type": "NewsArticle"}, meta("article:content_tier", "locked"), False),
            ({"@type": "NewsArticle"}, "", None),
        ],
        ids=["bool", "string", "paywalled-part", "content-tier", "unknown"],
    )
    def test_accessible_for_free(self, article, head, expected):
        """isAccessibleForFree as a boolean or string, on a part, or the content tier."""
        assert expected == run(page(ld(article) + head)).is_accessible_for_free

    def test_description_entities_decoded(self):
        """A description's entities are decoded."""
        found = run(page(meta("og:description", "Ferry&amp;nbsp;line &amp;amp; port")))

        assert "Ferry line & port" == found.description

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (
                "For more, &lt;a href=&quot;/money&quot;&gt;how to save&lt;/a&gt;, read on.",
                "For more, how to save, read on.",
            ),
            ("Costs rise when a &lt; b and c &gt; d.", "Costs rise when a < b and c > d."),
        ],
        ids=["escaped-link", "comparison-near-miss"],
    )
    def test_description_without_markup(self, content, expected):
        """A description holding a link's markup, escaped in the meta tag, keeps only the link's text."""
        assert expected == run(page(meta("description", content, attr="name"))).description


class TestRobust:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        value=st.text(max_size=80),
        markup=st.sampled_from(
            [
                '<script type="application/ld+json">'
                '{{"@type": "NewsArticle", "author": "{v}", "datePublished": "{v}"}}</script>',
                '<meta property="article:published_time" content="{v}"><meta name="author" content="{v}">',
                '<h1><span class="kicker">{v}</span>{v}</h1><div class="byline">{v}</div>',
                '<div class="tags"><a href="/tag/{v}">{v}</a></div><time datetime="{v}">{v}</time>',
            ]
        ),
    )
    def test_never_raises(self, value, markup):
        """Any value in any place the resolver reads gives metadata, never an exception."""
        html = page(body=markup.format(v=value.replace('"', "").replace("<", "").replace("{", "")))

        found = run(html, hints=Hints(title=value, published=value, authors=(value,)))

        assert isinstance(found.authors, tuple)


class TestBlogPosts:
    """Personal blogs and classic blog themes: the owner as author, plain bylines, posted lines."""

    BLOG = "http://www.helge.at/warum-wien-staufrei-werden-kann/"
    PLAIN = "https://www.heizung.example/ratgeber/waermepumpe-altbau.html"

    def test_a_personal_sites_owner_typed_person_and_organisation_is_the_author(self):
        """Yoast types a personal site's owner both ways; the host is named after them."""
        owner = {"@type": ["Person", "Organization"], "@id": "#owner", "name": "Helge Fahrnberger"}
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                owner,
                {
                    "@type": "Article",
                    "headline": "Warum Wien staufrei werden kann",
                    "author": {"@id": "#owner"},
                    "publisher": {"@id": "#owner"},
                },
            ],
        }
        body = '<span class="byline">By <a href="/author/helge/">Helge Fahrnberger</a></span>'

        assert run(page(ld(graph), body), url=self.BLOG).authors == ("Helge Fahrnberger",)

    def test_an_organisation_author_named_like_the_site_stays_none(self):
        """Near miss: typed an organisation alone, the author named like the host is the publisher."""
        org = {"@type": "Organization", "@id": "#org", "name": "Helge Media"}
        graph = {"@graph": [org, {"@type": "Article", "headline": "Wien", "author": {"@id": "#org"}}]}

        assert run(page(ld(graph)), url=self.BLOG).authors == ()

    def test_a_plain_byline_under_the_headline(self):
        """`von Name` in a meta line classed as nothing a byline, right under the `h1`."""
        body = (
            "<h1>Eignet sich eine Wärmepumpe im Altbau?</h1><ul>"
            '<li class="hero__meta-item"><span class="hero__meta-label">von Alexander Rosenkranz</span></li>'
            '<li class="hero__meta-item"><time datetime="2022-03-09">09.03.2022</time></li></ul>'
        )

        assert run(page(body=body, lang="de"), url=self.PLAIN).authors == ("Alexander Rosenkranz",)

    @pytest.mark.parametrize(
        "line",
        [
            "von Berlin nach München",  # a route, no name
            "By Design",  # one word
        ],
    )
    def test_a_plain_line_that_names_no_person_is_no_byline(self, line):
        """Near miss: the byline word before what is no person's name."""
        body = f"<h1>Eignet sich eine Wärmepumpe im Altbau?</h1><p>{line}</p>"

        assert run(page(body=body, lang="de"), url=self.PLAIN).authors == ()

    def test_a_plain_byline_under_the_headline_after_the_sites_h1(self):
        """
        The byline stands under the heading that shows the title, which the date reader also finds, not
        under the site's own `h1` above it.
        """
        title = meta("og:title", "Eignet sich eine Wärmepumpe im Altbau?")
        filler = "".join(f'<li><a href="/rubrik/{i}">Rubrik {i}</a></li>' for i in range(30))
        body = (
            f'<h1 class="brand">Heizungsratgeber</h1><ul class="menu">{filler}</ul>'
            "<h2>Eignet sich eine Wärmepumpe im Altbau?</h2><p>von Alexander Rosenkranz</p>"
        )

        assert run(page(title, body, lang="de"), url=self.PLAIN).authors == ("Alexander Rosenkranz",)

    def test_an_agency_in_capitals_under_the_headline_is_no_author(self):
        """Near miss: "By U.S. CUSTOMS AND BORDER PROTECTION" names a government agency, not two people."""
        body = (
            "<h1>Officers seize 475 pounds of cocaine at the port</h1>"
            "<p>By U.S. CUSTOMS AND BORDER PROTECTION</p>"
        )

        assert run(page(body=body), url=self.PLAIN).authors == ()

    def test_a_plain_name_line_after_the_body_starts_is_no_byline(self):
        """Near miss: past the body's first paragraph, `von Name` is some quote's or list's."""
        body = f"<h1>Eignet sich eine Wärmepumpe im Altbau?</h1>{BODY}<p>von Alexander Rosenkranz</p>"

        assert run(page(body=body, lang="de"), url=self.PLAIN).authors == ()

    @pytest.mark.parametrize(
        ("footer", "expected"),
        [
            (
                'Dieser Artikel <a href="/p/1">Animated Typography</a> wurde am 19. Mai 2010 um 23:03 Uhr '
                'gepostet und unter <a href="/c/lit">Literatur</a> abgelegt.',
                "2010-05-19T23:03:00",
            ),
            (
                "This entry was posted on Wednesday, May 19th, 2010 at 11:03 pm and is filed under "
                '<a href="/c/news">News</a>.',
                "2010-05-19T23:03:00",
            ),
            # Near miss: any event's date in German ("wurde am … zurückgenommen") is no posting.
            ("Die Umlage wurde am 29. September 2022 von der Regierung zurückgenommen.", None),
        ],
    )
    def test_a_classic_themes_posted_line(self, footer, expected):
        """Old blog themes say when the post was posted in its footer, nowhere else."""
        body = f'<h1>Animated Typography</h1>{BODY}<p class="postmetadata">{footer}</p>'

        assert run(page(body=body), url=self.PLAIN).published == expected


class TestPagerLinks:
    def test_a_pagers_links_to_topic_pages_are_no_tags(self):
        """The links "Zum Anfang" and "weiter" lead to a topic's pages in a series: a pager, no tags."""
        body = (
            '<div class="pagebrowser"><ul><li class="index"><a href="/thema/umwelt/">Zum Anfang</a></li>'
            '<li class="next"><a href="/thema/umwelt/fussabdruck/">weiter</a></li></ul></div>'
        )

        assert () == run(page(body=body, lang="de")).tags

    def test_topic_links_beside_them_still_are(self):
        """Near miss: links to topic pages named as terms are tags."""
        body = (
            '<div class="pagebrowser"><ul><li><a href="/thema/umwelt/">Umwelt</a></li>'
            '<li><a href="/thema/klima/">Klima</a></li></ul></div>'
        )

        assert ("Umwelt", "Klima") == run(page(body=body, lang="de")).tags


class TestDatelineDate:
    URL = "https://www.church.example/detail/nachricht-seite/id/35204-trauern-digital/"

    def test_the_date_in_a_datelines_parentheses(self):
        """`Karlsruhe, (12.11.2021). Text …` opens the story; a sidebar's event date is no publication."""
        body = (
            "<h1>Trauern digital am Ewigkeitssonntag</h1>"
            "<p>Karlsruhe, (12.11.2021). Traditionell gedenken evangelische Christinnen und Christen am "
            "Ewigkeitssonntag ihrer verstorbenen Angehörigen und Freunde in den Gottesdiensten.</p>"
            '<aside class="events"><p>Sa. 13.11.2021 Erlebnisraum Kirche</p></aside>'
        )
        text = "Karlsruhe, (12.11.2021). Traditionell gedenken evangelische Christinnen und Christen."

        resolved = resolve(load_html(page(body=body, lang="de")), self.URL, now=NOW, found={"text": text})

        assert resolved.published == "2021-11-12"

    def test_parentheses_holding_no_date_date_nothing(self):
        """Near miss: a place and an agency in parentheses ("Berlin, (dpa).") name no day."""
        text = "Berlin, (dpa). Die Regierung hat am Mittwoch beschlossen, die Umlage zurückzunehmen."

        resolved = resolve(load_html(page(lang="de")), self.URL, now=NOW, found={"text": text})

        assert resolved.published is None


class TestTitlesBeforeNames:
    @pytest.mark.parametrize(
        ("written", "name"),
        [
            ("Dr. Sebastian Brüggemann", "Sebastian Brüggemann"),
            ("Prof. Dr. Hans Meier", "Hans Meier"),
            ("Dr. med. Anna Schmidt", "Anna Schmidt"),
            ("Rechtsanwalt Dennis Tölle", "Dennis Tölle"),
            ("Fachanwältin für IT-Recht Jane Doe", "Jane Doe"),
            ("RA Jan Bauer", "Jan Bauer"),
        ],
    )
    def test_an_academic_or_professional_title_is_no_part_of_the_name(self, written, name):
        """A byline's "Dr." or "Rechtsanwalt" before the name is the person's title, not their name."""
        assert sort_names([written]).persons == (name,)

    @pytest.mark.parametrize("written", ["Drake Bell", "Ra Jan Moon", "Dr. Who"])
    def test_names_that_only_look_titled_stay_whole(self, written):
        """Near miss: "Drake" and "Ra" are names; a title before one word leaves no name to keep."""
        assert sort_names([written]).persons == (written,)


class TestUserNames:
    @pytest.mark.parametrize(
        ("written", "name"),
        [("Isabella.DiBiase", "Isabella DiBiase"), ("Jane_Doe", "Jane Doe"), ("jane.doe", "Jane Doe")],
    )
    def test_a_cms_user_name_of_a_persons_names(self, written, name):
        """A CMS prints its user name for the author: the names joined by a dot or an underscore."""
        assert sort_names([written]).persons == (name,)

    @pytest.mark.parametrize("written", ["Anja Schmoll-Trautmann", "Jean-Paul Sartre", "J.R.R. Tolkien"])
    def test_hyphens_and_initials_stay(self, written):
        """Near miss: a hyphen joins double names, and initials keep their dots."""
        assert sort_names([written]).persons == (written,)


class TestHeadlineParts:
    """Headlines whose element holds a date stamp or a kicker, and titles only the URL tells apart."""

    @pytest.mark.parametrize(
        ("h2", "expected"),
        [
            (
                '<h2 class="entry-title" itemprop="headline">'
                '<time class="dt-published" datetime="2019-06-17">Jun 17 </time>'
                "Das vielleicht schönste Ende der Welt: Montauk </h2>",
                "Das vielleicht schönste Ende der Welt: Montauk",
            ),
            (
                '<h2 class="entry-title" itemprop="headline">'
                "17.06.2019 - Das vielleicht schönste Ende der Welt</h2>",
                "17.06.2019 - Das vielleicht schönste Ende der Welt",
            ),
        ],
        ids=["time-element", "date-in-the-text-stays"],
    )
    def test_a_date_stamp_set_in_the_headline(self, h2, expected):
        """A `<time>` in the headline is the post's date, no word of it; a date typed in the headline is."""
        title = "Das vielleicht schönste Ende der Welt: Montauk"
        head = meta("og:title", title) + "<title>BeFifty - Der Blog</title>"

        assert expected == run(page(head=head, body=h2)).title

    def test_a_kicker_classed_subline_in_the_headline_block(self):
        """A `<span class="subline">` before the headline span is its kicker, though JSON-LD names it."""
        head = (
            ld({"@type": "Article", "headline": "Abnehm-Tricks für Weihnachten"})
            + meta("og:site_name", "WomensHealth.de")
            + "<title>Weihnachten nicht zunehmen: 10 Tipps | WOMEN'S HEALTH</title>"
        )
        body = (
            '<div class="v-A_-article__headline__container"><h2>'
            '<span class="v-A_-subline v-A_-subline--article"> Abnehm-Tricks für Weihnachten</span> '
            '<span class="v-A_-headline">Weihnachten nicht zunehmen: 10 Tipps für ein schlankes Fest</span>'
            "</h2></div>"
        )

        assert "Weihnachten nicht zunehmen: 10 Tipps für ein schlankes Fest" == run(page(head, body)).title

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "http://www.cdu-fraktion.example/inhalte/aktuelles/54424/"
                "entwicklung-der-waldorfschule-ermoeglicht/index.html",
                "Entwicklung der Waldorfschule ermöglicht",
            ),
            (
                "http://www.cdu-fraktion.example/inhalte/aktuelles/54424/index.html",
                "CDU-Fraktion im Erfurter Stadtrat - Entwicklung der Waldorfschule ermöglicht",
            ),
            (
                "http://www.cdu-fraktion.example/cdu-fraktion-im-erfurter-stadtrat-entwicklung-der-waldorfschule/",
                "CDU-Fraktion im Erfurter Stadtrat - Entwicklung der Waldorfschule ermöglicht",
            ),
        ],
        ids=["slug-names-one-part", "no-slug", "slug-names-both"],
    )
    def test_the_part_of_a_title_the_slug_spells(self, url, expected):
        """With no heading to go by, the part of `<title>` the URL's slug spells is the headline, alone."""
        head = "<title>CDU-Fraktion im Erfurter Stadtrat - Entwicklung der Waldorfschule erm&ouml;glicht"
        head += "</title>"
        body = '<div class="blog_teaser_text"><p>Ein positives Signal gab es diese Woche.</p></div>'

        assert expected == run(page(head, body), url=url).title

    def test_a_lone_h1_sharing_words_with_a_part_of_the_title(self):
        """An SEO title ("Topic » Question?") shares a third of its first part's words with the `h1` shown."""
        head = "<title>Zaubernuss im Winter » Wann blüht die Hamamelis?</title>"
        body = "<h1>Wie pflege ich meine Zaubernuss im Winter?</h1>"

        assert "Wie pflege ich meine Zaubernuss im Winter?" == run(page(head, body)).title


class TestSignOffs:
    """Names closing a story in bold or small print, and one label for text and pictures."""

    PROSE = "".join(
        f"<p>Die Sammlung erzählt von der Entrechtung einer Volksgruppe, Kapitel {n}.</p>" for n in range(3)
    )

    def closing(self, last: str) -> str:
        return (
            '<!doctype html><html lang="de"><head><meta charset="utf-8"></head><body><main><article>'
            f"<h1>Buch der Woche</h1><div>{self.PROSE}{last}</div></article>"
            "<footer><p>Impressum</p></footer></main></body></html>"
        )

    @pytest.mark.parametrize(
        ("last", "expected"),
        [
            ('<p class="clearfix"> <strong>Marina Mucha</strong> </p>', ("Marina Mucha",)),
            (
                "<p><small>Antje Rávic Strubel<br></small><small>Aus: Das Brandenbuch</small>. "
                "<small>Potsdam 2015</small></p>",
                ("Antje Rávic Strubel",),
            ),
            ("<p><strong>Aktuelle Nutzung</strong><br> Studentenwohnanlage</p>", ()),
            (
                '<p><strong>Weinakademie Rust</strong><br> <a href="http://weinakademie.at">weinakademie.at</a>',
                (),
            ),
            ("<p><strong>Miriam Teige</strong><br></p>", ("Miriam Teige",)),
            ("<p><small>Miriam Teige<br></small><small>Pressesprecherin, Tel. 0721 63-12345</small></p>", ()),
            ("<p><strong>Marina Mucha</strong></p><ul><li>Mehr zum Thema</li></ul>", ()),
        ],
        ids=[
            "bold",
            "small-print-source",
            "label-and-value",
            "link-after",
            "name-and-break",
            "contact",
            "more-after",
        ],
    )
    def test_a_name_in_emphasis_closing_the_story(self, last, expected):
        """A last paragraph of a name alone in bold or small print signs the story; a fact row or card not."""
        assert expected == run(self.closing(last)).authors

    @pytest.mark.parametrize(
        ("last", "expected"),
        [
            (
                '<p>Guido Santner und <a href="ueber-uns.html">Redaktion SimplyScience.ch</a></p>',
                ("Guido Santner",),
            ),
            ("<p>Sportliche Grüße,<br>Euer Team des Deutschen Handballbundes e.V.</p>", ()),
            ("<p>Weitere Informationen und Termine</p>", ()),
        ],
        ids=["person-and-newsroom", "letters-closing", "no-newsroom"],
    )
    def test_a_writer_and_a_newsroom_closing_the_story(self, last, expected):
        """A last line naming a person and a newsroom, nothing else, signs the story."""
        assert expected == run(self.closing(last)).authors

    @pytest.mark.parametrize(
        ("byline", "expected"),
        [
            ("<nonbold>Text &amp; Fotos:</nonbold> Ivan Valetny", ("Ivan Valetny",)),
            ("Bild und Text: Ivan Valetny", ("Ivan Valetny",)),
            ("Fotos: Ivan Valetny", ()),
        ],
        ids=["text-and-photos", "photos-and-text", "photos-only"],
    )
    def test_one_label_for_words_and_pictures(self, byline, expected):
        """ "Text & Fotos:" credits the writer; "Fotos:" alone credits a photographer."""
        body = f'<table><tr><td>26 | 01 | 2022</td><td class="authorbold">{byline}</td></tr></table>'

        assert expected == run(page(body=body)).authors


def test_a_soft_hyphen_in_a_topic_link_is_left_out():
    """A CMS hyphenates a long tag ("Persönlichkeits&shy;entwicklung"); the tag is the word without it."""
    body = (
        '<div class="article__tags"><strong>Themen:</strong><ul>'
        '<li><a href="/themen/familie">Familie</a></li>'
        '<li><a href="/themen/persoenlichkeitsentwicklung">Persönlichkeits&shy;entwicklung</a></li>'
        "</ul></div>"
    )

    assert ("Familie", "Persönlichkeitsentwicklung") == run(page(body=body)).tags


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        (meta("dcterms.date", "2022-01-21T09:43+01:00", "name"), "2022-01-25T08:00:00+01:00"),
        (meta("date", "2022-01-21T09:43+01:00", "name"), "2022-01-25T08:00:00+01:00"),
        (meta("article:published_time", "2022-01-21T09:43+01:00"), "2022-01-21T09:43:00+01:00"),
    ],
    ids=["dublin-core-date", "bare-date-meta", "published-time-meta"],
)
def test_a_shown_time_element_beats_a_cms_date_stamp(stated, expected):
    """`dcterms.date` or `date` says not what it dates: the `<time>` shown under the headline goes first.

    A meta tag that names publication still goes first where the two disagree.
    """
    body = (
        "<h2>EU-Taxonomie: Atomkraft und Erdgas sind nicht nachhaltig</h2>"
        '<div class="article-meta"><i class="icon-calendar"></i> '
        '<time class="date-display-single" datetime="2022-01-25T08:00:00+01:00">25.01.2022</time></div>'
    )

    assert expected == run(page(stated, body)).published


class TestFresh10Rules:
    """Year tags, widget links in bylines, CSS-in-JS screen-reader text, mixed-locale dates, CMS stamps."""

    def test_a_year_among_the_tag_links_is_a_tag(self):
        """ "2017" in a post's tag row is one of its topics; a pager's bare numbers are none."""
        body = (
            '<div class="post-labels">Labels: <a rel="tag" href="/search/label/2017">2017</a>, '
            '<a rel="tag" href="/search/label/Buchrezensionen">Buchrezensionen</a></div>'
            '<div class="pager"><a href="/page/2">2</a><a href="/page/3">3</a></div>'
        )

        assert ("2017", "Buchrezensionen") == run(page(body=body)).tags

    def test_a_follow_button_beside_the_authors_name_is_no_part_of_it(self):
        """`<a>Jane Doe</a><a class="follow-button">Follow</a>` reads as a name and a widget."""
        body = (
            '<div class="author-info"><a href="/in/janedoe" rel="author">Inga Hoeltmann</a>'
            '<a class="author-info__follow-button" href="/login">Follow</a></div>'
        )

        assert ("Inga Hoeltmann",) == run(page(body=body)).authors

    def test_a_kicker_ending_in_a_separator_only_screen_readers_get(self):
        """CSS-in-JS clips the colon in a class of its own: the kicker before it is left out."""
        h1 = (
            '<h1 data-testid="title"><style>.css-umyvef{font-size:16px;display:block;}</style>'
            '<span class="css-umyvef">Medienmitteilung der Gesundheitsdirektion '
            "<style>.css-1ftw2zb{border:0;clip:rect(0 0 0 0);height:1px;margin:-1px;overflow:hidden;"
            "position:absolute;width:1px;}</style>"
            '<span class="css-1ftw2zb">:</span></span>Impfen und Boostern ist überall möglich</h1>'
        )
        head = "<title>Medienmitteilung: Impfen und Boostern ist überall möglich</title>"

        # The page's stylesheets are read where hidden parts are (`clean_html`), before the resolver.
        assert "Impfen und Boostern ist überall möglich" == clean_html(page(head, h1), URL, now=NOW).title

    def test_a_clip_inside_a_media_query_hides_nothing(self):
        """A class clipped only under `@media` is shown on a desktop: its text stays in the headline."""
        h1 = (
            "<h1><style>@media (max-width:600px){.css-k{clip:rect(0 0 0 0);position:absolute}}</style>"
            '<span class="css-k">Medienmitteilung<span class="css-k">:</span></span> Impfen und Boostern</h1>'
        )

        assert "Medienmitteilung: Impfen und Boostern" == clean_html(page("", h1), URL, now=NOW).title

    @pytest.mark.parametrize(
        ("line", "expected"),
        [("Juni 19th, 2018", "2018-06-19"), ("June 19th, 2018", "2018-06-19")],
        ids=["german-month-english-ordinal", "english"],
    )
    def test_a_day_with_an_english_ordinal_beside_another_languages_month(self, line, expected):
        """A theme's English "19th" beside a German month ("Juni 19th, 2018") still dates the post."""
        body = f"<h1>Das Urteil, gelesen und erklärt</h1><div class='meta'><span>{line}</span></div>"

        assert expected == run(page(body=body)).published

    def test_a_stamp_kept_for_search_engines_only_is_not_the_date_shown(self):
        """`<span class="updated rich-snippet-hidden">` under the headline is passed over."""
        body = (
            "<h1>Das Urteil, gelesen und erklärt</h1><div class='fusion-meta-info'>"
            '<span class="updated rich-snippet-hidden">2019-01-07T17:27:31+02:00</span>'
            "<span>19. Juni 2018</span></div>"
        )

        assert "2018-06-19" == run(page(body=body)).published

    def test_one_cms_stamp_under_two_names_is_one_vote(self):
        """`date` and `DCTERMS.date` with one value count once against the microdata's `datePublished`."""
        head = meta("date", "2022-01-21T15:38:44+01:00", "name") + meta(
            "DCTERMS.date", "2022-01-21T15:38:44+01:00", "name"
        )
        body = '<div class="news-single"><time itemprop="datePublished" datetime="2022-01-27">'
        body += "27.01.2022</time></div>"

        assert "2022-01-27" == run(page(head, body)).published

    @pytest.mark.parametrize(
        ("written", "expected"),
        [("HansG", ()), ("MoritzMeyer", ()), ("DiBiase", ("DiBiase",)), ("Ulrike", ("Ulrike",))],
        ids=["name-and-initial", "two-names-run-together", "one-capital-inside", "first-name"],
    )
    def test_a_user_name_run_together_is_no_one(self, written, expected):
        """One word with a capital after its lower-case letters ("HansG") is a user name, "DiBiase" not."""
        body = f'<div class="byline">von <a href="/author/x" rel="author">{written}</a></div>'

        assert expected == run(page(body=body)).authors


class TestFresh11Rules:
    """A bullet before the site's name, and pseudonyms opening with an article."""

    @pytest.mark.parametrize(
        ("title", "expected"),
        [
            (
                "Flächenverbrauch für Fleisch, Milch und Eier • CareElite",
                "Flächenverbrauch für Fleisch, Milch und Eier",
            ),
            (
                "Nikole Hannah-Jones (Hrsg.) • Eine neue Geschichte",
                "Nikole Hannah-Jones (Hrsg.) • Eine neue Geschichte",
            ),
        ],
        ids=["bullet-before-site", "bullet-inside-headline"],
    )
    def test_a_bullet_before_the_sites_name(self, title, expected):
        """ "Headline • Site" loses the site; a bullet joining the headline's own parts stays."""
        assert expected == strip_site(title, ["careelite.de", "careelite"])

    @pytest.mark.parametrize(
        ("written", "expected"),
        [("Der Spendenteddy", ()), ("The Hustler", ()), ("Ursula von der Leyen", ("Ursula von der Leyen",))],
        ids=["german-article", "english-article", "particle-inside-a-name"],
    )
    def test_a_byline_opening_with_an_article_is_no_person(self, written, expected):
        """A pseudonym or newsroom opens with "Der", "The"; a surname's particle "der" is no article."""
        body = f'<div class="byline">von <a href="/author/x" rel="author">{written}</a></div>'

        assert expected == run(page(body=body)).authors


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "<div><u>Titel:</u> The Casquette Girls</div><div><u>Seiten:</u> 400 Seiten</div>"
            "<div><u>Autorin: </u>Alys Arden</div><div><u>Verlag: </u>fortheARTofit</div>",
            (),
        ),
        ('<div class="meta"><u>Autorin: </u>Alys Arden</div>', ("Alys Arden",)),
    ],
    ids=["book-fact-sheet", "byline-label-alone"],
)
def test_an_author_row_of_a_reviewed_books_fact_sheet_is_not_the_reviews(rows, expected):
    """ "Autorin:" among "Seiten:" and "Verlag:" rows names the book's author; alone it is a byline."""
    body = f"<h1>Through the Booking Glass: Juni</h1>{rows}"

    assert expected == run(page(body=body)).authors
