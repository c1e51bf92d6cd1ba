"""Feed parsing: RSS, Atom and JSON Feed records, entry keys, and refusal of XML entity attacks."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.errors import ParseError
from worker.sources.feeds import ParsedFeed, body_hash, parse_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
URL = "https://news.example.org/feed"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    ).encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>"""
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><rss version="2.0"><channel><title>'
    + b"&a;" * 20_000
    + b"</title></channel></rss>"
)
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""
PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!-- ]> --><!ENTITY % ext SYSTEM "http://169.254.169.254/"> %ext;]>
<rss version="2.0"><channel><title>x</title></channel></rss>"""


class TestRSS:
    def test_channel_fields(self):
        """Title, link, <ttl> in seconds and atom:link relations are read from the channel."""
        feed = parse_feed(_fixture("rss2.xml"), url=URL, content_type="application/rss+xml")

        expected = ("Harbour Gazette", "https://gazette.example.org/", 30 * 60, "rss20")
        assert expected == (feed.title, feed.link, feed.ttl_s, feed.version)
        expected = "https://gazette.example.org/feed/2024-09.xml"
        assert expected == feed.links["next-archive"]
        assert feed.bozo is None

    def test_entry_fields(self):
        """An item gives guid key, ISO UTC date, dc:creator, categories and content:encoded."""
        entry = parse_feed(_fixture("rss2.xml"), url=URL).entries[0]

        expected = (
            "guid:gazette-2024-1001",
            "2024-10-01T06:30:00Z",
            ("Maria Lind",),
            ("Transport", "Harbour"),
            "The ferry will run every 40 minutes from November.",
        )
        assert expected == (entry.key, entry.published, entry.authors, entry.tags, entry.summary)
        assert "<b>40 minutes</b>" in (entry.content or "")

    def test_dc_subject_relative_link_and_raw_date(self):
        """dc:subject is a tag, relative links resolve against the feed URL, unreadable dates stay raw."""
        entries = parse_feed(_fixture("rss2.xml"), url=URL).entries

        expected = (("Economy",), "https://news.example.org/2024/10/fish-market", "not a date at all")
        assert expected == (entries[1].tags, entries[1].link, entries[2].published)

    def test_entry_without_guid_keys_on_link(self):
        """An item without a guid is keyed by its link."""
        entry = parse_feed(_fixture("rss2.xml"), url=URL).entries[2]

        expected = "link:https://gazette.example.org/2024/10/lighthouse"
        assert expected == entry.key


class TestAtom:
    def test_archive_links(self):
        """RFC 5005 relations (current, prev-archive, next-archive) are exposed by rel."""
        feed = parse_feed(_fixture("atom.xml"), url=URL, content_type="application/atom+xml")

        expected = {
            "current": "https://courier.example.net/atom.xml",
            "prev-archive": "https://courier.example.net/atom/2024-09.xml",
            "next-archive": "https://courier.example.net/atom/2024-11.xml",
        }
        assert expected == {rel: feed.links[rel] for rel in expected}
        expected = ("atom10", "Valley Courier")
        assert expected == (feed.version, feed.title)

    def test_entry_fields(self):
        """An Atom entry gives id key, UTC date from its offset, all authors, category terms, HTML content."""
        entry = parse_feed(_fixture("atom.xml"), url=URL).entries[0]

        expected = (
            "guid:tag:courier.example.net,2024:bridge",
            "2024-10-03T14:15:00Z",
            ("Sam Okafor", "Lee Park"),
            ("politics", "infrastructure"),
            "<p>The vote passed <em>seven to two</em>.</p>",
        )
        assert expected == (entry.key, entry.published, entry.authors, entry.tags, entry.content)

    def test_updated_used_when_published_missing(self):
        """Without <published>, <updated> gives the date."""
        entry = parse_feed(_fixture("atom.xml"), url=URL).entries[1]

        expected = "2024-10-05T10:00:00Z"
        assert expected == entry.published


class TestJSONFeed:
    def test_feed_and_entries(self):
        """JSON Feed 1.1 is parsed by our own code: fields, numeric ids, 1.0 author, next_url."""
        feed = parse_feed(_fixture("jsonfeed.json"), url=URL, content_type="application/feed+json")

        expected = ("Hill Town Bulletin", "https://bulletin.example.com/", "json11")
        assert expected == (feed.title, feed.link, feed.version)
        expected = "https://bulletin.example.com/feed.json?page=2"
        assert expected == feed.links["next"]
        expected = ["guid:bulletin-77", "guid:78"]
        assert expected == [e.key for e in feed.entries]
        first, second = feed.entries
        expected_first = ("2024-09-01T05:45:00Z", ("Ana Ruiz",), ("schools", "repairs"))
        assert expected_first == (first.published, first.authors, first.tags)
        expected_second = (("Tom Berg",), "2024-09-02T18:00:00Z")
        assert expected_second == (second.authors, second.published)
        assert (second.content or "").startswith("The library")

    def test_sniffed_despite_wrong_content_type(self):
        """A JSON Feed served as text/plain is still recognised from its body."""
        feed = parse_feed(_fixture("jsonfeed.json"), url=URL, content_type="text/plain")

        expected = 2
        assert expected == len(feed.entries)

    @pytest.mark.parametrize(
        "body",
        [b'{"version": "1", "items": []}', b"[1, 2]", b'{"items": [', b"[" * 100_000 + b"]" * 100_000],
        ids=["other-version", "array", "truncated", "deep-nesting"],
    )
    def test_not_a_json_feed(self, body):
        """JSON that is not a JSON Feed raises ParseError."""
        with pytest.raises(ParseError):
            parse_feed(body, url=URL, content_type="application/json")


class TestEntryKeys:
    def test_repeated_guid_falls_back_to_link(self):
        """A feed that repeats one guid for every entry is keyed by link, so no entry hides another."""
        feed = parse_feed(_fixture("repeated-guid.xml"), url=URL)

        expected = [f"link:https://careless.example.org/story/{n}" for n in (1, 2, 3)]
        assert expected == [e.key for e in feed.entries]

    def test_repeated_guid_and_link_falls_back_to_hash(self):
        """When guids and links both repeat, title and date tell entries apart."""
        same = "<guid>g</guid><link>https://x.example/</link>"
        body = _rss([f"{same}<title>A</title>", f"{same}<title>B</title>"])

        keys = [e.key for e in parse_feed(body, url=URL).entries]

        expected = 2
        assert expected == len(set(keys))
        assert all(key.startswith("hash:") for key in keys)

    def test_keys_are_stable_across_polls(self):
        """The same entry keeps its key when the feed gains a new entry."""
        old = _rss(["<title>A</title><pubDate>Mon, 07 Oct 2024 10:00:00 GMT</pubDate>"])
        new = _rss(["<title>B</title>", "<title>A</title><pubDate>Mon, 07 Oct 2024 10:00:00 GMT</pubDate>"])

        expected = parse_feed(old, url=URL).entries[0].key
        assert expected == parse_feed(new, url=URL).entries[1].key

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from(["", "g1", "g2"]), st.sampled_from(["", "/a", "/b"])),
            min_size=1,
            max_size=6,
        )
    )
    def test_keys_unique_when_titles_differ(self, pairs):
        """Whatever guids and links repeat, entries with distinct titles get distinct keys."""
        items = [
            (f"<guid>{guid}</guid>" if guid else "")
            + (f"<link>{link}</link>" if link else "")
            + f"<title>t{n}</title>"
            for n, (guid, link) in enumerate(pairs)
        ]

        keys = [e.key for e in parse_feed(_rss(items), url=URL).entries]

        assert len(pairs) == len(set(keys))


class TestEntityGuard:
    @pytest.mark.parametrize(
        "body",
        [
            BILLION_LAUGHS,
            QUADRATIC,
            EXTERNAL,
            PARAMETER,
            BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16"),
            BILLION_LAUGHS.replace(b"<!DOCTYPE", b"<!doctype"),
        ],
        ids=["billion-laughs", "quadratic", "external-file", "parameter-entity", "utf-16", "lower-case"],
    )
    def test_refused_fast(self, body):
        """Any DOCTYPE declaring entities is refused by the pre-check, before a parser could expand it."""
        with pytest.raises(ParseError, match="entity declarations refused"):
            parse_feed(body, url=URL, content_type="application/rss+xml")

    def test_doctype_without_entities_allowed(self):
        """The RSS 0.91 Netscape DOCTYPE (external DTD, no entity declarations) still parses."""
        body = (
            b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
            b"<title>Old</title><item><title>x</title><link>https://o.example/x</link></item></channel></rss>"
        )

        feed = parse_feed(body, url=URL)

        expected = ("Old", 1)
        assert expected == (feed.title, len(feed.entries))


class TestRobustness:
    def test_body_naming_a_file_is_not_opened(self, tmp_path):
        """A body that is a path to a real feed file is treated as text, never opened as a file."""
        path = tmp_path / "feed.xml"
        path.write_bytes(_fixture("rss2.xml"))

        with pytest.raises(ParseError):
            parse_feed(str(path).encode(), url=URL)

    def test_body_naming_a_url_is_not_fetched(self):
        """A body that looks like a URL is not fetched; it is simply not a feed."""
        with pytest.raises(ParseError, match="not a feed"):
            parse_feed(b"http://127.0.0.1:9/feed.xml", url=URL)

    @pytest.mark.parametrize(
        "body",
        [b"", b"<html><body>hello</body></html>", b"\x00\xff" * 100, b"<rss"],
        ids=["empty", "html", "binary", "truncated"],
    )
    def test_non_feeds_raise_parse_error(self, body):
        """Empty, HTML, binary or truncated bodies raise ParseError."""
        with pytest.raises(ParseError):
            parse_feed(body, url=URL)

    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: f"<rss><channel>{t}".encode()))
    def test_only_parse_error_escapes(self, body):
        """Arbitrary input gives a ParsedFeed or a ParseError, never anything else."""
        try:
            result = parse_feed(body, url=URL, content_type="application/xml")
        except ParseError:
            return

        assert isinstance(result, ParsedFeed)

    def test_text_is_escaped_in_titles(self):
        """Escaped markup in a title comes back as text."""
        body = _rss([f"<title>{escape('Tom & Jerry <live>')}</title><guid>1</guid>"])

        expected = "Tom & Jerry <live>"
        assert expected == parse_feed(body, url=URL).entries[0].title


class TestBodyHash:
    @given(st.binary(max_size=200), st.binary(max_size=200))
    def test_hash_tracks_content(self, left, right):
        """Equal bodies hash equal, different bodies differ; the digest is 16 hex characters."""
        expected = left == right

        assert expected == (body_hash(left) == body_hash(right))
        expected = 16
        assert expected == len(body_hash(left))
