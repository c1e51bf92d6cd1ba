"""Properties of the pure dedupe keys: canonical URLs are idempotent, total and blind to tracking."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from worker.ids import article_id, canonical_url
from worker.process.dedup import content_hash

_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=0, max_size=12)
_PARAM = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).filter(
    lambda k: not k.startswith("utm")
)

http_urls = st.builds(
    lambda scheme, host, port, path, query, frag: (
        f"{scheme}://{host}{port}/{'/'.join(path)}{'?' + urlencode(query) if query else ''}{frag}"
    ),
    st.sampled_from(["http", "https", "HTTP", "HtTpS"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,6}){1,2}", fullmatch=True),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(_SEGMENT, max_size=5),
    # Distinct keys: the order of a repeated key can matter to a server, so it is kept.
    st.dictionaries(_PARAM, st.text(alphabet="abc123", max_size=5), max_size=4),
    st.sampled_from(["", "#top", "#section-2"]),
)


class TestCanonicalURL:
    @given(http_urls)
    @settings(max_examples=150, deadline=None)
    def test_is_idempotent_on_http_urls(self, url: str) -> None:
        """Canonicalising a canonical URL changes nothing."""
        once = canonical_url(url)

        assert once == canonical_url(once)

    @given(st.text(max_size=200))
    @settings(max_examples=150, deadline=None)
    def test_never_raises_and_is_idempotent_on_any_text(self, text: str) -> None:
        """Arbitrary text (not a URL at all) gives a string, and a second pass keeps it."""
        once = canonical_url(text)

        assert once == canonical_url(once)

    @given(http_urls, st.lists(st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "fbclid"])))
    @settings(max_examples=100, deadline=None)
    def test_tracking_parameters_do_not_change_the_id(self, url: str, tracking: list[str]) -> None:
        """Adding tracking parameters, in any order, keeps the article id."""
        base = url.split("#")[0]
        sep = "&" if "?" in base else "?"
        tagged = base + (sep + "&".join(f"{t}=x" for t in tracking) if tracking else "")

        assert article_id(base) == article_id(tagged)

    @given(http_urls)
    @settings(max_examples=100, deadline=None)
    def test_query_order_does_not_change_the_id(self, url: str) -> None:
        """Shuffled query parameters name the same article."""
        base, _, query = url.split("#")[0].partition("?")
        pairs = query.split("&") if query else []
        random.Random(len(url)).shuffle(pairs)
        shuffled = base + ("?" + "&".join(pairs) if pairs else "")

        assert article_id(url) == article_id(shuffled)

    @pytest.mark.parametrize(
        ("left", "right"),
        [
            ("HTTP://Example.ORG:80/a/./b/../c?b=2&a=1#x", "http://example.org/a/c?a=1&b=2"),
            ("https://example.org:443/", "https://example.org/"),
            ("https://example.org/x?utm_source=rss&id=3", "https://example.org/x?id=3"),
        ],
        ids=["case-port-dots-order-fragment", "default-https-port", "tracking"],
    )
    def test_equivalent_forms_share_one_canonical_url(self, left: str, right: str) -> None:
        """Known equivalent spellings reduce to the same URL."""
        assert canonical_url(right) == canonical_url(left)

    def test_file_member_uris_keep_their_fragment(self) -> None:
        """An archive member's fragment names the member: it is kept."""
        uri = "file:///data/news.tar.gz#member=2024/a.html"

        assert uri == canonical_url(uri)


class TestContentHash:
    @given(st.text(max_size=300))
    @settings(max_examples=100, deadline=None)
    def test_ignores_case_and_spacing(self, text: str) -> None:
        """Re-spacing and upper-casing the words keeps the hash."""
        # Upper-casing is lossy for a few letters (dotless ı becomes I, which folds to i): not a case change.
        assume(text.upper().casefold() == text.casefold())
        respaced = "  ".join(text.split()).upper()

        assert content_hash(text.casefold()) == content_hash(respaced.casefold())
