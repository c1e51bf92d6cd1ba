"""Tests of the headline rules: a site-wide `og:title`, a title element named in camel case."""

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
