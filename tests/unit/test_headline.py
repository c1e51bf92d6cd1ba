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
        """Near miss: `id="Entitle"` is one word, not a title's element; the declared title stands."""
        body = (
            '<div id="header"><h1>上報 Up Media</h1></div>'
            '<h2 id="Entitle">稱「憂鬱症是不知足」挨轟　吳宗憲：鼓勵患者別只往負面想</h2>'
            f"{STORY}"
        )

        assert (title(self.HEAD, body) or "").endswith("--上報")
