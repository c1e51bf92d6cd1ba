"""Fetcher against a real HTTP server on 127.0.0.1: status handling, limits, redirects, SSRF guard."""

from __future__ import annotations

import email.utils
import gzip
import os
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest
from structlog.testing import capture_logs

from tests.integration.httpserver import HTTPTestServer, Request, Response, redirect, sequence, static
from tests.support.tls import LocalCA, make_ca
from worker.config import Settings
from worker.errors import (
    BlockedURL,
    BodyTooLarge,
    FetchConnectionError,
    FetchTimeout,
    HTTPStatusError,
    ServerBusy,
    UnsupportedContent,
)
from worker.fetch.client import Fetcher
from worker.fetch.decode import parse_max_age, parse_retry_after, split_content_type
from worker.fetch.transport import Transport

pytestmark = pytest.mark.integration

MB = 1024 * 1024
SETTINGS = Settings(
    allow_private_networks=True,
    user_agent="ingest-test/1.0",
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    total_timeout_s=5.0,
    max_body_bytes=1 * MB,
    max_redirects=4,
    fetch_attempts=3,
    retry_max_wait_s=0.05,
)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as running:
        yield running


@pytest.fixture
def make_fetcher() -> Iterator[object]:
    made: list[Fetcher] = []

    def factory(**changes: object) -> Fetcher:
        fetcher = Fetcher(SETTINGS.with_(**changes))
        made.append(fetcher)
        return fetcher

    yield factory
    for fetcher in made:
        fetcher.close()


def _bomb(encoding: str) -> bytes:
    zeros = b"\0" * (50 * MB)
    if encoding == "gzip":
        return gzip.compress(zeros, compresslevel=6)
    return brotli.compress(zeros, quality=5)


class TestSuccess:
    def test_200_carries_body_and_scheduling_headers(self, server, make_fetcher):
        """A 200 gives the body, content type, validators, caching hints and sends our User-Agent."""
        expires = "Wed, 21 Oct 2037 07:28:00 GMT"
        server.route(
            "/feed",
            static(
                FEED,
                content_type="application/rss+xml; charset=UTF-8",
                ETag='"v1"',
                Last_Modified="Tue, 01 Oct 2024 10:00:00 GMT",
                Cache_Control="public, max-age=600",
                Expires=expires,
            ),
        )

        result = make_fetcher().fetch(server.url("/feed"), accept="application/rss+xml")

        expected = (200, FEED)
        assert expected == (result.status, result.body)
        expected = ("application/rss+xml", "utf-8")
        assert expected == (result.content_type, result.charset)
        expected = ('"v1"', "Tue, 01 Oct 2024 10:00:00 GMT")
        assert expected == (result.etag, result.last_modified)
        expected = (600, "2037-10-21T07:28:00Z")
        assert expected == (result.max_age_s, result.expires)
        assert (server.url("/feed"), None) == (result.url, result.permanent_redirect_url)
        assert result.fetched_at.endswith("Z")
        sent = server.requests[0].headers
        expected = ("ingest-test/1.0", "application/rss+xml")
        assert expected == (sent["user-agent"], sent["accept"])

    def test_conditional_get_round_trip(self, server, make_fetcher):
        """The validators of a 200, sent back, give a 304 with an empty body and no error."""
        validators = {"ETag": '"abc"', "Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT"}

        def handler(request: Request) -> Response:
            if request.headers.get("if-none-match") == validators["ETag"]:
                return Response(status=304, headers=dict(validators))
            return Response(body=FEED, headers={"Content-Type": "application/xml", **validators})

        server.route("/feed", handler)
        fetcher = make_fetcher()

        first = fetcher.fetch(server.url("/feed"))
        second = fetcher.fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)

        expected = (200, 304, b"")
        assert expected == (first.status, second.status, second.body)
        sent = server.requests[1].headers
        assert (validators["ETag"], validators["Last-Modified"]) == (
            sent["if-none-match"],
            sent["if-modified-since"],
        )


class TestStatus:
    @pytest.mark.parametrize("status", [429, 503], ids=["429", "503"])
    @pytest.mark.parametrize("form", ["seconds", "http-date"])
    def test_retry_after_is_parsed(self, server, make_fetcher, status, form):
        """429 and 5xx raise ServerBusy with Retry-After in seconds, from either header form."""
        value = (
            "120"
            if form == "seconds"
            else email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
        )
        server.route("/busy", static(b"busy", status=status, Retry_After=value))

        with pytest.raises(ServerBusy) as caught:
            make_fetcher().fetch(server.url("/busy"))

        assert status == caught.value.status
        assert 110 <= caught.value.retry_after_s <= 120

    def test_5xx_burst_then_success_is_retried(self, server, make_fetcher):
        """Two 500s then a 200: fetch_retrying succeeds and logs one retry_scheduled per retry."""
        server.route("/flaky", sequence(static(status=500), static(status=502), static(FEED)))

        with capture_logs() as logs:
            result = make_fetcher().fetch_retrying(server.url("/flaky"))

        expected = FEED
        assert expected == result.body
        retries = [e for e in logs if e["event"] == "retry_scheduled"]
        expected = [(1, "ServerBusy"), (2, "ServerBusy")]
        assert expected == [(e["attempt"], e["error"]) for e in retries]
        assert all(0 <= e["delay_s"] <= SETTINGS.retry_max_wait_s for e in retries)

    def test_retries_stop_after_attempts(self, server, make_fetcher):
        """An always-failing server gets exactly `fetch_attempts` requests, then the error surfaces."""
        server.route("/down", static(status=502))

        with pytest.raises(ServerBusy):
            make_fetcher().fetch_retrying(server.url("/down"))

        assert SETTINGS.fetch_attempts == len(server.requests_to("/down"))

    @pytest.mark.parametrize(
        ("status", "retry_after"),
        [(429, None), (503, None), (429, "1"), (503, "0"), (500, "3600")],
        ids=["429", "503", "429-short-wait", "503-now", "500-long-wait"],
    )
    def test_a_server_asking_to_wait_is_not_retried_here(self, server, make_fetcher, status, retry_after):
        """429, 503 and any long Retry-After are raised after one request: the caller's schedule waits."""
        headers = {} if retry_after is None else {"Retry_After": retry_after}
        server.route("/wait", static(b"busy", status=status, **headers))

        with pytest.raises(ServerBusy) as caught:
            make_fetcher().fetch_retrying(server.url("/wait"))

        assert (status, 1) == (caught.value.status, len(server.requests_to("/wait")))

    def test_a_short_retry_after_on_a_500_is_honoured(self, server, make_fetcher):
        """A 500 with a Retry-After within the retry wait cap is retried after that wait."""
        server.route("/flaky", sequence(static(status=500, Retry_After="1"), static(FEED)))
        started = time.monotonic()

        result = make_fetcher(retry_max_wait_s=2.0).fetch_retrying(server.url("/flaky"))

        assert (FEED, 2) == (result.body, len(server.requests_to("/flaky")))
        assert time.monotonic() - started >= 1.0

    def test_long_retry_after_is_left_to_the_scheduler(self, server, make_fetcher):
        """A Retry-After longer than the retry wait cap is not waited out: one attempt, error raised."""
        server.route("/later", static(status=429, Retry_After="3600"))

        with pytest.raises(ServerBusy) as caught:
            make_fetcher().fetch_retrying(server.url("/later"))

        expected = (1, 3600.0)
        assert expected == (len(server.requests_to("/later")), caught.value.retry_after_s)

    @pytest.mark.parametrize("status", [404, 410, 403], ids=["404", "410-gone", "403"])
    def test_client_errors_are_permanent_and_not_retried(self, server, make_fetcher, status):
        """4xx other than 429 raises HTTPStatusError with the status, after a single request."""
        server.route("/gone", static(status=status))

        with pytest.raises(HTTPStatusError) as caught:
            make_fetcher().fetch_retrying(server.url("/gone"))

        assert (status, 1) == (caught.value.status, len(server.requests_to("/gone")))


class TestRedirects:
    def test_permanent_chain_updates_final_and_permanent_url(self, server, make_fetcher):
        """A chain of 301/308 hops ends at the final URL, which is also the permanent redirect target."""
        server.route("/a", redirect("/b", 301))
        server.route("/b", redirect(server.url("/c"), 308))
        server.route("/c", static(FEED))

        result = make_fetcher().fetch(server.url("/a"))

        assert (server.url("/c"), server.url("/c")) == (result.url, result.permanent_redirect_url)

    def test_temporary_hop_ends_the_permanent_run(self, server, make_fetcher):
        """After a 302 the later hops are not permanent: the source moves only to the 301 target."""
        server.route("/a", redirect("/b", 301))
        server.route("/b", redirect("/c", 302))
        server.route("/c", redirect("/d", 301))
        server.route("/d", static(FEED))

        result = make_fetcher().fetch(server.url("/a"))

        assert (server.url("/d"), server.url("/b")) == (result.url, result.permanent_redirect_url)

    def test_temporary_redirect_has_no_permanent_url(self, server, make_fetcher):
        """A 307 is followed but does not move the source."""
        server.route("/a", redirect("/b", 307))
        server.route("/b", static(FEED))

        result = make_fetcher().fetch(server.url("/a"))

        assert (server.url("/b"), None) == (result.url, result.permanent_redirect_url)

    def test_loop_is_refused(self, server, make_fetcher):
        """A redirect loop raises HTTPStatusError before max_redirects is spent."""
        server.route("/x", redirect("/y", 302))
        server.route("/y", redirect("/x", 302))

        with pytest.raises(HTTPStatusError, match="loop"):
            make_fetcher().fetch(server.url("/x"))

        expected = 2
        assert expected == len(server.requests)

    def test_too_many_redirects(self, server, make_fetcher):
        """More hops than max_redirects raise HTTPStatusError after max_redirects + 1 requests."""
        for hop in range(10):
            server.route(f"/{hop}", redirect(f"/{hop + 1}", 302))

        with pytest.raises(HTTPStatusError, match="redirects"):
            make_fetcher().fetch(server.url("/0"))

        assert SETTINGS.max_redirects + 1 == len(server.requests)

    @pytest.mark.parametrize(
        "location",
        ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"],
        ids=["file", "ftp", "gopher"],
    )
    def test_redirect_to_other_scheme_is_blocked(self, server, make_fetcher, location):
        """Every hop is re-checked: a redirect to file: is refused even when file: URLs are allowed."""
        server.route("/r", redirect(location, 302))

        with pytest.raises(BlockedURL):
            make_fetcher(allow_file_urls=True).fetch(server.url("/r"))


class TestLimits:
    def test_streamed_body_is_cut_at_the_cap(self, server, make_fetcher):
        """A 50 MB body is cut at a 1 MB cap long before the server could send it all."""
        produced = [0]
        finished = threading.Event()

        def endless() -> Iterator[bytes]:
            try:
                for _ in range(50 * 16):
                    produced[0] += 64 * 1024
                    yield b"a" * (64 * 1024)
            finally:
                finished.set()

        server.route("/big", lambda _: Response(body=endless(), headers={"Content-Type": "text/plain"}))

        with pytest.raises(BodyTooLarge):
            make_fetcher().fetch(server.url("/big"))

        assert finished.wait(5)
        assert produced[0] < 25 * MB

    def test_declared_length_over_cap_is_refused_before_reading(self, server, make_fetcher):
        """A Content-Length above the cap is refused from the header alone."""
        server.route("/big", static(b"x" * (2 * MB)))

        with pytest.raises(BodyTooLarge, match="content-length"):
            make_fetcher().fetch(server.url("/big"))

    @pytest.mark.parametrize("encoding", ["gzip", "br"])
    def test_compression_bomb_is_cut_with_bounded_memory(self, server, make_fetcher, encoding):
        """50 MB of zeros compressed to a few KB is cut at the 1 MB decoded cap, without inflating it all."""
        server.route("/bomb", static(_bomb(encoding), content_type="text/html", Content_Encoding=encoding))
        fetcher = make_fetcher()

        tracemalloc.start()
        try:
            with pytest.raises(BodyTooLarge):
                fetcher.fetch(server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert peak < 8 * MB

    @pytest.mark.parametrize(
        ("encoding", "encode"),
        [
            ("gzip", gzip.compress),
            ("deflate", zlib.compress),
            ("deflate", lambda data: zlib.compress(data)[2:-4]),
            ("br", brotli.compress),
            ("identity", lambda data: data),
        ],
        ids=["gzip", "deflate-zlib", "deflate-raw", "br", "identity"],
    )
    def test_content_encodings_are_decoded(self, server, make_fetcher, encoding, encode):
        """Each advertised coding decodes back to the original bytes."""
        original = b"<p>news</p>" * 20_000
        server.route("/enc", static(encode(original), content_type="text/html", Content_Encoding=encoding))

        result = make_fetcher().fetch(server.url("/enc"))

        assert original == result.body

    def test_thousands_of_stacked_codings_are_refused_in_one_line(self, server, make_fetcher):
        """2,000 `gzip` values in Content-Encoding: UnsupportedContent naming the URL, no RecursionError."""
        codings = ", ".join(["gzip"] * 2_000)
        body = gzip.compress(gzip.compress(b"<p>news</p>"))
        server.route("/stacked", static(body, content_type="text/html", Content_Encoding=codings))

        with pytest.raises(UnsupportedContent) as caught:
            make_fetcher().fetch(server.url("/stacked"))

        expected = ("2000 content codings stacked, more than 5", server.url("/stacked"))
        assert expected == (str(caught.value), caught.value.url)
        assert caught.value.__cause__ is None

    def test_trickling_server_is_cut_by_the_total_deadline(self, server, make_fetcher):
        """One byte every 0.2 s never trips the read timeout, but the 1 s total deadline stops it."""

        def trickle() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x"
                time.sleep(0.2)

        server.route("/slow", lambda _: Response(body=trickle(), headers={"Content-Type": "text/plain"}))

        # Without the deadline this fetch would succeed after 20 s: no read ever waits 0.5 s.
        with pytest.raises(FetchTimeout, match="deadline"):
            make_fetcher(total_timeout_s=1.0, read_timeout_s=0.5).fetch(server.url("/slow"))

    def test_read_timeout(self, server, make_fetcher):
        """A server that accepts but does not answer raises FetchTimeout after the read timeout."""

        def silent(_: Request) -> Response:
            time.sleep(1.5)
            return Response(body=b"late")

        server.route("/silent", silent)

        with pytest.raises(FetchTimeout):
            make_fetcher(read_timeout_s=0.3).fetch(server.url("/silent"))


class TestConnection:
    def test_reset_is_a_connection_error(self, server, make_fetcher):
        """A TCP reset raises FetchConnectionError, with the socket's error only as its cause."""
        server.route("/reset", lambda _: Response(reset=True))

        with pytest.raises(FetchConnectionError) as caught:
            make_fetcher().fetch(server.url("/reset"))

        assert isinstance(caught.value.__cause__, ConnectionResetError)

    def test_refused_port_is_a_connection_error(self, make_fetcher):
        """Nothing listening raises FetchConnectionError."""
        with HTTPTestServer() as gone:
            url = gone.url("/")

        with pytest.raises(FetchConnectionError):
            make_fetcher().fetch(url)


class TestGuard:
    def test_literal_loopback_refused(self, server, make_fetcher):
        """With private networks disallowed, 127.0.0.1 is refused before any request."""
        server.route("/feed", static(FEED))

        with pytest.raises(BlockedURL):
            make_fetcher(allow_private_networks=False).fetch(server.url("/feed"))

        expected = []
        assert expected == server.requests

    def test_name_resolving_to_loopback_refused_at_connect(self, server, make_fetcher):
        """`localhost` passes the URL check but its resolved address is refused at connect time."""
        server.route("/feed", static(FEED))

        with pytest.raises(BlockedURL, match="resolves"):
            make_fetcher(allow_private_networks=False).fetch(server.url("/feed", host="localhost"))

        expected = []
        assert expected == server.requests

    def test_name_allowed_when_private_networks_are(self, server, make_fetcher):
        """The same `localhost` URL is fetched when private networks are allowed, Host header intact."""
        server.route("/feed", static(FEED))

        result = make_fetcher().fetch(server.url("/feed", host="localhost"))

        expected = FEED
        assert expected == result.body
        assert f"localhost:{server.port}" == server.requests[0].headers["host"]

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://10.0.0.1/",
            "http://2130706433/",
        ],
        ids=["metadata", "ipv6-loopback", "rfc1918", "decimal-loopback"],
    )
    def test_private_literals_refused(self, make_fetcher, url):
        """Private literal hosts are refused without a connection attempt."""
        with pytest.raises(BlockedURL):
            make_fetcher(allow_private_networks=False).fetch(url)


class TestContent:
    @pytest.mark.parametrize(
        "content_type",
        ["image/png", "video/mp4", "application/pdf", "application/octet-stream", "application/zip"],
    )
    def test_binary_content_refused(self, server, make_fetcher, content_type):
        """Binary content types raise UnsupportedContent naming the type."""
        server.route("/bin", static(b"\x89PNG....", content_type=content_type))

        with pytest.raises(UnsupportedContent, match=content_type):
            make_fetcher().fetch(server.url("/bin"))

    @pytest.mark.parametrize(
        ("path", "content_type", "encoding"),
        [
            ("/map", "application/gzip", None),
            ("/map", "application/x-gzip", None),
            ("/sitemap.xml.gz", "application/octet-stream", None),
            ("/sitemap.xml.gz", None, None),
            ("/sitemap.xml.gz", "application/gzip", "gzip"),
        ],
        ids=["gzip", "x-gzip", "gz-as-bytes", "gz-untyped", "gz-and-content-coding"],
    )
    def test_a_gzip_file_is_read_gunzipped_when_asked(
        self, server, make_fetcher, path, content_type, encoding
    ):
        """With `gunzip`, a gzip file is read as what it holds (codings undone first); without, refused."""
        xml = b"<urlset><url><loc>http://a.example/1</loc></url></urlset>"
        body = gzip.compress(gzip.compress(xml)) if encoding else gzip.compress(xml)
        headers = {"Content_Encoding": encoding} if encoding else {}
        server.route(path, static(body, content_type=content_type, **headers))
        fetcher = make_fetcher()

        result = fetcher.fetch(server.url(path), gunzip=True)

        assert (xml, None) == (result.body, result.content_type)
        if content_type is not None:
            with pytest.raises(UnsupportedContent, match=content_type):
                fetcher.fetch(server.url(path))

    def test_a_gzip_file_is_capped_once_decompressed(self, server, make_fetcher):
        """A gzip file that inflates past the cap is cut there, without inflating it all."""
        server.route("/map", static(_bomb("gzip"), content_type="application/gzip"))
        fetcher = make_fetcher()

        tracemalloc.start()
        try:
            with pytest.raises(BodyTooLarge, match="once decompressed"):
                fetcher.fetch(server.url("/map"), gunzip=True)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert peak < 8 * MB

    @pytest.mark.parametrize(
        ("content_type", "body", "charset"),
        [
            ("text/html; charset=utf-99", "café".encode(), None),
            ("text/html", "café".encode("latin-1"), None),
            ("text/html; charset=ISO-8859-1", "café".encode("latin-1"), "iso8859-1"),
            ('text/html; charset="utf-8"', "café".encode(), "utf-8"),
            ("text/html; charset=latin-1", "\ufeffcafé".encode(), "iso8859-1"),
        ],
        ids=["unknown-charset", "missing-charset", "declared-latin1", "quoted", "bom-beats-header"],
    )
    def test_wrong_or_missing_charset_still_decodes(self, server, make_fetcher, content_type, body, charset):
        """An unknown charset is dropped, a missing one is sniffed, a BOM wins: text() reads 'café'."""
        server.route("/page", static(body, content_type=content_type))

        result = make_fetcher().fetch(server.url("/page"))

        assert (charset, "café") == (result.charset, result.text())

    def test_a_page_declaring_its_charset_only_in_a_meta_tag(self, server, make_fetcher):
        """A server sending `text/html` without a charset: the page's `<meta charset>` decodes it."""
        page = '<html><head><meta charset="windows-1251"><title>Новости дня</title></head></html>'
        server.route("/page", static(page.encode("cp1251"), content_type="text/html"))

        result = make_fetcher().fetch(server.url("/page"))

        assert (None, page) == (result.charset, result.text())


class TestFileURLs:
    def test_file_read_when_allowed(self, tmp_path: Path, make_fetcher):
        """A file: URL is read when allowed, and its mtime round-trips as a 304."""
        path = tmp_path / "feed.xml"
        path.write_bytes(FEED)
        fetcher = make_fetcher(allow_file_urls=True)

        first = fetcher.fetch(path.as_uri())
        again = fetcher.fetch(path.as_uri(), last_modified=first.last_modified)

        expected = (200, FEED, "application/xml")
        assert expected == (first.status, first.body, first.content_type)
        expected = (304, b"")
        assert expected == (again.status, again.body)

    def test_file_refused_by_default(self, tmp_path: Path, make_fetcher):
        """Without allow_file_urls a file: URL is a BlockedURL."""
        path = tmp_path / "feed.xml"
        path.write_bytes(FEED)

        with pytest.raises(BlockedURL):
            make_fetcher().fetch(path.as_uri())

    def test_file_over_cap(self, tmp_path: Path, make_fetcher):
        """The body cap applies to files too."""
        path = tmp_path / "big.txt"
        path.write_bytes(os.urandom(2048))

        with pytest.raises(BodyTooLarge):
            make_fetcher(allow_file_urls=True, max_body_bytes=1024).fetch(path.as_uri())


class TestHeaderParsing:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("30", 30.0),
            ("  7 ", 7.0),
            ("soon", None),
            ("", None),
            (None, None),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ],
        ids=["seconds", "spaces", "junk", "empty", "absent", "past-date"],
    )
    def test_parse_retry_after(self, value, expected):
        """Retry-After reads delay-seconds, clamps past dates to 0 and ignores junk."""
        assert expected == parse_retry_after(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("max-age=60", 60), ('public, max-age="5"', 5), ("s-maxage=9", None), ("no-cache", None)],
        ids=["plain", "quoted", "s-maxage-only", "none"],
    )
    def test_parse_max_age(self, value, expected):
        """Only max-age itself is read from Cache-Control."""
        assert expected == parse_max_age(value)

    def test_split_content_type(self):
        """The mime type is lower-cased and the charset normalised."""
        expected = ("text/xml", "utf-8")
        assert expected == split_content_type("Text/XML ; Charset=UTF8")


@pytest.fixture
def keep_server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer(keep_alive=True) as running:
        yield running


class TestKeepAlive:
    def test_connection_is_reused_across_requests(self, keep_server, make_fetcher):
        """Requests to one host, redirects and a 304 included, share one kept-alive connection."""
        keep_server.route("/a", static(FEED, ETag='"v1"'))
        keep_server.route("/old", redirect("/a", 301))
        keep_server.route("/nm", static(status=304, content_type=None))
        fetcher = make_fetcher()

        bodies = [fetcher.fetch(keep_server.url(path)).body for path in ("/a", "/old", "/a")]
        not_modified = fetcher.fetch(keep_server.url("/nm"), etag='"v1"')

        expected = ([FEED, FEED, FEED], 304, 5, 1)
        assert expected == (bodies, not_modified.status, len(keep_server.requests), keep_server.connections)

    def test_small_error_body_is_read_off_and_the_connection_reused(self, keep_server, make_fetcher):
        """A 404 with a short page is read to its end, so the next request reuses the connection."""
        keep_server.route("/missing", static(b"<h1>not here</h1>", status=404, content_type="text/html"))
        keep_server.route("/feed", static(FEED))
        fetcher = make_fetcher()

        with pytest.raises(HTTPStatusError):
            fetcher.fetch(keep_server.url("/missing"))
        result = fetcher.fetch(keep_server.url("/feed"))

        expected = (FEED, 1)
        assert expected == (result.body, keep_server.connections)

    def test_half_read_response_is_never_reused(self, keep_server, make_fetcher):
        """A body cut at the cap, 1 MB of it unread, closes its connection: the next answer is read right."""
        noise = gzip.compress(os.urandom(2 * MB), compresslevel=1)
        keep_server.route("/big", static(noise, content_type="text/html", Content_Encoding="gzip"))
        keep_server.route("/feed", static(FEED))
        fetcher = make_fetcher()

        with pytest.raises(BodyTooLarge):
            fetcher.fetch(keep_server.url("/big"))
        result = fetcher.fetch(keep_server.url("/feed"))

        expected = (FEED, 2)
        assert expected == (result.body, keep_server.connections)

    def test_server_closing_an_idle_connection(self, keep_server, make_fetcher):
        """A kept-alive connection the server closed after answering is not reused; the next request works."""
        keep_server.route("/feed", lambda _: Response(body=FEED, close_after=True))
        fetcher = make_fetcher()

        first = fetcher.fetch(keep_server.url("/feed"))
        time.sleep(0.1)  # let the server's FIN arrive, as it does for an idle connection
        second = fetcher.fetch(keep_server.url("/feed"))

        expected = (FEED, FEED, 2, 2)
        assert expected == (first.body, second.body, len(keep_server.requests), keep_server.connections)

    def test_reused_connection_closed_as_we_send_is_retried_once(self, keep_server, make_fetcher):
        """The server closes a reused connection without answering: one silent retry on a new one succeeds."""
        other = FEED.replace(b"<title>t</title>", b"<title>second</title>")
        keep_server.route(
            "/feed",
            sequence(static(FEED), lambda _: Response(drop=True), static(other)),
        )
        fetcher = make_fetcher()

        with capture_logs() as logs:
            first = fetcher.fetch(keep_server.url("/feed"))
            second = fetcher.fetch(keep_server.url("/feed"))

        expected = (FEED, other, 3, 2)
        assert expected == (first.body, second.body, len(keep_server.requests), keep_server.connections)
        assert [] == [e for e in logs if e["event"] == "retry_scheduled"]

    def test_fresh_connection_closed_without_answer_is_an_error(self, keep_server, make_fetcher):
        """On a new connection no answer at all is a FetchConnectionError, not retried by the transport."""
        keep_server.route("/drop", lambda _: Response(drop=True))

        with pytest.raises(FetchConnectionError):
            make_fetcher().fetch(keep_server.url("/drop"))

        expected = 1
        assert expected == len(keep_server.requests)

    def test_early_hints_before_the_answer_are_skipped(self, keep_server, make_fetcher):
        """A 103 Early Hints ahead of the 200 is skipped: the 200 body comes out; the connection is kept."""
        keep_server.route("/feed", lambda _: Response(body=FEED, early_hints=True))
        fetcher = make_fetcher()

        results = [fetcher.fetch(keep_server.url("/feed")) for _ in range(2)]

        expected = ([200, 200], [FEED, FEED], 1)
        assert expected == ([r.status for r in results], [r.body for r in results], keep_server.connections)

    def test_pooled_connection_does_not_bypass_the_guard(self, keep_server, make_fetcher):
        """A fetcher that refuses loopback refuses it with a connection to the host pooled elsewhere."""
        keep_server.route("/feed", static(FEED))
        make_fetcher().fetch(keep_server.url("/feed", host="localhost"))

        with pytest.raises(BlockedURL, match="resolves"):
            make_fetcher(allow_private_networks=False).fetch(keep_server.url("/feed", host="localhost"))

        expected = 1
        assert expected == len(keep_server.requests)


class TestTLS:
    @pytest.fixture
    def local_ca(self, tmp_path: Path) -> LocalCA:
        return make_ca(tmp_path, dns_names=("localhost",))

    @pytest.fixture
    def tls_server(self, local_ca: LocalCA) -> Iterator[tuple[HTTPTestServer, list[str | None]]]:
        context = local_ca.server_context()
        names: list[str | None] = []
        context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment]
        with HTTPTestServer(keep_alive=True, tls=context) as running:
            running.route("/feed", static(FEED))
            yield running, names

    def test_certificate_for_the_host_name_is_accepted_with_sni(self, tls_server, local_ca):
        """A certificate for `localhost`, from a trusted CA, is accepted; the name went out as SNI."""
        server, names = tls_server
        transport = Transport(allow_private=True, ssl_context=local_ca.client_context())

        with Fetcher(SETTINGS, transport=transport) as fetcher:
            results = [fetcher.fetch(server.url("/feed", host="localhost")) for _ in range(2)]
        transport.close()

        expected = ([FEED, FEED], ["localhost"], 1)
        assert expected == ([r.body for r in results], names, server.connections)

    def test_certificate_for_another_name_is_refused(self, tls_server, local_ca):
        """The same certificate, reached as 127.0.0.1 (not a name it carries), fails verification."""
        server, _ = tls_server
        transport = Transport(allow_private=True, ssl_context=local_ca.client_context())

        with Fetcher(SETTINGS, transport=transport) as fetcher, pytest.raises(FetchConnectionError) as caught:
            fetcher.fetch(server.url("/feed"))
        transport.close()

        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert str(caught.value).startswith(f"TLS certificate of 127.0.0.1:{server.port} refused (")
        assert [] == server.requests

    def test_untrusted_certificate_authority_is_refused(self, tls_server, make_fetcher):
        """The default trust store does not know the test CA: the fetch fails before any request."""
        server, _ = tls_server

        with pytest.raises(FetchConnectionError) as caught:
            make_fetcher().fetch(server.url("/feed", host="localhost"))

        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert (
            f"TLS certificate of localhost:{server.port} refused (unable to get local issuer certificate)"
            == str(caught.value)
        )
        assert [] == server.requests
