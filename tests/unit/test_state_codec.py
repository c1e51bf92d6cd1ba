"""Tests for the compact stored forms of a feed's state (worker.state.codec)."""

from __future__ import annotations

import json
import re
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.sources.feeds import body_hash
from worker.state.codec import (
    feed_id,
    pack_feed,
    pack_poll,
    pack_state,
    unpack_feed,
    unpack_poll,
)

URL = "https://news1.example.com/feeds/section-1.xml"
SPEC = {"kind": "feed", "location": URL, "name": "news1.example.com", "tz": "UTC", "interval_s": None}
MD5 = '"d41d8cd98f00b204e9800998ecf8427e"'  # S3's ETag of an empty object
POLLED = {
    "etag": '"6654a1c2-6400"',
    "last_modified": "Mon, 27 May 2024 14:05:22 GMT",
    "body_hash": body_hash(b"<rss>...</rss>"),
    "last_status": 200,
    "last_polled": 1_718_000_123,
    "interval_s": 900.0,
    "errors": 0,
}


class TestPackPoll:
    def test_typical_polled_state_fits_a_listpack_value(self) -> None:
        """An nginx ETag, an HTTP date, a body hash, status 200: positional and well under 64 bytes."""
        packed = pack_poll({"spec": SPEC, **POLLED, "next_at": 1_718_001_023.5})

        assert packed is not None
        assert not packed.startswith("{")
        assert len(packed.encode()) <= 48
        assert POLLED == unpack_poll(packed)

    @pytest.mark.parametrize(
        ("state", "json_form"),
        [
            ({"last_error": "ServerBusy: 503", "errors": 2}, True),
            ({"disabled": "410 Gone", "last_status": 410}, True),
            ({"etag": "a\tb"}, True),
            ({"etag": ""}, True),
            ({"etag": "{weird}"}, True),
            ({"body_hash": "NOT-HEX"}, True),
            ({"last_status": 200, "errors": 0}, True),
            ({"errors": True}, True),
            ({"interval_s": float("inf")}, True),
            ({"etag": 'W/"x"'}, False),
            ({"last_status": 304}, False),
            ({"errors": 3, "last_status": None}, False),
            ({"last_modified": "yesterday"}, False),
            ({"last_modified": "abc"}, False),
            ({"last_modified": "=x"}, False),
            ({"last_modified": "Wed, 21 Oct 2015 07:28:00 +0000"}, False),
            ({"last_polled": 1_718_000_000.25, "interval_s": -0.0}, False),
            ({"interval_s": 1e300}, False),
        ],
        ids=[
            "error-text",
            "disabled",
            "tab-in-etag",
            "empty-etag",
            "brace-first",
            "non-hex-hash",
            "only-defaults",
            "bool-count",
            "infinite",
            "weak-etag",
            "304",
            "none-dropped",
            "unparseable-date",
            "base36-looking-date",
            "escape-looking-date",
            "numeric-zone-date",
            "fractions-and-negative-zero",
            "huge-float",
        ],
    )
    def test_round_trips_in_either_form(self, state: dict[str, Any], json_form: bool) -> None:
        """Anything the slots cannot hold exactly goes to JSON; both forms give the state back."""
        packed = pack_poll(state)

        assert packed is not None
        assert json_form == packed.startswith("{")
        assert {k: v for k, v in state.items() if v is not None} == unpack_poll(packed)

    def test_last_modified_is_kept_as_epoch_only_when_exact(self) -> None:
        """A GMT HTTP date packs to base36 seconds; a date with a numeric zone stays verbatim."""
        gmt = pack_poll({"last_modified": "Wed, 21 Oct 2015 07:28:00 GMT", "errors": 0})
        numeric = pack_poll({"last_modified": "Wed, 21 Oct 2015 07:28:00 +0000", "errors": 0})

        assert ("\tnwk7eo\t\t\t\t-", "\tWed, 21 Oct 2015 07:28:00 +0000\t\t\t\t-") == (gmt, numeric)

    def test_an_md5_etag_is_kept_as_bytes_so_a_typical_state_still_fits_a_listpack_value(self) -> None:
        """S3's quoted MD5 ETag (34 characters) would push the poll value past 64 bytes verbatim."""
        state = {**POLLED, "etag": MD5}
        packed = pack_poll(state)
        weak = pack_poll({**POLLED, "etag": "W/" + MD5})

        assert packed is not None
        assert weak is not None
        assert (packed[:1], weak[:2]) == ("#", "w#")
        assert len(packed.encode()) <= 64
        assert (state, {**POLLED, "etag": "W/" + MD5}) == (unpack_poll(packed), unpack_poll(weak))

    @pytest.mark.parametrize("etag", ["#abc", "w#abc", "=x", MD5.upper(), '"' + "ab" * 15 + '"'])
    def test_etags_that_are_not_packed_stay_verbatim(self, etag: str) -> None:
        """Uppercase or short hex stays as sent; a value that looks packed is escaped."""
        packed = pack_poll({"etag": etag, "errors": 0})

        assert packed is not None
        assert {"etag": etag, "errors": 0} == unpack_poll(packed)

    def test_nothing_learned_packs_to_none(self) -> None:
        """A state of only a spec, None values and next_at has no poll value."""
        assert None is pack_poll({"spec": SPEC, "etag": None, "next_at": 5.0})


ODD = [
    '"6654a1c2-6400"',
    'W/"x"',
    "{",
    "=",
    "=abc",
    "abc",
    "-",
    "~1",
    "a\tb",
    "",
    "é\n\u2028",
    MD5,
    "W/" + MD5,
    MD5.upper(),
    '"' + "ab" * 15 + '"',
    "#" + MD5,
    "#abc",
    "w#abc",
]
ETAGS = st.sampled_from(ODD) | st.text(max_size=30)
NUMBERS = st.none() | st.integers() | st.floats(allow_nan=False)
HTTP_DATES = st.integers(0, 4_000_000_000).map(lambda s: formatdate(s, usegmt=True))
POLL_STATES = st.fixed_dictionaries(
    {},
    optional={
        "etag": st.none() | ETAGS,
        "last_modified": st.none() | ETAGS | HTTP_DATES,
        "body_hash": st.none() | st.binary(min_size=1, max_size=16).map(bytes.hex) | ETAGS,
        "last_polled": NUMBERS,
        "interval_s": NUMBERS,
        "last_status": NUMBERS | st.sampled_from([200, 304, 404]),
        "errors": NUMBERS | st.just(0),
        "last_error": st.none() | ETAGS,
        "disabled": st.none() | ETAGS,
        "redirected_from": st.none() | st.just("https://ex.com/ü"),
        "backfilled": st.none() | st.booleans(),
    },
)
URLS = st.sampled_from([URL, "https://ex.com/ü/feed?q=ä", "{not-a-url", "/archives/a.tar", "http://h/f"])


class TestRoundTrip:
    @given(state=POLL_STATES)
    def test_poll_values_round_trip(self, state: dict[str, Any]) -> None:
        """Whatever polling stores (odd ETags, bad dates, floats, None) comes back equal, None dropped."""
        packed = pack_poll(state)
        expected = {k: v for k, v in state.items() if v is not None}

        assert expected == ({} if packed is None else unpack_poll(packed))

    @given(url=URLS, state=POLL_STATES, with_spec=st.booleans(), next_at=st.none() | st.floats(0, 2e9))
    def test_feeds_round_trip(
        self, url: str, state: dict[str, Any], with_spec: bool, next_at: float | None
    ) -> None:
        """A whole state (spec included) packs to two values and back, without next_at."""
        full = {**state, "next_at": next_at}
        if with_spec:
            full["spec"] = {**SPEC, "location": url}
        expected = {k: v for k, v in full.items() if v is not None and k != "next_at"}

        spec_raw, poll_raw = pack_feed(url, full)

        assert (url, expected) == unpack_feed(spec_raw, poll_raw)


class TestCompatibility:
    def test_old_single_value_is_read(self) -> None:
        """A value of the layout before the poll value (everything in one JSON) reads as before."""
        old = json.dumps({"u": URL, "e": '"x"', "t": 304, "n": 1_718_000_900.5, "s": {}})

        assert (URL, {"etag": '"x"', "last_status": 304, "spec": SPEC}) == unpack_feed(old, None)

    def test_registered_feed_packs_to_its_url(self) -> None:
        """A default spec still packs to the bare URL, as the previous layout did."""
        assert (URL, None) == pack_feed(URL, {"spec": SPEC})
        assert URL == pack_state(URL, {"spec": SPEC})

    def test_a_scheduled_archive_stores_no_name_it_would_be_given_anyway(self) -> None:
        """The default name comes from `sources.default_name`, for files as for feeds."""
        path = "/data/cc-news/2024-05.warc.gz"
        spec = {**SPEC, "kind": "archive", "location": path, "name": "2024-05.warc.gz"}

        spec_raw, _ = pack_feed(path, {"spec": spec})

        assert '"n"' not in spec_raw
        assert (path, {"spec": spec}) == unpack_feed(spec_raw, None)

    def test_an_archive_stored_with_its_name_spelled_out_reads_the_same(self) -> None:
        """Values written when only http(s) names were left out keep reading as they were."""
        path = "/data/cc-news/2024-05.warc.gz"
        old = json.dumps({"u": path, "s": {"k": "archive", "n": "2024-05.warc.gz"}})

        assert "2024-05.warc.gz" == unpack_feed(old, None)[1]["spec"]["name"]

    def test_ids_keep_their_shape(self) -> None:
        """Ids stay 12 characters with a 4-hex-digit bucket: stored data keeps its keys."""
        fid = feed_id(URL)

        assert 12 == len(fid)
        assert re.fullmatch("[0-9a-f]{4}", fid[:4])
