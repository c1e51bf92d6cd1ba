"""Article pages and remote sitemaps as sources: `ingest` and `sources add` over 127.0.0.1."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.integration.httpserver import HTTPTestServer, static
from tests.integration.test_ingest_e2e import read_jsonl, summary
from tests.support.corpus import article_page
from worker import dispatch
from worker.config import Settings
from worker.fetch.client import Fetcher
from worker.models import SourceSpec
from worker.poll import sitemap as poll_sitemap
from worker.poll.result import ReadOptions
from worker.state.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urlset(urls: list[str], dates: list[str] | None = None) -> bytes:
    """Return a news sitemap of `urls`, each with its publication date when given."""
    entries = []
    for i, url in enumerate(urls):
        news = (
            f"<news:news><news:publication_date>{dates[i]}</news:publication_date></news:news>"
            if dates
            else ""
        )
        entries.append(f"<url><loc>{url}</loc>{news}</url>")
    return f'<?xml version="1.0"?><urlset {SITEMAP_NS} {NEWS_NS}>{"".join(entries)}</urlset>'.encode()


def sitemap_index(children: list[str]) -> bytes:
    """Return a sitemap index listing `children`."""
    body = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    return f'<?xml version="1.0"?><sitemapindex {SITEMAP_NS}>{body}</sitemapindex>'.encode()


def serve_articles(server: HTTPTestServer, ids: list[int]) -> list[str]:
    """Serve article pages `ids`; return their URLs."""
    for i in ids:
        server.route(f"/news/{i}.html", static(article_page(i), content_type="text/html; charset=utf-8"))
    return [server.url(f"/news/{i}.html") for i in ids]


def with_feed_link(page: bytes) -> bytes:
    """Return an article page that declares an RSS feed in its head."""
    link = b'<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
    return page.replace(b"</head>", link + b"</head>", 1)


class TestPages:
    def test_an_article_url_becomes_one_page_record(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """`ingest https://host/story.html` is one record of source kind `page`; nothing is subscribed."""
        [url] = serve_articles(http_server, [3])

        result = summary(cli("ingest", url, "--json"))
        records = read_jsonl(tmp_path / "out")
        listed = cli("sources", "list").stdout

        assert (1, 1) == (result["seen"], result["new"])
        assert [("page", url, url)] == [(r["source"]["kind"], r["source"]["url"], r["url"]) for r in records]
        assert [] == result["notes"]
        assert "" == listed

    def test_a_page_with_feed_links_names_them_and_is_still_read(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """A page declaring a feed: a `note:` line names the feed, and the page itself is the record."""
        http_server.route("/story.html", static(with_feed_link(article_page(4)), content_type="text/html"))
        url, feed = http_server.url("/story.html"), http_server.url("/rss.xml")

        proc = cli("ingest", url)
        records = read_jsonl(tmp_path / "out")

        assert 0 == proc.returncode, proc.stderr[-2000:]
        notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
        assert [
            f"note: {url} is a page; it links to feeds: {feed} (subscribe with: sources add URL)"
        ] == notes
        assert ["page"] == [r["source"]["kind"] for r in records]
        assert [] == http_server.requests_to("/rss.xml")

    def test_a_local_html_file_is_a_page_not_an_archive(self, cli, tmp_path: Path) -> None:
        """A local `.html` file is one `page` record named by its file name."""
        page = tmp_path / "story.html"
        page.write_bytes(article_page(5))

        result = summary(cli("ingest", str(page), "--json"))
        [record] = read_jsonl(tmp_path / "out")

        assert 1 == result["new"]
        assert {"kind": "page", "name": "story", "url": page.as_uri(), "title": None} == record["source"]


class TestRemoteSitemaps:
    def test_a_sitemap_url_queues_its_pages(self, cli, http_server: HTTPTestServer, tmp_path: Path) -> None:
        """`ingest https://host/sitemap.xml` fetches each page it lists: one record each."""
        urls = serve_articles(http_server, [10, 11])
        http_server.route("/sitemap.xml", static(urlset(urls), content_type="application/xml"))

        result = summary(cli("ingest", http_server.url("/sitemap.xml"), "--json"))

        assert (2, 2) == (result["seen"], result["new"])
        assert sorted(urls) == sorted(r["url"] for r in read_jsonl(tmp_path / "out"))

    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/sitemap.xml.gz", "application/octet-stream"),
            ("/news/latest", "application/gzip"),
            ("/news/latest", "application/x-gzip"),
        ],
        ids=["named-xml-gz", "application-gzip", "application-x-gzip"],
    )
    def test_a_gzipped_sitemap_is_read_as_a_sitemap(
        self, cli, http_server: HTTPTestServer, tmp_path: Path, path: str, content_type: str
    ) -> None:
        """A `.xml.gz` sitemap, or one served as gzip under any name, is gunzipped and its pages fetched."""
        urls = serve_articles(http_server, [12, 13])
        http_server.route(path, static(gzip.compress(urlset(urls)), content_type=content_type))

        result = summary(cli("ingest", http_server.url(path), "--json"))

        assert (2, 2, 0) == (result["seen"], result["new"], result["failed"])
        assert sorted(urls) == sorted(r["url"] for r in read_jsonl(tmp_path / "out"))

    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/sitemap.xml.gz", "application/gzip"),
            ("/news/latest", "application/x-gzip"),
            # Gzip bytes served as XML: gunzipped by the sitemap reader, under the same cap.
            ("/sitemap.xml", "application/xml"),
        ],
        ids=["named", "by-type", "served-as-xml"],
    )
    def test_a_gzip_bomb_is_refused_at_the_body_cap_in_one_line(
        self, cli, http_server: HTTPTestServer, path: str, content_type: str
    ) -> None:
        """A sitemap that gunzips past INGEST_MAX_BODY_BYTES is one `error:` line, and no page is fetched."""
        urls = serve_articles(http_server, [14])
        # 2 MB of whitespace inside a real urlset gzips to about 2 kB: well under the cap on the wire.
        bomb = urlset(urls).replace(b"<url>", b" " * 2_000_000 + b"<url>", 1)
        http_server.route(path, static(gzip.compress(bomb, 9), content_type=content_type))
        url = http_server.url(path)

        proc = cli("ingest", url, env={"INGEST_MAX_BODY_BYTES": "1000000"})

        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]

        assert 1 == proc.returncode, proc.stderr[-2000:]
        assert 1 == len(errors), proc.stderr[-2000:]
        assert errors[0].startswith(f"error: {url}: ")
        assert "over 1000000 bytes once decompressed" in errors[0]
        assert "Traceback" not in proc.stderr
        assert [] == http_server.requests_to("/news/14.html")

    def test_an_index_reads_its_children_as_sitemaps(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """A sitemap index's children are read as sitemaps, never fetched or dead-lettered as articles."""
        first, second = serve_articles(http_server, [20, 21]), serve_articles(http_server, [22])
        http_server.route("/sm/a.xml", static(urlset(first), content_type="text/xml"))
        http_server.route("/sm/b.xml", static(urlset(second), content_type="text/xml"))
        children = [http_server.url("/sm/a.xml"), http_server.url("/sm/b.xml")]
        # Not named like a sitemap: told by its root element.
        http_server.route("/index.xml", static(sitemap_index(children), content_type="application/xml"))

        result = summary(cli("ingest", http_server.url("/index.xml"), "--json"))
        records = read_jsonl(tmp_path / "out")
        dead = cli("dead", "list").stdout

        assert (3, 3, 0) == (result["seen"], result["new"], result["failed"])
        assert sorted(first + second) == sorted(r["url"] for r in records)
        assert {"archive"} == {r["source"]["kind"] for r in records}
        assert "" == dead
        assert [1, 1] == [len(http_server.requests_to(p)) for p in ("/sm/a.xml", "/sm/b.xml")]

    def test_a_local_sitemap_index_reads_its_children_as_sitemaps(
        self, cli, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """A sitemap index file (an archive) hands its remote children to sitemap polls, not the fetcher."""
        urls = serve_articles(http_server, [25])
        http_server.route("/child.xml", static(urlset(urls), content_type="application/xml"))
        index = tmp_path / "sitemap-index.xml"
        index.write_bytes(sitemap_index([http_server.url("/child.xml")]))

        result = summary(cli("ingest", str(index), "--json"))

        assert (1, 1, 0) == (result["seen"], result["new"], result["failed"])
        assert urls == [r["url"] for r in read_jsonl(tmp_path / "out")]

    def test_since_leaves_out_older_news(self, cli, http_server: HTTPTestServer, tmp_path: Path) -> None:
        """`--since` keeps the news published on or after it, and undated entries."""
        urls = serve_articles(http_server, [30, 31, 32])
        dates = ["2024-05-02T08:00:00Z", "2024-04-01T08:00:00Z", ""]
        http_server.route("/news-sitemap.xml", static(urlset(urls, dates), content_type="application/xml"))

        result = summary(
            cli("ingest", http_server.url("/news-sitemap.xml"), "--since", "2024-05-01", "--json")
        )

        assert (2, 2) == (result["seen"], result["new"])
        assert sorted([urls[0], urls[2]]) == sorted(r["url"] for r in read_jsonl(tmp_path / "out"))
        assert [] == http_server.requests_to("/news/31.html")

    def test_a_bad_since_is_a_usage_error(self, cli) -> None:
        """`--since yesterday` exits 2 with one line."""
        proc = cli("ingest", "http://example.org/sitemap.xml", "--since", "yesterday")

        assert (2, ["error: --since 'yesterday': not a date (expected ISO 8601, such as 2024-05-01)"]) == (
            proc.returncode,
            proc.stderr.splitlines(),
        )

    def test_sources_add_subscribes_a_sitemap(self, cli, http_server: HTTPTestServer) -> None:
        """`sources add` of a sitemap subscribes it as a sitemap, due now."""
        http_server.route("/map", static(urlset(["http://a.example/1"]), content_type="application/xml"))
        url = http_server.url("/map")

        added = cli("sources", "add", url)
        rows = [json.loads(x) for x in cli("sources", "list").stdout.splitlines()]

        assert (0, f"added sitemap {url}") == (added.returncode, added.stdout.strip())
        assert [("sitemap", url)] == [(r["kind"], r["url"]) for r in rows]
        assert rows[0]["next_check"] is not None

    def test_a_scheduled_sitemap_is_polled_once_per_change_and_rescheduled(
        self, http_server: HTTPTestServer, tmp_path: Path
    ) -> None:
        """A subscribed sitemap poll queues new pages only, keeps its validators and sets the next check."""
        urls = serve_articles(http_server, [40, 41])
        http_server.route("/sitemap.xml", static(urlset(urls), content_type="application/xml", etag='"s1"'))
        spec = SourceSpec("sitemap", http_server.url("/sitemap.xml"), "maps")
        settings = Settings(state_dir=tmp_path / "var", allow_private_networks=True, fetch_attempts=1)
        store = SQLiteStore(settings.state_dir / "state.sqlite3")
        sent = dispatch.LocalDispatcher()

        token = dispatch.current.set(sent)
        try:
            with Fetcher(settings) as fetcher:
                first = poll_sitemap.poll_sitemap(
                    spec, settings=settings, store=store, fetcher=fetcher, options=ReadOptions()
                )
                second = poll_sitemap.poll_sitemap(
                    spec, settings=settings, store=store, fetcher=fetcher, options=ReadOptions()
                )
            state, due = store.get_feed(spec.location) or {}, store.scheduled()
        finally:
            dispatch.current.reset(token)
            store.close()

        assert (2, 2, False) == (first.seen, first.queued, first.not_modified)
        assert (0, True) == (second.queued, second.not_modified)
        assert sorted(urls) == sorted(
            args[0]["url"] for task, args in sent.queue if task == dispatch.TASK_FETCH
        )
        assert '"s1"' == state["etag"]
        assert '"s1"' == http_server.requests_to("/sitemap.xml")[-1].headers.get("if-none-match")
        assert spec.location in due
