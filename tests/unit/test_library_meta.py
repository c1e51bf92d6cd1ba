"""trafilatura's reading of a page's metadata, its costly searches run on first access only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import trafilatura
from trafilatura.metadata import extract_metadata

from worker.process.clean import library_meta
from worker.process.clean.html import clean_html, load_html, trafilatura_options
from worker.process.clean.library_meta import LibraryMetadata

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PARAMS = trafilatura_options(NOW)["date_extraction_params"]

STATED = """<html><head><title>Ferry line approved | Harbour Times</title>
<meta property="og:site_name" content="@harbourtimes">
<meta name="description" content="The council voted 7 to 2 &amp; the line opens in May.">
<link rel="canonical" href="https://harbour.example/news/ferry-line-approved">
</head><body><article><h1>Ferry line approved</h1>
<p class="byline">By <a href="/authors/jane-doe">Jane Doe</a></p>
<p>Published 14 January 2020</p>
<p>The council voted on Tuesday to approve the new ferry line across the bay, which opens in May.</p>
</article></body></html>"""

BARE = """<html><head><title>Notes</title></head><body><div class="post">
<h2>Notes from the harbour</h2><p>Posted on 3 March 2021 by the harbour master.</p>
<p>The tide tables for spring are out, and the new pier lights are working again.</p>
</div></body></html>"""


URL = "https://harbour.example/news/ferry-line-approved"


def library(html: str, url: str | None = URL) -> LibraryMetadata:
    return LibraryMetadata(load_html(html), url, PARAMS)


@pytest.mark.parametrize("html", [STATED, BARE])
def test_the_fields_are_trafilaturas_own(html: str) -> None:
    """Each field is what `extract_metadata` gives for the page, trimmed and unescaped alike."""
    url = URL
    whole = extract_metadata(load_html(html), url, dict(PARAMS))
    meta = library(html, url)

    for key in ("title", "url", "description", "sitename", "author", "date"):
        assert getattr(whole, key) == meta[key], key


def test_the_date_and_byline_searches_wait_until_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the mapping reads only what the page states; the searches run once, when first read."""
    calls: list[str] = []

    def counted(name: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return fn(*args, **kwargs)

        return run

    monkeypatch.setattr(library_meta, "find_date", counted("date", library_meta.find_date))
    monkeypatch.setattr(library_meta, "extract_author", counted("author", library_meta.extract_author))
    meta = library(BARE)
    assert [] == calls

    first, again = meta["date"], meta["date"]
    assert "2021-03-03" == first == again
    assert ["date"] == calls
    meta["author"]
    assert ["date", "author"] == calls


def test_other_keys_are_missing() -> None:
    meta = library(STATED)

    assert meta.get("categories") is None
    assert {"title", "author", "url", "description", "sitename", "date", "text"} == set(meta)


def test_the_pipeline_reads_the_text_and_metadata_trafilatura_gives_as_a_whole() -> None:
    """`clean_html`, asking for the text alone, finds what it found with trafilatura's whole metadata."""
    url = URL
    whole = trafilatura.bare_extraction(STATED, url=url, **trafilatura_options(NOW))
    text_only = trafilatura.bare_extraction(STATED, url=url, **trafilatura_options(NOW, with_metadata=False))

    assert whole is not None
    assert text_only is not None
    assert whole.text == text_only.text
    assert text_only.title is None
    ex = clean_html(STATED, url, now=NOW)
    assert ("Ferry line approved", ("Jane Doe",)) == (ex.title, ex.authors)
    assert "https://harbour.example/news/ferry-line-approved" == ex.canonical_url
    assert (ex.published or "").startswith("2020-01-14")


class _Untouchable(dict[str, Any]):
    """trafilatura's findings, failing the test when a search the resolver should skip is read."""

    def get(self, key: str, default: Any = None) -> Any:
        assert key not in {"date", "author"}, f"{key} searched though the page states it"
        return super().get(key, default)


def test_the_resolver_asks_for_the_searches_only_when_the_page_states_nothing() -> None:
    from worker.process.clean.metadata import resolve

    html = STATED.replace(
        "</head>",
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry line approved",'
        ' "datePublished": "2020-01-14T09:30:00+01:00", "author": {"@type": "Person", "name": "Jane Doe"}}'
        "</script></head>",
    )

    found = resolve(load_html(html), URL, now=NOW, found=_Untouchable())

    assert ("Jane Doe",) == found.authors
    assert "2020-01-14T09:30:00+01:00" == found.published
