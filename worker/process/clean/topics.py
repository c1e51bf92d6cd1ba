"""
Read an article's tags and section: its own topic links, `article:tag`, keywords, Parse.ly and Sailthru.

Tags are the publisher's terms for this article.  The topic links the article
shows ("Themen", "Tags", "Temas relacionados") come first; without them the
structured statements (`article:tag`, news keywords, JSON-LD, Parse.ly and
Sailthru, and last the plain `keywords` meta tag); joined keywords are split,
navigation and the section are left out (the section is a field of its own).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from worker.process.clean.chrome import TAG_LIST_HEADINGS
from worker.process.clean.headline import strip_site
from worker.process.clean.hidden import COLLAPSED_CLASS_RE, visible
from worker.process.clean.structured import PageData, texts
from worker.process.enrich.tags import normalise_tag

MAX_TAGS = 30
# More links than this in one list make it a menu of the site's topics (and more keywords, no tag list).
_MAX_GROUP = 20
# A tag box holds its links within this many levels.
_BOX_DEPTH = 6
_SPLIT_RE = re.compile(r"\s*[,;|]\s*")
_TAG_PATH_RE = re.compile(
    r"(?:^|/)(?:mot|tags?|topics?|themen|thema|schlagw(?:ort|oerter|örter)e?|stichw(?:ort|oerter)e?|keywords?"
    r"|etiquetas?|temas?|t[oó]picos?|argomenti|tematy|tagi|mots?-cl[eé]s?|sujets?|schwerpunkt|dossier"
    r"|aiheet|aihe|emner?|[aä]mnen?|onderwerpen?)[/=]",
    re.IGNORECASE,
)
# A class or id naming a box of tags: `tags`, `entry-tags`, `tag-list`, `post-terms`, `schlagworte`.
# (`tag-coronavirus` on a WordPress `<article>` names one tag of the whole article, not a box.)
_TAG_BOX_RE = re.compile(
    r"^(?:[\w-]*[-_])?(?:tags|tags?-?list|tag-?box|tag-?links|topics|topic-?list|keywords"
    r"|schlagw\w*|stichw\w*|themen|etiquetas|temas|tematy|tagi|argomenti|mots-?cles|subjects|post-?terms?)"
    r"(?:[-_][\w-]*)?$"
    # The story's box named for its kind of item ("article__tag", "post-tag"): not one item's pill
    # ("v-tag", "video-tag", "field-tag"), nor a WordPress wrapper's `tag-coronavirus` (one term).
    r"|^(?:article|post|entry|story|news)[-_]+tag$"
    # The collections a story is filed in, listed after it ("related-collection": its topic pages), as
    # against the related stories other `related-*` boxes list.
    r"|^related[-_]+collections?$",
    re.IGNORECASE,
)
_CHROME_RE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|header|footer|sidebar|related|teaser|trending|popular"
    r"|breadcrumbs?|megamenu|site-?map|seo|recommend\w*|most-\w+)(?:$|[\s_-])",
    re.IGNORECASE,
)
# Every match of `_TAG_BOX_RE` or `_CHROME_RE` holds one of these words, in lower case.
_MARK_WORD_RE = re.compile(
    r"tag|topic|keyword|schlagw|stichw|themen|etiquetas|tema|argomenti|mots|subject|term"
    r"|nav|menu|header|footer|sidebar|related|teaser|trending|popular|breadcrumb|map|seo|recommend|most-"
)
# Elements that are chrome by their tag (a `<footer>` unless it is the article's own).
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside"})
# A box named for the site's current or popular topics ("view-live-box-top-themen", "trending-tags",
# "popular-topics"): the same links on every page (often other stories' headlines), not this story's.
_SITE_TOPICS_TOKEN_RE = re.compile(
    r"(?:^|[-_])(?:top|trending|popular|hot|beliebte|aktuelle)[-_]?(?:themen|topics|tags)(?:$|[-_])",
    re.IGNORECASE,
)
# A class naming a side column ("sidebar-item", "article-sidebar"): inside the story's `<article>`,
# its labelled lists ("Schlagworte") are the story's own, as in an `<aside>` there.
_SIDEBAR_RE = re.compile(r"(?:^|[\s_-])sidebar(?:$|[\s_-])", re.IGNORECASE)
# A class naming a menu's item or the site's navigation ("menu-item-object-topics", "nav-keywords")
# marks no tag box, whatever else it says.
_MENU_TOKEN_RE = re.compile(r"menu|nav", re.IGNORECASE)
# The classes WordPress's `post_class()` prints on a post's wrapper: the post's own terms follow as
# `{taxonomy}-{term}` ("topics-umwelt", "tag-clickbait"), one term each, so the wrapper is no box.
_POST_WRAPPER_RE = re.compile(r"(?:^|\s)(?:hentry|type-post|post-\d+)(?:$|\s)")
# The article's own footer or header (WordPress's `entry-footer`, "post-footer", a content column's
# "column-header"): where its date, tags and categories are printed, not the site's footer or header.
_ENTRY_FOOTER_RE = re.compile(r"^(?:entry|post|article|story)[-_]*footer|^column[-_]+header", re.IGNORECASE)
# Links to the site's legal and service pages: a box or list holding two is the site's footer menu.
_SERVICE_RE = re.compile(
    r"^(?:impressum|imprint|datenschutz\w*|privacy(?: policy)?|cookies?(?: policy| settings)?"
    r"|terms(?: of (?:use|service))?|nutzungsbedingungen|agb|kontakt|contact(?: us)?|mentions légales"
    r"|aviso legal|política de privacidad|polityka prywatności|about us|über uns)$",
    re.IGNORECASE,
)
_COUNT_RE = re.compile(r"\s*\((?:\d+(?:\s*\w+)?)\)$")
# Labels printed before a tag list, not tags themselves.
# Beyond the headings of tag lists, words that may also head a section of a story ("Thema", "Orte").
_LABELS = TAG_LIST_HEADINGS | {
    "thema",
    "topic",
    "tema",
    "related topics",
    "temas relacionados",
    "verwandte themen",
    "orte",
}
# A label over a list ("Tags", "Verwandte Themen") marks the links after it, within this many levels.
_LABEL_DEPTH = 3
# A class or id naming the site's header, footer or navigation bar as its block ("header",
# "footer__list-tags", "header-taxonomy", "site-footer"): a tag box there is the site's topic menu.
# (Not the `<header>`/`<footer>` elements: many stories print their tags in one outside any
# `<article>`.)
_SITE_CHROME_TOKEN_RE = re.compile(
    r"^(?:site[-_]|global[-_])?(?:header|footer|masthead|navbar)(?:$|[-_])", re.IGNORECASE
)
# Where a story's own header and footer sit: its `<article>`, `<main>` or WordPress post wrapper.
_STORY_TAGS = frozenset({"article", "main"})
# A class naming a story's categories ("article-category", "entry-footer__category", "gp-meta-cats",
# "tag-cat"): links there file the story in a section, which is a field of its own.
_CATEGORY_RE = re.compile(
    r"^(?:[\w-]*[-_])?(?:cats?|categor(?:y|ies)|kategorien?|cat[eé]gories?|categor[ií]as?|rubri[ck]e?n?|ressorts?)$",
    re.IGNORECASE,
)
# A category's link names its section within this many levels.
_CATEGORY_DEPTH = 3
# A label over the site's current or popular topics ("Top-Themen:", "Aktuelle Themen", "Trending"):
# the links after it are the same on every page, not this story's.
_SITE_TOPICS_RE = re.compile(
    r"^(?:top[- ]?(?:themen|topics|stories)|aktuelle themen|beliebte themen|meistgelesene? themen"
    r"|trending(?: topics| now)?|popular topics|hot topics|temas del d[ií]a|temas destacados|tendencias"
    r"|sujets populaires|temi caldi|tematy dnia|gorące tematy"
    # "More from Times of India cities", "Mehr aus der Region": the site's other pages.
    r"|more from|mehr aus|plus de|más de|mais de)\b",
    re.IGNORECASE,
)
# How many elements before a list's first link may hold its label.
_LEAD_ELEMENTS = 6
# A teaser card's list item holds its term line within this many levels.
_CARD_DEPTH = 3
# A list item's link of this many words or more is a card's headline, in a heading or not.
_HEADLINE_LINK_WORDS = 5
# A card holds at most this many links besides its terms (its headline, picture and author).
_CARD_LINKS = 3
# A card's text (headline, date, terms) is short; a block holding more is a story's or a page's.
_CARD_TEXT = 300
_HEADINGS = ("h2", "h3", "h4")
# Layout modifiers on a page's wrapper ("has-sidebar", "no-sidebar") name no sidebar of their own.
_MODIFIER_RE = re.compile(r"^(?:has|with|without|no)[-_]", re.IGNORECASE)


# A blog's default category, given to posts nobody filed (WordPress's "Uncategorized" in its languages).
_UNFILED = frozenset(
    {"uncategorized", "uncategorised", "allgemein", "sin categoría", "sin categoria", "non classé"}
    | {"senza categoria", "geen categorie", "bez kategorii", "sem categoria", "okategoriserade"}
    | {"ukategorisert", "ukategoriseret", "luokittelematon", "без рубрики"}
)
# Where a CMS places the story ("front-page", "slider na stronie głównej"): no topic of it.
_PLACEMENT = frozenset(
    {"front page", "frontpage", "homepage", "home page", "startseite", "strona główna", "portada"}
    | {"featured", "top stories", "aufmacher", "à la une"}
)
# A slider is a placement in any wording ("slider", "slider na stronie głównej").
_PLACEMENT_RE = re.compile(r"\bslider\b", re.IGNORECASE)
# "Category: Games", "Tag: RPG": a label glued to one tag.
_TAG_LABEL_RE = re.compile(
    r"^(?:categor(?:y|ies|ía|ia|ie)|kategorie|catégorie|tags?|topics?|thema|themen|tema|schlagwort)\s*:\s*",
    re.IGNORECASE,
)


# Share widgets print these verbs as links; they name no topic.  (A network's name can be a
# topic, "Twitter" on a story about it: a share link is told by its address instead.)
_WIDGET_WORDS = frozenset(
    {"teilen", "twittern", "tweet", "share", "drucken", "print", "e-mail", "email", "mail", "partager"}
    | {"imprimer", "compartir", "imprimir", "condividi", "stampa", "udostępnij", "drukuj"}
    | {"senden", "send", "submit", "absenden", "enviar", "envoyer"}
    # a pager's links, which lead to the next page of a topic's list
    | {"weiter", "zurück", "next", "previous", "prev", "older", "newer", "zum anfang", "nach oben"}
    | {"back to top", "suivant", "précédent", "siguiente", "anterior", "avanti", "indietro"}
    | {"nächste seite", "vorherige seite", "next page", "previous page", "dalej", "wstecz"}
)
# Links that share the page or open a program, never a topic page.
_SHARE_HREF_RE = re.compile(
    r"^(?:mailto|javascript|whatsapp|tel|sms|fb-messenger):"
    r"|//(?:www\.)?(?:facebook\.com/(?:shar|dialog/(?:share|feed|send))|twitter\.com/(?:intent|share)"
    r"|x\.com/(?:intent|share)|pinterest\.\w+/pin/(?:create|find)|(?:www\.)?linkedin\.com/shar|reddit\.com/submit"
    r"|api\.whatsapp\.com|t\.me/share|wa\.me)",
    re.IGNORECASE,
)
# Navigation and prompts, not terms: "Alle Themen", "Themen A-Z", "Show all tags", "Kostenlosen Newsletter",
# "Zurück zur Übersicht", "Trackback-URL", "3 Kommentare" ("Kommentar" alone is an opinion piece's topic).
_PROMPT_RE = re.compile(
    r"^(?:alle|all|show all|mostrar todos|ver todos|voir tous|tutti)\b|\ba-z$|newsletter"
    r"|^(?:mehr|more|weitere|zurück|back to|retour|reply|antworten)\b|übersicht$"
    r"|trackback|kommentar-?feed|comments?[ -]?feed|^\d*\s*(?:kommentare|comments?)$",
    re.IGNORECASE,
)
# An icon font's ligature name ("turned_in", "arrow_forward") printed where the icon failed to load.
_LIGATURE_RE = re.compile(r"^[a-z]+(?:_[a-z]+)+$")
# A sentence end with more after it, or a question or exclamation closing a few words: a teaser's
# headline, not a term ("Yahoo!" and "Jeopardy!" are terms).  A full stop after a short capitalised
# abbreviation ("U.S.", "St.", "Dr.") ends no sentence.
_SENTENCE_RE = re.compile(r"[^\W\d_A-Z]{2}[.?!]\s+\S|\S+\s+\S+\s+\S+[?!]$")
_MAX_TAG_WORDS = 6


def is_tag_text(text: str) -> bool:
    """
    Tell whether a link's text can be a tag: a short term, not a widget, a prompt or a headline.

    Labels set off by arrows or colons (`Themen >`, `Relacionados:`, `» Übersicht`) and
    ellipses (`mehr zu …`) lead to lists; sentence punctuation marks a teaser's headline.
    """
    folded = text.casefold().strip()
    if folded.startswith(("http://", "https://", "www.")):
        return False
    if folded in _WIDGET_WORDS or _LIGATURE_RE.match(text) or _PROMPT_RE.search(folded):
        return False
    if text.endswith((":", ">", "…", "...", "»", "›")) or text.startswith(("»", "›", "<", "«")):
        return False
    return len(text.split()) <= _MAX_TAG_WORDS and not _SENTENCE_RE.search(text)


def split_keywords(values: Iterable[str]) -> list[str]:
    """Split keyword strings joined by commas, semicolons or pipes; drop empties and `#`."""
    out: list[str] = []
    for value in values:
        for part in _SPLIT_RE.split(value):
            part = _COUNT_RE.sub("", part.strip().lstrip("#").strip())
            if part and len(part) <= 80:
                out.append(part)
    return out


# A keyword that is a CMS's or tracker's code, not a term: no space, parts joined by `_` or `:`
# ("cat_biology-biochemistry", "k1_otherbraindisorders", "ivw:homepage", "ISIN_US3453708600").
_CODE_RE = re.compile(r"^[^\W_]+(?:[_:][\w.-]+)+$")
# A keyword opening with such a code ("TH_Times_Herald-Record - example.com", a syndication feed's
# name), or words run together in capitals with a number ("ResumenFechaAbril2022", an editor's label).
_CODE_HEAD_RE = re.compile(r"^[^\W_]+(?:_[\w.-]+)+\s")
_JOINED_RE = re.compile(r"^(?:[A-ZÀ-Þ][a-zß-ÿ]+){3,}\d+$")


def _is_code(keyword: str) -> bool:
    """Tell a CMS's or tracker's code among keywords from a term."""
    return bool(_CODE_RE.match(keyword) or _CODE_HEAD_RE.match(keyword) or _JOINED_RE.match(keyword))


# A facet "Key: Value" ("Textart: Heftarchiv", "Page Type: Article", "WC: 2000-2999"): a key of
# at most three words before a colon; or "Key/Value" ("Type/Article", "Length/medium"), a one-word
# key not in capitals ("AC/DC" and "TCP/IP" are names).
_FACET_RE = re.compile(r"^[^\W\d_][\w-]*(?: [\w-]+){0,2}:\s+\S|^(?![^/\s]*[A-Z]{2})[^\W\d_][\w-]*/\S")
# A keywords value cut short with an ellipsis is a description ("BANGKOK: Ein Video, in dem …, ..."),
# not a list of terms.
_CUT_SHORT = ("...", "…")
# Quotes around a headline, not part of its words.
_QUOTES = "«»‹›\"'“”„‚‘’ "
# A keyword of more words than this that repeats the headline is the headline ("Will Smith" on a
# portrait titled "Will Smith" is a term).
_HEADLINE_WORDS = 3
# A keyword of this many words or more ending in a full stop after a word in lower case is a sentence,
# a description ("Se realizarán de manera online desde el 3 al 5 de septiembre."); "Acme Co.", "U.S."
# and "Washington D.C." end in abbreviations.
_SENTENCE_WORDS = 5
# A keyword of more words than this is a phrase (a headline's slug without its small words: "Man Utd
# ace Dean Henderson morally right finish season Sheff Utd Wilder", or the page's slug itself,
# "us-state-department-blocks-lawsuit-by-…", its words joined by hyphens), no term.
_TERM_WORDS = 8
# A keyword of this many words or more is a phrase; a list mostly of phrases is a list of searches.
_PHRASE_WORDS = 4
_SENTENCE_END_RE = re.compile(r"[^\W\d_A-Z]{3}\.$")
# A run of at least this many keywords that are the headline's own words, one each, in order (and at
# least half of its words) is the headline chopped into words ("Samsun'da, sobadan, zehirlenen, …").
_CHOPPED_WORDS = 3
# An entity tagger's type label in capitals ("PERSON") has at least this many letters.
_TYPE_LETTERS = 6
# Punctuation a headline's word may carry that a keyword made of it drops ("marche," gives "marche").
_WORD_PUNCT = ",;:.!?"


# What a news site offers on every page ("Nachrichten", "Wetter", "Kleinanzeigen", "Forum", "info",
# "actualité", "vidéo", "météo"): a plain `keywords` list naming two of these is the site's own search
# terms, not the story's.  (Not "radio" or "télévision": a story may be about either.)
_SITE_SERVICE_RE = re.compile(
    r"^(?:news|nachrichten|aktuelles|noticias|notizie|nouvelles|actualit[eé]s?|infos?|informations?"
    r"|jobs|stellenmarkt|stellenangebote|(?:klein|kontakt|trauer)?anzeigen|classifieds|immobilien"
    r"|wetter|weather|m[eé]t[eé]o|forum|chat|events|veranstaltungen|kalender|termine|vid[eé]os?|hotels"
    r"|horoskop|gewinnspiele?|e-?paper)$",
    re.IGNORECASE,
)
_SITE_SERVICES = 2


def _stated_terms(values: list[str], headlines: frozenset[str]) -> list[str] | None:
    """
    Return a source's keywords, split, without what is no term.

    Dropped: a value cut short ("…", a description), codes ("cat_neurology", "ivw:homepage"),
    sentences, phrases of more than eight words, and keywords repeating the headline; a list
    of facets ("Day: Wednesday", "Page Type: Article") and codes, half of it or more, is a CMS's
    or tracker's record of the page, not its topics, and a list of more terms than an article
    shows tags, or mostly of phrases of four words or more, an extractor's or an SEO tool's.
    None when every keyword was the headline's words: the page's keyword field holds its
    headline, so the sources after it hold the site's defaults.
    """
    folded = frozenset(normalise_tag(h) for h in headlines)
    split = split_keywords(v for v in values if not v.rstrip().endswith(_CUT_SHORT))
    found = [t for t in split if not (_is_code(t) and not _TAG_LABEL_RE.match(t))]
    codes = len(split) - len(found)
    found = [
        t
        for t in found
        if not (len(t.split()) > _HEADLINE_WORDS and normalise_tag(t.strip(_QUOTES)) in folded)
        and not (len(t.split()) >= _SENTENCE_WORDS and _SENTENCE_END_RE.search(t))
        and len(t.replace("-", " ").split()) <= _TERM_WORDS
    ]
    if typed := _type_labels(found):
        found = [t for t in found if not {t.split()[0], t.split()[-1]} & typed]
    if chopped := _chopped_headline(found, folded) | _headline_words(found, headlines):
        found = [t for i, t in enumerate(found) if i not in chopped]
        if not found:
            return None
    # Codes and facets making half the list: the CMS's record of the page ("article_normal",
    # "Investing/Securities", "FIRST_PUBLISH_HEADLINE").
    facets = sum(1 for t in found if _FACET_RE.match(t) and not _TAG_LABEL_RE.match(t))
    if found and 2 * (facets + codes) >= len(found) + codes:
        return []
    # With the CMS's placements ("Top Stories") and the site's services ("News"), or search phrases
    # naming one ("Delhi news today"), more than half: the CMS's record of where the page runs, or
    # an SEO list.  (The site's services alone, "Video, News", may be an article's own terms.)
    placed = sum(1 for t in found if normalise_tag(t) in _PLACEMENT)
    services = [t for t in found if any(_SITE_SERVICE_RE.match(w) for w in t.split())]
    phrases = sum(1 for t in services if len(t.split()) > 1)
    site = placed + len(services)
    if found and codes + placed + phrases and 2 * (facets + codes + site) > len(found) + codes:
        return []
    # More keywords than an article shows tags, or mostly phrases ("banco central de nicaragua
    # informa de deuda externa"): an extractor's or an SEO tool's list, not the story's terms.
    if len(found) > _MAX_GROUP or 2 * sum(1 for t in found if len(t.split()) >= _PHRASE_WORDS) > len(found):
        return []
    return found


def _chopped_headline(found: list[str], headlines: frozenset[str]) -> set[int]:
    """
    Return the positions of keywords that are a headline cut into its words, one keyword a word.

    Some CMSs fill `keywords` with the headline's words: consecutive keywords that are consecutive
    words of a headline, at least three and at least half of its words, are no terms, nor are the
    headline's later words that follow them (a CMS may skip "la" and a comma: "…, rate, marche,
    Arsenal" from "… rate la marche, Arsenal revit").  Single words of the headline in another
    order or with gaps ("Brexit, EU, Johnson" on "Johnson's Brexit deal passes EU vote") are the
    story's terms.
    """
    keys = [normalise_tag(t) for t in found]
    chopped: set[int] = set()
    for headline in headlines:
        words = headline.split()
        if len(words) < _CHOPPED_WORDS:
            continue
        i = 0
        while i < len(keys):
            run, start = max(
                ((_common_run(keys[i:], words[p:]), p) for p in range(len(words))), default=(0, 0)
            )
            if run < _CHOPPED_WORDS or 2 * run < len(words):
                i += 1
                continue
            end, after = i + run, start + run
            bare = [w.strip(_WORD_PUNCT) for w in words]
            while end < len(keys) and keys[end] in bare[after:]:
                after += bare[after:].index(keys[end]) + 1
                end += 1
            chopped.update(range(i, end))
            i = end
    return chopped


def _type_labels(found: list[str]) -> set[str]:
    """
    Return the entity types an NLP tagger glued to the terms it found ("PERSON", "NEWSMAKER").

    A word in capitals of six letters or more that stands alone in the list and begins or ends
    two of its other keywords ("PERSON", "PERSON Joshua Bennett", "PERSON Ada Limon AUTHOR") is
    a type; then so is every such word ending or beginning a keyword there ("Alice Quinn
    NEWSMAKER").  Acronyms ("UEFA Champions League", "NATO") are shorter; a name in capitals
    heading one other keyword ("UNICEF, UNICEF Deutschland") is no type.
    """
    ends = [(t.split()[0], t.split()[-1]) for t in found if len(t.split()) > 1]
    caps = {w for pair in ends for w in pair if len(w) >= _TYPE_LETTERS and w.isalpha() and w.isupper()}
    alone = set(found)
    if not any(w in alone and sum(w in pair for pair in ends) >= 2 for w in caps):
        return set()
    return caps


def _headline_words(found: list[str], headlines: frozenset[str]) -> set[int]:
    """
    Return the positions of keywords that are a headline's words picked in its order, small words left out.

    Some CMSs fill `keywords` with the headline's longer words ("brise, couvre-feu, surpris, volant,
    …" from "Il brise le couvre-feu et est surpris au volant …"): a run of at least three keywords,
    one word each, that are words of a headline in its order (with gaps) is the headline when at
    least two of them, and half, are written in lower case there (verbs and common nouns; a
    headline's first word is capitalised by its place).  Names a headline gives in order ("Merkel,
    Macron, Paris" on "Merkel trifft Macron in Paris") are the story's terms.
    """
    keys = [normalise_tag(t).strip(_WORD_PUNCT + _QUOTES) for t in found]
    chopped: set[int] = set()
    for headline in headlines:
        words = [w.strip(_WORD_PUNCT + _QUOTES) for w in headline.split()]
        bare = [w.casefold() for w in words]
        if len(words) < _CHOPPED_WORDS:
            continue
        run: list[tuple[int, int]] = []
        for i, key in enumerate([*keys, ""]):
            after = run[-1][1] + 1 if run else 0
            single = bool(key) and " " not in key
            if single and key in bare[after:]:
                run.append((i, bare.index(key, after)))
                continue
            lower = sum(1 for _, p in run if p == 0 or words[p][:1].islower())
            if len(run) >= _CHOPPED_WORDS and lower >= 2 and 2 * lower > len(run):
                chopped.update(k for k, _ in run)
            run = [(i, bare.index(key))] if single and key in bare else []
    return chopped


def _common_run(keys: list[str], words: list[str]) -> int:
    """Return how many keywords from the first match the words from the first, one by one."""
    return sum(
        1 for _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(keys, words, strict=False))
    )


def _headlines(tree: Any, data: PageData, site_names: Iterable[str] = ()) -> frozenset[str]:
    """
    Return the page's headlines as stated: `og:title`, `twitter:title`, JSON-LD `headline`, `<title>`.

    Each also without the site's name ("Headline | NZZ"), as its keywords repeat it.
    """
    article = data.article or {}
    found = data.all("og:title", "twitter:title") + texts(article.get("headline"))
    title = tree.find(".//title") if tree is not None else None
    if title is not None and title.text:
        found.append(title.text)
    names = list(site_names)
    if names:
        found += [strip_site(h, names) for h in found]
    return frozenset(" ".join(h.strip(_QUOTES).split()) for h in found)


def structured_tags(data: PageData, headlines: frozenset[str] = frozenset()) -> list[str]:
    """
    Return the tags the page states: the first source that states any, split.

    In order: `article:tag`, news keywords, JSON-LD keywords, Parse.ly /
    Sailthru / cXense tags, microdata, and last the plain `keywords` meta tag
    (older and more often the site's own search terms, but many pages state
    nothing else; a list naming the site's services, "Nachrichten, Wetter, Forum", is
    only that).  One source, not their union: a page's JSON-LD often adds
    internal labels ("digital_syndication") to the terms its meta tags give.
    """
    article = data.article or {}
    for values in (
        data.all("article:tag", "og:article:tag"),
        data.all("news_keywords"),
        texts(article.get("keywords")),
        data.all("parsely-tags", "sailthru.tags", "cxenseparse:recs:tags"),
        data.microdata.get("keywords", []),
    ):
        found = _stated_terms(values, headlines)
        if found is None:
            return []
        if found:
            return found
    found = _stated_terms(data.all("keywords"), headlines) or []
    if len({t.casefold() for t in found if _SITE_SERVICE_RE.match(t)}) >= _SITE_SERVICES:
        return []
    return found


class _Contexts:
    """
    Say where links sit: `box` (a tag box), `chrome` (navigation, related stories) or None.

    The nearest marked ancestor decides, so a tag box inside a sidebar is a tag
    box, but one in the site's header or footer is chrome; a box counts only
    within a few levels of the link (a class like `topics-page` on a whole page
    is no box), and the search ends at `<main>` (a wrapper around it is none of
    its chrome).  Answers are memoised per
    element, since the links of a page share most ancestors.
    """

    def __init__(self, labelled: frozenset[Any] = frozenset()) -> None:
        self._nearest: dict[Any, tuple[str | None, Any]] = {}
        self._labelled = labelled
        self._site_chrome: dict[Any, bool] = {}

    def _mark(self, node: Any) -> str | None:
        if node in self._labelled:
            return "label"
        return _mark_of(node.tag, node.get("class"), node.get("id"))

    def nearest(self, node: Any) -> tuple[str | None, Any]:
        """Return the kind of the nearest marked element at or above `node`, and that element."""
        path: list[Any] = []
        found: tuple[str | None, Any] = (None, None)
        while node is not None and node.tag not in {"body", "html"}:
            if node in self._nearest:
                found = self._nearest[node]
                break
            path.append(node)
            if (kind := self._mark(node)) is not None:
                found = (kind, node)
                break
            # The page's `<main>` content: what wraps it ("nav_drawer__panel" around the whole
            # page) is no navigation of the links in it.
            if node.tag == "main":
                break
            node = node.getparent()
        for visited in path:
            self._nearest[visited] = found
        return found

    def outermost(self, box: Any) -> Any:
        """Return the outermost of the boxes nested within a few levels around `box`."""
        kind, outer = self.nearest(box.getparent())
        while kind == "box" and _distance(box, outer) <= _BOX_DEPTH:
            box = outer
            kind, outer = self.nearest(box.getparent())
        return box

    def of(self, link: Any) -> tuple[str | None, Any]:
        """Return where a link sits, and the element marked so."""
        kind, marked = self.nearest(link.getparent())
        while kind in {"box", "label"} and _distance(link, marked) > _BOX_DEPTH:
            kind, marked = self.nearest(marked.getparent())
        if kind == "box":
            if marked not in self._site_chrome:
                self._site_chrome[marked] = _in_site_chrome(marked)
            if self._site_chrome[marked]:
                return "chrome", marked
        return kind, marked


@lru_cache(maxsize=4096)
def _mark_of(tag: Any, cls: str | None, ident: str | None) -> str | None:
    """
    Return what an element's tag, class and id mark it as: a tag box, chrome, or nothing.

    Most classes name neither: without any word of a box or of chrome in them (in ASCII, where
    lower case is what the patterns' IGNORECASE means) only the tag decides, and the
    token-by-token tests are skipped: 7.7 -> 3.8 us an element, uncached, on 168 real pages.
    """
    marks = f"{cls or ''} {ident or ''}"
    if marks.isascii() and _MARK_WORD_RE.search(marks.lower()) is None:
        return "chrome" if tag in _CHROME_TAGS else None
    tokens = marks.split()
    wrapper = tag in {"article", "main"} or _POST_WRAPPER_RE.search(cls or "") is not None
    if any(_SITE_TOPICS_TOKEN_RE.search(t) for t in tokens):
        return "chrome"
    # A topics list whose id or other class names a menu ("topics-list" with id "app-bar-topics-menu")
    # is the site's menu of topics.
    if (
        not wrapper
        and any(_TAG_BOX_RE.match(t) for t in tokens)
        and not any(_MENU_TOKEN_RE.search(t) for t in tokens)
    ):
        return "box"
    # Tokens of the article's own footer ("entry-footer__list-item") say nothing of the site's chrome.
    own = [t for t in tokens if not _ENTRY_FOOTER_RE.match(t)]
    if tag == "footer" and len(own) < len(tokens):
        return None
    own = [t for t in own if not _MODIFIER_RE.match(t)]
    if tag in _CHROME_TAGS or _CHROME_RE.search(" ".join(own)):
        return "chrome"
    return None


def _in_site_chrome(box: Any) -> bool:
    """
    Tell whether a tag box sits in the site's header, footer or navigation bar, outside the story.

    A box there lists the site's topics on every page (a "Themen" strip in the page footer, a
    topics drop-down in the masthead), whatever its class says; the nearest marked ancestor, the
    box, would otherwise hide the chrome around it.  The story's own `<header>` and `<footer>`
    (inside its `<article>`, `<main>` or post wrapper) are no site chrome.
    """
    chrome = False
    for node in itertools.chain([box], box.iterancestors()):
        # The `<body>`'s classes describe the page's layout ("header-desktop-sticky"), no block of it.
        if node.tag == "body":
            break
        if node.tag in _STORY_TAGS or _POST_WRAPPER_RE.search(node.get("class") or ""):
            return False
        marks = f"{node.get('class') or ''} {node.get('id') or ''}".split()
        chrome = chrome or any(_SITE_CHROME_TOKEN_RE.match(t) for t in marks)
    return chrome


def _labelled_lists(tree: Any, contexts: _Contexts) -> frozenset[Any]:
    """
    Return the elements holding a list of links under a tag label ("Tags", "Verwandte Themen").

    Many sites mark their tag box only by the label a reader sees: a heading
    or bold word over (or before) the links, in classes that say nothing.
    The list is the label's next sibling that holds links, past empty spacers
    (or the label's parent, when links follow it inline), else the same a
    level or two up from a block the label opens; siblings further on (share
    buttons) are not the list.  A labelled list inside navigation or a sidebar
    stays there: a sidebar's "Tags" is the site's tag cloud; an `<aside>`
    inside the `<article>` is the article's own.
    """
    found = set()
    for element in tree.iter(etree.Element):
        text = element.text
        if not text or len(text) > 40 or element.tag == "a":
            continue
        if " ".join(text.split()).casefold().rstrip(" :") not in _LABELS:
            continue
        # A label word inside a link ("Themen" in a menu's button) leads to the site's topics.
        if any(a.tag == "a" for a in itertools.islice(element.iterancestors(), _LABEL_DEPTH)):
            continue
        node = element
        for _ in range(_LABEL_DEPTH):
            parent = node.getparent()
            if parent is None or parent.tag in {"body", "html"}:
                break
            # The label opens an inline run of links in its own element ("Tags: <a>…</a>, <a>…</a>").
            inline = node is element and next(element.iter("a"), None) is not None
            if (held := element if inline else _list_after(node)) is not None:
                kind, marked = contexts.nearest(held)
                if kind is None or (
                    kind == "chrome" and (_aside_of_article(marked) or (inline and _terms_run(held)))
                ):
                    found.add(held)
                    # A term `<dt>` ("Tags:") heads every `<dd>` after it, up to the next `<dt>`.
                    if node.tag == "dt":
                        found.update(itertools.takewhile(lambda d: d.tag == "dd", node.itersiblings()))
                break
            # The label heads its block: it climbs only out of blocks it opens.
            if node.getprevious() is not None:
                break
            node = parent
    return frozenset(found)


def _terms_run(element: Any) -> bool:
    """
    Tell a run of links the CMS marks as the post's terms (`rel="tag"` on every one) from a tag cloud.

    A theme may print the story's tags in a sidebar widget ("Etiquetas: <a rel="tag">…</a>, …");
    a cloud of the site's tags there links the same tag pages without the mark.
    """
    links = list(itertools.islice(element.iter("a"), _MAX_GROUP + 1))
    return 0 < len(links) <= _MAX_GROUP and all(
        "tag" in (rel := (a.get("rel") or "").split()) and "category" not in rel for a in links
    )


def _aside_of_article(element: Any) -> bool:
    """
    Tell an `<aside>`, `<nav>` or side column in the `<article>` (its info box, its "filed under" line).

    A side column ("sidebar-item") counts only in an `<article>` holding a story: a page-wide
    `<article>` wrapper also holds the site's sidebar.
    """
    if element.tag in {"aside", "nav"}:
        return any(a.tag == "article" for a in element.iterancestors())
    if _SIDEBAR_RE.search(element.get("class") or ""):
        around = next(element.iterancestors("article"), None)
        return around is not None and _holds_story(around)
    return False


def _after_headline(link: Any, part: Any) -> bool:
    """Tell whether a link in a story's header or footer follows its headline there (or it has none)."""
    headline = next(part.iter("h1"), None)
    if headline is None:
        return True
    for node in part.iter(etree.Element):
        if node is headline:
            return True
        if node is link:
            return False
    return True


def _story_header(box: Any) -> Any:
    """Return the story's own `<header>` a box sits in, if any."""
    header = next(box.iterancestors("header"), None)
    return header if header is not None and _own_part_of_story(header) else None


def _own_part_of_story(element: Any) -> bool:
    """Tell a `<header>`/`<footer>` of the story's `<article>` (one holding a story) from the site's."""
    if any(
        _SITE_CHROME_TOKEN_RE.match(t)
        for t in f"{element.get('class') or ''} {element.get('id') or ''}".split()
    ):
        return False
    around = next(element.iterancestors("article"), None)
    return around is not None and _holds_story(around)


def _list_after(label: Any) -> Any:
    """Return what holds the links after a label: an inline run's parent, a next sibling, or None."""
    sibling = label.getnext()
    for _ in range(_LABEL_DEPTH):
        if sibling is None:
            return None
        if sibling.tag == "a":
            return label.getparent()
        if next(sibling.iter("a"), None) is not None:
            return sibling
        # Only an empty rule or spacer may stand between a label and its list.
        if sibling.text_content().strip():
            return None
        sibling = sibling.getnext()
    return None


def _distance(node: Any, ancestor: Any) -> int:
    for depth, parent in enumerate(node.iterancestors(), start=1):
        if parent is ancestor:
            return depth
    return 0


def _in_running_text(link: Any, text: str) -> bool:
    """
    Tell a link inside a sentence (a paragraph with more words than the link) from a tag.

    A paragraph that is mostly links ("2020 Election (611 posts), Joe Biden (233), …")
    is a list of them, not a sentence.
    """
    parent = link.getparent()
    while parent is not None and parent.tag in {"strong", "b", "em", "i", "span"}:
        parent = parent.getparent()
    if parent is not None and parent.tag == "div":
        # A story's text in a `<div>`, its paragraphs parted by `<br>`: the words the block holds
        # itself (its text and its children's tails) are the sentence around the link.
        own = " ".join(((parent.text or "") + "".join(c.tail or "" for c in parent)).split())
        return len(own) > 2 * len(text) + 40 and len(own.split()) >= _SENTENCE_AROUND_WORDS
    if parent is None or parent.tag not in {"p", "td", "dd"}:
        return False
    whole = len(" ".join("".join(parent.itertext()).split()))
    if whole <= 2 * len(text) + 40:
        return False
    linked = sum(len(" ".join("".join(a.itertext()).split())) for a in parent.iter("a"))
    return 2 * linked < whole


# A `<div>` holding at least this many words of its own around a link holds a sentence.
_SENTENCE_AROUND_WORDS = 12


# A link's text outside inline SVG icons, whose `<title>` names the icon ("Pijltje rechts", "Arrow").
_TEXT_OUTSIDE_SVG = etree.XPath(".//text()[not(ancestor::*[local-name() = 'svg'])]")


_YEAR_RE = re.compile(r"(?:1[89]|20)\d{2}")


def _link_text(link: Any) -> str:
    """Return a link's text without its icons: an inline SVG's title, icon-font glyphs (private use)."""
    pieces = _TEXT_OUTSIDE_SVG(link) if next(link.iter("svg"), None) is not None else link.itertext()
    text = " ".join("".join(c for c in "".join(pieces) if unicodedata.category(c) != "Co").split())
    # A year is a topic of its own ("2017" beside "Buchrezensionen"); other bare numbers are a pager's.
    return text if any(c.isalpha() for c in text) or _YEAR_RE.fullmatch(text) else ""


def _group(link: Any) -> Any:
    parent = link.getparent()
    while parent is not None and parent.tag in {"li", "span", "strong", "b", "em", "small"}:
        parent = parent.getparent()
    return parent


def _links_in(group: Any, cap: int = 200) -> int:
    """Count the links in a group, up to `cap` (a menu can hold thousands)."""
    count = 0
    for count, _ in enumerate(group.iter("a"), start=1):
        if count >= cap:
            break
    return count


def visible_tags(tree: Any, page_url: str) -> list[str]:
    """
    Return the article's own topic links: `rel=tag`, links to tag pages, links in a tag box.

    Links in navigation, headers, footers, sidebars and related-story blocks
    are site-wide topics, not this article's, and links inside running text
    are references; a box linking the site's legal pages is its footer menu,
    and WordPress's category links (`rel="category tag"`) give the section, as
    do links classed as categories; tags a class hides are not shown.  Strips
    of the site's top topics and teaser cards' term lines are no tags, nor is a
    box labelled otherwise ("Raporty:") beside one labelled as tags.  Of the
    groups of such links (one list each), the ones in a marked tag box win over
    those found by their address alone, and those in `<main>` over the rest.
    """
    page_path = urlsplit(page_url).path
    groups: dict[Any, list[str]] = {}
    strength: dict[Any, int] = {}
    boxes: dict[Any, Any] = {}
    services: dict[Any, int] = {}
    marked_groups: set[Any] = set()
    contexts = _Contexts(_labelled_lists(tree, _Contexts()))
    for link in tree.iter("a"):
        href = link.get("href") or ""
        rel = (link.get("rel") or "").split()
        # WordPress marks its category links `rel="category tag"`: the section, not a tag.
        by_rel = "tag" in rel and "category" not in rel
        context, marked = contexts.of(link)
        # The `<header>` or `<footer>` of the story's own `<article>` prints its byline and date,
        # and there the links the CMS marks as tags are its tags (a kicker's above the headline
        # names its sections).
        if (
            by_rel
            and context == "chrome"
            and marked.tag in {"header", "footer"}
            and _own_part_of_story(marked)
        ):
            context = None if _after_headline(link, marked) else "chrome"
        # Likewise a tag box's links over the headline in the story's own `<header>` are its kicker of
        # sections, but for links to tag pages ("/etiqueta/gobierno" beside "/canal/politica").
        elif (
            context == "box"
            and not _TAG_PATH_RE.search(href)
            and (part := _story_header(marked)) is not None
            and not _after_headline(link, part)
        ):
            context = "chrome"
        if not (by_rel or context in {"box", "label"} or _TAG_PATH_RE.search(href)):
            continue
        text = _link_text(link)
        if context == "box":
            marked = contexts.outermost(marked)
            if _SERVICE_RE.match(text):
                # A box that links the site's legal and service pages is its footer menu, every
                # list in it ("Datenschutz" alone can be a topic; beside "Impressum" it is not).
                services[marked] = services.get(marked, 0) + 1
        if context == "chrome" or len(text) < 2 or urlsplit(href).path == page_path:
            continue
        if _SHARE_HREF_RE.search(href):
            continue
        # A link holding a picture is a teaser's card, unless it leads to a tag page.
        by_address = by_rel or _TAG_PATH_RE.search(href) is not None
        # A category's link files the story (its section), and a hidden tag is not shown; under a
        # tag label ("Filed under", "Abgelegt unter") a CMS's categories are the story's terms.
        if (context != "label" and _is_category_link(link, href)) or _collapsed(link):
            continue
        if not by_address and next(link.iter("img", "picture"), None) is not None:
            continue
        # A link the CMS marks as a tag (`rel=tag`) to a tag page is one even when its name asks a question.
        named = by_rel and _TAG_PATH_RE.search(href) is not None and is_tag_text(text.rstrip("?!"))
        if len(text) > 60 or not (named or is_tag_text(text)) or _in_running_text(link, text):
            continue
        if text.casefold().strip(" :") in _LABELS:
            continue
        group = _group(link)
        if context == "box":
            boxes[group] = marked
        groups.setdefault(group, []).append(text)
        strength[group] = max(strength.get(group, 0), 2 if context in {"box", "label"} or by_rel else 1)
        if context == "box" or by_rel:
            marked_groups.add(group)
    if not groups:
        return []
    # A list that links the site's legal and service pages is its footer menu.
    groups = {
        g: ts
        for g, ts in groups.items()
        if services.get(boxes.get(g), 0) < 2 and sum(bool(_SERVICE_RE.match(t)) for t in ts) < 2
    }
    # A list under a label naming the site's popular topics is a menu; a teaser card's terms file
    # another story.
    groups = {
        g: ts
        for g, ts in groups.items()
        if not (
            _SITE_TOPICS_RE.match(_lead_text(g)) or _in_card(g, page_path if g not in marked_groups else None)
        )
    }
    # Links found by their address or a label alone are tags in a list of their own;
    # among mostly other links (sections, newsletters) they are a menu's entries.
    # Lists nested in lists are a menu's tree of sections, not a tag list unless marked as one.
    groups = {
        g: ts
        for g, ts in groups.items()
        if g in marked_groups or (2 * len(ts) >= _links_in(g) and not _in_tree(g))
    }
    groups = _tag_labelled_boxes(groups, boxes)
    if not groups:
        return []
    top = max(strength[g] for g in groups)
    best = _first_article_only(_main_only([g for g in groups if strength[g] == top]))
    # An article has a short list of tags; a list of every topic of the site is a menu.
    short = [g for g in best if len(groups[g]) <= _MAX_GROUP] or best[:1]
    found = [t for g in short for t in groups[g]]
    return split_keywords(found[:MAX_TAGS]) if len(found) <= _MAX_GROUP else []


def _tag_labelled_boxes(groups: dict[Any, list[str]], boxes: dict[Any, Any]) -> dict[Any, list[str]]:
    """
    Keep, when one tag box opens with a tag label ("Tagi:"), no box opening with another label.

    A CMS prints its other link lists in the same markup as the tags ("Raporty:", a dossier;
    "Serie:"); the label a reader sees tells them apart.
    """
    labels: dict[Any, str] = {}
    for group in groups:
        if (
            (box := boxes.get(group)) is not None
            and (lead := _lead_text(box)).endswith(":")
            and len(lead) <= 40
        ):
            labels[group] = lead.casefold().rstrip(" :")
    if not any(label in _LABELS for label in labels.values()):
        return groups
    return {g: ts for g, ts in groups.items() if labels.get(g, "tags") in _LABELS}


def _is_category_link(link: Any, href: str) -> bool:
    """
    Tell a link filing the story in a category (its section) from a tag.

    Microdata says so (`itemprop="articleSection"`), or the link sits in an element whose class
    names categories ("article-category", "entry-footer__category", "tag-cat") within a few
    levels; a link to a tag page stays a tag wherever it sits (SPIP's `mot/…` in a "categories" box).
    """
    if "articlesection" in (link.get("itemprop") or "").casefold():
        return True
    if _TAG_PATH_RE.search(href):
        return False
    for node in itertools.islice(itertools.chain([link], link.iterancestors()), _CATEGORY_DEPTH + 1):
        if any(_CATEGORY_RE.match(t) for t in (node.get("class") or "").split()):
            return True
    return False


def _collapsed(link: Any) -> bool:
    """
    Tell whether a link sits in a list item or panel its class hides ("hidden", "--closed").

    Sites print every tag and hide the rest behind a "More" button, or keep the topic links in
    a collapsed panel; a reader sees neither.  (Inline styles and the `hidden` attribute are
    dropped with the page's hidden elements already.)  Only the levels of a tag box are read.
    """
    return any(_hides(node.get("class")) for node in itertools.islice(link.iterancestors(), _BOX_DEPTH))


@lru_cache(maxsize=4096)
def _hides(cls: str | None) -> bool:
    """Tell whether a class attribute hides its element (memoised: a page repeats its classes)."""
    return cls is not None and any(COLLAPSED_CLASS_RE.search(t) for t in cls.split())


def _lead_text(group: Any) -> str:
    """
    Return the label a list of links opens with: its text before the first link, else its heading.

    "Top-Themen:" in the strip's first `<div>`, or an `<h3>` just before the `<ul>`.
    """
    parts: list[str] = [group.text or ""]
    for node in itertools.islice(group.iterdescendants(), _LEAD_ELEMENTS):
        if node.tag == "a":
            break
        parts.append(node.text or "")
    lead = " ".join(" ".join(parts).split())
    if not lead and (before := group.getprevious()) is not None and isinstance(before.tag, str):
        lead = " ".join((before.text or "").split())
    return lead


def _in_card(group: Any, page_path: str | None = None) -> bool:
    """
    Tell whether a list of links is a teaser card's term line: beside a linked headline.

    Lists of other stories ("Neueste Artikel", "Popular yesterday") print each story's
    headline with its categories or regions beside it; those terms file that story, not this one.
    A card is a list item with a linked headline, or, given the page's path, a small block (a few
    links besides the terms and a few lines of text) whose headline links another page.  (Not for
    a marked tag box or `rel=tag` links: beside the story's tags an author box links its author.)
    """
    terms = _links_in(group)
    for node in itertools.islice(itertools.chain([group], group.iterancestors()), _CARD_DEPTH + 1):
        if node.tag == "li":
            return any(next(h.iter("a"), None) is not None for h in node.iter(*_HEADINGS)) or any(
                len(a.text_content().split()) >= _HEADLINE_LINK_WORDS and group not in a.iterancestors()
                for a in node.iter("a")
            )
        if node is group or page_path is None:
            continue
        if _links_in(node) > terms + _CARD_LINKS or len(node.text_content()) > _CARD_TEXT:
            return False
        for heading in node.iter(*_HEADINGS):
            link = next(heading.iter("a"), None)
            # A heading that is the list or holds it ("<h3><a>Talking Tech</a></h3>") is no headline.
            if (
                link is None
                or heading is group
                or group in heading.iterancestors()
                or heading in group.iterancestors()
            ):
                continue
            if urlsplit(link.get("href") or "").path not in {"", page_path}:
                return True
    return False


def _in_tree(group: Any) -> bool:
    """Tell a list nested in another list's item, or holding lists in its items: a menu's tree."""
    if group.tag not in {"ul", "ol"}:
        return False
    parent = group.getparent()
    if parent is not None and parent.tag == "li":
        return True
    return any(child.tag == "li" and child.find("ul") is not None for child in group)


def _main_only(groups: list[Any]) -> list[Any]:
    """
    Keep, when the page's `<main>` holds tag lists, only those: lists outside it are the site's.

    `<main>` is the page's own content; the site's link directories ("Tematy", "Miejsca") and
    menus around it list topics of every page.
    """
    inside = [g for g in groups if g.tag == "main" or next(g.iterancestors("main"), None) is not None]
    return inside or groups


def _first_article_only(groups: list[Any]) -> list[Any]:
    """
    Keep, when a story's `<article>` holds tag lists, only the first such story's lists.

    Lists outside it are the site's (sidebar cards, topic menus), and a page
    that loads the next stories below the first (`article-0`, `article-1`, …)
    prints each one's tags in its own `<article>`.  A list belongs to the
    nearest `<article>` that holds a story (three paragraphs): a card (an
    `<article>` without one) belongs to the story around it.
    """
    outer: dict[Any, Any] = {}
    for group in groups:
        # A list's links may sit straight in the `<article>`: the group is the article itself.
        around = itertools.chain([group] if group.tag == "article" else [], group.iterancestors("article"))
        outer[group] = next((a for a in around if _holds_story(a)), None)
    articles = [a for a in dict.fromkeys(outer.values()) if a is not None]
    if not articles:
        return groups
    return [g for g in groups if outer[g] is articles[0]]


def _holds_story(element: Any) -> bool:
    return sum(1 for _ in itertools.islice(element.iter("p"), 3)) >= 3


def resolve_section(data: PageData) -> str | None:
    """Return the section the page states: `article:section`, JSON-LD `articleSection`, Parse.ly."""
    article = data.article or {}
    for value in (
        texts(article.get("articleSection"))
        + data.all("article:section", "og:article:section", "parsely-section", "section", "sailthru.section")
        + data.microdata.get("articlesection", [])
    ):
        value = value.strip()
        if value and len(value) <= 80:
            return value
    return None


def resolve_tags(
    tree: Any, data: PageData, url: str, *, section: str | None, site_names: Iterable[str] = ()
) -> list[str]:
    """
    Return the article's tags: its visible topic links, else its structured tags.

    The site's own names (and, from structured tags, the section), a blog's
    default category ("Uncategorized"), a CMS's placement labels ("front-page")
    and labels glued to a tag ("Category: Games") are removed; duplicates
    (case-insensitive) are dropped, and so are the characters a reader does not see
    (a soft hyphen in "Persönlichkeits&shy;entwicklung").
    """
    tags = visible_tags(tree, url)
    drop = {normalise_tag(n) for n in site_names}
    if not tags:
        tags = structured_tags(data, _headlines(tree, data, site_names))
        # A tag list the page shows may name the section too; structured tags that only repeat it do not.
        if section:
            drop.add(normalise_tag(section))
    kept: dict[str, str] = {}
    for raw in tags:
        tag = _TAG_LABEL_RE.sub("", visible(raw))
        key = normalise_tag(tag)
        # A slug ("the-verge", "front-page") names what its words name.
        words = key.replace("-", " ")
        if not key or {key, words} & drop or key in _UNFILED:
            continue
        if words in _PLACEMENT or _PLACEMENT_RE.search(key):
            continue
        kept.setdefault(key, tag)
    return list(kept.values())[:MAX_TAGS]
