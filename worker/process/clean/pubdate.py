"""
Choose an article's publication and update times from every statement the page and its feed make.

Precedence, as rules rather than per-site tables:

1. Explicit statements: JSON-LD `datePublished`, then the publication `<meta>`
   tags (`article:published_time`, Parse.ly, Sailthru, `dc.date.issued`, …), then
   microdata, then a publication `<time datetime>`, then the dates a CMS stamps
   without saying what they date (`dcterms.date`, `dcterms.created`, `date`),
   then the feed entry.
2. Among them the most precise wins (a time with an offset, then a time
   without, then a day), as long as it falls within a day of the first one;
   a heuristic date is used only when nothing explicit exists: it never
   overrides an explicit value.  Of the heuristics, the date line the page
   shows under its headline comes first, then a date with its clock time
   just above the headline, then a date opening the text's first paragraphs,
   then trafilatura's search of the whole page, then the URL.  The
   headline's date line with a time (or one just above the headline) also
   refines a stated bare day it agrees with.
3. A time without offset takes the offset the page states in its other
   timestamps; without one it stays naive and the source's zone applies later.
4. A time stated in UTC is shown in the page's own offset when the page gives
   one elsewhere or shows the local clock time in a date box; failing that, on
   the day its URL names (the moment is unchanged, only the day it is shown on).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import dateparser
from lxml import etree

from worker.process.clean.chrome import in_chrome_markup
from worker.process.clean.headline import (
    BODY_TEXT_LEN,
    TEXTS_AFTER,
    TEXTS_BEFORE,
    shown_headline,
    text_owner,
)
from worker.process.clean.hidden import HIDDEN_CLASS_RE
from worker.process.clean.structured import PageData, texts
from worker.process.enrich.dates import parse_datetime

# News archives start with the web; anything older is a parse of some other number.
MIN_DATE = datetime(1990, 1, 1, tzinfo=UTC)
# A naive date read as UTC may look up to a day ahead: that much of "future" is tolerated.
FUTURE_SLACK = timedelta(days=1)

PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "article.published",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "citation_publication_date",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "original-publish-date",
    "article_date_original",
)
# Dates a CMS stamps on any page without saying which event they date (made, filed, changed): below a
# `<time>` the page shows, in precedence, though each still counts as a vote.
GENERIC_DATE_META = ("date", "dc.date", "dcterms.date", "dcterms.created", "dc.date.created")
UPDATED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "dc.date.modified",
    "last-modified",
    "lastmod",
)
_TIME_RE = re.compile(r"\d{1,2}:\d{2}|T\d{2}")
# An English ordinal after a day ("19th"), which a theme prints beside a month of another
# language ("Juni 19th, 2018"): no single locale reads both.
_ORDINAL_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
# A clock time written with colons ("01:52", "14:05:09"): no day's number.
_COLON_CLOCK_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_CLOCK_RE = re.compile(r"\b(\d{1,2})[:.h](\d{2})\b\s*(a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
_PUBLISHED_CLASS_RE = re.compile(r"publish|pubdate|posted|entry-date|created|article-date|datum|fecha", re.I)
# The URL's day moves a UTC time at most this many hours: the zones of most newsrooms.
_MAX_GUESSED_OFFSET = 8
# Two statements of one publication differ by the page's offset at most, or a day for a bare date.
_AGREE = timedelta(days=1, hours=2)
_CHROME_RE = re.compile(r"related|teaser|sidebar|footer|comment|recommend|popular|trending|more-", re.I)
# Other stories' clocks.  (Not `sidebar`: layouts name the article's own column `lay-sidebar`;
# a clock must show the statement's minute and day to count, which another story's rarely does.)
_OTHER_CLOCKS_RE = re.compile(r"related|teaser|comment|recommend|popular|trending|more-", re.I)
# The headline's date line: within this many texts after the `h1`, before the body's first paragraph.
_HEADLINE_TEXTS = 40
_TEASER_WORDS = 5
# A date line that also names the author or the place: its separators, and how many pieces are read.
_LINE_SEPARATOR_RE = re.compile(r"\s*(?:[|·•]|,(?=\s)|\s[-–—]\s)\s*")
_MAX_LINE_PIECES = 4
# The source a stamp shown around the headline is recorded under.
_SHOWN = "headline"
# A post's sentence saying when it was posted (`posted_stamp`), and the texts it is looked for in.
_POSTED_RE = re.compile(
    r"\b(?:(?:was posted on|posted on|a été publié le|fue publicado el)\s+(?P<date>[^:]{4,40}?\d{4})"
    r"(?:,?\s+(?:at|à|a las)\s+(?P<time>\d{1,2}[:.h]\d{2}\s*(?:[ap]\.?m\.?)?))?"
    # German says it with its verb last: "wurde am … gepostet"; without the verb it is any event's date.
    r"|wurde am\s+(?P<date_de>[^:]{4,40}?\d{4})(?:\s+um\s+(?P<time_de>\d{1,2}[:.]\d{2})\s*Uhr)?"
    r"\s+(?:gepostet|veröffentlicht|publiziert|geschrieben|online gestellt))",
    re.IGNORECASE,
)
_POSTED_TEXTS = etree.XPath(
    "//body//text()[contains(., 'posted on') or contains(., 'wurde am') or contains(., 'été publié le')"
    " or contains(., 'fue publicado el')]"
)
_MAX_POSTED_TEXTS = 20
_MAX_POSTED_SENTENCE = 400
# A piece of a date line split over elements ("de 2022") has at most this many words.
_DATE_FRAGMENT_WORDS = 3
# A headline's deck (standfirst): one long text under it, before its date line, that is not the body.
_DECK_RE = re.compile(
    r"deck|standfirst|teaser|intro|summary|description|subtitle|sub-title|abstract|excerpt|chapo|vorspann",
    re.IGNORECASE,
)
# A date opening a paragraph of the text, before a dash; looked for in the first few paragraphs.
_OPENING_DATE_RE = re.compile(r"^([^–—]{6,40}?)\s+[–—-]\s+\S")
# A dateline's place and the date in parentheses: "Karlsruhe, (12.11.2021). Traditionell …".
_DATELINE_DATE_RE = re.compile(r"^[^\W\d][^()\d]{1,40}?,?\s*\(([^()]{6,30})\)\s*[.:–—-]?\s+\S")
_TEXT_PARAGRAPHS = 3
_ABOVE_HEADLINE_TEXTS = 4
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_UPDATE_WORD_RE = re.compile(
    r"\b(?:updated?|aktualisiert|actualizad[oa]|atualizad[oa]|mis à jour|modifi[ée]|geändert|stand)\b", re.I
)
# A label before the date ("Written:", "opublikowano:"), which dateparser does not read past.
_LABEL_RE = re.compile(r"^[^\d:]{1,30}:\s*(?=\d|\w+\s+\d)")
# A publication label without a colon ("Published on", "Posted on", "Publié le", "Veröffentlicht am"),
# and a byline or a list closing the line ("… by Jane Doe", "… | categories:", no number after them), which
# dateparser does not read past either: its parse fails (after trying every locale, 10-20 ms).
_WORD_LABEL_RE = re.compile(
    r"^(?:published|posted|publié|publiée|publicado|publicada|veröffentlicht|pubblicato|pubblicata"
    r"|opublikowano|gepubliceerd|publicerad|publiceret|publisert)(?:\s+(?:on|at|le|el|em|am|il|op|den|kl\.?))?\s+",
    re.IGNORECASE,
)
_LINE_TAIL_RE = re.compile(r"\s+(?:by|von|par|por|di|door|av|af)\s+\D*$|\s*\|\D*$", re.IGNORECASE)
# "12:00 A. M." is spelled "12:00 AM" for dateparser.
_MERIDIEM_RE = re.compile(r"\b([ap])\.\s?m\.", re.I)
# A numeric date whose first two numbers could each be the day: `11/01/2023`.
_AMBIGUOUS_RE = re.compile(r"^\s*(\d{1,2})[/-](\d{1,2})[/-]((?:19|20)\d\d)(?!\d)")


@dataclass(frozen=True)
class Stamp:
    """One date statement: the moment, whether it names a time and an offset, and its source."""

    when: datetime
    has_time: bool
    source: str

    @property
    def has_offset(self) -> bool:
        """Tell whether the statement names its offset from UTC."""
        return self.when.tzinfo is not None

    @property
    def precision(self) -> int:
        """Rank: 3 a time with an offset, 2 a time without, 1 a day."""
        return 3 if self.has_time and self.has_offset else 2 if self.has_time else 1

    def iso(self) -> str:
        """Return the statement as ISO 8601: a day, a naive time, or a time with its offset."""
        if not self.has_time:
            return self.when.date().isoformat()
        return self.when.replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Dates:
    """The resolved publication and update times as ISO 8601 strings, and where they came from."""

    published: str | None = None
    updated: str | None = None
    source: str | None = None


def parse_stamp(text: str, source: str, now: datetime, *, dayfirst: bool = True) -> Stamp | None:
    """Return a statement when it parses to a moment from 1990 up to now (plus a day of slack)."""
    if not text or len(text) > 80:
        return None
    when = parse_datetime(text, dayfirst=dayfirst)
    if when is None:
        return None
    try:
        check = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        if not MIN_DATE <= check <= now + FUTURE_SLACK:
            return None
    except (OverflowError, ValueError):
        return None
    return Stamp(when, bool(_TIME_RE.search(text)), source)


def _parent_class(element: Any) -> str:
    parent = element.getparent()
    return str(parent.get("class") or "") if parent is not None else ""


def _time_elements(tree: Any) -> list[Any]:
    """Return `<time datetime>` elements of the article, publication ones first."""
    found = [t for t in tree.xpath("//time[@datetime]") if not in_chrome_markup(t, _CHROME_RE)]
    marked = [
        t
        for t in found
        if t.get("pubdate") is not None
        or t.get("itemprop") == "datePublished"
        or _PUBLISHED_CLASS_RE.search(f"{t.get('class') or ''} {_parent_class(t)}")
    ]
    return marked or found[:1]


class _DayOrder:
    """
    Say whether an ambiguous numeric date of this page's statements reads day first.

    The page's language decides (`dayfirst`), unless the page shows the date in a
    form that is not ambiguous, `01.11.2023` or `2023-11-01`, for exactly one of
    the two readings: a server's `<meta name="date" content="11/01/2023">` is
    often written month first on a page whose readers see `01.11.2023`.
    """

    def __init__(self, tree: Any, dayfirst: bool) -> None:
        self.tree = tree
        self.dayfirst = dayfirst
        self._shown: str | None = None

    def _text(self) -> str:
        if self._shown is None:
            found = self.tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
            self._shown = " ".join(found[:20_000])
        return self._shown

    def _shows(self, day: int, month: int, year: str) -> bool:
        text = self._text()
        return (
            re.search(rf"(?<![\d.])0?{day}\.\s?0?{month}\.\s?{year}(?!\d)", text) is not None
            or f"{year}-{month:02d}-{day:02d}" in text
        )

    def __call__(self, value: str) -> bool:
        match = _AMBIGUOUS_RE.match(value)
        if match is None:
            return self.dayfirst
        first, second, year = int(match[1]), int(match[2]), match[3]
        if first == second or first > 12 or second > 12 or 0 in (first, second):
            return self.dayfirst
        day_first, month_first = self._shows(first, second, year), self._shows(second, first, year)
        return day_first if day_first != month_first else self.dayfirst


def headline_stamp(headline: Any, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return the date the page shows under its headline, a heuristic: `Mittwoch, 26.01.2022 - 14:30`.

    The first short text with a year among the texts after the headline (not
    link texts) that parses as a whole date, day, month and year (dateparser,
    which knows the main news languages), up to the body's first paragraph or
    a link to another story; lines labelled as updates are passed over, and so
    is one long text marked as the headline's deck (or, right under the headline,
    the only paragraph of its block); a date whose month sits in an element of
    its own is read from the element around its year.  A date that is a link (to the
    site's archive of the day) counts.  `headline` is the element `shown_headline` found, or None.
    """
    if headline is None:
        return None
    after = TEXTS_AFTER(headline, n=_HEADLINE_TEXTS)
    deck_passed = False
    for index, piece in enumerate(after):
        text = " ".join(piece.split())
        owner = text_owner(piece)
        if owner is not None and HIDDEN_CLASS_RE.search(owner.get("class") or ""):
            # A stamp kept for search engines only (`<span class="updated rich-snippet-hidden">`).
            continue
        if len(text) > BODY_TEXT_LEN:
            # The deck between the headline and its date line is passed over, once: marked as
            # one, or the lone paragraph of its block right under the headline.
            if (
                not deck_passed
                and owner is not None
                and (_in_deck(owner) or (index == 0 and _lone_paragraph(owner)))
            ):
                deck_passed = True
                continue
            break
        if owner is not None and owner.xpath("ancestor-or-self::a"):
            # An author's link belongs to the header; another story's headline ends it.
            if len(text.split()) >= _TEASER_WORDS:
                break
            # A date that links to the site's archive of its day is the date line all the same.
            if _YEAR_RE.search(text) and (stamp := _shown_stamp(text, now, dayfirst=dayfirst, source=_SHOWN)):
                return stamp
            continue
        if len(text) > 80 or not _YEAR_RE.search(text) or _UPDATE_WORD_RE.search(text):
            continue
        if stamp := _shown_stamp(text, now, dayfirst=dayfirst, source=_SHOWN):
            return stamp
        if stamp := _date_in_line(text, now, dayfirst=dayfirst):
            return stamp
        # The year's piece of a date whose day or month sit in elements of their own
        # (`Jueves, 21 de <span>Abril</span> de 2022`): the element around it shows the date.
        # Only a fragment of a few words is one; a longer line failed as a whole.
        if (
            owner is not None
            and len(text.split()) <= _DATE_FRAGMENT_WORDS
            and (stamp := _whole_date(owner, text, now, dayfirst=dayfirst))
        ):
            return stamp
    return None


def _whole_date(owner: Any, text: str, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return the date shown by the element holding a piece of a date line, or by its parent.

    The nearer of the two whose text is more than the piece is read, when it is short and
    names no update.
    """
    for element in (owner, owner.getparent()):
        if element is None:
            return None
        whole = " ".join(element.text_content().split())
        if len(whole) > 80 or _UPDATE_WORD_RE.search(whole):
            return None
        if whole != text:
            return _shown_stamp(whole, now, dayfirst=dayfirst, source=_SHOWN)
    return None


def _lone_paragraph(element: Any) -> bool:
    """Tell a paragraph that is the only one of its block (a deck) from one of a text's paragraphs."""
    parent = element.getparent()
    return element.tag == "p" and parent is not None and sum(1 for child in parent if child.tag == "p") == 1


def _date_in_line(text: str, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return the date of a line that shows it beside other things: `1. Februar 2022 , Jane Doe`.

    The line is cut at its separators (`,`, `|`, `·`, ` - `); the first piece with a
    year that is a whole date wins, read with the next piece when that is its clock time.
    """
    pieces = [p for p in _LINE_SEPARATOR_RE.split(text) if p]
    if len(pieces) < 2:
        return None
    for index, piece in enumerate(pieces[:_MAX_LINE_PIECES]):
        if not _YEAR_RE.search(piece):
            continue
        following = pieces[index + 1] if index + 1 < len(pieces) else ""
        if _clock_alone(following):
            # The next piece is the date's clock time: read the two together.
            piece = f"{piece} {following}"
        if stamp := _shown_stamp(piece, now, dayfirst=dayfirst, source=_SHOWN):
            return stamp
    return None


def _clock_alone(text: str) -> bool:
    """Tell a clock time shown without its day ("07:02pm EDT") from a date line."""
    return bool(_TIME_RE.search(text)) and not _YEAR_RE.search(text)


def _in_deck(element: Any) -> bool:
    """Tell whether an element is, or sits within three levels of, one marked as the headline's deck."""
    for node in itertools.islice((element, *element.iterancestors()), 4):
        if _DECK_RE.search(f"{node.get('class') or ''} {node.get('itemprop') or ''}"):
            return True
    return False


def above_headline_stamp(headline: Any, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return a date with a clock time among the few short texts right above the headline, a heuristic.

    Some pages print the date line over the headline (`Feb 14, 2016 10:47 AM EST`),
    the day and the clock time sometimes in elements of their own; so do site date
    bars, with the day alone, so only a date with its time counts: it refines a stated
    day it agrees with, and stands for the date when the page states and shows no other.
    `headline` is as for `headline_stamp`.
    """
    if headline is None:
        return None
    before = TEXTS_BEFORE(headline, n=_ABOVE_HEADLINE_TEXTS)
    # Nearest first (the node-set comes back in document order); `clock` is the text after the
    # one read, when it is a clock time alone.
    clock = ""
    for piece in reversed(before):
        text = " ".join(piece.split())
        if len(text) > 80:
            break
        if _YEAR_RE.search(text) and not _TIME_RE.search(text) and clock:
            text = f"{text} {clock}"
        clock = text if _clock_alone(text) else ""
        if not _YEAR_RE.search(text) or not _TIME_RE.search(text) or _UPDATE_WORD_RE.search(text):
            continue
        if stamp := _shown_stamp(text, now, dayfirst=dayfirst, source=_SHOWN):
            return stamp
    return None


def _shown_stamp(text: str, now: datetime, *, dayfirst: bool, source: str) -> Stamp | None:
    """
    Return the whole date (day, month and year) a short shown text states, in any main news language.

    A text with no number beside its year and its clock time names no day ("© 2020 Acme",
    "November 2022", "2022 01:52 PM") and is not handed to dateparser: a parse that fails tries
    every locale it knows, 10-20 ms of CPU (one such text took 595 ms), against 1-3 ms for a date.
    """
    if not any(c.isdigit() for c in _COLON_CLOCK_RE.sub("", _YEAR_RE.sub("", text, count=1))):
        return None
    order = "DMY" if dayfirst else "MDY"
    settings = {"DATE_ORDER": order, "REQUIRE_PARTS": ["day", "month", "year"]}
    try:
        bare = _LINE_TAIL_RE.sub("", _WORD_LABEL_RE.sub("", _LABEL_RE.sub("", text)))
        bare = _ORDINAL_RE.sub(r"\1", _MERIDIEM_RE.sub(r"\1m", bare))
        when = dateparser.parse(bare, settings=settings)
    except (ValueError, OverflowError):  # a "date" no calendar has
        return None
    if when is None or not MIN_DATE <= when.replace(tzinfo=when.tzinfo or UTC) <= now + FUTURE_SLACK:
        return None
    return Stamp(when, bool(_TIME_RE.search(text)), source)


def posted_stamp(tree: Any, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return the date of a blog post's sentence saying when it was posted, a heuristic.

    Classic blog themes print it in the post's footer, not under the headline: "This entry was
    posted on Wednesday, May 19th, 2010 at 11:03 pm and is filed under …", "Dieser Artikel …
    wurde am 19. Mai 2010 um 23:03 Uhr gepostet".  A comment's ("Jane posted on …") is passed over.
    """
    for piece in _POSTED_TEXTS(tree)[:_MAX_POSTED_TEXTS]:
        owner = text_owner(piece)
        # (Some themes print the post's footer in a column classed as its sidebar.)
        if owner is None or in_chrome_markup(owner, _OTHER_CLOCKS_RE):
            continue
        sentence = " ".join(owner.text_content().split())[:_MAX_POSTED_SENTENCE]
        if (match := _POSTED_RE.search(sentence)) is None:
            continue
        shown = " ".join(part for part in match.group("date", "time", "date_de", "time_de") if part)
        if stamp := _shown_stamp(shown, now, dayfirst=dayfirst, source=_SHOWN):
            return stamp
    return None


def text_stamp(text: str, now: datetime, *, dayfirst: bool) -> Stamp | None:
    """
    Return the date opening one of the article text's first paragraphs before a dash, a heuristic.

    Press pages and regional papers start the story with it (`29.11.2022 – Mehrfach …`,
    `Karlsruhe, (12.11.2021). Traditionell …`) instead of printing it under the headline.
    """
    lines = (line.strip() for line in text.split("\n") if line.strip())
    for line in itertools.islice(lines, _TEXT_PARAGRAPHS):
        match = _OPENING_DATE_RE.match(line) or _DATELINE_DATE_RE.match(line)
        if match is None or not _YEAR_RE.search(match[1]) or _UPDATE_WORD_RE.search(match[1]):
            continue
        if stamp := _shown_stamp(match[1], now, dayfirst=dayfirst, source="text"):
            return stamp
    return None


def explicit_stamps(tree: Any, data: PageData, now: datetime, dayfirst: bool) -> list[Stamp]:
    """Return the page's publication statements in precedence order."""
    stamps: list[Stamp] = []
    order = _DayOrder(tree, dayfirst)

    def add(values: list[str], source: str) -> None:
        for value in values:
            if stamp := parse_stamp(value, source, now, dayfirst=order(value)):
                stamps.append(stamp)

    article = data.article or {}
    add(texts(article.get("datePublished"))[:1], "json-ld")
    for key in PUBLISHED_META:
        add(data.meta.get(key, [])[:1], f"meta:{key}")
    add(data.microdata.get("datepublished", [])[:1], "microdata")
    # A `<time itemprop="datePublished">` is the microdata's statement already: one vote, not two.
    add([str(t.get("datetime")) for t in _time_elements(tree) if t.get("itemprop") is None][:1], "time")
    # One CMS stamp printed under several names (`date` and `DCTERMS.date` alike) is one vote.
    seen: set[str] = set()
    for key in GENERIC_DATE_META:
        values = [v for v in data.meta.get(key, [])[:1] if v not in seen]
        seen.update(values)
        add(values, f"meta:{key}")
    add(texts(article.get("dateCreated"))[:1], "json-ld:dateCreated")
    return stamps


def updated_stamps(tree: Any, data: PageData, now: datetime, dayfirst: bool) -> list[Stamp]:
    """Return the page's update statements in precedence order."""
    article = data.article or {}
    values = texts(article.get("dateModified"))[:1]
    values += [v for key in UPDATED_META for v in data.meta.get(key, [])[:1]]
    values += data.microdata.get("datemodified", [])[:1]
    order = _DayOrder(tree, dayfirst)
    return [s for v in values if (s := parse_stamp(v, "updated", now, dayfirst=order(v)))]


def page_offset(stamps: list[Stamp]) -> timezone | None:
    """
    Return the local offset the page states most often in its timestamps, or None.

    UTC does not count: servers write UTC whatever the newsroom's zone.  A tie goes
    to the statement listed first (publication before update: across a change to or
    from summer time, the update's offset is not the publication's).
    """
    offsets = Counter(s.when.utcoffset() for s in stamps if s.has_time and s.has_offset)
    local = [(o, n) for o, n in offsets.items() if o]
    return timezone(max(local, key=lambda item: item[1])[0]) if local else None


def _valid_offset(minutes: int) -> timezone | None:
    minutes = minutes - 1440 if minutes > 14 * 60 else minutes
    if minutes and minutes % 15 == 0 and -12 * 60 <= minutes <= 14 * 60:
        return timezone(timedelta(minutes=minutes))
    return None


def _clock_offset(text: str, utc: datetime) -> timezone | None:
    """Return the offset at which `text` shows `utc`'s minute and day, if it does."""
    for match in _CLOCK_RE.finditer(text):
        hour, minute = int(match.group(1)), int(match.group(2))
        if match.group(3):
            hour = hour % 12 + (12 if match.group(3).casefold().startswith("p") else 0)
        if minute != utc.minute or hour > 23:
            continue
        offset = _valid_offset((hour * 60 - utc.hour * 60) % 1440)
        if offset is None:
            continue
        day = utc.astimezone(offset).day
        if re.search(rf"(?<!\d)0?{day}(?!\d)", text[: match.start()] + text[match.end() :]):
            return offset
    return None


def shown_offset(tree: Any, stamp: Stamp) -> timezone | None:
    """
    Infer the page's offset from the clock time it shows for a UTC statement.

    A short text on the page (with its element's or parent's text around it)
    that shows the same minute past the hour, a whole number of quarter hours
    away, and the day of month that offset gives, shows local time: lanacion's
    "3 de mayo de 2022 21:25" beside `2022-05-04T00:25:56Z` means UTC-3.
    """
    utc = stamp.when.astimezone(UTC)
    for node in tree.xpath("//body//text()[contains(., ':') or contains(., '.')]")[:5000]:
        if len(node) > 120 or not _CLOCK_RE.search(node):
            continue
        element = node.getparent()
        if element is None or in_chrome_markup(element, _OTHER_CLOCKS_RE):
            continue
        for context in (element, element.getparent()):
            if context is None:
                break
            # Pieces joined with a space: `<time>3 de mayo de 2022</time><time>21:25</time>` are two.
            text = " ".join(" ".join(context.itertext()).split())
            if len(text) > 120:
                break
            if offset := _clock_offset(text, utc):
                return offset
    return None


def day_offset(stamp: Stamp, day: Stamp) -> timezone | None:
    """
    Return the smallest whole-hour offset that shows a UTC statement on the day the URL names.

    `/2020/02/17/` with `2020-02-18T02:18:11Z` gives UTC-3 (21:18 on the 17th):
    the moment is unchanged, only the day it is shown on follows the page.
    """
    utc = stamp.when.astimezone(UTC)
    for hours in range(1, _MAX_GUESSED_OFFSET + 1):
        for sign in (-1, 1):
            offset = timezone(timedelta(hours=sign * hours))
            if utc.astimezone(offset).date() == day.when.date():
                return offset
    return None


def url_stamp(url: str) -> Stamp | None:
    """Return the day a URL path names (`/2023/11/08/`, `/20231108/`), a heuristic."""
    match = _URL_DATE_RE.search(url)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        # A bare day is naive on purpose: it names no moment, only a date.
        return Stamp(datetime(year, month, day), False, "url")
    except ValueError:
        return None


def _near(a: Stamp, b: Stamp) -> bool:
    return abs(_naive(a.when) - _naive(b.when)) <= _AGREE


def choose(stamps: list[Stamp]) -> Stamp | None:
    """
    Return the most precise statement among those that agree with the most others.

    Statements agree when they are within a day (offsets and midnight dates
    aside).  The day most sources state wins, precedence breaking ties; within
    it, a time with an offset beats a naive time, which beats a bare day.
    """
    if not stamps:
        return None
    support = [sum(1 for other in stamps if _near(stamp, other)) for stamp in stamps]
    anchor = stamps[support.index(max(support))]
    agreeing = [s for s in stamps if _near(s, anchor)]
    return max(agreeing, key=lambda s: s.precision)


def _naive(when: datetime) -> datetime:
    return when.replace(tzinfo=None)


def _localise(stamp: Stamp, offset: timezone | None) -> Stamp:
    """Give a naive time the page's offset, and show a UTC time in the page's offset."""
    if not stamp.has_time or offset is None:
        return stamp
    if not stamp.has_offset:
        return Stamp(stamp.when.replace(tzinfo=offset), True, stamp.source)
    if not stamp.when.utcoffset() and offset.utcoffset(None):
        return Stamp(stamp.when.astimezone(offset), True, stamp.source)
    return stamp


def resolve_dates(
    tree: Any,
    data: PageData,
    url: str,
    *,
    now: datetime,
    feed: str | None = None,
    heuristic: Callable[[], str | None] | None = None,
    text: str = "",
    dayfirst: bool = True,
    title: str | None = None,
) -> Dates:
    """
    Return the publication and update times by the precedence in this module's docstring.

    Args:
        tree: the parsed page.
        data: its structured data.
        url: the page's URL, whose path may name a day.
        now: the reference time; later dates are rejected.
        feed: the feed entry's publication date, an explicit statement.
        heuristic: searches the page for a date (trafilatura's search), called only without any other.
        text: the article's text, whose opening date line (`text_stamp`) comes before `heuristic`.
        dayfirst: read ambiguous numeric dates day first (all but US English pages).
        title: the headline the page shows, which tells its heading from a logo's.
    """
    stamps = explicit_stamps(tree, data, now, dayfirst)
    if feed and (stamp := parse_stamp(feed, "feed", now)):
        stamps.append(stamp)
    updated = updated_stamps(tree, data, now, dayfirst)
    chosen = choose(stamps)
    # The headline element, looked for once and only when a shown date may be needed.
    headline = shown_headline(tree, title) if chosen is None or not chosen.has_time else None
    if chosen is None or not chosen.has_time:
        # Shown with its time, the headline's date refines a stated bare day it agrees with.
        shown = headline_stamp(headline, now, dayfirst=dayfirst)
        if chosen is None or (shown is not None and shown.has_time and _near(shown, chosen)):
            chosen = shown or chosen
    if chosen is None or not chosen.has_time:
        # Shown with its time right above the headline, a date refines a stated day it agrees
        # with, and stands for the page's date when nothing states or shows one.
        above = above_headline_stamp(headline, now, dayfirst=dayfirst)
        if above is not None and (chosen is None or _near(above, chosen)):
            chosen = above
    if chosen is None and text:
        chosen = text_stamp(text, now, dayfirst=dayfirst)
    if chosen is None:
        chosen = posted_stamp(tree, now, dayfirst=dayfirst)
    if chosen is None and heuristic is not None and (searched := heuristic()):
        chosen = parse_stamp(searched, "heuristic", now, dayfirst=dayfirst)
        # A search that found only a year (a copyright line) reports its 1st of January.
        if chosen is not None and not chosen.has_time and (chosen.when.month, chosen.when.day) == (1, 1):
            chosen = None
    if chosen is None:
        chosen = url_stamp(url)
    offset = page_offset(stamps + updated)
    if chosen is not None and chosen.has_time and chosen.has_offset and not chosen.when.utcoffset():
        offset = offset or shown_offset(tree, chosen)
        day = url_stamp(url)
        if offset is None and day is None:
            # The day shown under the headline ("06 Dicembre 2020" beside `2020-12-05T23:15Z`).
            shown_under = headline if headline is not None else shown_headline(tree, title)
            day = headline_stamp(shown_under, now, dayfirst=dayfirst)
        if offset is None and day is not None and chosen.when.date() != day.when.date():
            offset = day_offset(chosen, day)
    published = _localise(chosen, offset) if chosen is not None else None
    latest = choose(updated)
    update = _localise(latest, offset) if latest is not None else None
    if (
        update is not None
        and published is not None
        and published.has_time
        and update.has_time
        and update.has_offset == published.has_offset
        and update.when < published.when
    ):
        update = None
    return Dates(
        published=published.iso() if published else None,
        updated=update.iso() if update else None,
        source=published.source if published else None,
    )
