"""Tests for tag normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process.clean import topics
from worker.process.clean.html import load_html
from worker.process.clean.structured import read_page
from worker.process.clean.topics import visible_tags
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


STORY = "".join(f"<p>Paragraph {n} of the story, long enough to read as text.</p>" for n in range(3))
URL = "https://news.example/2023/11/08/story"


def shown(body: str) -> list[str]:
    """Return the visible tags of a page with `body` inside its `<body>`."""
    return visible_tags(load_html(f"<!doctype html><html><head></head><body>{body}</body></html>"), URL)


class TestVisibleTags:
    def test_tag_box_in_the_sites_footer_is_its_topic_menu(self) -> None:
        """A tag box named as part of the site's footer ("footer__list-tags") lists the site's topics."""
        own = '<ul class="article-tags"><li><a href="/tag/ferries">Ferries</a></li></ul>'
        footer = (
            '<footer class="comp__footer"><div class="footer__list-tags">'
            '<a href="/futbol/liga-1">Liga 1</a><a href="/futbol/copa">Copa Libertadores</a></div></footer>'
        )

        assert ["Ferries"] == shown(f"<div><h1>Headline</h1>{STORY}{own}</div>{footer}")

    def test_topics_strip_marked_as_the_sites_header_is_no_tag_list(self) -> None:
        """A "Themen" strip whose class names the page header is the site's, not the story's."""
        strip = (
            '<div class="dm_special_topics header"><div class="box_wrapper">'
            '<div class="teaser_heading">Themen</div>'
            '<ul class="link_list"><li><a href="/wetter">Wetter im Rheinland</a></li>'
            '<li><a href="/ausflug">Rheinland für Entdecker</a></li></ul></div></div>'
        )

        assert [] == shown(f"{strip}<div><h1>Headline</h1>{STORY}</div>")

    def test_the_storys_own_header_keeps_its_tag_box(self) -> None:
        """A tag box in the `<header>` of the story's `<article>` stays the story's tags."""
        header = '<header class="header"><div class="tags"><a href="/tag/port">Port</a></div></header>'

        assert ["Port"] == shown(f"<article>{header}<h1>Headline</h1>{STORY}</article>")

    def test_category_links_beside_the_tags_are_the_section(self) -> None:
        """A footer's category list ("entry-footer__category") files the story; its tag list tags it."""
        footer = (
            '<footer class="entry-footer"><div class="entry-footer__category"><ul class="entry-footer__list">'
            '<li><a href="/category/wissen/" rel="tag">Wissen</a></li></ul></div>'
            '<div class="entry-footer__tags"><ul class="entry-footer__list">'
            '<li><a href="/tag/urheberrecht/" rel="tag">Urheberrecht</a></li>'
            '<li><a href="/tag/abmahnung/" rel="tag">Abmahnung</a></li></ul></div></footer>'
        )

        assert ["Urheberrecht", "Abmahnung"] == shown(f"<article><h1>Headline</h1>{STORY}{footer}</article>")

    def test_a_link_marked_as_the_article_section_is_no_tag(self) -> None:
        """`itemprop="articleSection"` on a link in a tag box names the section."""
        box = (
            '<div class="tags"><a href="/category/berufe/" class="tag" itemprop="articleSection">Berufe</a>'
            '<a href="/tag/luftwaffe/" rel="tag">Luftwaffe</a></div>'
        )

        assert ["Luftwaffe"] == shown(f"<article><h1>Headline</h1>{box}{STORY}</article>")

    def test_tags_behind_a_more_button_are_not_shown(self) -> None:
        """List items the page hides by class ("hidden") until "More" is pressed are no visible tags."""
        items = [("books", ""), ("politics", ""), ("conservatism", " hidden"), ("ezra klein", " hidden")]
        links = "".join(
            f'<li class="tags-list-item{cls}"><a href="/tags/{t.replace(" ", "-")}/">{t}</a></li>'
            for t, cls in items
        )
        box = f'<div class="tags"><h2>Tags:</h2><ul class="tags-list">{links}</ul></div>'

        assert ["books", "politics"] == shown(f"<article><h1>Headline</h1>{STORY}{box}</article>")

    def test_topic_links_in_a_closed_panel_are_not_shown(self) -> None:
        """A footer panel marked `--closed` holds its subject links out of the reader's sight."""
        panel = (
            '<div class="article__footer__content article__footer__content--closed">'
            '<div class="article__footer__subjects"><a href="/uutiset/18-1">Kotimaa</a>'
            '<a href="/uutiset/18-2">kaamos</a></div></div>'
        )
        box = f'<div class="article__footer"><a class="button">Lisää aiheesta</a>{panel}</div>'

        assert [] == shown(f"<article>{STORY}{box}</article>")

    def test_a_label_word_inside_a_link_labels_no_list(self) -> None:
        """ "Themen" inside a menu's button leads to the site's topics: the links near it are no tags."""
        guide = (
            '<div class="guide"><div class="grid"><div class="flex"><a href="/abo/">Abonnement</a></div>'
            '<a href="/themen/" class="button"><div class="grow">Themen</div><div>&gt;</div></a>'
            '<a href="/energie/" class="button"><div class="grow">Energie</div><div>&gt;</div></a>'
            "</div></div>"
        )

        assert [] == shown(f"{guide}<article><h1>Headline</h1>{STORY}</article>")

    @pytest.mark.parametrize("label", ["Top-Themen:", "Aktuelle Themen:", "Trending topics"])
    def test_a_strip_of_the_sites_top_topics_is_no_tag_list(self, label: str) -> None:
        """Links under "Top-Themen:" or "Aktuelle Themen:" are the site's current topics, on every page."""
        strip = (
            f'<div id="teme"><span class="title">{label}</span><a href="/tag/7953/Geopolitik">Geopolitik</a>'
            '<a href="/tag/34995/Inflation">Inflation</a></div>'
        )
        own = '<div class="radar"><a href="/tag/2001">Industrie</a><a href="/tag/2496">Deutschland</a></div>'

        html = f'{strip}<div class="article"><h1>Headline</h1>{STORY}{own}</div>'

        assert ["Industrie", "Deutschland"] == shown(html)

    def test_term_lines_of_teaser_cards_are_no_tags(self) -> None:
        """A list of other stories prints each one's linked headline and categories: those file that story."""
        stories = [("Behörden informierten nicht", "Rassismus"), ("Neue Regeln", "Afghanistan")]
        cards = "".join(
            f'<li class="newslist__item"><h3 class="newslist__title"><a href="/story-{i}/">{head}</a></h3>'
            f'<div class="newslist__meta">in <span><a href="/category/themen/{t.lower()}/">{t}</a></span>'
            "</div></li>"
            for i, (head, t) in enumerate(stories)
        )
        ticker = f'<div class="newsticker"><ul class="newslist">{cards}</ul></div>'

        assert [] == shown(f"{ticker}<div>{STORY}</div>")

    @pytest.mark.parametrize("path", ["aiheet", "emner", "onderwerpen"])
    def test_topic_page_addresses_in_more_languages(self, path: str) -> None:
        """Finnish `aiheet/`, Danish/Norwegian `emner/` and Dutch `onderwerpen/` pages are topic pages."""
        items = "".join(
            f'<li><a href="/{path}/{t.lower()}" class="sc-1 dtgcfL">{t}</a></li>'
            for t in ("Politiikka", "EU")
        )
        meta = (
            f'<div class="sc-2 fgUOtZ"><time>19.2.2020 16:20</time><ul class="sc-3 jHQFaV">{items}</ul></div>'
        )

        assert ["Politiikka", "EU"] == shown(f"<main><h1>Headline</h1>{meta}{STORY}</main>")

    def test_links_filed_under_a_label_are_tags(self) -> None:
        """A "Filed under:" heading marks the links after it as the story's terms."""
        items = "".join(
            f'<li><a href="https://site.example/{t.lower()}"><span>{t}</span></a></li>'
            for t in ("Apple", "iOS")
        )
        labels = f'<div class="c-entry-group-labels"><h2 id="h">Filed under:</h2><ul>{items}</ul></div>'

        assert ["Apple", "iOS"] == shown(f"<article>{labels}<h1>Headline</h1>{STORY}</article>")

    def test_the_articles_own_navigation_line_of_subjects_is_its_tags(self) -> None:
        """Plone's "abgelegt unter:" `<nav>` in the `<article>` lists its subjects (classed as categories)."""
        items = "".join(
            f'<li><a href="/@@search?Subject%3Alist={t}" class="link-category" rel="nofollow">{t}</a></li>'
            for t in ("Vatikan", "Familie")
        )
        nav = f'<nav id="category" class="documentByLine"><span>abgelegt unter:</span><ul>{items}</ul></nav>'

        assert ["Vatikan", "Familie"] == shown(
            f'<article id="content"><h1>Headline</h1>{STORY}{nav}</article>'
        )

    def test_places_and_topics_in_the_articles_appendix_are_its_tags(self) -> None:
        """An appendix `<aside>` in the article lists "Orte" and "Themen" in `<nav>`s: both are tags."""
        entries = "".join(
            f'<div class="appendix__entry"><nav class="o-layout"><h3 class="appendix__headline">{label}</h3>'
            f'<ul class="list"><li class="list__item"><a href="/{label.lower()}/{t.lower()}-1.html">{t}</a>'
            "</li></ul></nav></div>"
            for label, t in (("Orte", "Frankfurt"), ("Themen", "Literatur"))
        )
        aside = f'<aside class="region--appendix">{entries}</aside>'

        assert ["Frankfurt", "Literatur"] == shown(
            f'<article class="page"><h1>Headline</h1>{STORY}{aside}</article>'
        )

    def test_a_tag_named_as_a_question_is_still_a_tag(self) -> None:
        """A `rel=tag` link to a tag page keeps a series name asking a question; a headline does not."""
        box = (
            '<div class="c-sTags"><p><span class="c-sTags__label">More:</span>'
            '<a href="/tag/at-250-who-will-america-be/" rel="tag">At 250 who will America Be?</a>'
            '<a href="/tag/trump/">Will Donald Trump write his own?</a></p></div>'
        )

        assert ["At 250 who will America Be?"] == shown(f"<article><h1>Headline</h1>{STORY}{box}</article>")

    def test_a_labelled_list_in_the_storys_own_side_column_is_its_tags(self) -> None:
        """A "Schlagworte" list in a side column ("sidebar-item") in the story's `<article>` is its own."""
        terms = "".join(
            f'<a title="Schlagwort: {t}" href="/tags/{t.lower()}/">{t}</a>'
            for t in ("Diversity", "Weiterbildung")
        )
        column = (
            '<div class="sidebar-items-infos"><div class="sidebar-item">'
            '<h2 class="sidebar-item__subtitle">Schlagworte</h2>'
            f'<div class="sidebar-item__terms">{terms}</div></div></div>'
        )

        assert ["Diversity", "Weiterbildung"] == shown(
            f'<article class="post-1 type-post hentry"><h1>Headline</h1><div class="row">{column}'
            f"<div>{STORY}</div></div></article>"
        )

    def test_a_labelled_list_in_the_sites_sidebar_is_its_tag_cloud(self) -> None:
        """The same "Schlagworte" side column outside the story's `<article>` lists the site's tags."""
        column = (
            '<div class="sidebar-item"><h2>Schlagworte</h2><div class="sidebar-item__terms">'
            '<a href="/tags/diversity/">Diversity</a><a href="/tags/weiterbildung/">Weiterbildung</a>'
            "</div></div>"
        )

        assert [] == shown(f"<article><h1>Headline</h1>{STORY}</article><div>{column}</div>")

    def test_tags_in_the_storys_header_after_its_headline_are_its_tags(self) -> None:
        """`rel=tag` links in the meta line under the headline, in the story's `<header>`, tag the story."""
        links = "".join(f'<a href="/thema/{t.lower()}/" rel="tag">{t}</a>, ' for t in ("CSP", "Photovoltaik"))
        header = (
            '<header class="postSingle-header"><h1 class="entry-title">Headline</h1>'
            f'<div class="postMeta"><a href="/author/x/">Redaktion</a> {links}</div></header>'
        )

        assert ["CSP", "Photovoltaik"] == shown(
            f'<article class="postSingle hentry">{header}{STORY}</article>'
        )

    def test_tag_links_above_the_headline_in_the_storys_header_are_its_sections(self) -> None:
        """`rel=tag` links in a kicker over the headline name the story's sections, not its tags."""
        header = (
            '<header class="article-header"><ul class="article-slug">'
            '<li><a href="/nation-world/" rel="tag">Nation &amp; World</a></li>'
            '<li><a href="/seattle-news/health/" rel="tag">Health</a></li></ul>'
            '<h1 class="article-title">Headline</h1></header>'
        )

        assert [] == shown(f'<article class="post-1 hentry">{header}{STORY}</article>')

    def test_a_box_of_the_sites_top_topics_is_no_tag_box(self) -> None:
        """A box classed as the site's top topics ("view-live-box-top-themen") lists other stories."""
        rows = "".join(
            f'<div class="views-row"><a href="/themen/{n}">{t}</a></div>'
            for n, t in enumerate(("Dankbar trotz ungewisser Zukunft", "Nachfolge"))
        )
        box = f'<div class="view view-live-box-top-themen teaser-block">{rows}</div>'

        assert [] == shown(f"<article><h1>Headline</h1>{STORY}</article>{box}")

    def test_a_box_named_for_themes_stays_a_tag_box(self) -> None:
        """A box classed "article-themen" (no "top") is still the story's tag box."""
        box = (
            '<div class="article-themen"><a href="/themen/ethik">Ethik</a>'
            '<a href="/themen/medien">Medien</a></div>'
        )

        assert ["Ethik", "Medien"] == shown(f"<article><h1>Headline</h1>{STORY}{box}</article>")

    def test_a_tree_of_topic_pages_is_a_menu(self) -> None:
        """Lists of topic links nested in a list's items are a navigation tree of the site's sections."""
        leaves = "".join(
            f'<li class="leaf"><a href="/themen/ethik/{t.lower()}">{t}</a></li>'
            for t in ("Sexualethik", "Sozialethik")
        )
        tree = (
            '<div class="pane-content"><ul><li class="expanded"><a href="/themen/ethik">Ethik</a>'
            f'<ul>{leaves}</ul></li><li><a href="/themen/medien">Medien</a></li></ul></div>'
        )

        assert [] == shown(f"<div><h1>Headline</h1>{STORY}</div>{tree}")

    def test_a_flat_list_of_topic_pages_is_a_tag_list(self) -> None:
        """The same topic links in one flat list are the story's tags."""
        items = "".join(
            f'<li><a href="/themen/ethik/{t.lower()}">{t}</a></li>' for t in ("Sexualethik", "Sozialethik")
        )

        assert ["Sexualethik", "Sozialethik"] == shown(f"<div><h1>Headline</h1>{STORY}<ul>{items}</ul></div>")

    def test_a_term_label_heads_every_description_after_it(self) -> None:
        """In a `<dl>`, "Tags:" in a `<dt>` heads each `<dd>` up to the next `<dt>`, not past it."""
        tags = "".join(f'<dd><a href="/search.html?q={t}">{t}</a>, </dd>' for t in ("app", "Tinder", "Pope"))
        dl = (
            f'<div class="postLinks"><dl><dt><b>Tags:</b></dt>{tags}'
            '<dt>Autor:</dt><dd><a href="/search.html?q=meier">Meier</a></dd></dl></div>'
        )

        assert ["app", "Tinder", "Pope"] == shown(f"<article><h1>Headline</h1>{STORY}{dl}</article>")

    def test_a_tag_line_in_a_content_columns_header_is_shown(self) -> None:
        """ "Filed Under:" in a `column-header` beside the date: the story column's header, not the site's."""
        box = (
            '<section class="page-column" id="article-entry-date-and-tags"><div class="column-header">'
            '<time class="post-date">September 16, 2020 at 4:59 pm</time><div class="column-header-metadata">'
            '<strong>Filed Under:</strong><span><a href="/tag/acm-awards/">ACM Awards</a></span></div></div>'
            "</section>"
        )

        assert ["ACM Awards"] == shown(f"<h1>55th ACM Awards Winners List</h1>{box}<div>{STORY}</div>")

    def test_tag_links_in_a_page_header_are_site_chrome(self) -> None:
        """A `page-header` is the site's own, whatever tag pages it links."""
        header = (
            '<div class="page-header"><div class="column"><a href="/tag/acm-awards/">ACM Awards</a></div>'
        )

        assert [] == shown(f"{header}</div><h1>Headline</h1><div>{STORY}</div>")

    def test_teaser_cards_terms_are_not_the_storys_tags(self) -> None:
        """A small card with a term link, a date and a linked headline of another story files that story."""
        cards = "".join(
            f'<div class="content-view-block-item mini-metadata"><div class="category">'
            f'<span class="fa fa-tag"></span><a href="/tags/view/Rubriques/{t}">{t}</a></div>'
            f'<div class="date">mardi 17 mars</div><h2 class="att-title">'
            f'<a href="/Toutes-les-rubriques/{t}/Story-{n}">Another story number {n}</a></h2>'
            "</div>"
            for n, t in enumerate(("Sport", "Finances", "Politique"))
        )

        assert [] == shown(
            f"<h1>Headline</h1><div>{STORY}</div><div class='region region-right'>{cards}</div>"
        )

    def test_a_tag_box_beside_an_author_box_is_shown(self) -> None:
        """The story's marked tag box beside a short author box (its name a linked heading) is no card."""
        tags = "".join(
            f'<li><a href="/tag/{t.lower()}/" rel="tag">{t}</a></li>' for t in ("Politics", "Top Wire")
        )
        footer = (
            f'<div class="footer-meta"><div class="tags"><ul><li>Tags: </li>{tags}</ul></div>'
            '<div class="about-the-author"><h3 class="author"><a href="/author/cnn/">CNN.com</a></h3>'
            "</div></div>"
        )

        assert ["Politics", "Top Wire"] == shown(f"<article><h1>Headline</h1>{STORY}{footer}</article>")

    def test_an_icons_title_is_no_part_of_a_tag(self) -> None:
        """An inline SVG icon in a tag link names the icon in its `<title>` ("Pijltje rechts")."""
        icon = (
            '<i class="svg-icon"><svg viewBox="0 0 24 24"><title lang="nl">Pijltje rechts</title></svg></i>'
        )
        box = (
            '<div class="article-tags"><h4 class="title">Lees meer over:</h4><div class="tags">'
            f'<a href="/tag/Formule%201"><span>Formule 1</span>{icon}</a>'
            f'<a href="/tag/Max%20Verstappen"><span>Max Verstappen</span>{icon}</a></div></div>'
        )

        assert ["Formule 1", "Max Verstappen"] == shown(f"<h1>Headline</h1><div>{STORY}</div>{box}")

    def test_a_tag_box_beside_a_heading_of_its_own_is_shown(self) -> None:
        """A linked heading that is the tag itself, or links the story's own page, makes no card."""
        own = f'<div class="meta"><h2><a href="{URL}">Headline</a></h2><p class="tags">'
        series = (
            '<div class="head"><h3 class="bar"><a href="/topic/12/talking-tech/">Talking Tech</a></h3></div>'
        )

        assert ["Brexit"] == shown(f'{own}<a href="/tag/x">Brexit</a></p></div><div>{STORY}</div>')
        assert ["Talking Tech"] == shown(f"<h1>Headline</h1>{series}<div>{STORY}</div>")

    def test_a_topics_list_named_as_a_menu_is_the_sites_menu(self) -> None:
        """A "topics-list" whose id names a menu ("app-bar-topics-menu") lists the site's sections."""
        menu = (
            '<ul class="list-unstyled topics-list" id="app-bar-topics-menu">'
            '<li><a href="/news/">News</a></li><li><a href="/sports/">Sports</a></li></ul>'
        )

        assert [] == shown(f"<div>{menu}</div><h1>Headline</h1><div>{STORY}</div>")
        # Without the menu's name the list is a tag box.
        plain = menu.replace(' id="app-bar-topics-menu"', "")
        assert ["News", "Sports"] == shown(f"<div>{plain}</div><h1>Headline</h1><div>{STORY}</div>")

    def test_a_tag_box_over_the_headline_in_the_storys_header_is_its_sections(self) -> None:
        """Section links styled as tags ("Howard County", "Maryland") over the headline are a kicker."""
        kicker = (
            '<ul class="tag-list-wrapper"><li><a href="/maryland/howard/">Howard County</a></li>'
            '<li><a href="/maryland/">Maryland</a></li></ul>'
        )

        assert [] == shown(f"<article><header>{kicker}<h1>Headline</h1></header>{STORY}</article>")
        # Under the headline, or linking tag pages, they are tags.
        assert ["Howard County", "Maryland"] == shown(
            f"<article><header><h1>Headline</h1>{kicker}</header>{STORY}</article>"
        )
        tagged = kicker.replace('href="/maryland/', 'href="/tag/maryland/')
        assert ["Howard County", "Maryland"] == shown(
            f"<article><header>{tagged}<h1>Headline</h1></header>{STORY}</article>"
        )

    def test_a_cards_terms_beside_a_headline_link_outside_a_heading_are_no_tags(self) -> None:
        """A list item's term box beside a long linked headline (not in a heading) files its story."""
        cards = "".join(
            f'<li class="card"><ul class="tag-list-wrapper"><li><a href="/{t.lower()}/">{t}</a></li></ul>'
            f'<div class="recommender"><a href="/{t.lower()}/story-{n}">'
            f"Another story number {n} about {t}</a></div></li>"
            for n, t in enumerate(("Crime", "Politics"))
        )

        assert [] == shown(f"<h1>Headline</h1><div>{STORY}</div><ul>{cards}</ul>")
        # A short link beside the terms ("Read more") is no headline.
        short = cards.replace("Another story number 0 about Crime", "More").replace(
            "Another story number 1 about Politics", "More"
        )
        assert ["Crime", "Politics"] == shown(f"<h1>Headline</h1><div>{STORY}</div><ul>{short}</ul>")

    def test_a_camel_case_tags_list_is_a_tag_box(self) -> None:
        """A "tagsList" names a tag box as "tag-list" does; its hidden items are not shown."""
        box = (
            '<ul class="GFWK_tagsList">'
            '<li class="tag"><a href="/edition-la-plaine">Edition La Plaine</a></li>'
            '<li class="tag hidden"><a href="/edition-la-plaine/frain">Frain</a></li></ul>'
        )

        assert ["Edition La Plaine"] == shown(f"<article><h1>Headline</h1>{STORY}{box}</article>")
        # In a menu's class the same word marks no box.
        menu = box.replace("GFWK_tagsList", "menu-tagsList")
        assert [] == shown(f"<article><h1>Headline</h1>{STORY}{menu}</article>")

    def test_the_pages_body_classes_make_no_tag_box_site_chrome(self) -> None:
        """A theme's `<body>` classes ("header-desktop-sticky") name its layout, no header around the box."""
        box = '<p class="post-tags"><span>Schlagwörter:</span> <a href="/tag/mdr" rel="tag">MDR</a></p>'
        page = (
            '<!doctype html><html><head></head><body class="single header-desktop-sticky">'
            f'<div id="page"><article><h1>Headline</h1>{STORY}</article>{box}</div></body></html>'
        )

        assert ["MDR"] == visible_tags(load_html(page), URL)
        # A block of the page classed as its header is the site's chrome all the same.
        assert [] == shown(f'<div class="site-header">{box}</div><article><h1>Headline</h1>{STORY}</article>')

    def test_a_navigation_drawer_around_the_main_content_is_no_navigation(self) -> None:
        """A wrapper classed as a nav drawer's panel holds `<main>`: the tag links in the story stay tags."""
        line = (
            '<div class="mt-5">In this article: <a href="/tag/Amazon">Amazon</a>, '
            '<a href="/tag/gear">gear</a></div>'
        )
        page = f"<main><article><h1>Headline</h1>{STORY}{line}</article></main>"
        drawer = '<nav class="global-nav"><a href="/tag/gear">Gear</a><a href="/tag/games">Games</a></nav>'

        assert ["Amazon", "gear"] == shown(f'{drawer}<div class="i-nav_drawer_slide__panel">{page}</div>')
        # The site's navigation itself, outside `<main>`, is no tag list.
        assert [] == shown(
            f'<div class="i-nav_drawer_slide__panel">{drawer}<main><h1>Headline</h1>{STORY}</main></div>'
        )

    def test_a_label_opening_a_run_of_links_labels_that_run(self) -> None:
        """ "Tags: <a>…</a>, <a>…</a>" in one element is the list; a button after it is no tag."""
        footer = (
            '<footer class="entry-footer"><p class="entry-meta">'
            '<span>Tags: <a href="/tag/ki" rel="tag">KI</a>, '
            '<a href="/tag/tesla" rel="tag">Tesla</a></span></p>'
            '<div class="one-half cart"><a class="button" href="/marktplatz">Marktplatz</a></div></footer>'
        )

        assert ["KI", "Tesla"] == shown(f"<article><h1>Headline</h1>{STORY}{footer}</article>")

    def test_the_posts_terms_in_a_sidebar_widget_are_its_tags(self) -> None:
        """A sidebar widget printing "Etiquetas:" and `rel="tag"` links shows the post's own tags."""
        widget = (
            '<aside id="sidebar"><aside class="widget widget_text"><div class="textwidget"><div>'
            'Etiquetas: <a href="/tag/federico-achaval/" rel="tag">Federico Achával</a>, '
            '<a href="/tag/pilar/" rel="tag">Pilar</a></div></div></aside></aside>'
        )

        assert ["Federico Achával", "Pilar"] == shown(
            f"<main><article><h1>Headline</h1>{STORY}</article></main>{widget}"
        )
        # The site's tag cloud there links the same tag pages without the mark.
        cloud = widget.replace(' rel="tag"', ' class="tag-cloud-link"')
        assert [] == shown(f"<main><article><h1>Headline</h1>{STORY}</article></main>{cloud}")

    def test_tag_lists_in_main_win_over_the_sites_link_directory(self) -> None:
        """A "Tematy" column of the site's link directory outside `<main>` is no tag list of the story."""
        own = (
            '<div id="tags" class="tags"><span class="tags-label">Więcej na ten temat:</span>'
            '<a href="/trojmiasto/1,17471327,Gdansk.html">gdańsk</a>, '
            '<a href="0,114012.html?tag=grupa+lotos">grupa lotos</a></div>'
        )
        directory = (
            '<div class="karaluch"><section><header><span>Magazyn Kuchnia</span></header><ul>'
            '<li><a href="/kuchnia/1,1,Martini.html">Martini</a></li></ul></section>'
            "<section><header><span>Tematy</span></header><ul>"
            '<li><a href="/7,25547627,hashimoto.html">Hashimoto</a></li>'
            '<li><a href="/0,114012.html?tag=policja">Policja</a></li></ul></section></div>'
        )

        assert ["gdańsk", "grupa lotos"] == shown(
            f"<main><article><h1>Headline</h1>{STORY}</article>{own}</main>{directory}"
        )
        # Without a tag list in `<main>`, a labelled list outside it still counts.
        assert ["Hashimoto", "Policja"] == shown(
            f"<main><article><h1>Headline</h1>{STORY}</article></main>{directory}"
        )

    def test_a_box_labelled_otherwise_beside_the_tag_box_is_no_tag_box(self) -> None:
        """Beside a box labelled "Tagi:", one labelled "Raporty:" in the same markup lists a dossier."""

        def box(label: str, links: str, extra: str = "") -> str:
            return (
                f'<div class="article-elements__tags-content{extra}"><div class="article-elements--tags">'
                f'<span class="tags-title">{label}</span><div class="article-tags">{links}</div></div></div>'
            )

        tags = box(
            "Tagi:",
            '<div class="link"><a href="/tagi/chile">Chile</a></div>'
            '<div class="link"><a href="/tagi/swiat">Koronawirus na świecie</a></div>',
        )
        report = box(
            "Raporty:",
            '<div class="link"><a href="/raporty/koronawirus-3226255">'
            "Koronawirus - najważniejsze informacje</a></div>",
            " article-elements__tags-content--report",
        )

        assert ["Chile", "Koronawirus na świecie"] == shown(
            f"<article><h1>Headline</h1>{STORY}{tags}{report}</article>"
        )
        # Alone, the box is the story's list of topics.
        assert ["Koronawirus - najważniejsze informacje"] == shown(
            f"<article><h1>Headline</h1>{STORY}{report}</article>"
        )


def stated(meta: dict[str, str], title: str = "Headline", site_names: tuple[str, ...] = ()) -> list[str]:
    """Return the structured tags of a page with these `<meta name=…>` and this `<title>`."""
    head = "".join(f'<meta name="{k}" content="{v}">' for k, v in meta.items())
    tree = load_html(
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{STORY}</body></html>"
    )
    data = read_page(tree, URL)
    return topics.structured_tags(data, topics._headlines(tree, data, site_names))


class TestStructuredTags:
    def test_codes_are_no_tags(self) -> None:
        """Tracker and CMS codes ("cat_neurology", "ivw:homepage", "ISIN_US3453708600") are dropped."""
        meta = {
            "sailthru.tags": "cat_biology-biochemistry,k1_otherbraindisorders,ivw:homepage,ISIN_US3453708600"
        }

        assert [] == stated(meta)

    def test_terms_with_a_tag_label_or_spaces_are_kept(self) -> None:
        """ "tag:Crime" is a labelled term and "Covid 19" a term: neither is a code."""
        assert ["tag:Crime", "Covid 19", "e-mobility"] == stated(
            {"keywords": "type:story,tag:Crime,Covid 19,e-mobility"}
        )

    def test_a_description_cut_short_is_no_keyword_list(self) -> None:
        """Keywords ending in "..." are a description split at its commas."""
        meta = {"keywords": "BANGKOK: Ein TikTok-Video, in dem behauptet wird, dass ein Bote fliegt, ..."}

        assert [] == stated(meta)

    def test_keywords_ending_in_a_term_are_kept(self) -> None:
        """A list whose last term has no ellipsis stays."""
        assert ["Bangkok", "TikTok", "Yahoo!"] == stated({"keywords": "Bangkok, TikTok, Yahoo!"})

    def test_a_list_of_facets_is_no_tag_list(self) -> None:
        """ "Key: Value" facets ("Day: Wednesday", "Textart: Heftarchiv") record the page, not its topics."""
        assert [] == stated({"keywords": "Day: Wednesday, Page Type: Article, WC: 2000-2999, Long"})
        assert [] == stated({"keywords": "Textart: Heftarchiv"})

    def test_one_titled_term_among_tags_is_kept(self) -> None:
        """A single "Brexit: Deal" among terms, and labels like "Category: Review", are no facet list."""
        assert ["Brexit: Deal", "EU", "London"] == stated({"keywords": "Brexit: Deal, EU, London"})
        assert ["Category: Review", "Strategy"] == stated({"keywords": "Category: Review, Strategy"})

    def test_the_headline_is_no_keyword(self) -> None:
        """A keyword repeating the headline (`og:title`, `<title>`) is dropped, the others stay."""
        title = "Precision Farming: Moderne Sensortechnik im Kuhstall"
        meta = {"og:title": title, "keywords": f"«{title}», Kühe"}

        assert ["Kühe"] == stated(meta, title=title)

    def test_a_short_title_can_be_a_tag(self) -> None:
        """A portrait titled "Will Smith" may be tagged "Will Smith"."""
        assert ["Will Smith", "Sohn"] == stated({"keywords": "Will Smith, Sohn"}, title="Will Smith")

    def test_the_sites_service_keywords_are_no_tags(self) -> None:
        """A plain keywords list naming the site's services ("Nachrichten", "Wetter") is its own."""
        assert [] == stated({"keywords": "Recht, Gesetz, Nachrichten, News"})
        assert [] == stated({"keywords": "Hotels, Südtirol, Chat, Forum, Wetter"})
        assert [] == stated({"keywords": "togo, news, actualites"})

    def test_one_service_word_or_article_tags_are_kept(self) -> None:
        """One such word is no site list, and `article:tag` states the story's own terms."""
        assert ["Recht", "News"] == stated({"keywords": "Recht, News"})
        assert ["Video", "News"] == stated({"article:tag": "Video, News"})

    def test_the_headline_cut_into_words_is_no_keyword_list(self) -> None:
        """Keywords that are the headline's words in order, one each, are the headline, not terms."""
        title = "Samsun’da sobadan zehirlenen 2 çocuk hastanelik oldu"
        meta = {"og:title": title, "keywords": "Samsun’da, sobadan, zehirlenen, 2, çocuk, hastanelik, oldu"}
        french = "Angleterre: Manchester United rate la marche, Arsenal revit"
        skipping = {
            "og:title": french,
            "keywords": "Angleterre:, Manchester, United, rate, marche, Arsenal, revit",
        }

        assert [] == stated(meta, title=f"{title} - Son Dakika Haberler")
        assert [] == stated(skipping, title=french)

    def test_single_words_of_the_headline_can_be_terms(self) -> None:
        """Terms that are words of the headline in another order, with gaps or at its commas stay."""
        assert ["Brexit", "EU", "Johnson"] == stated(
            {"keywords": "Brexit, EU, Johnson"}, title="Johnson's Brexit deal passes EU vote"
        )
        assert ["Merkel", "Macron", "Paris"] == stated(
            {"keywords": "Merkel, Macron, Paris"}, title="Merkel trifft Macron in Paris"
        )
        assert ["Apple", "Google", "Microsoft"] == stated(
            {"keywords": "Apple, Google, Microsoft"}, title="Apple, Google, Microsoft face EU fine"
        )

    def test_a_sentence_is_no_keyword(self) -> None:
        """A keyword of many words ending in a full stop is a description."""
        meta = {"article:tag": "Se realizarán de manera online desde el 3 al 5 de septiembre."}

        assert [] == stated(meta)

    def test_terms_ending_in_an_abbreviation_are_kept(self) -> None:
        """ "U.S.", "Washington D.C." and a company's "Co." end in no sentence."""
        meta = {"keywords": "Procter & Gamble Holding Co., Washington D.C., U.S., Elections."}

        assert ["Procter & Gamble Holding Co.", "Washington D.C.", "U.S.", "Elections."] == stated(meta)

    def test_the_headline_with_the_sites_name_is_no_keyword(self) -> None:
        """Declared titles carry the site's name ("… | NZZ"): the keyword repeating the headline goes."""
        title = "Neue US-Sanktionen erschüttern die syrische Wirtschaft"
        meta = {"og:title": f"{title} | NZZ", "news_keywords": f"{title},Syrien, Sanktionen"}

        assert ["Syrien", "Sanktionen"] == stated(meta, title=f"{title} | NZZ", site_names=("NZZ",))
        # Without the site's name known, the title is kept whole and the keyword stays.
        assert [title, "Syrien", "Sanktionen"] == stated(meta, title=f"{title} | NZZ")

    def test_a_phrase_of_many_words_is_no_keyword(self) -> None:
        """A headline's slug without its small words is a phrase; terms of up to eight words stay."""
        slug = "Man Utd ace Dean Henderson morally right finish season Sheff Utd Wilder"
        meta = {"news_keywords": f"{slug}, Premier League, International Union for Conservation of Nature"}

        assert ["Premier League", "International Union for Conservation of Nature"] == stated(meta)

    def test_the_headlines_words_with_gaps_are_no_keyword_list(self) -> None:
        """Keywords that are the headline's longer words, in order, mostly in lower case, are the headline."""
        title = "Il brise le couvre-feu et est surpris au volant à 23h30 à Mellet: «Je me fiche pas mal!»"
        meta = {"keywords": "brise, couvre-feu, surpris, volant, 23h30, Mellet, fiche, mal!»"}
        english = "People who are scared of Corona call and say so"

        assert [] == stated(meta, title=title)
        assert [] == stated({"keywords": "People,Corona,call"}, title=english)

    def test_names_of_the_headline_in_its_order_are_terms(self) -> None:
        """Names a headline gives in order, with at most half its common words, are the story's terms."""
        title = "Turkey, Poland, Caribbean islands added to UK quarantine list"
        meta = {"keywords": "Turkey, Poland, Caribbean, Quarantine, Coronavirus"}

        assert ["Turkey", "Poland", "Caribbean", "Quarantine", "Coronavirus"] == stated(meta, title=title)

    def test_keywords_after_the_headlines_words_are_the_sites(self) -> None:
        """When the page's news keywords are its headline's words, the plain keywords are the site's."""
        title = "En ruta 36 activan protocolo de emergencia en un colectivo de la línea Oeste"
        meta = {
            "news_keywords": "activan, protocolo, emergencia, colectivo, línea, oeste",
            "keywords": "la plata, noticias de la plata",
        }

        assert [] == stated(meta, title=title)
        assert ["la plata", "noticias de la plata"] == stated({"keywords": meta["keywords"]}, title=title)

    def test_french_service_words_are_the_sites_keywords(self) -> None:
        """ "info", "nouvelles", "actualité", "vidéo" name a French site's services."""
        meta = {"keywords": "Radio-Canada, info, information, nouvelles, actualité, vidéo, Québec"}

        assert [] == stated(meta)
        assert [] == stated({"keywords": "Québec, nouvelles, météo"})

    def test_radio_and_television_are_topics(self) -> None:
        """A story about broadcasting may be tagged "radio" and "télévision"."""
        assert ["radio", "télévision", "CRTC"] == stated({"keywords": "radio, télévision, CRTC"})

    def test_the_pages_slug_is_no_keyword(self) -> None:
        """A keyword of many words joined by hyphens is the page's slug; hyphenated terms stay."""
        slug = "us-state-department-blocks-lawsuit-by-american-imprisoned-tortured-in-egypt"
        meta = {"keywords": f"{slug}, Baden-Württemberg"}

        assert ["Baden-Württemberg"] == stated(meta)

    def test_a_list_of_slashed_facets_is_no_tag_list(self) -> None:
        """ "Type/Article", "Length/medium" record the page; "AC/DC" and "TCP/IP" are names."""
        assert [] == stated({"keywords": "Length/medium, Source/Washington Post, Type/Article, Topic/news"})
        assert ["AC/DC", "TCP/IP", "Rock"] == stated({"keywords": "AC/DC, TCP/IP, Rock"})

    def test_an_entity_taggers_types_are_no_tags(self) -> None:
        """ "PERSON" alone and glued to names ("PERSON Ada Limon AUTHOR") is a tagger's type, not a term."""
        meta = {
            "news_keywords": "Ada Limon, PERSON, Alice Quinn, PERSON Joshua Bennett, Alice Quinn NEWSMAKER, "
            "PERSON Ada Limon AUTHOR, NEW YORK, AP"
        }

        assert ["Ada Limon", "Alice Quinn", "NEW YORK", "AP"] == stated(meta)

    def test_names_in_capitals_heading_terms_are_kept(self) -> None:
        """Acronyms ("UEFA") and a name in capitals heading one term ("UNICEF Deutschland") are terms."""
        meta = {"keywords": "UEFA, UEFA Champions League, UEFA Europa League, Champions League"}
        unicef = {"keywords": "UNICEF, UNICEF Deutschland, Kinderrechte"}

        assert ["UEFA", "UEFA Champions League", "UEFA Europa League", "Champions League"] == stated(meta)
        assert ["UNICEF", "UNICEF Deutschland", "Kinderrechte"] == stated(unicef)

    def test_more_keywords_than_an_article_shows_tags_are_no_tag_list(self) -> None:
        """More than twenty keywords (a syndication record, an entity extractor's) are no tag list."""
        towns = [f"AR_Town{i} - town{i}-news.com" for i in range(25)]
        names = [f"Name {i}" for i in range(21)]

        assert [] == stated({"news_keywords": ", ".join(["[SYNDICATED CONTENT]", *towns])})
        assert [] == stated({"news_keywords": ", ".join(names)})
        assert names[:20] == stated({"news_keywords": ", ".join(names[:20])})

    def test_codes_and_facets_making_half_the_list_are_a_cms_record(self) -> None:
        """ "article_normal", "Investing/Securities" and a "FIRST_PUBLISH_HEADLINE" code record the page."""
        meta = {
            "news_keywords": "article_normal,Investing/Securities,Debt/Bond Markets,"
            "Commodity/Financial Market News,"
            "Government Debt/Bond Markets,Columns,Government Borrowing,Government Finance,"
            "FIRST_PUBLISH_HEADLINE|U.S. Treasury yields slide as hectic auction week gets underway"
        }

        assert [] == stated(meta)
        # One code among terms is dropped alone.
        assert ["Columns", "Government Borrowing", "Government Finance"] == stated(
            {"news_keywords": "article_normal,Columns,Government Borrowing,Government Finance"}
        )

    def test_a_list_mostly_of_phrases_is_a_list_of_searches(self) -> None:
        """Keywords mostly of four words or more ("banco central de nicaragua informa…") are searches."""
        meta = {
            "keywords": "deuda externa de nicaragua en 2021, "
            "banco central de nicaragua informa de deuda externa, "
            "deuda externa sector privado en nicaragua, producto interno bruto nicaragua"
        }

        assert [] == stated(meta)
        assert ["Ciudad del Saber", "Fundación Ciudad del Saber", "Ivette Mora"] == stated(
            {"keywords": "Ciudad del Saber, Fundación Ciudad del Saber, Ivette Mora"}
        )


class TestMarkWords:
    """The quick test of `_mark_of` must let every class a tag box or chrome pattern matches through."""

    @given(st.from_regex(topics._TAG_BOX_RE, fullmatch=True).filter(str.isascii))
    def test_box_tokens(self, token: str) -> None:
        """Every token naming a tag box holds one of the words."""
        assert topics._MARK_WORD_RE.search(token.lower())

    @given(st.from_regex(topics._CHROME_RE).filter(str.isascii))
    def test_chrome_marks(self, marks: str) -> None:
        """Every class and id naming chrome holds one of the words."""
        assert topics._MARK_WORD_RE.search(marks.lower())


class TestTagBoxesAndKeywordRecords:
    def test_a_box_named_for_its_tag_items_is_a_tag_box(self) -> None:
        """`<div class="article__tag">` holds the story's terms, a place page's link among them."""
        box = (
            '<div class="article__tag">'
            '<a href="/places/podmoskove-moskovskaya-oblast/" class="article__tag-item">'
            "Подмосковье - Московская область</a>"
            '<a href="/tags/sud/" class="article__tag-item">Суд</a></div>'
        )

        assert ["Подмосковье - Московская область", "Суд"] == shown(
            f"<article><h1>Headline</h1>{STORY}{box}</article>"
        )

    def test_the_collections_a_story_is_filed_in_are_its_tags(self) -> None:
        """A `related-collection` list after the story links to its topic pages, not to other stories."""
        box = (
            '<section class="related-collection"><ul><li><a href="/carros/ultimas/index.htm">Carros</a></li>'
            '<li><a href="/carros/roda-presa/index.htm">Roda presa</a></li></ul></section>'
        )
        related = (
            '<section class="related-stories"><ul><li><a href="/carros/ultimas/index.htm">Carros</a></li>'
            '<li><a href="/carros/roda-presa/index.htm">Roda presa</a></li></ul></section>'
        )

        assert ["Carros", "Roda presa"] == shown(f"<article><h1>Headline</h1>{STORY}</article>{box}")
        assert [] == shown(f"<article><h1>Headline</h1>{STORY}</article>{related}")

    def test_one_items_pill_is_no_tag_box(self) -> None:
        """Near miss: a pill classed for one item ("video-tag", "v-tag") marks no box of the story's tags."""
        pills = (
            '<span class="video-tag"><a href="/videos/">Video</a></span>'
            '<div class="v-tag"><a href="/news">News</a></div>'
        )

        assert [] == shown(f"<article><h1>Headline</h1>{pills}{STORY}</article>")

    def test_a_wrapper_classed_for_one_term_is_no_tag_box(self) -> None:
        """WordPress's `tag-coronavirus` names one term of a post: its other links are no tags."""
        post = (
            f'<div class="post tag-coronavirus"><h1>Headline</h1>{STORY}<a href="/about/">About us</a></div>'
        )

        assert [] == shown(post)

    def test_a_list_of_more_from_the_site_is_no_tag_list(self) -> None:
        """Topic pages under "more from times of india cities" are the site's, not the story's."""
        more = (
            '<div class="_2Zlqw"><div class="_3BRxj">more from times of india cities</div>'
            '<div class="_2R96D"><a href="/city/delhi">Delhi news today</a>'
            '<a href="/topic/mumbai-rain">Mumbai Rains</a>'
            '<a href="/topic/bangalore-rains">Bangalore Rains</a>'
            "</div></div>"
        )
        tags = '<div class="_2R96E"><a href="/topic/odisha">Odisha</a></div>'

        assert [] == shown(f"<div><h1>Headline</h1>{STORY}</div>{more}")
        assert ["Odisha"] == shown(f"<div><h1>Headline</h1>{STORY}</div>{tags}")

    def test_topic_links_in_a_divs_running_text_are_references(self) -> None:
        """A story's text in a `<div>` parted by `<br>`: its topic links are in sentences, no tags."""
        body = (
            '<div class="_3WlLe">BHUBANESWAR: A 72-year-old man who had tested positive for '
            '<a href="/topic/Covid-19">Covid-19</a> died on Monday, the health department said on Tuesday.'
            '<br/>He had been admitted to <a href="/topic/AIIMS-Bhubaneswar">AIIMS Bhubaneswar</a> '
            "on 4th April with complaint of respiratory distress.</div>"
        )

        assert [] == shown(f"<div><h1>Headline</h1>{body}{STORY}</div>")

    def test_a_divs_run_of_topic_links_stays_a_tag_list(self) -> None:
        """Near miss: a `<div>` holding only its links and commas is a list, not a sentence."""
        line = '<div>Tags: <a href="/topic/odisha">Odisha</a>, <a href="/topic/covid-19">Covid-19</a></div>'

        assert ["Odisha", "Covid-19"] == shown(f"<div><h1>Headline</h1>{STORY}{line}</div>")

    def test_placements_services_and_a_feed_code_are_the_cms_record(self) -> None:
        """ "News, Happening Now, Top Stories, …, TH_Times_Herald-Record - example.com" record the page."""
        meta = {
            "keywords": "News, Happening Now, Top Stories, Coronavirus, "
            "TH_Times_Herald-Record - recordonline.com"
        }

        assert [] == stated(meta)

    def test_a_list_with_one_placement_keeps_its_terms(self) -> None:
        """Near miss: "News" and "Top Stories" beside as many terms leave the terms a list."""
        assert ["News", "Top Stories", "Coronavirus", "Rockland"] == stated(
            {"keywords": "News, Top Stories, Coronavirus, Rockland"}
        )

    def test_a_list_mostly_of_news_searches_is_seo(self) -> None:
        """ "Bhubaneswar news, Bhubaneswar latest news, …" are search phrases, not the story's terms."""
        meta = {
            "keywords": "Bhubaneswar news, Bhubaneswar latest news, Bhubaneswar news live, "
            "Bhubaneswar news today, Today news Bhubaneswar, covid-19 death, covid-19, AIIMS Bhubaneswar"
        }

        assert [] == stated(meta)

    def test_words_run_together_with_a_number_are_an_editors_label(self) -> None:
        """ "ResumenFechaAbril2022" is an editors' label; "Euro2020" and "BlackLivesMatter" are terms."""
        assert [] == stated({"keywords": "ResumenFechaAbril2022"})
        assert ["Euro2020", "BlackLivesMatter"] == stated({"keywords": "Euro2020, BlackLivesMatter"})
