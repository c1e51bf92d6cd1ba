"""Tests of the headline rules: declared titles checked against the headings a page shows."""

from __future__ import annotations

from worker.process.clean.headline import resolve_title
from worker.process.clean.html import load_html
from worker.process.clean.structured import read_page

URL = "https://news.example/index.php/futbol/88286-alajuelense-se-distancia"
STORY = "".join(f"<p>Paragraph {n} of the story, long enough to read as text.</p>" for n in range(3))


def title(head: str, body: str, url: str = URL) -> str | None:
    """Return the headline of a page with this `<head>` and `<body>`."""
    tree = load_html(f"<!doctype html><html><head>{head}</head><body>{body}</body></html>")
    return resolve_title(tree, read_page(tree, url), url)


class TestSiteWideOpenGraph:
    HEAD = (
        '<meta property="og:title" content="Everardo Herrera, lo mejor del fútbol de Costa Rica">'
        "<title>Alajuelense se distancia en el liderato </title>"
    )
    BODY = (
        '<h1 id="logo"><img src="/logo.png" alt=""></h1>'
        f"<article><h2>Alajuelense se distancia en el liderato</h2>{STORY}</article>"
    )

    def test_og_title_of_the_home_page_is_not_the_articles(self) -> None:
        """An `og:url` naming the site's root on an article's URL: its `og:title` is the site's."""
        head = f'{self.HEAD}<meta property="og:url" content="https://news.example/">'

        assert "Alajuelense se distancia en el liderato" == title(head, self.BODY)

    def test_og_title_of_the_page_itself_is_kept(self) -> None:
        """Near miss: an `og:url` naming the article itself vouches for its `og:title`."""
        head = f'{self.HEAD}<meta property="og:url" content="{URL}">'

        assert "Everardo Herrera, lo mejor del fútbol de Costa Rica" == title(head, self.BODY)

    def test_og_title_on_the_home_page_is_kept(self) -> None:
        """Near miss: on the site's root itself, the root's `og:title` is the page's."""
        head = f'{self.HEAD}<meta property="og:url" content="https://news.example/">'

        assert "Everardo Herrera, lo mejor del fútbol de Costa Rica" == title(
            head, self.BODY, "https://news.example/"
        )


class TestCamelCaseTitleId:
    HEAD = (
        '<meta property="og:title" content="稱「憂鬱症是不知足」挨轟　吳宗憲：鼓勵患者別只往負面想--上報">'
        "<title>稱「憂鬱症是不知足」挨轟　吳宗憲：鼓勵患者別只往負面想 -- 上報 / 焦點</title>"
    )

    def test_an_h2_with_a_camel_case_title_id_is_the_headline(self) -> None:
        """`<h2 id="ArticleTitle">` shows the headline without the site's name glued on with "--"."""
        body = (
            '<div id="header"><h1>上報 Up Media</h1></div>'
            '<h2 id="ArticleTitle">稱「憂鬱症是不知足」挨轟　吳宗憲：鼓勵患者別只往負面想</h2>'
            f"{STORY}"
        )

        assert "稱「憂鬱症是不知足」挨轟 吳宗憲：鼓勵患者別只往負面想" == " ".join(
            (title(self.HEAD, body) or "").split()
        )

    def test_a_word_merely_ending_in_title_is_no_headline_mark(self) -> None:
        """
        Near miss: `id="Entitle"` is one word, not a title's element; the declared title stands.

        (Its text holds more than the title's part, "(圖)": a heading showing exactly a part of the
        declared title is the headline whatever its id, `TestTitlePartShown`.)
        """
        body = (
            '<div id="header"><h1>上報 Up Media</h1></div>'
            '<h2 id="Entitle">稱「憂鬱症是不知足」挨轟　吳宗憲：鼓勵患者別只往負面想（圖）</h2>'
            f"{STORY}"
        )

        assert (title(self.HEAD, body) or "").endswith("--上報")


class TestTitlePartShown:
    HEAD = "<title>Die Genossenschaften im Porträt&nbsp;|&nbsp;Verband der Genossenschaften (VdG)</title>"

    def test_the_part_a_heading_shows_is_the_headline(self) -> None:
        """A title's site part in no form stated elsewhere: the part a heading shows alone is the headline."""
        body = f"<h1></h1><h2>Die Genossenschaften im Porträt</h2>{STORY}"

        assert "Die Genossenschaften im Porträt" == title(self.HEAD, body)

    def test_without_such_a_heading_the_title_is_kept(self) -> None:
        """Near miss: no heading shows a part alone, so nothing tells the headline from the site."""
        body = f"<h1></h1><h2>Die Genossenschaften im Porträt und mehr</h2>{STORY}"

        expected = "Die Genossenschaften im Porträt | Verband der Genossenschaften (VdG)"

        assert expected == title(self.HEAD, body)

    def test_a_logo_heading_naming_the_site_is_no_headline(self) -> None:
        """A logo's `<h1>` shows the site's part of the title: that part is no headline."""
        head = (
            '<meta property="og:site_name" content="Annas Notizblog">'
            "<title>Ins neue Jahr | Annas Notizblog</title>"
        )
        body = (
            '<div id="header"><h1><a href="https://notes.example/">Annas Notizblog</a></h1></div>'
            f"<div class='post'><h2>2019-01-01</h2>{STORY}</div>"
        )

        assert "Ins neue Jahr" == title(head, body, "https://notes.example/p/1")

    def test_a_heading_showing_the_whole_title_keeps_it_whole(self) -> None:
        """A column's name in its own heading elsewhere: the heading showing the whole title keeps it."""
        head = "<title>Kolumne: Queer Royal - Über Dragqueens und Dragkings auf der Bühne</title>"
        body = (
            "<h2>Kolumne: Queer Royal - Über Dragqueens und Dragkings auf der Bühne</h2>"
            f"<h3>Kolumne: Queer Royal</h3>{STORY}"
        )

        assert "Kolumne: Queer Royal - Über Dragqueens und Dragkings auf der Bühne" == title(head, body)


class TestBlogHeadings:
    """Headings of blog themes: shared header and footer styles, comments, a blog's own `h1`."""

    BLOG = "http://www.helge.at/2014/03/warum-wien/"

    def test_an_entry_header_styled_with_the_footer_is_no_chrome(self) -> None:
        """Twenty Twenty's `header-footer-group` styles the entry's header: its `h1` is the headline."""
        head = "<title>Warum Wien staufrei werden kann - Helge.at</title>"
        body = (
            '<main><article><header class="entry-header header-footer-group">'
            '<h1 class="entry-title">Warum Wien staufrei werden kann</h1></header>'
            f'{STORY}<div class="comments"><h2 class="comment-reply-title">'
            "1 reply on “Warum Wien staufrei werden kann”</h2></div></article></main>"
        )

        assert "Warum Wien staufrei werden kann" == title(head, body, self.BLOG)

    def test_a_comments_heading_quoting_the_title_is_no_headline(self) -> None:
        """Near miss: with the entry's `h1` in a real footer, the comment heading still is no headline."""
        head = "<title>Warum Wien staufrei werden kann - Helge.at</title>"
        body = (
            '<footer><h1 class="entry-title">Warum Wien staufrei werden kann</h1></footer>'
            f'{STORY}<h2 class="comment-reply-title">1 reply on “Warum Wien staufrei werden kann”</h2>'
        )

        assert "Warum Wien staufrei werden kann" == title(head, body, self.BLOG)

    def test_the_blogs_own_h1_gives_way_to_the_posts(self) -> None:
        """A blog's name in an `h1` above the post's: `og:title` names the post alone."""
        head = (
            '<meta property="og:title" content="Meta-Programming In Emacs">'
            "<title>EMACSPEAK The Complete Audio Desktop: Meta-Programming In Emacs</title>"
        )
        body = (
            '<h1 class="title">EMACSPEAK The Complete Audio Desktop</h1>'
            f'<div class="post"><h1 class="title">Meta-Programming In Emacs</h1>{STORY}</div>'
        )

        assert "Meta-Programming In Emacs" == title(head, body, "https://emacspeak.example/2019/10/meta.html")

    def test_without_a_title_or_h1_the_first_heading_outside_comments(self) -> None:
        """No `<title>`, no `h1`: the post's `h2`, not the comment form's heading."""
        body = (
            f"<div class='post'><h2>Alles Neue macht der Mai</h2>{STORY}</div>"
            '<div id="respond"><h3 id="reply-title">Write a Reply or Comment</h3></div>'
        )

        assert "Alles Neue macht der Mai" == title("", body)


class TestShownHeadline:
    """The headline as shown: kickers set apart, soft hyphens, a meta line, a reworded SEO title."""

    BAUEN = "https://www.oekologisch-bauen.info/energieeffizienz/stromcheck.html"

    def test_soft_hyphens_and_a_kicker_in_its_own_element(self) -> None:
        """`&shy;` is invisible; the `<em>` kicker is set apart by the declared title's separator."""
        head = (
            '<meta property="og:title" content="Erinnerung an die Opfer der NS-Verbrechen">'
            "<title>Bundesrat - Textarchiv - Erinnerung an die Opfer der NS-Verbrechen</title>"
        )
        body = (
            "<h1><em>Holocaust-Gedenktag </em>Er&shy;in&shy;ne&shy;rung an die Op&shy;fer der "
            f"NS-Ver&shy;bre&shy;chen</h1>{STORY}"
        )

        assert "Erinnerung an die Opfer der NS-Verbrechen" == title(head, body)

    def test_a_kicker_the_declared_title_sets_apart_before_the_headline(self) -> None:
        """`Initiative X - kurz | Site` declares the kicker in front, set apart by a dash."""
        head = "<title>Initiative EnergieEffizienz - kostenloser Stromcheck | Ökologisch Bauen</title>"
        body = (
            '<h1><span class="h1small">Initiative EnergieEffizienz</span> '
            f"Kostenloser Stromcheck für private Haushalte</h1>{STORY}"
        )

        assert "Kostenloser Stromcheck für private Haushalte" == title(head, body, self.BAUEN)

    def test_a_leading_word_declared_in_one_run_stays(self) -> None:
        """Near miss: declared without a separator after it, the first word styled apart is the headline's."""
        head = "<title>Initiative EnergieEffizienz startet kostenlosen Stromcheck | Ökologisch Bauen</title>"
        body = (
            '<h1><span class="h1small">Initiative EnergieEffizienz</span> '
            f"startet kostenlosen Stromcheck</h1>{STORY}"
        )

        assert "Initiative EnergieEffizienz startet kostenlosen Stromcheck" == title(head, body, self.BAUEN)

    def test_a_highline_is_a_kicker(self) -> None:
        """impulse-style `<span class="highline">` over the headline is left out."""
        head = "<title>Kind krank: Was Arbeitgeber wissen müssen | impulse</title>"
        body = (
            '<div class="imp-h1" itemprop="headline"><span class="highline">Kind krank</span> '
            f"Was Arbeitgeber über die Rechte von Eltern wissen müssen</div>{STORY}"
        )

        assert "Was Arbeitgeber über die Rechte von Eltern wissen müssen" == title(head, body)

    def test_the_meta_line_after_a_break_is_no_headline(self) -> None:
        """`<h1>Headline<br><small>02.02.2022 • Presse</small></h1>`: the declared headline alone."""
        head = (
            '<meta property="og:title" content="Zuschauerrückkehr bei den Proficlubs der Region">'
            "<title>Zuschauerrückkehr bei den Proficlubs der Region | HVW</title>"
        )
        body = (
            "<h1>Zuschauerrückkehr bei den Proficlubs der Region<br><small>02.02.2022 • "
            f'<span class="news-list-category">Presse</span></small></h1>{STORY}'
        )

        assert "Zuschauerrückkehr bei den Proficlubs der Region" == title(head, body)

    def test_a_lone_h1_rewording_the_seo_title_is_the_headline(self) -> None:
        """The shown `h1` shares a third of its words with the SEO title: it is the headline."""
        head = "<title>Wärmepumpe im Altbau - Wann es sich lohnt | heizung.de</title>"
        body = f"<h1>Eignet sich eine Wärmepumpe im Altbau?</h1>{STORY}"

        assert "Eignet sich eine Wärmepumpe im Altbau?" == title(
            head, body, "https://www.heizung.de/ratgeber/x.html"
        )

    def test_a_lone_h1_naming_the_site_is_not(self) -> None:
        """Near miss: an `h1` of the site's name, sharing words with the title, is no headline."""
        head = "<title>Nummer zwei: Leo | Seelenradio</title>"
        body = f"<h1>Seelenradio</h1><h2>Nummer zwei: Leo</h2>{STORY}"

        assert "Nummer zwei: Leo" == title(head, body, "http://www.seelenradio.de/nummer-zwei-leo/")
