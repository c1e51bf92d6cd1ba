"""
Read an article's authors: persons from structured data, byline markup, the feed and the text.

Organisations named as authors (the site itself, a newsroom, an agency) are
not authors: they are returned apart, as publisher candidates.  Names are
cleaned of byline prefixes in the main news languages, "Last, First" is turned
round, slugs and case variants collapse into one name, and the list is capped.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from worker.process.clean.chrome import holds_page, in_chrome_markup
from worker.process.clean.headline import BODY_TEXT_LEN, TEXTS_AFTER, shown_headline, text_owner
from worker.process.clean.hidden import HIDDEN_CLASS_RE, HIDDEN_STYLE_RE, visible
from worker.process.clean.structured import PageData, clean_value, node_types, texts
from worker.process.clean.text import AGENCIES
from worker.process.enrich.places import is_place

MAX_AUTHORS = 10
_NOISE = " \"'‘’“”«»,:;-–—|©"
# A job title glued to or following a name: "Ingo ArztRedakteur für Wirtschaft", "Jane Doe Reporter".
_ROLE_RE = re.compile(
    r"\s*(?:Chef)?(?:Redakteur|Reporter|Editor|Korrespondent|Correspondent|Journalist|Volontär|Autor"
    r"|Redakteurin|Reporterin|Korrespondentin|Journalistin|Autorin|Staff Writer|Senior Writer)\b.*$"
)
# Credits for pictures are not bylines.
_PHOTO_RE = re.compile(
    r"^(?:(?:foto|photo|фото|bild|bilder|image|imagen|picture)s?|photograph(?:y|ed|s)?|fotograf(?:ie|ía|ia)?"
    r"|ill?ustra\w*|grafik|graphics?|video|kamera|camera|fotó|снимк[аи]|zdjęci[ae])\b",
    re.IGNORECASE,
)
# A photo credit in a box marked as a byline ("Снимка: Getty Images/Guliver", "Foto: A/B, Text: Jane Doe"):
# every name after the photo word, up to the next label or bar, is the picture's source.
_PHOTO_CREDIT_RE = re.compile(
    _PHOTO_RE.pattern + r"\s*[:：].*?(?=\s*[|;·•]|(?:,\s*|\s)[^\W\d_]+\s*[:：]|$)", re.IGNORECASE
)
# "Jane Doe for The Mail on Sunday": after "for" comes the outlet.
_FOR_RE = re.compile(r"\s+for\s+(?=the\s|[A-Z])", re.IGNORECASE)
# Byline words before names: "By", "Von", "Par", "Por", "Di", "Door", "Av", "Af", "Written by", …
_WORD_PREFIX_RE = re.compile(
    r"^(?:(?:written|posted|reported|published|text|story|words|escrito|publicado|redactado"
    r"|ein beitrag|ein kommentar|ein interview|eine analyse|recherche|texto|texte|testo"
    r"|erstellt|geschrieben|verfasst|veröffentlicht|gepostet|pressemitteilung|(?:zeige )?alle beiträge"
    r"|(?:view )?all (?:posts|articles|stories)|(?:more )?(?:posts|articles|stories)|écrit|rédigé|publié"
    r"|scritto|pubblicato|escrita|publicada)\s+)?"
    r"(?:by|von|vom|par|por|di|door|av|af|napisał|napisała|escribe"
    # "writes"/"wrote" in Slavic bylines ("Piše: P. Doe", "Pisze Jan Kowalski", "Napisao …") and Arabic
    # ("كتب", "كتبت": he/she wrote).
    r"|piše|pišu|pisze|piszą|napisao|napisala|пише|пишу|написал|написала|كتب|كتبت)(?:\s*:)?\s+(?=\S)",
    re.IGNORECASE,
)
# Labels before names: "Autor:", "Auteur :", "Text:", "Interview:", "记者", "作者：", "حوار:"; German's
# gender-inclusive forms too ("Autor/in:", "Autor*innen:", "AutorIn:", "Redakteur:in:"); one label for
# words and pictures ("Text & Fotos:", "Bild und Text:"), whose name wrote the text.
_LABEL_PREFIX_RE = re.compile(
    r"^(?:autor(?:[/*_:·]?in(?:nen)?|a|es|en)?|authors?|auteure?s?|autore|redakteur(?:[/*_:·]?in(?:nen)?)?"
    r"|(?:text|texte|texto|testo|words)\s*(?:&|\+|/|und|and|et|y|e)\s*(?:fotos?|bilder?|photos?)"
    r"|(?:fotos?|bilder?|photos?)\s*(?:&|\+|/|und|and|et|y|e)\s*(?:text|texte|texto|testo|words)"
    r"|text|texto|texte|testo|interview|reportage|bericht|reporter(?:[/*_:·]?in(?:nen)?)?|reporting|writer"
    r"|(?:written|words|reported) by|escrito por"
    r"|kirjoittaja|by|por|par|von"
    # Cyrillic "Автор:", "Авторка:", "Авторы:" (author, authors).
    r"|автор(?:ка|ы|и)?"
    r"|记者|記者|作者|حوار|بقلم|كتب|كتبت|piše|pisze|napisao|napisala)\s*[:：]\s*|^(?:记者|記者|作者)\s*",
    re.IGNORECASE,
)
# Parts of a byline that join names.
_JOIN_RE = re.compile(
    r"\s*(?:;|\||/|／|、|·|•|&|\+|\s(?:and|und|et|y|e|i|en|og|och|ja|és|a)\s)\s*|,\s*(?:and|und|et|y|e)?\s*",
    re.IGNORECASE,
)
# "A im Gespräch mit B", "A in conversation with B": the interviewer (B) wrote it.
_INTERVIEW_RE = re.compile(r"\b(?:im gespräch mit|in conversation with|en conversation avec)\s+(.+)$", re.I)
_TAIL_RE = re.compile(
    r"\s*(?:\(.*?\)|\|.*|[-–—]\s*(?:reporter|editor|redakteur|correspondent|korrespondent).*"
    r"|\b(?:tiempo de lectura|lesezeit|reading time|min read|updated|aktualisiert|actualizado"
    r"|mis à jour)\b.*|\s(?:foto|photo|bild)s?\s*:.*"
    # A date closing the byline's text, outside a `<time>`: "上報快訊／范姜佳鈺 2020年03月12日 20:19:00",
    # "Jane Doe 2020-03-12 20:19", "Jane Doe 12.03.2020".
    r"|\s\d{4}(?:年|[-/.]\d{1,2}[-/.]\d{1,2}\b).*|\s\d{1,2}[./]\d{1,2}[./]\d{2,4}\b.*)$",
    re.IGNORECASE,
)
# A Chinese byline names the paper and "reporter" before the name, and "reports" (with the dateline's
# place) after it: "聯合報 記者林宸誼／即時報導", "新华社记者 张三", "本报记者 李四 报道",
# "記者王小明／台北報導".
_CJK_REPORTER_RE = re.compile(r"^[^A-Za-z]{0,30}?(?:记者|記者)\s*(?=\S)")
_CJK_REPORTS_RE = re.compile(r"\s*(?:[／/][^／/\s]{0,6})?(?:報導|報道|报道)$")
# A Korean byline puts "reporter" (기자) after the name, the paper before it with "=": "이용민 기자",
# "스포츠조선=선수민 기자", "김철수·이영희 기자 kim@example.com".
_KO_REPORTER_RE = re.compile(
    r"^(?:\S{1,20}=\s*)?(?P<names>[가-힣]{2,4}(?:\s*[·,]\s*[가-힣]{2,4})*)\s*기자(?![가-힣])"
)
# A text that is such a byline: the paper's name (letters only) and "reporter" before the name, or
# "reporter" and a space, or the Korean form.  ("記者の目", a column's name, and "记者了解到，…", a
# sentence, are none; a name holds no kana.)
_REPORTER_TEXT_RE = re.compile(
    r"^(?:[^\W\d_A-Za-z]{1,10}(?:记者|記者)\s*|(?:记者|記者|作者)\s+)\S|" + _KO_REPORTER_RE.pattern[1:]
)
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
# A picture's credit: "新华社记者 王小明 摄".
_CJK_PHOTO_RE = re.compile(r"(?:摄|攝|摄影|攝影|图|圖)$")
# A place closing the byline after a preposition: "Jane Doe in Kyiv", "Do UOL, em São Paulo".
_PLACE_TAIL_RE = re.compile(r"^(?:(.*?\S)\s*,?\s+(in|em|Em|EM)|(In|Em|EM))\s+(\S.*)$")
# "Name - Place": a dateline's place (or the outlet) after a dash closes the byline
# ("حسام أبو العلا - القاهرة", "Jane Doe - London").  One word, or a known place: "Jane Doe - John Roe"
# names two people.
_DASH_TAIL_RE = re.compile(r"^(\S+(?:\s+\S+)+?)\s+[-–—]\s+(\S+(?:\s+\S+){0,2})$")
# A job title after a person's name, standing as its own part of the byline: "Gary B. Graves, AP Sports
# Writer", "Jane Doe and John Roe, Staff Writers", "Jane Doe, Senior Correspondent", "Hans Muster,
# Wirtschaftsredakteur".  Its last word is a job's name; a few words may qualify it.
_JOB_PART_RE = re.compile(
    r"^(?:\S+\s+){0,3}\S*(?:writer|correspondent|reporter|editor|columnist|journalist|contributor"
    r"|photographer|producer|critic|analyst|redakteur|korrespondent|autor|redactor|corresponsal|periodista"
    r"|correspondant|journaliste|rédacteur|redattore|inviato|giornalista|repórter|jornalista|colunista"
    r"|correspondente|redator)(?:s|in|innen|en|a|e|es|as|i)?$",
    re.IGNORECASE,
)
# Before an organisation's name, a byline word or Portuguese "from the" ("Do UOL", "Da Redação", "Af Ritzau",
# "Por EFE", "By AFP") makes no person of it.
_BEFORE_ORG_RE = re.compile(
    r"^(?:do|da|dos|das|from|by|von|vom|par|por|di|door|av|af)\s+(?=\S)", re.IGNORECASE
)
# National news agencies that sign alone, beside the ones of `text.AGENCIES` (acronyms in capitals are
# organisations anyway; "sid", "tt" in lower case may be a person's initials).
_MORE_AGENCIES_TEXT = """
    ritzau ntb stt anp belga ctk čtk tasr mti tanjug bta agerpres lusa adnkronos anadolu ukrinform unian jiji
    bernama ians keystone-sda ria-novosti itar-tass
"""
_MORE_AGENCIES = frozenset(_MORE_AGENCIES_TEXT.split()) | {"europa press", "ria novosti", "agência brasil"}

# Words that make a "name" an organisation, a role or a placeholder rather than a person.
_ORG_WORDS_TEXT = """
    redaktion redacción redaccion redação redacao redazione rédaction redakcja newsroom staff team desk
    editor editors editorial editorial-team agency agentur agencia agence agenzia agencias agenturen
    news nachrichten noticias notícias nouvelles notizie wiadomości media medien médias press presse
    prensa stampa online digital verlag gmbh ag ltd inc llc sa srl kg corp company group gruppe grupo
    se plc nv bv spa university universität universidad université universita institute institut
    department departement ministry ministerium programme program foundation stiftung fundación association
    verband council
    zeitung times post tribune herald journal gazette radio tv television fernsehen magazin magazine
    revista rivista report reports service services network channel daily weekly diario periódico
    red admin administrator webmaster guest gast anonymous unknown author autor no-author sponsored
    redaktionsteam nachrichtenagentur wire wires contributor contributors community
    solutions systems technologies consulting holding holdings partners
    letters about research forschung gesponsert gesponserte anzeige werbung advertorial kreuz
    police polizei polizia policía policia polícia feuerwehr gendarmerie customs protection
    bureau büro redactie redaktionen redakce redakcia toimitus szerkesztőség redacția redaksi
    equipo equipe équipe zespół редакция редакція команда ομάδα σύνταξη συντακτική
    ब्यूरो डेस्क टीम فريق التحرير تحرير تحریریه
    نيوز أخبار اخبار الأخبار الاخبار الإخبارية الاخبارية صحيفة جريدة وكالة قناة شبكة بوابة
"""
# (Newsroom words in more languages: "Varanasi bureau", "Συντακτική ομάδα" (editorial team), "Zespół
# …", "فريق التحرير" (the editing team); Arabic outlets' words: "نيوز" ("news" as Arab outlets spell
# their names: "المدينة نيوز"), "أخبار" (news), "صحيفة"/"جريدة" (paper), "وكالة" (agency), "قناة"
# (channel), "شبكة" (network), "بوابة" (portal).  `_ORG_WORDS`, these words as written and as `name_key`
# folds them, follows `name_key`.)
# A company's "Co." ("Acme Co.", "Müller & Co" split at its "&", "Co. KG", "Ford Motor Co"); "Co" after
# a given name alone is also a surname ("Emily Co").
_COMPANY_CO_RE = re.compile(r"\bCo\.|&\s*Co\b|\bCo\s+KG\b|^Co$|^(?:\S+\s+){2,}Co$", re.IGNORECASE)
# One word ending in a newsroom's word is a newsroom's account: "BBNTEAM", "Onlineredaktion", "Newsdesk".
_ORG_ENDINGS = ("team", "staff", "desk", "redaktion", "newsroom")
# A word of a longer name ending in an organisation's word, as German compounds do: "Bundesverband Wind",
# "revamp-it Webteam", "Landesverein", "Kulturstiftung NRW".
_ORG_COMPOUND_ENDINGS = (
    "team",
    "redaktion",
    "newsroom",
    "verband",
    "verein",
    "gesellschaft",
    "ministerium",
    "stiftung",
    "agentur",
    "polizei",
)
# A name in Chinese ending in a desk's or an outlet's word: "上報快訊" (the paper's newsflash desk),
# "綜合新聞", "中央通訊社", "新聞中心", "北京日報", "編輯部".
_CJK_ORG_ENDINGS_TEXT = """
    快訊 快讯 新聞 新闻 中心 日報 日报 晚報 晚报 時報 时报 通訊社 通讯社
    編輯部 编辑部 電視台 电视台 新聞網 新闻网
"""
_CJK_ORG_ENDINGS = tuple(_CJK_ORG_ENDINGS_TEXT.split())
_NOT_NAME_RE = re.compile(r"https?://|www\.|\.(?:com|de|net|org|at|ch|fr|es|it|pl)\b|@|\d|[<>{}=_:：]")
# Lower-case words a name may hold: particles of surnames ("Ursula von der Leyen", "Luiz da Silva").
_PARTICLES_TEXT = """
    von vom zu van der den de del della di da das dos du des la le lo ter ten te op y e i bin ibn al el
    ben bint ap mac af av
"""
_PARTICLES = frozenset(_PARTICLES_TEXT.split())
# Definite articles, which open a pseudonym or a newsroom's name but no person's.
_ARTICLES = frozenset({"der", "die", "das", "the"})
# "al-Assad", "d'Alembert": a lower-case start joined to a surname.
_JOINED_RE = re.compile(r"['’-]")
# Words printed where a byline is expected that name no one ("Posted", "Datum", "Courtesy", "zvg").
_PLACEHOLDERS_TEXT = """
    posted published updated datum date text aktuell courtesy cortesía cortesia zvg agencies newsdesk
    share teilen quelle source sources fuente fonte
    follow folgen subscribe unsubscribe abonnieren undo
    uppdaterad publicerad opdateret udgivet oppdatert publisert päivitetty julkaistu bijgewerkt gepubliceerd
    aktualizacja zaktualizowano opublikowano actualizado publicado atualizado aggiornato pubblicato publié
    veröffentlicht erschienen
    monday tuesday wednesday thursday friday saturday sunday
    montag dienstag mittwoch donnerstag freitag samstag sonntag sonnabend
    lundi mardi mercredi jeudi vendredi samedi dimanche
    lunes martes miércoles miercoles jueves viernes sábado sabado domingo
    lunedì martedì mercoledì giovedì venerdì sabato domenica
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
"""
# (A weekday opens the date line a byline box may hold: "Wednesday, 08 Apr 2020 11:39 PM"; a stamp's
# label is left of it when its `<time>` is taken out: "Uppdaterad <time>…</time>".  Folded by
# `name_key`, after it.)
_URL_RE = re.compile(r"https?://|^www\.|^@\w+$")
_ACRONYM_RE = re.compile(r"^[A-Z]{2,5}$")
_SLUG_RE = re.compile(r"^[^\W\d_]+(?:[-._][^\W\d_]+)+$")
# Capitalised names joined by a dot or an underscore, a CMS user name ("Isabella.DiBiase").
_USER_NAME_RE = re.compile(r"^[^\W\d_a-z][^\W\d_]+(?:[._][^\W\d_a-z][^\W\d_]+)+$")
# A user name: one lower-case word longer than a set of initials ("cpm", "wal" are initials; "john",
# "asty" are handles).
_HANDLE_RE = re.compile(r"^[^\W\d_A-Z]{4,}$")
# One word of letters only: a user name run together ("HansG") is one (`_run_together`).
_LETTERS_RE = re.compile(r"^[^\W\d_]+$")


def _run_together(word: str) -> bool:
    """
    Tell a user name run together from a name and an initial or a second name ("HansG", "MoritzMeyer").

    A capital after two lower-case letters or more: "McDonald", "DiBiase" and "LeBron" have one
    lower-case letter before theirs and stay names.
    """
    if _LETTERS_RE.match(word) is None:
        return False
    lower = 0
    for c in word[1:]:
        if c.isupper() and lower >= 2:
            return True
        lower = lower + 1 if c.islower() else 0
    return False


# ("writeBy", "written-by": the byline's class named for its "Written by".)
_BYLINE_WORDS = (
    "byline",
    "author",
    "autor",
    "auteur",
    # Spanish and Italian "firma" (signature) opens a class's word: "con-firma-tion" is none.
    "(?<![a-z])firma",
    "creator",
    "writer",
    "reporter",
    "verfasser",
    "(?<![a-z])writ(?:e|ten)[-_]?by",
    # Joomla's "Written by" line: `<dd class="createdby">Escrito por Jane Doe</dd>`.
    "created[-_]?by",
)
_BYLINE_WORD_RE = re.compile("|".join(_BYLINE_WORDS))
_AUTHOR_PATH_WORDS = (
    "aut",
    "journalist",
    "redakt",
    "reporter",
    "newsteam",
    "staff",
    "writer",
    "profil",
)
# Characters a case-insensitive pattern of ASCII matches though their `lower()` is no ASCII: "İ", "ı", "ſ".
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")
# (A `<button>` is a control ("Unsubscribe", "Follow"), never the byline itself.)
_SKIPPED_TAGS = frozenset({"body", "html", "meta", "link", "script", "style", "head", "title", "button"})
_CHROME_RE = re.compile(
    r"related|teaser|sidebar|footer|comment|recommend|popular|trending|newsletter|share|social|promo"
    r"|more-|author-?bio|author-?box|author-?desc|about-author|biography|widget-area"
    r"|(?:article|story)-list",
    re.IGNORECASE,
)
_AUTHOR_PATH_RE = re.compile(
    r"/(?:authors?|autor(?:en|es|in)?|auteurs?|autore|journalist(?:en|s)?|redakteur(?:e|in)?|reporters?"
    r"|newsteam|staff|(?:staff-)?contributors?|writers?|profil(?:e)?)/[^/?#]+"
    # A newsroom's page of each of its journalists, "/redaktion/jane-doe" (not a page deeper down).
    r"|/redaktion/[^/?#]+/?(?:$|[?#])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Authors:
    """The persons credited, and organisations found where authors were expected."""

    persons: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()


def name_key(name: str) -> str:
    """Return a key under which spelling variants of a name (`Jane-Doe`, `jane doe`, `Jane Doe.`) meet."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return " ".join(
        "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c)).split()
    )


def squashed_key(name: str) -> str:
    """Return `name_key` without its spaces, under which a run-together name meets its words (`janedoe`)."""
    return name_key(name).replace(" ", "")


_PLACEHOLDERS = frozenset(map(name_key, _PLACEHOLDERS_TEXT.split()))
_ORG_WORDS = frozenset(_ORG_WORDS_TEXT.casefold().split()) | frozenset(
    key for key in map(name_key, _ORG_WORDS_TEXT.split()) if " " not in key
)
# `name_key` takes the vowel signs out of words in scripts that write them ("ब्यूरो" becomes "बय र"), so
# a copy that lost its last sign ("ब्यूर", as some extractors trim it) folds the same: such words are
# looked for as runs of the folded name.
_ORG_RUNS = tuple(
    f" {key} " for key in map(name_key, _ORG_WORDS_TEXT.split()) if " " in key and not key.isascii()
)


def _title_case(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:].lower() if w.isupper() and len(w) > 2 else w for w in name.split())


def strip_prefix(text: str) -> str:
    """Remove a leading byline word (`By`, `Von`, `Par`, `Autor:`, `记者`, …) and surrounding noise."""
    text = _strip(text)
    if _WORD_PREFIX_RE.match(text + " x") and len(text.split()) == 1:
        return ""
    if "记者" in text or "記者" in text:
        text = _strip(_CJK_REPORTS_RE.sub("", _CJK_REPORTER_RE.sub("", text, count=1)))
    elif text.endswith(("報導", "報道", "报道")):
        # "王小明／台北報導": the dateline's place and "reports" close the byline, no "reporter" before.
        text = _strip(_CJK_REPORTS_RE.sub("", text))
    elif "기자" in text and (korean := _KO_REPORTER_RE.match(text)):
        text = korean["names"]
    for _ in range(3):
        new = _strip(_LABEL_PREFIX_RE.sub("", text, count=1))
        after_word = _strip(_WORD_PREFIX_RE.sub("", new, count=1))
        # "Von der Leyen", "Di Maio": a byline word is taken off only with a name of two words
        # left that starts like a name (a capital, or a script without case).
        first = after_word[:1]
        if len(after_word.split()) >= 2 and (first.isupper() or not first.islower()):
            new = after_word
        if new == text:
            break
        text = new
    return _without_place(_strip(_ROLE_RE.sub("", _TAIL_RE.sub("", text))))


def _without_place(text: str) -> str:
    """
    Drop the place a byline closes on after "in"/"em": "Jane Doe in Kyiv", "Do UOL, em São Paulo (SP)";
    a place alone ("Em São Paulo (SP)", its own element in a byline box) leaves nothing.

    Portuguese "em" is no part of a name, so any capitalised place after it goes; after English "in" only
    a known place does ("Kim In Young" keeps its given name's "In").
    """
    match = _PLACE_TAIL_RE.match(text)
    if match is None:
        return text
    head, word = match[1] or "", match[2] or match[3]
    place = _strip(_TAIL_RE.sub("", match[4]))
    if not place[:1].isupper() or len(place.split()) > 4:
        return text
    if word.casefold() == "in" and not is_place(place):
        return text
    return _strip(head)


def _strip(text: str) -> str:
    """Trim quotes and separators; a final dot stays after an initial or `Jr.`."""
    text = " ".join(visible(text).split()).strip(_NOISE)
    while text.endswith(".") and len(text.rsplit(" ", 1)[-1]) > 4:
        text = text[:-1].rstrip(_NOISE)
    return text.lstrip(".")


def is_organisation(name: str, site_names: Iterable[str] = ()) -> bool:
    """Tell a newsroom, agency, outlet or placeholder from a person's name."""
    key = name_key(name)
    if not key:
        return True
    # An acronym (ARD, NDR, AFP, PP) is an organisation; initials of a person are written in lower case.
    if _ACRONYM_RE.match(name):
        return True
    if key in AGENCIES or key.replace(" ", "") in AGENCIES or key in _MORE_AGENCIES:
        return True
    words = set(key.split())
    # (`name_key` breaks words of scripts with vowel signs, "ब्यूरो": the words as written are tested too.)
    if not _ORG_WORDS.isdisjoint(words) or not _ORG_WORDS.isdisjoint(name.casefold().split()):
        return True
    if _COMPANY_CO_RE.search(name):
        return True
    if not name.isascii() and any(run in f" {key} " for run in _ORG_RUNS):
        return True
    if len(words) == 1 and any(key.endswith(end) and key != end for end in _ORG_ENDINGS):
        return True
    if any(w.endswith(end) and len(w) > len(end) + 2 for w in words for end in _ORG_COMPOUND_ENDINGS):
        return True
    if not name.isascii() and name.endswith(_CJK_ORG_ENDINGS):
        return True
    if (before := _BEFORE_ORG_RE.match(name)) and is_organisation(name[before.end() :], site_names):
        return True
    squashed = key.replace(" ", "")
    for site in site_names:
        site_key = squashed_key(site)
        if len(site_key) >= 3 and (squashed == site_key or (len(squashed) >= 4 and squashed in site_key)):
            return True
        if len(squashed) >= 4 and len(site_key) >= 4 and site_key in squashed:
            return True
    return False


def _looks_like_person(name: str) -> bool:
    if not name or len(name) > 60 or _NOT_NAME_RE.search(name) or _PHOTO_RE.match(name):
        return False
    words = name.split()
    if not 1 <= len(words) <= 6 or name_key(name) in _PLACEHOLDERS:
        return False
    if len(words) > 1 and words[0].casefold() in _ARTICLES:
        # "Der Spendenteddy", "The Hustler": a pseudonym or a newsroom, no one's name.
        return False
    # A phrase ("Projektleiterin der HSS in Tunesien"), not a name: a lower-case word that is no particle.
    plain = [w for w in words if w.islower() and not _JOINED_RE.search(w)]
    if len(words) > 1 and any(w not in _PARTICLES for w in plain):
        return False
    letters = [c for c in name if c.isalpha()]
    # Scripts without case (CJK, Arabic) cannot be checked for capitals; names there are short.
    if letters and all(not c.isupper() and not c.islower() for c in letters):
        # (One character is no one's name: "文" (text) of "文／Jane Doe" split at its slash.)
        return len(words) > 1 or 2 <= len(letters) <= 6
    if len(words) == 1:
        # A dateline's place left alone in a byline ("Brasília"): no one signs with a capital's name.
        return not _HANDLE_RE.match(name) and not _run_together(name) and not is_place(name)
    capitals = sum(1 for w in words if w[:1].isupper())
    # Surnames are capitalised, particles (von, de, da) need not be.
    return _JOINED_RE.split(words[-1])[-1][:1].isupper() and capitals >= max(1, len(words) - 2)


def _cased(word: str) -> bool:
    """Tell whether a word is written in a script with capitals (Latin, Greek, Cyrillic)."""
    return any(c.isupper() or c.islower() for c in word)


def split_names(raw: str) -> list[str]:
    """
    Split one byline into names: `A, B and C`, `A und B`, `A/B`, `Doe, Jane` (one person).

    Returns the names in order, each stripped of prefixes; empty parts dropped.
    """
    text = strip_prefix(raw)
    # "asty//now": handles of the editor and the desk a CMS writes in lower case, run together with a
    # double slash, are no one's name.
    if "//" in text and all(not h or (h.isalpha() and h.islower()) for h in map(str.strip, text.split("//"))):
        return []
    if match := _INTERVIEW_RE.search(text):
        text = match.group(1)
    text = _FOR_RE.split(text, maxsplit=1)[0]
    halves = [h.strip() for h in text.split(",")]
    # "Doe, Jane": one comma between two single words is a name written last name first.
    if len(halves) == 2 and all(len(h.split()) == 1 and h[:1].isupper() for h in halves):
        return [f"{halves[1]} {halves[0]}"]
    parts = [p for p in _JOIN_RE.split(text) if p]
    # A job title is no name; the first part is the person's ("Jane Doe Reporter" loses its title in
    # `strip_prefix`).
    parts = parts[:1] + [p for p in parts[1:] if not _JOB_PART_RE.match(_strip(p))]
    return [name for name in map(strip_prefix, parts) if name]


# A social handle printed after the name: "Jane Doe @janedoe".
_HANDLE_TAIL_RE = re.compile(r"(?<=\S)\s+@\w+$")
# Academic and professional titles before a name ("Dr. Jane Doe", "Prof. Dr. Hans Meier",
# "Rechtsanwalt Dennis Tölle", "Fachanwältin für IT-Recht Jane Doe"): a reader's byline, no part of the name.
_TITLE_BEFORE_NAME_RE = re.compile(
    r"^(?:(?:dr|prof|dipl|mag|ing|priv[.-]*doz|pd)\.(?:[\s-]*(?:\w+\.|rer\.|med\.|phil\.|nat\.|jur\.|h\.\s*c\.))*"
    r"|rechtsanw(?:alt|ältin|älte)|fachanw(?:alt|ältin) für [\w-]+|notar(?:in)?|steuerberater(?:in)?"
    r"|(?-i:RA|RAin))\s+",
    re.IGNORECASE,
)


def _tidy(name: str) -> str:
    name = _HANDLE_TAIL_RE.sub("", name)
    for _ in range(3):
        rest = _TITLE_BEFORE_NAME_RE.sub("", name, count=1)
        if rest == name or len(rest.split()) < 2:
            break
        name = rest
    if _SLUG_RE.match(name) and name.islower():
        name = " ".join(w.capitalize() for w in re.split(r"[-._]", name))
    elif _USER_NAME_RE.match(name):
        # A CMS user name of a person's capitalised names ("Isabella.DiBiase", "Jane_Doe"); a hyphen
        # stays, it joins double names ("Schmoll-Trautmann", "Jean-Paul").
        name = " ".join(re.split(r"[._]", name))
    words = name.split()
    # Markup that prints the name twice (a hidden copy beside the visible one).
    if len(words) % 2 == 0 and words[: len(words) // 2] == words[len(words) // 2 :]:
        name = " ".join(words[: len(words) // 2])
    return _title_case(name) if name.isupper() and len(name) > 3 else name


def _person_then_site(name: str, site_names: list[str]) -> list[str]:
    """
    Split "Jane Doe SiteName Staff" (a byline printing the outlet after the name, no comma) in two.

    Only where the words after a person's name start with one of the site's own
    names: "Washington Post Staff" is an organisation and stays whole.
    """
    words = name.split()
    for k in range(2, len(words)):
        # "Name - Site" is the pattern of an outlet's own name and tagline: the site must follow the name.
        if not words[k][:1].isalnum():
            continue
        rest = squashed_key(" ".join(words[k:]))
        if not any(len(key) >= 4 and rest.startswith(key) for key in map(squashed_key, site_names)):
            continue
        head = " ".join(words[:k])
        # In a script without case nothing tells a name's words from an outlet's.
        cased = any(c.isupper() for c in head)
        if cased and _looks_like_person(head) and not is_organisation(head, site_names):
            return [head, " ".join(words[k:])]
    return [name]


def _name_then_glued_outlet(name: str, site_names: list[str]) -> list[str]:
    """
    Split "Isabel KeaneJournal News" (a byline running the outlet's name on into the last name) in two.

    A lower-case letter followed by a capital inside a word is where the two meet,
    when what follows is an organisation and what comes before a person's name:
    "LeBron James", "Jane McDonald" are left whole (no organisation follows).
    """
    for i in range(2, len(name)):
        if not (name[i].isupper() and name[i - 1].islower()):
            continue
        head, tail = name[:i], name[i:]
        if (
            len(head.rsplit(" ", 1)[-1]) > 2
            and is_organisation(tail, site_names)
            and _looks_like_person(head)
            and not is_organisation(head, site_names)
        ):
            return [head, tail]
    return [name]


def _name_then_place(name: str, site_names: list[str]) -> list[str]:
    """
    Split "Jane Doe - London", "Jane Doe - Reuters" (a byline closing on a place or an outlet after a dash).

    The outlet is kept, to be sorted as an organisation; the place goes.  A whole that is
    an organisation ("Armenia Today - NEWS.am", the site's name and tagline) stays whole.
    """
    dash = _DASH_TAIL_RE.match(name)
    if dash is None or is_organisation(name, site_names):
        return [name]
    head, tail = dash[1], dash[2]
    if is_organisation(tail, site_names):
        return [head, tail]
    return [head] if " " not in tail or is_place(tail) else [name]


def sort_names(raw_names: Iterable[str], site_names: Iterable[str] = ()) -> Authors:
    """
    Turn raw author strings into persons and organisations, variants merged, persons capped.

    A name seen twice in different forms (`jane-doe`, `Jane Doe`) is kept once,
    in the first form written with spaces.
    """
    sites = list(site_names)
    persons: dict[str, str] = {}
    orgs: dict[str, str] = {}
    for raw in raw_names:
        if _URL_RE.search(raw):
            continue
        parts = [_tidy(p) for p in split_names(clean_value(raw))]
        parts = [q for p in parts for q in _person_then_site(p, sites)]
        parts = [q for p in parts for q in _name_then_glued_outlet(p, sites)]
        parts = [q for p in parts for q in _name_then_place(p, sites)]
        found_orgs = [p for p in parts if is_organisation(p, sites)]
        people = [p for p in parts if p not in found_orgs and _looks_like_person(p)]
        # "Jane Doe, London, John Roe", "site.de, Frankfurt, Germany", "Jane Doe, Institut, Köllitsch":
        # beside full names, an organisation or a known place (an address: "Acme, Frankfurt, Germany"),
        # a single capitalised word is a place (a lower-case one is a set of initials, one in a script
        # without case a name).
        if len(parts) > 1 and (found_orgs or any(" " in p for p in people) or any(map(is_place, parts))):
            people = [p for p in people if " " in p or p.islower() or not _cased(p)]
        for name in found_orgs:
            # "Af Ritzau" is Ritzau's byline.
            before = _BEFORE_ORG_RE.match(name)
            if before and is_organisation(name[before.end() :], sites):
                name = name[before.end() :]
            orgs.setdefault(name_key(name), name)
        for name in people:
            key = name_key(name)
            if key and (key not in persons or (" " in name and " " not in persons[key])):
                persons[key] = name
    kept = [n for k, n in persons.items() if not any(k != o and k in o.split(" ") for o in persons)]
    return Authors(tuple(kept[:MAX_AUTHORS]), tuple(orgs.values()))


_ORGANISATION_TYPES = frozenset({"organization", "newsmediaorganization"})


def structured_authors(data: PageData) -> tuple[list[str], list[str]]:
    """Return (person strings, organisation names) stated by JSON-LD, microdata and meta tags."""
    persons: list[str] = []
    orgs: list[str] = []
    article = data.article or {}
    for value in (article.get("author"), article.get("creator")):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                # Typed both ("Person", "Organization": a personal site's owner, as Yoast types it), a person.
                types = set(node_types(item))
                organisation = "person" not in types and bool(types & _ORGANISATION_TYPES)
                target = orgs if organisation else persons
                target.extend(texts(item.get("name")))
            else:
                persons.extend(t for t in texts(item) if not t.startswith("http"))
    if not persons:
        persons.extend(data.microdata.get("author", [])[:MAX_AUTHORS])
    if not persons:
        persons.extend(
            v
            for v in data.all(
                "author",
                "article:author",
                "parsely-author",
                "sailthru.author",
                "dc.creator",
                "dcterms.creator",
                "byl",
                "citation_author",
                "cxenseparse:author",
            )
            if not v.startswith("http")
        )
    return persons, orgs


# Markup that hides an element from readers: `hidden`, `d-none`, `is-hidden`, `visually-hidden`.
_UNSHOWN_TAGS = ("script", "style", "noscript", "template")
# Blocks about other stories and their readers: a name there is not this article's author.
# ("commentary" classes an opinion piece; "social-comments" a comment counter beside the byline;
# "article-list" holds other stories' cards; TYPO3 names its own byline "news-list-author".)
_OTHER_STORIES_RE = re.compile(
    r"related|teaser|recommend|popular|trending|promo|more-|comment-|comment_|commentlist|recentcomments"
    r"|comments-area|(?:article|story)-list",
    re.IGNORECASE,
)


def _hidden(element: Any, other_stories: bool = False) -> bool:
    """
    Tell whether an element or one of its ancestors is hidden from readers by its markup,
    or (with `other_stories`) sits in a block about other stories.
    """
    for node in (element, *element.iterancestors()):
        if node.tag in {"body", "html"}:
            return False
        if node.get("hidden") is not None or node.get("aria-hidden") == "true":
            return True
        cls = node.get("class") or ""
        if HIDDEN_CLASS_RE.search(cls) or HIDDEN_STYLE_RE.search(node.get("style") or ""):
            return True
        if (
            other_stories
            and _OTHER_STORIES_RE.search(f"{cls} {node.get('id') or ''}")
            and not holds_page(node)
        ):
            return True
    return False


def shown_names(tree: Any, names: list[str], *, as_written: bool = False) -> list[str]:
    """
    Return the names that the page shows a reader as part of the article, in their order.

    Structured data often credits people the page itself never names (an editor, a
    CMS account, or the site's usual author, named on its teasers for other
    stories); the article's authors are those a reader sees.  A name counts where
    a text of the page holds it outside scripts, styles, hidden markup and blocks
    about other stories (teasers, related stories, comments); a name split
    across elements counts where the page's whole text holds it.  Case and
    spacing may differ from the page's, unless `as_written`: then each word must be
    written capitalised as given, or the name all in capitals.  A guess from elsewhere
    (trafilatura title-cases what it takes for a byline) may join the page's words
    across elements ("so" + "Artikel empfehlen:" becomes "So Artikel Empfehlen"); the
    page writes them in lower case, as no name is written.
    """
    body = tree.find("body") if names else None
    if body is None:
        return names
    text = etree.tostring(body, method="text", encoding="unicode", with_tail=False)
    hidden = " ".join(e.text or "" for e in body.iter(*_UNSHOWN_TAGS))
    texts = (text, hidden)
    lowered = None if any(c in text or c in hidden for c in _CASE_TRAPS) else (text.lower(), hidden.lower())
    shown = []
    for name in names:
        words = name.split()
        if not words:
            continue
        if as_written and not any(_holds(text, form) for form in (words, [w.upper() for w in words])):
            continue
        if _occurrences(words, texts, lowered) <= 0:
            continue
        pattern = re.compile(r"\s*".join(map(re.escape, words)), re.IGNORECASE)
        if _shown_where_held(body, pattern):
            shown.append(name)
    return shown


def _holds(text: str, words: list[str]) -> bool:
    """Tell whether a text holds the words in this case, spacing aside."""
    return re.search(r"\s*".join(map(re.escape, words)), text) is not None


def _occurrences(words: list[str], texts: tuple[str, str], lowered: tuple[str, str] | None) -> int:
    """
    Return how many more times the shown text than the hidden one holds the words, case and spacing aside.

    For an ASCII name, the texts in lower case (`lowered`, None where they hold a `_CASE_TRAPS`
    character) give the same matches to a case-sensitive search, which is much faster than an
    IGNORECASE one over a whole page: shown_names 0.7 -> 0.5 ms a page on 168 real pages.
    """
    if lowered is not None and all(w.isascii() for w in words):
        pattern = re.compile(r"\s*".join(re.escape(w.lower()) for w in words))
        texts = lowered
    else:
        pattern = re.compile(r"\s*".join(map(re.escape, words)), re.IGNORECASE)
    text, hidden = texts
    return len(pattern.findall(text)) - len(pattern.findall(hidden))


def _shown_where_held(body: Any, pattern: re.Pattern[str]) -> bool:
    """
    Tell whether a text of `body` holding `pattern` belongs to an element a reader sees, or none holds it.

    A name split across elements ("<b>Jane</b> Doe") is in no one text: the
    whole text shows it, and it is taken.  The scan stops at the first shown
    holder, most often the byline near the top of the page.
    """
    held = False
    previous = ""
    for piece, owner in _text_pieces(body):
        if match := pattern.search(piece):
            # An editor's credit ("责任编辑：孔德明", "Editor: Jane Doe") names who edited the story, not
            # who wrote it; the label may end the text before the name's own element.
            before = piece[: match.start()]
            if (
                not _EDITOR_LABEL_RE.search(before if before.strip() else previous)
                and not _hidden(owner, other_stories=True)
                and not _in_story_card(owner)
                and not _beside_other_story(owner)
            ):
                return True
            held = True
        if not piece.isspace():
            previous = piece
    return not held


# A label naming an editor, closing the text before a name: a title and a colon ("Editor:", "编辑："),
# or "Edited by".  (A title alone, "Editor", may head a list of names.)
_EDITOR_LABEL_RE = re.compile(
    r"(?:(?:责任编辑|编辑|編輯|责编|責編|\b(?:editor|editora|edición|redaktor|redaktorka|редактор|редакторка))"
    r"\s*[:：]|\b(?:edited by|editing by|editado por))\s*$",
    re.IGNORECASE,
)


def _in_story_card(element: Any) -> bool:
    """
    Tell whether an element sits in a link to another story that holds more than a byline: a teaser card.

    Lists of other stories wrap each card (headline, deck, "By Jane Doe") in one
    link to that story, whatever the list's classes are called; a byline's own
    link goes to the author's page and holds little more than the name.  A name
    that is itself the link's heading is an author box's (`<a><h4>Jane Doe</h4>
    <h5>Reporter</h5></a>`).  Only the holders of a name are tested, a few a page.
    """
    for node in (element, *element.iterancestors()):
        if node.tag in _HEADINGS:
            return False
        if node.tag != "a":
            continue
        href = node.get("href") or ""
        if not href or href.startswith("#") or _AUTHOR_PATH_RE.search(href):
            return False
        return bool(_HEADING_IN(node)) or len(" ".join("".join(node.itertext()).split())) > _CARD_TEXT
    return False


# More text than a byline holds ("By Jane Doe and John Roe, Senior Correspondents"), or a
# heading: a card's.
_CARD_TEXT = 80
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HEADING_IN = etree.XPath(
    "descendant::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6][1]"
)


def _text_pieces(body: Any) -> Iterator[tuple[str, Any]]:
    """Yield the texts of `body` outside scripts and styles, each with the element it belongs to."""
    for element in body.iter():
        if element.text and isinstance(element.tag, str) and element.tag not in _UNSHOWN_TAGS:
            yield element.text, element
        # A tail is text of the parent's, after the element (a comment's too).
        if element.tail and element is not body:
            yield element.tail, element.getparent()


# Lower-case words of a byline that is no sentence: joiners and byline words ("by … and …, on …").
_BYLINE_LOWER_TEXT = """
    by von vom par por di door av af and und et y e i en og och ja és a o or on am le el il at in für for
    with mit avec con written posted published updated text foto photo fotos photos
"""
_BYLINE_LOWER = frozenset(_BYLINE_LOWER_TEXT.split())


def _reads_as_sentence(text: str) -> bool:
    """Tell a caption or a bio ("X and Y met in New York") from a byline: three plain lower-case words."""
    plain = [w for w in re.findall(r"[^\W\d_]+", text) if w.islower()]
    return sum(1 for w in plain if w not in _PARTICLES and w not in _BYLINE_LOWER) >= 3


def _byline_candidates(tree: Any) -> Iterator[Any]:
    """
    Yield the elements marked as a byline or linking to an author page, in document order.

    Marked: a class or id naming a byline, `rel=author`, `itemprop=author`, NITF's `<byline>`.
    This runs on every element of the page, so each element's attributes are read in one
    `items()` (an lxml `get` parses its key each time) and only the ones that can mark it
    are tested: 1.4 -> 1.1 ms a page on 168 real pages.
    """
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str) or tag in _SKIPPED_TAGS:
            continue
        if tag == "byline":
            yield element
            continue
        for key, value in element.items():
            if key in {"class", "id"}:
                marked = _BYLINE_WORD_RE.search(value.lower()) is not None
            elif key in {"rel", "itemprop"}:
                marked = value == "author"
            elif key == "href" and tag == "a":
                low = value.lower()
                marked = any(word in low for word in _AUTHOR_PATH_WORDS) and bool(
                    _AUTHOR_PATH_RE.search(value)
                )
            else:
                continue
            if marked:
                yield element
                break


def _only_section_links(element: Any, text: str) -> bool:
    """
    Tell a byline box that holds nothing but links to sections, each named as its address ends.

    An author box may carry the story's section ("Internacional" linking to
    `/actualidad/internacional`); a link whose one word is its address's last part leads to a
    section or topic page, not to a person.
    """
    shown = []
    for link in element.iter("a"):
        words = " ".join("".join(link.itertext()).split())
        if not words:
            continue
        href = link.get("href") or ""
        last = urlsplit(href).path.rstrip("/").rpartition("/")[2]
        # One word: a person's page is named for the whole name ("/jane-doe"), like the link.
        if " " in words or _AUTHOR_PATH_RE.search(href) or name_key(last) != name_key(words):
            return False
        shown.append(words)
    return bool(shown) and " ".join(shown) == text


def visible_authors(tree: Any) -> list[str]:
    """
    Return the names in the first byline shown on the page.

    A byline is an element classed or marked as one (`byline`, `author`,
    `rel=author`, `itemprop=author`, NITF's `<byline>` element) or links to
    author pages, outside related-story blocks, comments and author bio boxes.
    A byline naming only organisations ("By Associated Press") may name the
    reporter further in its box (`<div class="byline">By <a>Associated Press</a>
    <time>…</time><div class="byline__additional">Jane Doe</div></div>`): the
    bylines inside the box are read for a person, the organisations kept before.
    """
    return _first_byline(tree)[0]


def _around(byline: Any) -> str:
    """Return the text of a byline's parent, or of the byline alone where the parent is more than its box."""
    if byline is None:
        return ""
    box = byline.getparent()
    words = "".join((box if box is not None else byline).itertext()).split()
    if box is None or len(words) > _CARD_WORDS:
        words = "".join(byline.itertext()).split()
    return " ".join(words)


def _first_byline(tree: Any) -> tuple[list[str], Any]:
    """Return the names of the first byline shown (`visible_authors`) and its element (None without one)."""
    for element in _byline_candidates(tree):
        names = _byline_names(element)
        if names and _only_organisations(names):
            inner = (_byline_names(e) for e in _byline_candidates(element) if e is not element)
            return [*names, *next((n for n in inner if n and not _only_organisations(n)), [])], element
        if names:
            return names, element
    return [], None


def _only_organisations(names: list[str]) -> bool:
    """Tell whether every name of a byline is an organisation's ("By Associated Press")."""
    return all(is_organisation(p) for n in names for p in split_names(n))


def _byline_names(element: Any) -> list[str]:
    """Return the names a byline element shows, none where it is no byline a reader sees."""
    if _in_chrome(element) or _hidden(element):
        return []
    parent = element.getparent()
    if element.tag == "a" and parent is not None and len(_author_links(parent)) > 1:
        # "Por: <a>A</a>, <a>B</a>, <a>C</a>": author links side by side make one byline.
        element = parent
    text = _strip(_PHOTO_CREDIT_RE.sub("", _byline_text(element), count=1))
    if not text or len(text) > 200 or _only_section_links(element, text):
        return []
    links = [" ".join("".join(a.itertext()).split()) for a in _author_links(element)]
    if not links and _reads_as_sentence(text):
        return []
    if not links and text.islower() and "author" in (element.get("itemprop"), element.get("rel")):
        text = _capitalised(text)
    names = [n for n in (links or [text]) if n]
    if not (names and any(_looks_like_person(p) for n in names for p in split_names(n))):
        names = [name] if not links and (name := _prefixed_piece(element)) else []
    return names if names and not _beside_other_story(element) else []


# Two or three words of letters (an apostrophe or a hyphen inside), as a name is made.
_LOWER_NAME_RE = re.compile(r"^[^\W\d_]{2,}(?:['’-][^\W\d_]+)*(?:\s[^\W\d_]{2,}(?:['’-][^\W\d_]+)*){1,2}$")
# Lower-case words of a byline that are no part of a name (particles are).
_NOT_NAME_WORDS = (_BYLINE_LOWER - _PARTICLES) | _PLACEHOLDERS


def _capitalised(text: str) -> str:
    """
    Return a name written all in lower case ("marcos lópez") as a name is written.

    Read only in an element the markup states to be the author (`itemprop`, `rel`):
    a box merely classed as a byline may hold a link's words ("leer más").  Two or
    three words, none a byline word or a placeholder, the first and last no particle;
    any other text is returned as it is ("por admin", "posted by" stay lower case).
    """
    words = text.split()
    if (
        not _LOWER_NAME_RE.match(text)
        or words[0] in _PARTICLES
        or words[-1] in _PARTICLES
        or not _NOT_NAME_WORDS.isdisjoint(words)
    ):
        return text
    return " ".join(w if w in _PARTICLES else w[:1].upper() + w[1:] for w in words)


def _in_chrome(element: Any) -> bool:
    """
    Tell whether a byline sits in page chrome (`chrome.in_chrome_markup`), an article's own footer aside.

    HTML's `<footer>` in an `<article>` is where the article says who wrote it
    (`<article><footer class="article__footer"><a href="/redaktion/jane-doe">Jane
    Doe</a></footer></article>`), not the page's footer.
    """
    if not in_chrome_markup(element, _CHROME_RE):
        return False
    if next(element.iterancestors("article"), None) is None:
        return True
    # Below the article, a footer (a `<footer>`, a class naming one) is the article's: other chrome is not.
    in_article = True
    for node in (element, *element.iterancestors()):
        if node.tag in {"body", "html"}:
            return False
        in_article = in_article and node.tag != "article"
        marks = f"{node.get('class') or ''} {node.get('id') or ''}"
        if in_article:
            marks = _FOOTER_RE.sub("", marks)
        if node.tag in {"aside", "nav"} or (node.tag == "footer" and not in_article):
            return True
        if _CHROME_RE.search(marks) and not holds_page(node):
            return True
    return False


_FOOTER_RE = re.compile("footer", re.IGNORECASE)


def _author_links(element: Any) -> list[Any]:
    """Return the links to author pages in an element."""
    return [a for a in element.iter("a") if _AUTHOR_PATH_RE.search(a.get("href") or "")]


# Elements whose text a reader sees apart from the text beside them: blocks, line breaks, and links
# (`<a>Jane Doe</a><a class="follow-button">Follow</a>` reads as two words, not "DoeFollow").
_APART = frozenset(
    {"a", "br", "div", "p", "section", "header", "footer", "li", "ul", "ol", "dl", "dt", "dd", "td", "th"}
    | {"tr", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "address", "article", "aside"}
)


def _spaced_text(element: Any) -> str:
    """
    Return an element's text with a space where a block, a line break or a link begins and ends.

    A link or button that only says "Follow", "Teilen" or the like is a widget, not words of the byline.
    """
    parts: list[str] = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            apart = child.tag in _APART or child.tag == "button"
            inner = _spaced_text(child)
            if apart and child.tag in {"a", "button"} and name_key(inner) in _PLACEHOLDERS:
                inner = ""
            parts += [" " if apart else "", inner, " " if apart else ""]
        parts.append(child.tail or "")
    return "".join(parts)


def _byline_text(element: Any) -> str:
    """
    Return the text of a byline box, without the date a `<time>` in it shows.

    "Por Laura Jordán / Javier Urbina <time>22 de Abril de 2022 - 00:00 HS</time>": a date
    glued to the last name makes no name of it.
    """
    text = " ".join(_spaced_text(element).split())
    for stamp in element.iter("time"):
        if shown := " ".join("".join(stamp.itertext()).split()):
            text = " ".join(text.replace(shown, " ").split())
    return text


# A headline's words: a link to another story, not "Share" or a section's name.
_HEADLINE_WORDS = 4
# A card's words (kicker, headline, byline, date, a line of teaser) at most.
_CARD_WORDS = 40


def _beside_other_story(element: Any) -> bool:
    """
    Tell whether a byline sits in a card of another story: a block holding the byline and two links to one
    other page, its picture and its headline.

    A list of other stories (after the article, in a sidebar) prints each card's
    byline beside its picture and headline, each linked to that story, in classes
    named for no related block (`<div class="x-card"><a href="/other"><img></a><div
    class="x-info"><a href="/other">Four words or more</a><span class="x-author">Jane
    Doe</span></div></div>`).  An article's own byline sits by no picture linking
    where a headline does.  The block is one of the byline's three nearest ancestors,
    no longer than a card: a page's content holds such cards beside its byline.
    """
    node = element
    for _ in range(3):
        node = node.getparent()
        if (
            node is None
            or node.tag in {"body", "html"}
            or len("".join(node.itertext()).split()) > _CARD_WORDS
        ):
            return False
        # (An author box links the author's portrait and name to the author's page.)
        links = [a for a in node.iterfind(".//a[@href]") if not _AUTHOR_PATH_RE.search(a.get("href"))]
        pictures = {link.get("href") for link in links if link.find(".//img") is not None}
        pictures.discard("")
        for link in links:
            if (
                link.get("href") in pictures
                and link.find(".//img") is None
                and len("".join(link.itertext()).split()) >= _HEADLINE_WORDS
            ):
                return True
    return False


def _prefixed_piece(element: Any) -> str:
    """
    Return the text of a byline box that opens with a byline word and names a person, the rest aside.

    A box may print the name beside a date or share buttons, each in its own element
    (`<span>Piše: P. Doe</span><span>prije 26 minuta</span>`): the whole text is no name,
    the part the byline word opens is.
    """
    for piece in element.itertext():
        piece = " ".join(piece.split())
        if (
            piece
            and (_WORD_PREFIX_RE.match(piece) or _LABEL_PREFIX_RE.match(piece))
            and any(_looks_like_person(p) and not is_organisation(p) for p in split_names(piece))
        ):
            return piece
    return ""


# Short texts with a label's colon.  The length is measured only on texts with a colon: libxml2's
# `string-length` costs more than the `contains` tests, 1.1 -> 0.9 ms a page on 168 real pages.
_LABEL_TEXTS = etree.XPath("//body//text()[contains(., ':') or contains(., '：')][string-length(.) < 200]")
# On a page in Chinese, Japanese or Korean (its title says so), also the reporter's bylines without a
# colon ("…记者 史卫燕", "이용민 기자"): each `contains` costs every other page 0.08 ms.
_CJK_LABEL_TEXTS = etree.XPath(
    "//body//text()[contains(., ':') or contains(., '：') or contains(., '者') or contains(., '기자')]"
    "[string-length(.) < 200]"
)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


_BRACKETED_REPORTER_RE = re.compile(
    r"^[〔【［\[（(]\s*([^\W\d_A-Za-z]{0,10}(?:记者|記者)[^〕】］\]）)]{1,20})[〕】］\]）)]"
)


def _label_texts(tree: Any) -> list[Any]:
    """Return the texts that may hold a byline label, by the page's script."""
    title = tree.findtext(".//title")
    found: list[Any] = (_CJK_LABEL_TEXTS if title and _CJK_RE.search(title) else _LABEL_TEXTS)(tree)
    return found


# A byline word and the names after it, the whole of a text among the first `_UNDER_HEADLINE` texts
# after the headline ("von Jane Doe").
_PREFIXED_NAME_RE = re.compile(
    r"^(?:by|von|par|por|di|door|av|af|przez)\s+(?P<names>\S.{2,80})$", re.IGNORECASE
)
_UNDER_HEADLINE = 25
# A label printed alone in its element, without a colon, the name in the element after it: credit
# lists (`<div class="credit-label">Interview</div><div class="credit-text">Jane Doe</div>`),
# Drupal's `field__label`/`field__item`, `<dt>Autor</dt><dd>Jane Doe</dd>`.  Only elements
# marked as labels are read: a search of every short text of the page for the words costs ten
# times as much (0.55 against 8 ms a page on 389 real pages).
_PAIR_LABELS = frozenset(
    {"interview", "text", "texte", "texto", "testo", "autor", "autorin", "author", "auteur", "autore"}
)
_PAIR_LABEL_ELEMENTS = etree.XPath("//*[contains(@class, 'label')][not(*)] | //dt[not(*)] | //th[not(*)]")
_NOT_LABELS = frozenset({"a", "option", "label", "button", "textarea", "input", "select"})


def paired_label_authors(tree: Any) -> list[str]:
    """
    Return the name in the element right after an element holding only a byline label ("Interview", "Autor").

    The label's element holds nothing else, and the next one a name and nothing
    else: a menu link "Interview", a label before a headline or an interview's
    heading naming the person asked is no credit.  Runs only where no other
    byline was found.
    """
    for element in _PAIR_LABEL_ELEMENTS(tree)[:200]:
        label = " ".join((element.text or "").split()).casefold()
        if (
            label not in _PAIR_LABELS
            or element.tag in _NOT_LABELS
            or in_chrome_markup(element, _CHROME_RE)
            or _hidden(element)
        ):
            continue
        value = element.getnext()
        if value is None or not isinstance(value.tag, str) or value.tag in _NOT_LABELS:
            continue
        # "<h2>Interview</h2><h3>Sharon Stone</h3>" heads an interview with the person named.
        if label == "interview" and {element.tag, value.tag} & _HEADINGS:
            continue
        name = " ".join("".join(value.itertext()).split())
        if 2 <= len(name.split()) <= 4 and _one_person(name):
            return [name]
    return []


def headline_byline_authors(tree: Any, title: str | None = None) -> list[str]:
    """
    Return the names of a byline printed under the headline in plain markup: `<span>von Jane Doe</span>`.

    A meta line classed as nothing a byline is read by its words alone: a text of its own, a byline
    word and a person's name, among the texts after the headline (`shown_headline`, as the date
    reader finds it) up to the body's first paragraph.  Runs only where no other byline was found.
    """
    headline = shown_headline(tree, title)
    if headline is None or _hidden(headline):
        return []
    for piece in TEXTS_AFTER(headline, n=_UNDER_HEADLINE):
        text = " ".join(piece.split())
        if len(text) > BODY_TEXT_LEN:
            break
        if (prefixed := _PREFIXED_NAME_RE.match(text)) is None:
            continue
        owner = text_owner(piece)
        if owner is None or in_chrome_markup(owner, _CHROME_RE) or _hidden(owner):
            continue
        names = split_names(prefixed["names"])
        if names and all(2 <= len(n.split()) <= 4 and _one_person(n) for n in names):
            return names
    return []


# The labels of a book's or a product's fact sheet, whose "Autorin:" row names the book's author, not
# the review's ("Titel:", "Seiten:", "Verlag:", "ISBN:" in the rows around it).
_FACT_LABEL_RE = re.compile(
    r"(?:^|\s)(?:verlag|publisher|éditeur|editorial|editora|editore|seiten|pages|isbn|preis|price|prix"
    r"|erscheinungs\w*|published|erschienen)\s*[:：]",
    re.IGNORECASE,
)
# Rows of a fact sheet looked at on each side of the label's.
_FACT_ROWS = 3


def _in_fact_sheet(element: Any) -> bool:
    """Tell whether a byline label sits among a fact sheet's rows (a reviewed book's publisher, pages)."""
    inline = element.tag in {"u", "b", "strong", "em", "i", "span", "dt", "th"}
    row = element.getparent() if inline else element
    if row is None:
        return False
    rows = [
        *itertools.islice(row.itersiblings(preceding=True), _FACT_ROWS),
        row,
        *itertools.islice(row.itersiblings(), _FACT_ROWS),
    ]
    return any(_FACT_LABEL_RE.search(" ".join("".join(r.itertext()).split())[:200]) for r in rows)


def labelled_authors(tree: Any) -> list[str]:
    """
    Return the names after the first byline label printed on the page ("Autor:", "Auteur :", "作者：").

    The names follow the label in the same text, or in the text right after
    its element (`<h5>Autor: </h5>Peter Maahn`).
    """
    for node in _label_texts(tree)[:2000]:
        text = " ".join(str(node).split())
        # "〔記者巫其倫／台北報導〕財政部今天…": a reporter's byline in brackets opens the story's first
        # paragraph (the Taiwanese dateline); the bracket is read alone.
        if bracketed := _BRACKETED_REPORTER_RE.match(text):
            text = bracketed[1]
        if not text or len(text) > 100:
            continue
        # (A label without a colon, "记者 张三", is read as a reporter's byline.)
        labelled = _LABEL_PREFIX_RE.match(text) if ":" in text or "：" in text else None
        if not labelled and not bracketed and not _REPORTER_TEXT_RE.match(text):
            continue
        element = node.getparent()
        if element is None or in_chrome_markup(element, _CHROME_RE):
            continue
        if not labelled:
            # "半月谈记者 史卫燕", "이용민 기자 |": a reporter's name in a text of its own, not a picture's.
            names = split_names(text)
            if (
                names
                and all(_looks_like_person(n) and not _KANA_RE.search(n) for n in names)
                and not _CJK_PHOTO_RE.search(text)
                and not any(a.tag in {"figure", "figcaption"} for a in element.iterancestors())
            ):
                return names
            continue
        if _in_fact_sheet(element):
            continue
        rest = _LABEL_PREFIX_RE.sub("", text, count=1).strip()
        if not rest and getattr(node, "is_text", False):
            # The name in the label's element after it (`<em>Written by: <a>Jane Doe</a></em>`),
            # else right after the element (`<h5>Autor: </h5>Peter Maahn`).
            whole = " ".join("".join(element.itertext()).split())
            rest = whole[len(text) :].strip() if whole.startswith(text) else ""
            rest = rest or " ".join((element.tail or "").split())
        if rest and len(rest) <= 100:
            return [rest]
    return []


# A signature: a short block set right, straight after a block of prose (`<p align="right">Jane Doe</p>`
# closing the story, as print layouts sign it).  Only blocks set right are tested, a few a page.
_SET_RIGHT = (
    "[@align='right' or @align='RIGHT' or contains(@class, 'text-right') or contains(@class, 'align-right')"
    " or contains(translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz'),"
    " 'text-align:right')]"
    "[string-length(normalize-space()) < 60]"
    "[preceding-sibling::*[1][self::p or self::div][string-length(normalize-space()) > 100]]"
)
# Two paths by tag name cost less than one testing each element's name: 0.54 against 0.70 ms a page.
# A sign-off: the story's last paragraph, a dash before a name ("<p>– Jane Doe</p>" after three or more).
_DASH_SIGNED = (
    "//p[not(following-sibling::p)][preceding-sibling::p[3]][string-length(normalize-space()) < 60]"
    "[starts-with(normalize-space(), '–') or starts-with(normalize-space(), '—')"
    " or starts-with(normalize-space(), '-')][not(ancestor::blockquote)]"
)
_SIGNATURES = etree.XPath(f"//p{_SET_RIGHT} | //div{_SET_RIGHT} | {_DASH_SIGNED}")
# The last paragraph of each block, after two or more: where a sign-off sits.  (`p[last()]` is cheap;
# what follows it is tested in Python, once a page, not as a predicate of every paragraph.)
_LAST_PARAGRAPHS = etree.XPath("//p[last()][preceding-sibling::p[2]][not(ancestor::blockquote)]")
# What a contact card holds after its name (a press release's "Jane Doe, Pressesprecherin, Tel. …").
_CONTACT_RE = re.compile(r"@|\d{5}|\b(?:tel|fax|phone|telefon|e-?mail|kontakt|contact|press)", re.IGNORECASE)


def _closes_its_block(paragraph: Any) -> bool:
    """Tell whether a paragraph comes straight after another and nothing with text follows it."""
    before = paragraph.getprevious()
    while before is not None and not isinstance(before.tag, str):
        before = before.getprevious()
    if before is None or before.tag != "p":
        return False
    return not any(
        isinstance(after.tag, str) and "".join(after.itertext()).strip() for after in paragraph.itersiblings()
    )


def _one_person(text: str) -> bool:
    """Tell whether a text is one person's name and nothing else ("PM DJV/fh", "Jane Doe, CEO" are not)."""
    return split_names(text) == [text] and _looks_like_person(text) and not is_organisation(text)


def signed_authors(tree: Any) -> list[str]:
    """
    Return the name signing the story: a block set right after its prose, or its last paragraph opening
    with a dash, holding one name and nothing else; else its last paragraph opening with one name in
    bold or small print, no contact card's details after it; or its last paragraph naming a person and
    a newsroom and nothing else.

    A quote's attribution set right ("Jane Doe, CEO of Acme") holds more than a
    name and is no signature.
    """
    for element in _SIGNATURES(tree):
        if _hidden(element):
            continue
        name = strip_prefix(" ".join("".join(element.itertext()).split()))
        if 2 <= len(name.split()) <= 4 and _one_person(name):
            return [name]
    closing = [p for p in _LAST_PARAGRAPHS(tree) if _closes_its_block(p) and not _hidden(p)]
    for paragraph in closing:
        if signed := _emphasis_signature(paragraph):
            return [signed]
    for paragraph in closing:
        if persons := _newsroom_signature(paragraph):
            return persons
    return []


def _emphasis_signature(paragraph: Any) -> str | None:
    """
    Return the name a story's last paragraph opens with in bold or small print, and holds alone.

    `<p><strong>Jane Doe</strong></p>`, or `<p><small>Jane Doe<br></small><small>Aus: Book…</small></p>`:
    what follows the name is more of the same print, not a value after a label in bold
    (`<strong>Current use</strong><br> Student housing`) nor a contact card's details.
    """
    element = next((c for c in paragraph if isinstance(c.tag, str)), None)
    if element is None or element.tag not in {"strong", "b", "small", "em"} or (paragraph.text or "").strip():
        return None
    name = " ".join("".join(element.itertext()).split())
    if len(name) >= 60 or not 2 <= len(name.split()) <= 4 or not _one_person(name):
        return None
    rest = " ".join("".join(paragraph.itertext()).split())[len(name) :]
    same_print = all(c.tag == element.tag for c in paragraph if isinstance(c.tag, str) and c.tag != "br")
    loose = "".join(c.tail or "" for c in paragraph)
    if not same_print or any(ch.isalnum() for ch in loose) or _CONTACT_RE.search(rest):
        return None
    return name


def _newsroom_signature(paragraph: Any) -> list[str]:
    """
    Return the persons of a story's last line naming a person and a newsroom and nothing else.

    "Guido Santner und Redaktion SimplyScience.ch"; one line without a comma, so a letter's
    closing ("Sportliche Grüße,<br>Euer Team …") is none.
    """
    text = " ".join("".join(paragraph.itertext()).split())
    if len(text) >= 80 or "," in text or paragraph.find(".//br") is not None:
        return []
    names = split_names(text)
    persons = [n for n in names if 2 <= len(n.split()) <= 4 and _one_person(n)]
    if 0 < len(persons) < len(names) and all(n in persons or is_organisation(n) for n in names):
        return persons
    return []


# Bold text opening one of the first three paragraphs of a block: where a byline typed into the story
# sits ("<p><strong>By Jane Doe</strong>: The Americas …</p>").
_BOLD_LEADS = etree.XPath("//p/*[1][self::strong or self::b][not(../preceding-sibling::p[3])]")


def bold_byline_authors(tree: Any) -> list[str]:
    """
    Return the names of a byline typed in bold at the head of the story, a byline word before them.

    The bold text opens its paragraph and holds the byline word ("By", "Por",
    "Von") and names, nothing else: "<b>Von Berlin</b> aus" names a place, and
    "<b>By the numbers</b>" no one.
    """
    for element in _BOLD_LEADS(tree):
        text = " ".join("".join(element.itertext()).split())
        if (
            len(text) > 100
            or not _WORD_PREFIX_RE.match(text)
            or strip_prefix(text) == _strip(text)
            or (element.getparent().text or "").strip()
            or _hidden(element)
            or in_chrome_markup(element, _CHROME_RE)
        ):
            continue
        names = split_names(text)
        if names and all(_one_person(n) for n in names):
            return names
    return []


# Author items typed as organisations (`<div itemprop="author" itemscope itemtype="…/Organization">`), reached
# through `itemtype` as `structured.microdata_map` reaches `itemprop`.
_MICRODATA_ORG_AUTHORS = etree.XPath(
    "//@itemtype[contains(., 'Organization')]/parent::*[contains(concat(' ', @itemprop, ' '), ' author ')]"
)


def _microdata_organisations(tree: Any) -> Iterator[str]:
    """Yield the names of the microdata author items typed Organization, as `microdata_map` reads them."""
    for item in _MICRODATA_ORG_AUTHORS(tree):
        names = item.xpath(".//*[@itemprop='name']")
        if names:
            yield clean_value(names[0].get("content") or "".join(names[0].itertext()))


def resolve_authors(
    tree: Any,
    data: PageData,
    *,
    site_names: Iterable[str],
    feed: Iterable[str] = (),
    body: Iterable[str] = (),
    title: str | None = None,
) -> Authors:
    """
    Return the article's authors by precedence: structured data, byline markup, labelled byline
    text (a label and its name in one text, or in two elements), the feed, the text's own byline,
    a byline in bold opening the text, a signature closing it.

    Organisations from every source are kept apart (publisher candidates).  `title`, the
    resolved headline, tells which heading a plain byline stands under.
    """
    sites = list(site_names)
    persons, orgs = structured_authors(data)
    if persons and data.microdata.get("author"):
        # Microdata names an author item's type apart from its name: an Organization is no person.
        typed = set(_microdata_organisations(tree))
        orgs += [p for p in persons if p in typed]
        persons = [p for p in persons if p not in typed]
    byline_names, byline = _first_byline(tree)
    shown = sort_names(byline_names, sites)
    # A structured name the byline shows is shown; the others are looked for in the page's text.
    in_byline = {name_key(n) for n in shown.persons}
    keys = {p: name_key(strip_prefix(p)) for p in persons}
    unseen = [p for p in persons if keys[p] not in in_byline]
    article = data.article or {}
    if len(unseen) < len(persons) and not (article.get("author") or article.get("creator")):
        # Microdata and meta tags name the authors of every item on the page (each teaser's
        # `itemprop=author`): where the byline shows some of them, the others count only
        # beside it ("by <span>A</span> with <span>B</span>"); elsewhere they wrote other stories.
        around = name_key(_around(byline))
        in_text = {p for p in unseen if keys[p] in around}
    else:
        in_text = set(shown_names(tree, unseen))
    found = sort_names([p for p in persons if p not in unseen or p in in_text], sites)
    organisations = [*orgs, *found.organisations, *shown.organisations]
    if (
        found.persons
        and shown.persons
        and {name_key(n) for n in found.persons} & {name_key(n) for n in shown.persons}
    ):
        # The byline shown often names more people than the structured data (co-authors).
        found = sort_names([*shown.persons, *found.persons], sites)
    for source in (
        lambda: shown.persons,
        lambda: labelled_authors(tree),
        lambda: paired_label_authors(tree),
        lambda: headline_byline_authors(tree, title),
        lambda: list(feed),
        lambda: list(body),
        lambda: bold_byline_authors(tree),
        lambda: signed_authors(tree),
    ):
        if found.persons:
            break
        found = sort_names(source(), sites)
        organisations += found.organisations
    return Authors(found.persons, tuple(dict.fromkeys(organisations)))
