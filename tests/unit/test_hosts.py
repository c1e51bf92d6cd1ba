"""`hosts.http_host` must always agree with `urlsplit(url).hostname` for http(s) URLs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.hosts import http_host


def reference(url: str) -> str | None:
    parts = urlsplit(url)
    return parts.hostname if parts.scheme in {"http", "https"} else None


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.com/feed.xml",
        "HTTP://News.Example.COM:8080/a?b#c",
        "https://example.com",
        "https://example.com?x=1",
        "https://example.com:/x",
        "https://user:pw@example.com/x",
        "https://[::1]:8080/x",
        "https://exa_mple.com/x",
        "https://example.com:abc/x",
        "http:///no-host",
        "ftp://example.com/x",
        "file:///tmp/feed.xml",
        "/tmp/archive",
        "https://bücher.example/x",
        "https://example.com\\@evil.test/",
    ],
)
def test_known_shapes(url: str) -> None:
    assert reference(url) == http_host(url)


_host_chars = st.sampled_from("abcXYZ019.-_@:[]%/?#\\ ")


@given(
    scheme=st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
    host=st.text(_host_chars, max_size=20),
    rest=st.text(_host_chars, max_size=10),
)
def test_agrees_with_urlsplit(scheme: str, host: str, rest: str) -> None:
    url = f"{scheme}://{host}{rest}"
    try:
        expected = reference(url)
    except ValueError as refused:  # urlsplit refuses some bracketed hosts: so must the fast path
        with pytest.raises(ValueError, match=re.escape(str(refused))):
            http_host(url)
        return
    assert expected == http_host(url)
