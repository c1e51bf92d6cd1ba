"""
Find the headline a page shows: its `h1` (without kicker), checked against the titles it declares.

The declared titles (JSON-LD `headline`, `og:title`, `<title>`, …) often carry
the site name, a section or a date after a separator, and sometimes a kicker
before a colon; the `h1` often carries a kicker in its own element, or is a
logo or a breadcrumb item.  The rule: the first visible `h1` (or headline
element) that agrees with a declared title is the headline, its kicker
elements left out; failing that, the declared title without the site's name.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from worker.process.clean.chrome import holds_page, markup_marks
from worker.process.clean.hidden import UNSEEN_CLASS_RE, visible
from worker.process.clean.structured import PageData, texts

# Separators between a headline and a site name, section or date in declared titles.
_SEPARATOR_RE = re.compile(r"\s+(?:[|·›»~/:]|-{1,2}|–|—|::)\s+|\s*[|·›»]\s*|\s+[-–—]\s*(?=[A-Z])")
# Where a site name may stand apart in a declared title: the separators above, and a bullet
# ("Headline • Site"), which inside a headline ("Editor (ed.) • Book title") joins its parts.
_SITE_SEPARATOR_RE = re.compile(_SEPARATOR_RE.pattern + r"|\s+•\s+")
# Elements inside a headline that are not the headline (kicker, overline, section label).
_KICKER_CLASS_RE = re.compile(
    r"kicker|overline|dachzeile|roofline|topline|toptitle|top-title|pre-?title|supertitle|eyebrow"
    r"|sub-?head|sub-?title|sub-?line|strap|titleheader|entry-section|section|rubric|category|spitzmarke|flag|label"
    r"|highline",
    re.IGNORECASE,
)
# A heading classed as nothing but a kicker (`<h1 class="strapline">`) is not the headline.
_KICKER_HEADING_RE = re.compile(
    r"kicker|overline|dachzeile|roofline|topline|strapline|spitzmarke|eyebrow|supertitle|pre-?title",
    re.IGNORECASE,
)
# Ancestors (or the element itself) that hold page chrome, never the article's headline.
_CHROME_CONTEXT_RE = re.compile(
    r"breadcrumb|logo|brand|site-?title|site-?name|masthead|navbar|menu|sidebar|teaser|related"
    r"|section-?name|sectionname|footer|popular|trending",
    re.IGNORECASE,
)
# A comments section and its headings ("1 reply on “Headline”", "Leave a Reply"), by a class or id
# token: they quote the headline but are none.
_COMMENTS_TOKEN_RE = re.compile(
    r"^(?:comments?|respond|disqus_thread|commentlist|reply-title"
    r"|comments?[-_](?:area|section|wrapper|container|list|title|count|respond|reply-title|form|heading)"
    r"|comment[-_]reply[-_]title)$",
    re.IGNORECASE,
)
# Every match of `_COMMENTS_TOKEN_RE` holds one of these: one C search before the tokens are read.
_COMMENT_WORD_RE = re.compile(r"comment|respond|reply|disqus", re.IGNORECASE)
# The texts a reader sees after (or before) a headline, the nearest `$n`: its byline and date line sit
# there, up to the body's first paragraph, a text of more than `BODY_TEXT_LEN` characters.
TEXTS_AFTER = etree.XPath(
    "following::text()[normalize-space()][not(ancestor::script or ancestor::style)][position() <= $n]"
)
TEXTS_BEFORE = etree.XPath(
    "preceding::text()[normalize-space()][not(ancestor::script or ancestor::style)][position() <= $n]"
)
BODY_TEXT_LEN = 200
_HEADLINE_CLASS_RE = re.compile(r"headline|(?:^|[-_\s])title(?:$|[-_\s])", re.IGNORECASE)
# A camel-case name ending in "Title" (`id="ArticleTitle"`, `postTitle`): a word of its own too.
_CAMEL_TITLE_RE = re.compile(r"[a-z]Title(?:$|[-_\s])")
_DATE_SEGMENT_RE = re.compile(r"^[\d\s.,:/-]*(?:uhr|h)?$", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+")
# Scripts whose characters each carry about a word: CJK, kana, Hangul, Thai, Myanmar.
_DENSE_SCRIPT_RE = re.compile(
    "[\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_MAX_HEADLINE = 400
# A kicker set in its own element before the headline: a place or a topic of a few words.
_KICKER_WORDS = 3
# A kicker in front of the headline, in the same heading or the text's first line: at most this
# many characters.
MAX_KICKER = 60
# What follows a kicker in a declared title ("Frain. Headline", "Topic: Headline", "Site | Headline").
_TITLE_SEPARATORS = ".:|·-–—»"
_MIN_REST = 12
# A lone `h1` that agrees with no declared title is the headline when it shares this share of its
# words (Jaccard) with one; a site's name or a section's shares fewer.
_MIN_OVERLAP = 0.3
_HOST_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
# At most this many words may follow a site name inside a declared title ("Headline | Site | Shop now!").
_MAX_TAGLINE_WORDS = 5
_GENERIC_SITE_WORDS = frozenset({"www", "com", "de", "net", "org", "online", "news", "the"})


def normal(text: str) -> str:
    """Return text case-folded with only letters and digits, for comparing titles."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def _ascii(norm: str) -> str:
    """
    Spell a `normal` text as a host name would: umlauts as two letters, other accents dropped.

    So "Ökologisch Bauen" meets its host `oekologisch-bauen` and "Le Café" `lecafe`.
    """
    spelled = norm.translate(_HOST_SPELLING)
    return "".join(c for c in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(c))


def _classes(element: Any) -> str:
    return markup_marks(element)


def _hidden(element: Any) -> bool:
    style = (element.get("style") or "").replace(" ", "").casefold()
    return bool(
        UNSEEN_CLASS_RE.search(element.get("class") or "")
        or element.get("aria-hidden") == "true"
        or element.get("hidden") is not None
        or "display:none" in style
    )


def text_owner(piece: Any) -> Any:
    """Return the element a text of `TEXTS_AFTER` is written in: its parent's parent for a tail text."""
    owner = piece.getparent()
    return owner.getparent() if owner is not None and piece.is_tail else owner


def shown_headline(tree: Any, title: str | None = None) -> Any:
    """
    Return the headline element: the `h1` (else `h2`) showing the title, or the first `h1` of a few words.

    A site's logo is an `h1` of one or two words, sometimes three; the title, when
    known, tells the article's heading from it.  The date and byline readers look under it.
    """
    h1s = tree.xpath("//body//h1")
    if title:
        wanted = " ".join(title.split()).casefold()
        for heading in itertools.chain(h1s, tree.xpath("//body//h2")):
            shown = " ".join(heading.text_content().split()).casefold()
            # The heading may carry its kicker in front of the title.
            if shown == wanted or (shown.endswith(wanted) and len(shown) <= len(wanted) + MAX_KICKER):
                return heading
    return next((h for h in h1s if len(h.text_content().split()) >= 3), None)


def headline_text(element: Any) -> str:
    """
    Return the text of a headline element without its kicker, hidden parts, ruby readings and dates.

    A kicker is a child element classed as one, or the children before a
    hidden separator (`<strong>Topic</strong><span class="hidden">:</span> Headline`),
    or up to one that ends with it.  A `<time>` child is the post's date stamp set in
    the heading (`<h2><time>Jun 17</time>Headline</h2>`), not words of the headline;
    a date written in the headline's own text stays.
    """
    children = [c for c in element if isinstance(c.tag, str)]
    drop: set[int] = set()
    for i, child in enumerate(children):
        if _hidden(child) or child.tag in {"rt", "rp", "script", "style", "noscript", "time"}:
            drop.add(i)
            if _hidden(child) and i > 0 and len((child.text or "").strip()) <= 3:
                drop.update(range(i))
        elif _KICKER_CLASS_RE.search(child.get("class") or ""):
            drop.add(i)
        elif (i < len(children) - 1 or (child.tail or "").strip()) and _ends_with_hidden_separator(child):
            # `<span>Topic<span class="visually-hidden">: </span></span><span>Headline</span>`, or the
            # headline as the kicker's tail (`<h1><span>Topic<span class="sr">:</span></span>Headline</h1>`)
            drop.update(range(i + 1))
    parts = [element.text or ""]
    for i, child in enumerate(children):
        if i not in drop:
            parts.append(_plain_text(child))
        parts.append(child.tail or "")
    # A separator left between a dropped kicker and the headline (`<span>: </span>`) goes too.
    text = " ".join(visible("".join(parts)).split()).strip(" :|·-–—")
    return text or " ".join(visible("".join(element.itertext())).split())


def _ends_with_hidden_separator(element: Any) -> bool:
    """Tell whether an element's last content is a hidden separator of a few characters (`: `)."""
    last = element[-1] if len(element) else None
    while last is not None and isinstance(last.tag, str) and not (last.tail or "").strip():
        if _hidden(last):
            return 0 < len((last.text or "").strip()) <= 3
        last = last[-1] if len(last) else None
    return False


def _plain_text(element: Any) -> str:
    parts = [element.text or ""]
    for child in element:
        if (
            isinstance(child.tag, str)
            and child.tag not in {"rt", "rp", "script", "style"}
            and not _hidden(child)
        ):
            parts.append(_plain_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _in_chrome(element: Any) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in {"body", "html"}:
            break
        if node.tag in {"nav", "footer", "aside"}:
            return True
        if _CHROME_CONTEXT_RE.search(_classes(node)) and not holds_page(node):
            return True
        if node.tag == "header" and node.get("role") == "banner":
            return True
        marks = _classes(node)
        if _COMMENT_WORD_RE.search(marks) and any(_COMMENTS_TOKEN_RE.match(t) for t in marks.split()):
            return True
    return _hidden(element)


def site_names(data: PageData, url: str) -> list[str]:
    """Return the names a page uses for its site: `og:site_name`, publisher, app name, host."""
    names = data.all("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher")
    names += [n.lstrip("@") for n in data.all("twitter:site")]
    if data.article is not None:
        names += texts(data.article.get("publisher"))
    for node in data.nodes:
        if {"website", "newsmediaorganization", "organization"} & {
            str(t).casefold() for t in ([node.get("@type")] if isinstance(node.get("@type"), str) else [])
        }:
            names += texts(node.get("name"))
            names += texts(node.get("alternateName"))
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names.append(host)
        labels = [p for p in host.split(".") if p not in _GENERIC_SITE_WORDS and len(p) > 2]
        names += labels[-1:]
    return [n for n in dict.fromkeys(n.strip() for n in names) if n]


def _is_site_segment(segment: str, names: Iterable[str]) -> bool:
    if not normal(segment) or _DATE_SEGMENT_RE.match(segment.strip()):
        return True
    return _is_site_name(segment, names)


@functools.lru_cache(maxsize=4096)
def _site_key(text: str) -> str:
    """Return a text spelled for comparing with site names (`normal`, then as a host spells it)."""
    return _ascii(normal(text))


def _is_site_name(segment: str, names: Iterable[str]) -> bool:
    seg = _site_key(segment)
    if not seg:
        return False
    for name in names:
        norm = _site_key(name)
        if len(norm) < 2:
            continue
        if seg == norm or (len(norm) >= 4 and (norm in seg or seg in norm) and len(seg) <= len(norm) + 25):
            return True
    return False


def strip_site(title: str, names: Iterable[str]) -> str:
    """
    Remove site names, dates and empty parts around separators at either end of a declared title.

    `Headline | Site`, `Site - Headline`, `Headline – Site – 13.06.2023` give
    `Headline`; a part is removed only when it matches a known site name (or is
    a date), so a headline with a dash of its own keeps it.  A short tagline
    after the site name (`Headline | Site | Shop now!`) goes with it.
    """
    names = list(names)
    parts = _SITE_SEPARATOR_RE.split(title)
    if len(parts) == 1:
        return title.strip()
    seps = _SITE_SEPARATOR_RE.findall(title)
    start, end = 0, len(parts)
    while end - start > 1 and _is_site_segment(parts[end - 1], names):
        end -= 1
    for i in range(end - 1, 0, -1):
        if len(" ".join(parts[i + 1 : end]).split()) > _MAX_TAGLINE_WORDS:
            break
        if _is_site_name(parts[i], names) and normal(" ".join(parts[:i])):
            end = i
            break
    while end - start > 1 and _is_site_segment(parts[start], names):
        start += 1
    if (start, end) == (0, len(parts)):
        return title.strip()
    kept = parts[start]
    for i in range(start + 1, end):
        kept += seps[i - 1] + parts[i]
    return kept.strip(" |·›»~-–—:")


def _site_wide_og(data: PageData, url: str) -> bool:
    """
    Tell whether the page's Open Graph tags describe its site's home page, not the page.

    A template that prints the same `og:url` (the site's root) on every page prints the
    site's `og:title` with it: on an article's URL that title is not the article's.
    """
    og_url = data.first("og:url")
    if not og_url or not url:
        return False
    declared, page = urlsplit(og_url), urlsplit(url)
    return (
        declared.path in {"", "/"} and not declared.query and (page.path not in {"", "/"} or bool(page.query))
    )


def declared_titles(data: PageData, tree: Any, hint: str | None, url: str = "") -> list[str]:
    """Return the titles a page (and its feed entry) declares, most specific first."""
    found: list[str] = []
    if data.article is not None:
        found += texts(data.article.get("headline"))[:1]
    found += data.all("og:title", "twitter:title", "parsely-title", "sailthru.title", "dc.title")
    if _site_wide_og(data, url):
        # The home page's title, however many tags repeat it, is not this page's.
        site_wide = set(data.all("og:title"))
        found = [t for t in found if t not in site_wide]
    found += data.microdata.get("headline", [])[:1]
    found += [" ".join("".join(t.itertext()).split()) for t in tree.xpath("//head/title")[:1]]
    if hint:
        found.append(hint)
    if data.article is not None:
        found += texts(data.article.get("name"))[:1]
    return [t for t in dict.fromkeys(found) if t]


def _agrees(text: str, variants: set[str]) -> bool:
    """Tell whether a shown headline is, or is part of, a declared title (or the reverse)."""
    norm = normal(text)
    if len(norm) < 4:
        return False
    # Twelve letters make a distinctive phrase; in scripts of dense characters (CJK, Hangul, Thai)
    # four do.  Accented Latin ("Rondônia", a section's name) is held to twelve like plain ASCII.
    least = 4 if _DENSE_SCRIPT_RE.search(norm) else 12
    return any(
        norm == v or (len(norm) >= least and len(v) >= least and (norm in v or v in norm)) for v in variants
    )


def _candidates(tree: Any) -> Iterator[list[Any]]:
    """
    Yield headline candidates in three tiers, each looked for only when the tiers before gave none.

    First `h1`s outside page chrome, then other headline elements (`itemprop=headline`,
    a headline or title class or id) outside chrome, then `h1`s inside chrome (some
    sites put the article's `h1` in a breadcrumb or a teaser block).  Most pages
    stop at the first tier, before the search over every element the second takes.
    """
    h1s = [
        h
        for h in tree.iter("h1")
        if normal("".join(h.itertext())) and not _KICKER_HEADING_RE.search(h.get("class") or "")
    ]
    clear = [h for h in h1s if not _in_chrome(h)]
    yield clear
    others = [
        e
        for e in tree.xpath(
            "//*[@itemprop='headline'][not(self::meta)]"
            " | //*[self::h2 or self::div or self::span]"
            "[contains(translate(@class, 'HEADLINTU', 'headlintu'), 'headline')"
            " or contains(translate(@class, 'TILE', 'tile'), 'title')"
            " or contains(translate(@id, 'HEADLINTU', 'headlintu'), 'headline')"
            " or contains(translate(@id, 'TILE', 'tile'), 'title')]"
        )
        if e.tag != "h1"
        and (
            e.get("itemprop") == "headline"
            or any(
                _HEADLINE_CLASS_RE.search(name) or _CAMEL_TITLE_RE.search(name)
                for name in (e.get("class") or "", e.get("id") or "")
            )
        )
        and len(e) <= 6
        and len("".join(e.itertext())) <= _MAX_HEADLINE
        and not _in_chrome(e)
    ]
    yield others[:200]
    yield [h for h in h1s if h not in clear and not _hidden(h)]


def _variants(titles: list[str], stripped: list[str]) -> set[str]:
    """Return the normal forms a shown headline may take: each declared title, whole and without the site."""
    variants: set[str] = set()
    for title, without_site in zip(titles, stripped, strict=True):
        for value in (title, without_site):
            variants.add(normal(value))
            # `Kicker: Headline` in a declared title: the headline alone may be what is shown.
            head, sep, rest = value.partition(": ")
            if sep and len(rest) > len(head):
                variants.add(normal(rest))
    variants.discard("")
    return variants


def resolve_title(tree: Any, data: PageData, url: str, hint: str | None = None) -> str | None:
    """
    Return the article's headline as the page shows it, or None.

    Args:
        tree: the parsed page.
        data: its structured data.
        url: the page's URL (its host is one of the site's names).
        hint: the feed entry's title.
    """
    names = site_names(data, url)
    titles = declared_titles(data, tree, hint, url)
    stripped = [strip_site(t, names) for t in titles]
    variants = _variants(titles, stripped)
    # The declared titles without the site's name, for a candidate that is the site's name: a brand
    # block ("DER SPIEGEL 52/2018") agrees with `Headline - DER SPIEGEL 52/2018` only in the part
    # that names the site.
    normals = {normal(s) for s in stripped}
    headlines = normals - {""}
    tiers = _candidates(tree)
    h1s = next(tiers)
    # Of a tier's elements agreeing with a declared title, the first agreeing with the first title
    # (JSON-LD's `headline`, `og:title`: the story alone) wins; the document's `<title>` often adds a
    # blog's own name ("Blog Name: Headline"), which the blog shows in an `h1` above the post's.
    first = _variants(titles[:1], stripped[:1])
    for group in itertools.chain([h1s], tiers):
        agreeing: tuple[Any, str] | None = None
        for element in group:
            shown, full = headline_text(element), " ".join("".join(element.itertext()).split())
            if not (_agrees(shown, variants) or _agrees(full, variants)):
                continue
            if _is_site_name(shown, names) and not (_agrees(shown, headlines) or _agrees(full, headlines)):
                continue
            if _agrees(shown, first) or _agrees(full, first):
                return _narrowest(element, shown, variants, titles)
            agreeing = agreeing or (element, shown)
        if agreeing:
            return _narrowest(*agreeing, variants, titles)
    if h1s and not titles:
        return headline_text(h1s[0])
    if h1s and len(h1s) == 1:
        only = headline_text(h1s[0])
        # An SEO title reworded from the headline ("Wärmepumpe im Altbau - Wann es sich lohnt" over
        # "Eignet sich eine Wärmepumpe im Altbau?") still shares a third of its words with it, or
        # with one of its parts ("Zaubernuss im Winter » Wann blüht die Hamamelis?" over "Wie pflege
        # ich meine Zaubernuss im Winter?").
        parts = [p for t in stripped for p in _SEPARATOR_RE.split(t) if len(p.split()) >= 3]
        if _overlap(only, [*titles, *stripped, *parts]) >= _MIN_OVERLAP and not _is_site_name(only, names):
            return only
    if shown_part := _segment_shown(tree, titles, normals, names):
        return shown_part
    if slug_part := _segment_in_slug(stripped, url):
        return slug_part
    for without_site in stripped:
        if normal(without_site):
            return without_site
    if not h1s:
        # A page that declares no title and shows no `h1`: its first heading outside chrome.
        for heading in tree.iter("h2", "h3"):
            if normal(shown := headline_text(heading)) and not _in_chrome(heading):
                return shown
    return None


def _segment_shown(tree: Any, titles: list[str], whole: set[str], names: list[str]) -> str | None:
    """
    Return the part of a declared title between separators that a heading of the page shows alone.

    `<title>Headline | Some Association (SA)</title>` above an empty `h1` and `<h2>Headline</h2>`:
    the site's name is in no form the page states elsewhere, but the heading shows which part is
    the headline.  Only parts of a title with a separator count, none naming the site (a logo's
    `<h1>` shows that one), and only headings outside chrome; a heading showing a whole declared
    title ("Column: Name - Headline") keeps it whole: `whole` holds the declared titles' normal
    forms without the site's name.
    """
    parts = {
        normal(part): part
        for title in titles
        if len(pieces := _SEPARATOR_RE.split(title)) > 1
        for part in pieces
        if len(normal(part)) >= _MIN_REST and not _is_site_name(part, names)
    }
    if not parts:
        return None
    found = None
    for heading in tree.iter("h1", "h2", "h3"):
        shown = normal(headline_text(heading))
        if shown in whole:
            return None
        if found is None and shown in parts and not _in_chrome(heading):
            found = " ".join(parts[shown].split())
    return found


def _slug_words(text: str) -> list[str]:
    """Return a text's words spelled as a URL slug spells them (`ermöglicht` as `ermoeglicht`)."""
    return [spelled for w in _WORD_RE.findall(text) if (spelled := _ascii(normal(w)))]


def _segment_in_slug(titles: list[str], url: str) -> str | None:
    """
    Return the part of a declared title that the page's URL spells as its slug, the others not.

    `<title>Some Council Group - Headline of the post</title>` on
    `/aktuelles/headline-of-the-post/`: no heading shows either part and the site's name is
    in no form the page states, but the slug names the story.  A part counts when the slug
    holds at least 80 % of its words (slugs drop a word or two) and every other part at most
    a third of theirs, so a title whose parts the slug spells alike ("Brexit: what happens
    next" on `/brexit-what-happens-next`) is left whole.
    """
    path = urlsplit(url).path
    slugs = [set(words) for seg in path.split("/") if len(words := _slug_words(seg)) >= 3]
    if not slugs:
        return None
    for title in titles:
        parts = _SEPARATOR_RE.split(title)
        if len(parts) < 2:
            continue
        part_words = [_slug_words(part) for part in parts]
        for slug in slugs:
            shares = [(sum(w in slug for w in words) / len(words)) if words else 0.0 for words in part_words]
            best = max(range(len(parts)), key=shares.__getitem__)
            if (
                len(part_words[best]) >= 3
                and shares[best] >= 0.8
                and all(share <= 1 / 3 for i, share in enumerate(shares) if i != best)
            ):
                return " ".join(parts[best].split())
    return None


def _narrowest(element: Any, shown: str, variants: set[str], titles: Iterable[str] = ()) -> str:
    """
    Return the part of a headline element that is exactly a declared title, else all it shows.

    A title block often holds the headline's `h2` beside its category and comment links; the
    heading inside a block is read first, since its own kicker and hidden separator are told
    apart there (`<div><h2><span>Kicker<span hidden>: </span></span>Headline</h2></div>`).
    """
    inner_texts = [headline_text(inner) for inner in element.iterdescendants("h1", "h2", "h3", "h4")]
    for text in inner_texts:
        if normal(text) in variants:
            return text
    # A heading in the block that agrees with a declared title only in part: its own kicker
    # (`<h2><span class="subline">Kicker</span><span>Headline</span></h2>`) is told apart there.
    for text in inner_texts:
        if _agrees(text, variants) and len(text) < len(shown):
            return text
    if rest := _after_leading_kicker(element, titles):
        return rest
    # The headline's own text before a line break, the date and categories after it in a `<small>`.
    lead = " ".join(visible(element.text or "").split())
    if len(element) and normal(lead) in variants and normal(lead) != normal(shown):
        return lead
    if normal(shown) in variants:
        return shown
    for inner in element.iterdescendants("a"):
        text = headline_text(inner)
        if normal(text) in variants:
            return text
    return shown


def _after_leading_kicker(element: Any, titles: Iterable[str]) -> str | None:
    """
    Return a heading's text after a short leading element that a declared title sets apart.

    `<h1><span class="headline">Frain</span> Incendie dans une maison</h1>` with the title
    "Frain. Incendie dans une maison": the place (or topic) in its own element is a kicker
    when a declared title ends with what follows it, after a separator (". ", ": ", " | ",
    " - ").  A first word styled apart ("<span>Ehezoff</span> der Pochers …", declared as one
    run) is the headline's own.
    """
    children = [c for c in element if isinstance(c.tag, str)]
    if (element.text or "").strip() or not children or not (children[0].tail or "").strip():
        return None
    kicker = " ".join(visible("".join(children[0].itertext())).split())
    if not kicker or len(kicker.split()) > _KICKER_WORDS:
        return None
    after = (children[0].tail or "") + "".join(_plain_text(c) + (c.tail or "") for c in children[1:])
    rest = " ".join(visible(after).split())
    if len(rest) < _MIN_REST:
        return None
    for title in titles:
        flat = " ".join(visible(title).split())
        before = flat[: -len(rest)].rstrip() if flat.casefold().endswith(rest.casefold()) else ""
        if before and before[-1] in _TITLE_SEPARATORS:
            return rest
        # `<h1><span>Initiative X</span> Longer headline</h1>` declared "Initiative X - headline | Site".
        after_kicker = flat[len(kicker) :].lstrip() if flat.casefold().startswith(kicker.casefold()) else ""
        if after_kicker[:1] in set(_TITLE_SEPARATORS) and len(normal(after_kicker)) >= _MIN_REST:
            return rest
    return None


def _overlap(text: str, titles: list[str]) -> float:
    words = set(_WORD_RE.findall(text.casefold()))
    if not words:
        return 0.0
    best = 0.0
    for title in titles:
        other = set(_WORD_RE.findall(title.casefold()))
        if other:
            best = max(best, len(words & other) / len(words | other))
    return best
