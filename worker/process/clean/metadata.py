"""
Resolve an article's metadata from all the evidence its page and feed entry carry.

Pure functions over the parsed page, its URL and optional feed hints.  Each
field has its own precedence, written down in the module that resolves it:

    title      headline.resolve_title: the shown h1 checked against declared titles,
               then declared titles without the site name, then trafilatura, then the feed
    authors    bylines.resolve_authors: JSON-LD/microdata/meta persons the page shows, byline
               markup, the feed, the text's byline, then trafilatura; organisations → publisher
    published  pubdate.resolve_dates: explicit page and feed statements by precision,
    updated    heuristic dates only without any explicit one
    tags       topics.resolve_tags: the article's topic links, else its structured tags
    section    topics.resolve_section: articleSection, article:section, Parse.ly
    publisher  JSON-LD publisher, an organisation given as author, og:site_name
    image      JSON-LD image (url, caption, credit), then og:image / twitter:image
    free       JSON-LD isAccessibleForFree (also on a paywalled part), article:content_tier

No rule is keyed on a host name: the same rules must hold on sites never seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from worker.process.clean.bylines import (
    name_key,
    resolve_authors,
    shown_names,
    sort_names,
    squashed_key,
    structured_authors,
)
from worker.process.clean.headline import resolve_title, site_names, strip_site
from worker.process.clean.pubdate import resolve_dates
from worker.process.clean.structured import PageData, clean_value, node_types, read_page, texts
from worker.process.clean.topics import resolve_section, resolve_tags

# trafilatura names every person of every JSON-LD node; more than this many is a page of teasers.
MAX_GUESSED_AUTHORS = 4
_LANG_DAY_LAST = ("en-us", "en")


@dataclass(frozen=True)
class Hints:
    """
    What the feed entry (or archive record) says about the article; explicit statements.

    `from_feed` marks an item a feed listed as an entry: it is an article
    unless its page is clearly not one.
    """

    title: str | None = None
    published: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    from_feed: bool = False


@dataclass(frozen=True)
class Image:
    """The article's lead image."""

    url: str
    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class Metadata:
    """Every field the resolver decided; None (or empty) where the evidence says nothing."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    publisher: str | None = None
    published: str | None = None
    updated: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image: Image | None = None
    site_name: str | None = None
    description: str | None = None
    is_accessible_for_free: bool | None = None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in {"true", "false", "yes", "no"}:
        return value.strip().casefold() in {"true", "yes"}
    return None


def accessible_for_free(data: PageData) -> bool | None:
    """Return JSON-LD `isAccessibleForFree` (a paywalled `hasPart` makes it False), else the content tier."""
    article = data.article or {}
    free = _bool(article.get("isAccessibleForFree"))
    parts = article.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _bool(part.get("isAccessibleForFree")) is False:
            free = False
    if free is None and (tier := data.first("article:content_tier")):
        free = {"free": True, "locked": False, "metered": False}.get(tier.casefold())
    return free


def resolve_image(data: PageData) -> Image | None:
    """Return the lead image: JSON-LD `image` with caption and credit, else `og:image`."""
    article = data.article or {}
    value = article.get("image")
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, dict):
        url = (texts(first.get("url")) or texts(first.get("contentUrl")))[:1]
        if url:
            credit = (
                texts(first.get("creditText"))
                or texts(first.get("copyrightHolder"))
                or texts(first.get("author"))
                or texts(first.get("creator"))
            )
            caption = texts(first.get("caption")) or texts(first.get("description"))
            return Image(url[0], caption[0] if caption else None, credit[0] if credit else None)
    elif isinstance(first, str) and first.startswith(("http", "/")):
        return Image(first, data.first("og:image:alt"))
    url_value = data.first(
        "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"
    )
    if url_value:
        return Image(url_value, data.first("og:image:alt", "twitter:image:alt"))
    return None


def _not_restated(guesses: list[str], data: PageData, names: list[str]) -> list[str]:
    """
    Drop the guesses that only restate an organisation's author string of the structured data.

    trafilatura reads `<meta name="author" content="Site, Frankfurt a. M., Germany">` as
    "Site; Frankfurt a M; Germany", and splits the place again at its "a": a company's address,
    in which `resolve_authors` found an organisation and no person, comes back as two "names".
    """
    persons, orgs = structured_authors(data)
    stated = [set(name_key(s).split()) for s in (*persons, *orgs) if sort_names([s], names).organisations]
    return [g for g in guesses if not any(set(name_key(g).split()) <= words for words in stated)]


def _personal_publishers(data: PageData) -> list[str]:
    """Return the names of the article's publishers that JSON-LD types as a person (a personal blog's)."""
    publisher = (data.article or {}).get("publisher")
    return [
        name
        for item in (publisher if isinstance(publisher, list) else [publisher])
        if isinstance(item, dict) and "person" in node_types(item)
        for name in texts(item.get("name"))
    ]


def resolve_publisher(data: PageData, organisations: tuple[str, ...]) -> str | None:
    """Return the publishing organisation: JSON-LD publisher, an organisation author, the site name."""
    article = data.article or {}
    publisher = article.get("publisher")
    for item in publisher if isinstance(publisher, list) else [publisher]:
        if isinstance(item, dict) and (names := texts(item.get("name"))):
            return names[0]
        if isinstance(item, str) and item.strip() and not item.startswith("http"):
            return clean_value(item)
    for node in data.nodes:
        if "newsmediaorganization" in node_types(node) and (names := texts(node.get("name"))):
            return names[0]
    return organisations[0] if organisations else data.first("og:site_name")


def _dayfirst(tree: Any) -> bool:
    """Tell whether `03/04/2020` on this page is the 3rd of April: everywhere but US English."""
    langs = tree.xpath("/html/@lang | /html/@xml:lang")
    lang = str(langs[0]).strip().casefold() if langs else ""
    return lang not in _LANG_DAY_LAST


def resolve(
    tree: Any,
    url: str,
    *,
    now: datetime,
    hints: Hints | None = None,
    found: Mapping[str, Any] | None = None,
    body_authors: tuple[str, ...] = (),
    data: PageData | None = None,
) -> Metadata:
    """
    Return the article's metadata from the page, its feed hints and trafilatura's findings.

    Args:
        tree: the parsed page.
        url: where it was read.
        now: the reference time (no later date is accepted).
        hints: the feed entry's statements.
        found: trafilatura's metadata of the page (heuristic evidence, used last).
        body_authors: authors read off the text's own byline and sign-off lines.
        data: the page's structured data, when the caller has read it already (`read_page`).
    """
    hints = hints or Hints()
    found = found or {}
    data = data or read_page(tree, url)
    names = site_names(data, url)
    title = resolve_title(tree, data, url, hints.title)
    if title is None and found.get("title"):
        title = strip_site(str(found["title"]), names)
    # A personal site's publisher is its author: a name of the site, and a person's, whose host may
    # be named after it ("Helge Fahrnberger" on helge.at).
    personal = [squashed_key(p) for p in _personal_publishers(data)]
    author_sites = [n for n in names if not ((key := squashed_key(n)) and any(key in p for p in personal))]
    authors = resolve_authors(
        tree, data, site_names=author_sites, feed=hints.authors, body=body_authors, title=title
    )
    # Its guesses come from the same structured data: the page must show them too.  A long list is every
    # teaser's author on a page of many stories' nodes, not this article's byline.
    persons = authors.persons
    if not persons:
        # trafilatura's guesses title-case user names ("fhaacker" becomes "Fhaacker"): one word is not enough.
        guesses = [a for a in str(found.get("author") or "").split(";") if len(a.split()) > 1]
        if len(guesses) <= MAX_GUESSED_AUTHORS:
            guessed = list(sort_names(_not_restated(guesses, data, author_sites), author_sites).persons)
            persons = tuple(shown_names(tree, guessed, as_written=True))
    dates = resolve_dates(
        tree,
        data,
        url,
        now=now,
        feed=hints.published,
        heuristic=lambda: _str(found.get("date")),
        text=str(found.get("text") or ""),
        dayfirst=_dayfirst(tree),
        title=title,
    )
    section = resolve_section(data)
    description = data.first("og:description", "description", "twitter:description") or _str(
        found.get("description")
    )
    return Metadata(
        title=title or hints.title,
        authors=persons,
        publisher=resolve_publisher(data, authors.organisations),
        published=dates.published,
        updated=dates.updated,
        section=section,
        tags=tuple(resolve_tags(tree, data, url, section=section, site_names=names)),
        image=resolve_image(data),
        site_name=data.first("og:site_name") or _str(found.get("sitename")),
        description=clean_value(description) if description else None,
        is_accessible_for_free=accessible_for_free(data),
    )


def _str(value: object) -> str | None:
    return str(value).strip() or None if value else None
