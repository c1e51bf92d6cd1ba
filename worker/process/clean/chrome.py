"""Recognise and remove site chrome (credits, social prompts, related-links blocks) from article text."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from typing import Any

# Chrome lines are short; a long paragraph that happens to mention "share" or
# "newsletter" is body text, so rules only look at lines up to this length.
MAX_CHROME_LEN = 200
# Lines longer than this are never chrome candidates for learning: footers and
# boilerplate sentences are short, and hashing whole paragraphs would only
# waste state-store space.
MAX_CANDIDATE_LEN = 300
# Lines whose verdict is remembered: a page has a few hundred.
_LINE_CACHE_SIZE = 4096
# A class token naming both the header and the footer: a style the two share (`markup_marks`).
_SHARED_STYLE_RE = re.compile(r"\S*(?:header-footer|footer-header)\S*", re.IGNORECASE)

# A cookie banner: the site saying it uses cookies ("Wir verwenden Cookies, die …", "Nous utilisons des
# cookies pour …"), never a question about them, as a privacy policy's heading asks one.
_COOKIE_BANNER = (
    r"\b(?:we use|we're using|this (?:web)?site uses|our (?:web)?site uses"
    r"|(?:diese|unsere) (?:web)?seite (?:verwendet|nutzt)|(?:diese|unsere) website (?:verwendet|nutzt)"
    r"|wir (?:verwenden|nutzen)|nous utilisons|ce site utilise"
    r"|(?:este|nuestro) sitio(?: web)? (?:utiliza|usa)|utilizamos|usamos|questo sito (?:utilizza|usa)"
    r"|utilizziamo|(?:ta|nasza) strona (?:używa|wykorzystuje)"
    r"|używamy|deze (?:web)?site gebruikt|wij gebruiken|we gebruiken)\b.{0,80}\b(?:cookies?|plików cookie)\b"
    r"(?!.*\?\s*$)"
)
# A picture's credit closing a caption line: "© AFP / Name", "| © Springer", "(Foto: Name/Agency)".
_CAPTION_CREDIT = (
    r"(?:©\s*[^©():]{0,59}[^©():.!?\s]|\((?:foto|photo|fotos|photos|bild|imagen|image|crédito|credit|picture)s?\s*:"
    r"[^()]{1,80}\)\.?)$"
)
_CHROME_PATTERNS: tuple[str, ...] = (
    # copyright and trademark notices
    r"^(?:©|\(c\)|copyright\b|\u00a9)",
    # rights notices end their line; mid-sentence they are quoted news
    r"(?:^|\W)(?:all rights reserved|alle rechte vorbehalten|tous droits réservés)\W*$",
    r"\b(?:registered )?trademarks? of\b",
    # social prompts; an optional leading count comes from share widgets ("1Like our page")
    r"^\d*\s*(?:like|follow|find) (?:us|our page)\b",
    r"^\d*\s*like our page\b",
    r"^(?:share|teilen|partager)(?: (?:this|on|via|the|article|story|post|artikel|mit)\b.*)?[:!.]?$",
    r"^(?:tweet|email|e-mail|print|pin it|whatsapp|facebook|twitter|linkedin|reddit|pinterest)"
    r"(?:\s*[|/,]\s*\w+)*$",
    r"^share (?:this|on|via)\b",
    r"^click (?:here )?to (?:share|print|email|tweet)\b",
    # newsletters and subscriptions
    r"^(?:sign up|subscribe|register)\b.{0,80}\b(?:newsletter|updates|alerts|inbox)\b",
    r"^(?:get|receive) (?:our|the) .{0,40}newsletter\b",
    r"^newsletter(?:\s+(?:abonnieren|anmelden|signup|sign-up))?[:.!]?$",
    r"^jetzt (?:newsletter )?abonnieren\b",
    # comments
    r"^(?:leave|post|add|write) a (?:comment|reply)\b",
    r"^\d+\s+(?:comments?|kommentare?|responses?|replies)\b",
    r"^comments? (?:are|is) closed\b",
    r"^you must be logged in to post a comment\b",
    r"^(?:kommentar schreiben|kommentare)$",
    r"^(?:comments?|reply|antworten)$",
    # prompts and labels
    r"^(?:advertisement|anzeige|werbung|sponsored|publicité)$",
    r"^(?:click here|continue reading|read the full (?:story|article)|weiterlesen|mehr lesen)\b",
    r"^\(?(?:image|photo|picture|foto|bild|beitragsbild|titelbild|bildquelle|image illustrative"
    r"|cr[ée]dits? photos?|credit)s? ?(?:credits?|source|quelle)?\s?:",
    # teaser links and paywall prompts
    r"^(?:read more|read also|also read|see also|lesen sie (?:auch|mehr|hier)|mehr zum thema"
    r"|czytaj (?:też|także|również)|zobacz (?:też|także)|dowiedz się więcej|leia também"
    r"|à lire aussi|lire aussi|à voir aussi|leggi anche|lee también"
    r"|vorschau auf den nächsten artikel|weiter zu)"
    # the prompt ends the line or is set off (`Read more: Title`, `Lire aussi » Titre`); `Read more
    # than 300 pages, she said` is a sentence
    r"(?:\W*$|\s*[:：»›|…>–—-].{0,150}$|\s+(?:at|on|about|here|in|hier|bei|auf|sur|ici)\b.{0,150}$"
    r"|[^.!?]{0,80}:$)",
    r"^(?:pour lire la suite|pour accéder|to continue reading|subscribe to (?:continue|read)"
    r"|already a subscriber|jetzt weiterlesen|weiterlesen mit)\b",
    # newsletter pitches phrased as sentences, in either order
    r"\bnewsletter\b.{0,120}\b(?:sign up|subscribe|abonn|anmeld|registr|erhalten|receive|inscri|suscri)",
    r"\b(?:sign(?:ing)? up|subscribe|abonnieren|inscrivez-vous|suscríbete|melde dich|trag dich)\b.{0,120}"
    r"\bnewsletter\b",
    r"^[\w .'&-]{0,40}\bnewsletter$",
    r"^sign up to (?:get|receive)\b",
    r"\bfree sign up\b",
    # embeds waiting for consent, licence footers
    r"^(?:klicken sie|click)\b.{0,80}\b(?:to load|zu laden|laden)\b",
    r"^(?:sofern nicht anders|unless otherwise (?:noted|stated|indicated))\b.{0,150}"
    r"\b(?:licen[cs]|lizenz|cc[- ]by|creative commons)",
    r"^our standards\b",
    r"^(?:loading|wird geladen|chargement|bild anzeigen|show image)\W*$",
    r"\b(?:logged in|eingeloggt|angemeldet) (?:sein )?(?:to|um)\b.{0,40}\b(?:comment|kommentar)",
    r"\b(?:consider supporting|support our (?:work|journalism)|become a (?:member|supporter|patron))\b",
    r"\bsubmit (?:a|your) letters? to the editor\b",
    # app and channel pitches
    r"\bdownload (?:the|our)\b.{0,60}\bapps?\b|\bapps? for (?:ios|android|iphone)\b",
    r"\b(?:nuestro|unser(?:em|en)?|our) (?:canal|kanal|channel) (?:de |auf |on )?"
    r"(?:youtube|telegram|whatsapp)\b|\bcanal de (?:youtube|telegram|whatsapp)\b"
    r"|\b(?:our|unser(?:em|en)?) (?:youtube|telegram|whatsapp)"
    r"[- ]?(?:channel|kanal)\b",
    r"\b(?:cancel (?:at )?any ?time|cancela cuando quieras|jederzeit kündbar|résiliable à tout moment)\b",
    r"\bsign(?:ing)? up (?:here|today|now|for free)\b",
    # affiliate disclosures, reading-time labels, rights notices in other languages
    r"\bwe (?:may )?(?:receive|earn) (?:a )?(?:compensation|commission)\b",
    r"\baffiliate[- ]?links?\b|\benthält (?:werbung|affiliate|anzeigen|produktplatzierung)\b",
    r"^\*?(?:anzeige|werbung|advertisement|sponsored|publicidad|publicité)\s*[-–—:|.*]",
    r"^\d+\s*(?:min(?:ute)?s?|minuten)\.? (?:read|lesezeit|lesen)\b|^(?:lesezeit|reading time)\b",
    r"^ten tekst przeczytasz\b",
    r"^(?:keine|no) (?:kommentare|comments)\b",
    r"^(?:let us know|tell us|verraten sie|schreibt uns|schreiben sie uns|sagt uns)\b.{0,80}"
    r"\b(?:comments?|kommentar\w*)\b",
    # contact lines of a press release
    r"^(?:tel(?:efon|ephone)?|phone|fax)\s*[.:]\s*\+?[\d ()/-]{6,}$",
    r"\b(?:prawem autorskim|urheberrechtlich geschützt)\b",
    _COOKIE_BANNER,
    r"^fot\.\s",
    # teaser prompts before a link to another story, in the main news languages
    r"^(?:lea|lee|mire|mira|vea|ver|puedes ver|le puede interesar|te puede interesar|le recomendamos"
    r"|te recomendamos|también te puede interesar|leia também|veja também|saiba mais|leggi anche"
    r"|ti potrebbe interessare|auch lesen|lesen sie dazu|zum weiterlesen|weiterlesen|passend dazu"
    r"|przeczytaj (?:też|także|również)|sprawdź (?:też|także))(?:\s+(?:también|más|aqui|aquí|auch))?\s*:",
    r"^(?:notas relacionadas|noticias relacionadas|contenido relacionado|artículos relacionados"
    r"|más sobre\b.{0,60}|schon gelesen|lust auf mehr|mehr themen|weitere artikel(?: zum thema)?"
    r"|weitere beiträge\b.{0,60}|top-themen\b.{0,60}"
    r"|das (?:thema )?könnte (?:sie|dich|euch) auch interessieren|auch interessant"
    r"|czytasz właśnie\b.{0,200}|zapraszamy (?:też|także) do subskrypcji.{0,200})\W*$",
    # consent and paywall placeholders standing where an embed or the rest of the story would be
    r"\b(?:external content|externe[rn]? inhalte?|contenu externe|contenido externo"
    r"|eingebettete[rn]? inhalte?)\b"
    r".{0,120}\b(?:not available|nicht (?:verfügbar|angezeigt)|indisponible|no disponible|consent|zustimm"
    r"|einwillig|aktivier|akzeptier|laden|anzeigen)",
    r"^(?:weitere inhalte|empfohlener inhalt|externer inhalt|inhalt nicht verfügbar|content not available"
    r"|this content is not available|dieser inhalt ist nicht verfügbar|video verfügbar bis\b.*)\W*$",
    r"\b(?:zustimmung|einwilligung|consent)\b.{0,80}\b(?:inhalt|content|contenu|embed|video|tweet)"
    r".{0,80}\b(?:laden|anzeigen|load|show|display|afficher)\b",
    r"^(?:sie sind (?:aktuell |derzeit )?nicht eingeloggt|you are not logged in|already a subscriber"
    r"|if you['’]re seeing this message but you['’]re already a subscriber)\b",
    r"\b(?:to (?:view|read) the (?:full|rest of the) (?:story|article)|for the full story)\b.{0,80}"
    r"\b(?:subscribe|log in|sign in|edition)\b|\bplease subscribe\b|^subscribe now\b",
    r"^(?:hazte (?:miembro|socio)|únete|unterstütze|support)\b.{0,60}$",
    # "for subscribers only" in the main news languages, where the rest of the story would be
    r"^(?:this (?:article|story|content) is (?:only )?(?:for|available to|exclusive to|reserved for)"
    r" (?:subscribers|members)|(?:for )?(?:subscribers|members) only\W*$"
    r"|(?:dieser|der) (?:artikel|beitrag|inhalt) ist (?:nur |exklusiv |ausschließlich )?für"
    r" (?:abonnent\w*|abo-?kund\w*|plus-?(?:leser|kund)\w*)|(?:nur|exklusiv) für abonnent\w*"
    r"|(?:cet )?article réservé aux abonnés|cet article est réservé aux abonnés|réservé aux abonnés"
    r"|(?:este|el) (?:contenido|artículo) es exclusivo para (?:suscriptores|socios)"
    r"|(?:contenido )?exclusivo para suscriptores|(?:contenuto|articolo) riservato agli abbonati"
    r"|(?:ten )?artykuł (?:jest )?dostępny (?:tylko|wyłącznie) dla (?:subskrybentów|prenumeratorów)"
    r"|dit artikel is (?:alleen|exclusief) voor abonnees|[［【\[]?(?:有料)?会員限定)",
    # photo credits: agency or photographer lines under pictures
    r"^\(?(?:[A-Z]{2,6}|[\w.-]+ images|getty images|imago|picture alliance|shutterstock|istock|adobe stock)"
    r"\s*/\s*[\w .'-]{2,40}\)?$",
    r"^.{0,40}\b(?:getty images|shutterstock|imago images|picture alliance|istockphoto|adobe stock"
    r"|dpa-bildfunk|ap photo|afp via getty)\b.{0,40}$",
    # reporting and editing sign-offs (authors are read off them first)
    r"^\(?\s*(?:additional )?(?:reporting|writing|editing|compiled|edited|produced) by\b",
    # a caption ending in its picture's credit: "Ski-Star aus der Schweiz. © AFP / Name",
    # "… en el Congreso (Foto: Name/Pool via REUTERS)."
    _CAPTION_CREDIT,
    # a source line under a box, a chart or a press item: "Quelle: Landesregierung", "Source: CDC"
    r"^(?:quellen?|sources?|fuentes?|fonte|źródło|bron)\s*:\s*\S.{0,80}$",
    # the heading of a table of contents (its entries repeat the text's own headings)
    r"^(?:inhaltsverzeichnis|table of contents|contents|sommaire|índice|indice|spis treści|inhoudsopgave"
    r"|sommario)\W*$",
    # a teaser link set off by arrows: ">> Title of another story <<"
    r"^>{2,}\s*\S.*<{2,}$",
    # a disclaimer standing alone: "(Alle Angaben ohne Gewähr)"
    r"^\(?(?:alle |sämtliche )?angaben ohne gewähr\W*$"
    r"|^\(?(?:all )?(?:information|details|data) (?:is |are )?(?:provided )?without"
    r" (?:guarantee|warranty)\W*$",
    # the publisher's own pitches: its newsletter, its current issue, offers for subscribers, donations
    r"\b(?:in|mit|abonnier\w*|subscribe to|sign up for|join) (?:unseren?|unserem|our) \w*newsletter\b",
    r"\b(?:aktuelle|neue|current|latest|new) (?:ausgabe|heft|issue|edition)\b.{0,80}"
    r"\b(?:im abo|e-?paper|kiosk|erhältlich|bestellen|subscribe)",
    # (said to the reader: "und erhalten Sie exklusive Angebote", not "members get exclusive deals")
    r"\b(?:erhalten sie|you(?:'ll| will)? (?:receive|get)|and (?:receive|get))\b.{0,30}"
    r"\b(?:exklusive?n?|exclusive)\b.{0,20}\b(?:angebote|offers|deals|vorteile)",
    r"\b(?:hier klicken|click here|klicken sie hier)\b.{0,60}"
    r"\b(?:registrier|anmeld|abonn|register|subscribe|sign up)\w*\W*$",
    r"\bwe need your (?:help|support)\b.{0,120}\bdonate\W*$",
)
# Most rules hold at the start of a line: matched there once, not tried at every position as a
# search of one alternation of all the rules does (a third of the time on real article lines).
_CHROME_START_RE = re.compile(
    "|".join(f"(?:{p[1:]})" for p in _CHROME_PATTERNS if p.startswith("^")), re.IGNORECASE
)
_CHROME_ANYWHERE_RE = re.compile(
    "|".join(f"(?:{p})" for p in _CHROME_PATTERNS if not p.startswith("^")), re.IGNORECASE
)
# Every rule above that may match away from a line's start needs one of these words, so a line
# without any of them is not searched for those rules: 27 -> 4 µs a line on 6,182 real article
# lines, the same lines found.  A new such rule adds its word here.
_ANYWHERE_HINT_RE = re.compile(
    r"reserv|vorbehalt|trademark|newsletter|sign|logged in|eingeloggt|angemeldet|support|become a"
    r"|letter to the editor|receive|earn|prawem|urheberrecht|extern|contenu|contenido|eingebettet"
    r"|zustimmung|einwilligung|consent|the full|the rest of|subscribe|letter|download|for ios|for android"
    r"|for iphone|canal|kanal|channel|cancel|kündbar|résiliable|affiliate|enthält (?:w|a|p)|cookie"
    r"|©|\((?:foto|photo|bild|imag|crédit|credit|picture)|ausgabe|heft|issue|edition|exklusiv|exclusive"
    r"|klicken|click here|need your"
)
# Longer boilerplate told by phrases no article sentence uses: reprint notices, affiliate
# disclosures, "follow us" lines naming several networks.  Judged up to `MAX_LONG_CHROME_LEN`.
MAX_LONG_CHROME_LEN = 400
# `_LONG_CHROME_RE` needs one of these words (in `_hint_key`): lines without any are not searched,
# 36 -> 3.5 µs a line of 200-400 characters on 1,286 real article lines.  A new phrase adds its word here.
_LONG_CHROME_HINTS = (
    "copyrighted property",
    "written permission",
    "compensation",
    "commission",
    "advertisers do not influence",
    "affiliate",
    "cookie",
)
_LONG_CHROME_RE = re.compile(
    r"\b(?:copyrighted property of|written permission must be obtained|without (?:the )?(?:prior )?written"
    r" permission of)\b|\bwe (?:may )?(?:receive|earn) (?:a )?(?:compensation|commission)\b"
    r"|\badvertisers do not influence\b|\baffiliate[- ]?links?\b|" + _COOKIE_BANNER,
    re.IGNORECASE,
)

_NETWORKS = (
    "facebook",
    "twitter",
    "instagram",
    "linkedin",
    "youtube",
    "tiktok",
    "whatsapp",
    "pinterest",
    "xing",
    "mastodon",
)
_SOCIAL_RE = re.compile(rf"\b(?:{'|'.join(_NETWORKS)})\b")
_SOCIAL_MIN = 2
# A long line is a "follow us" prompt only when it asks: "Follow The Gleaner on …", "Folgen Sie uns".
_FOLLOW_PROMPT_RE = re.compile(
    r"^(?:follow|folgen sie|folgt|síguenos|siga|suivez|seguici)\b"
    r"|\b(?:follow us|folgen sie uns|folgt uns|síguenos|suivez-nous|seguici)\b"
)
_FOLLOW_RE = re.compile(r"\b(?:follow|folg|seguir|segui|suiv|like us|find us|connect with|abonnier)")

# The heading over a story's own tag links ("Tags", "Schlagwörter", "Temas"): the tag resolver reads the
# links under it; alone in the text (its links dropped), it closes the story like "Related".
TAG_LIST_HEADINGS = frozenset(
    {
        "tags",
        "tag",
        "topics",
        "keywords",
        "themen",
        "schlagwörter",
        "schlagworte",
        "stichwörter",
        "stichworte",
    }
    | {"temas", "etiquetas", "palabras clave", "mots-clés", "mots clés", "étiquettes", "tagi", "tematy"}
    | {"argomenti", "parole chiave", "trefwoorden", "onderwerpen", "tópicos", "assuntos", "etiketler"}
    | {"теги", "темы", "tagged with", "filed under", "abgelegt unter", "archivado en", "classé dans"}
    | {"archiviato in", "markiert mit"}
)
# A heading that opens a trailing block of teasers or links.
_TAIL_HEADINGS = (
    r"related(?: (?:articles?|stories|news|content|coverage|posts|links|topics))?"
    r"|most (?:popular|read|viewed|shared)|read (?:more|next|also)|more (?:from|on|stories|news)\b.*"
    r"|recommended(?: for you| stories)?|you (?:may|might) (?:also )?(?:like|be interested in)"
    r"|see also|editors?['’]? (?:picks|recommendations)|trending(?: now)?|top stories"
    r"|popular (?:posts|stories)|also read"
    r"|mehr zum thema|weitere (?:artikel|themen|beiträge)|das könnte sie auch interessieren|lesen sie auch"
    r"|auch interessant|(?:empfohlene|ähnliche|verwandte) (?:beiträge|artikel)|czytaj (?:też|także)|polecamy"
    r"|à lire aussi|sur le même sujet|notas relacionadas|noticias relacionadas|contenido relacionado"
    r"|te puede interesar|le puede interesar|lee también|lea también|leia também|veja também|leggi anche"
    r"|ti potrebbe interessare|zobacz (?:też|także)|przeczytaj (?:też|także)|weitere artikel zum thema"
    r"|das könnte (?:sie|dich) auch interessieren|schon gelesen\??"
    # the same headings in more of the languages news is written in
    r"|further reading|what to read next|lire aussi|à lire également|voir aussi|articles liés"
    r"|sur le même thème|también te puede interesar|artículos relacionados|lo más leído|más leídas"
    r"|te recomendamos|notícias relacionadas|leia mais|saiba mais|mais lidas|articoli correlati"
    r"|potrebbe interessarti|lees ook|gerelateerde artikelen|ook interessant|czytaj więcej|powiązane"
    r"|najczęściej czytane|читайте также|читайте також|по теме|похожие новости|смотрите также"
    r"|ilgili haberler|läs också|läs mer|læs også|les også|relaterte saker|baca juga|berita terkait"
    r"|artikel terkait|tin liên quan|bài liên quan|xem thêm|यह भी पढ़ें|संबंधित खबरें"
    r"|اقرأ أيضا|اقرأ أيضاً|مواضيع ذات صلة|أخبار ذات صلة|เรื่องที่เกี่ยวข้อง|ข่าวที่เกี่ยวข้อง"
    r"|関連記事|関連ニュース|あわせて読みたい|相关新闻|相關新聞|相关阅读|相關閱讀|延伸阅读|延伸閱讀|相关文章"
    r"|관련\s?기사|많이 본 뉴스"
    # the contact and source blocks closing a press release or a report
    r"|(?:presse)?kontakt|contact(?: us)?|press contact|media contact|weitere informationen"
    r"|zusatzinformationen|(?:more|further) information|quellen(?:angaben)?|sources|originalpublikation"
    r"|original publication"
    r"|ansprechpartner(?:in)?(?: zum thema)?|beiträge aus dem forum|kommentierte artikel"
    r"|weitere aktuelle themen\b.{0,60}"
    # the heading of the story's own tag links, left alone in the text when its links were dropped
    + "".join("|" + re.escape(h) for h in sorted(TAG_LIST_HEADINGS, key=len, reverse=True))
)
_TAIL_HEADING_RE = re.compile(rf"^(?:{_TAIL_HEADINGS})\s*[:.]?$", re.IGNORECASE)
# Paragraphs after a tail heading this long mean the heading sat inside the body.
_TEASER_MAX_LEN = 160
# A paragraph of this many words ending like a sentence is body text, not a teaser headline.
_SENTENCE_WORDS = 8
# At most this many teaser headlines follow a related-stories heading inside the body.
_TEASER_BLOCK_MAX = 8
# Footer companions (site name, slogan) are short and carry no sentence end.
_LABEL_MAX_LEN = 80

_DIGITS_RE = re.compile(r"\d+")

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "januar februar märz mai juni juli oktober dezember mär okt dez "
    "janvier février mars avril juin juillet août septembre octobre novembre décembre"
)
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag "
    "lundi mardi mercredi jeudi vendredi samedi dimanche"
)
# Labels that precede a date ("Updated:", "Letzte Änderung", "Publié le").
_DATE_WORDS = (
    "am pm a m p m utc gmt est edt cst cdt mst mdt pst pdt cet cest bst ist et pt ct z t "
    "updated published posted last modified on at date first "
    "um uhr stand letzte änderung aktualisiert veröffentlicht erstellt vom "
    "le à publié mis jour modifié"
)
_MONTH_SET = frozenset(_MONTHS.split())
_DATE_WORD_SET = _MONTH_SET | frozenset(_WEEKDAYS.split()) | frozenset(_DATE_WORDS.split())
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")
_YEAR_RE = re.compile(r"^(?:19|20)\d\d$")
_NUMERIC_DATE_RE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2})\b"
)
# Parts of a meta line: "January 13, 2020 at 08:45 AM | categories: Python | View Comments".
_META_BARS = ("|", "·", "•")
_META_SPLIT_RE = re.compile(r"\s+[|·•]\s+|\s*\|\s*")
_META_LABEL_RE = re.compile(
    r"^(?:categories|category|tags?|filed under|posted in|kategorien?|schlagwörter|schlagworte|rubrik"
    r"|catégories?|by|von|par)\b",
    re.IGNORECASE,
)


def is_chrome_line(line: str) -> bool:
    """
    Tell whether one line is site chrome rather than article text.

    Only short lines qualify, so a body sentence quoting "all rights reserved"
    survives; up to `MAX_LONG_CHROME_LEN` characters, only phrases no article
    sentence uses (reprint notices, affiliate disclosures, "follow us" on three networks).
    """
    return _is_chrome_text(" ".join(line.split()))


@functools.lru_cache(maxsize=_LINE_CACHE_SIZE)
def _is_chrome_text(text: str) -> bool:
    """
    `is_chrome_line` of a line with its spacing collapsed.

    Cached: cleaning runs its passes to a fixed point, and the second pass, on a quarter of real
    pages, judges the same lines again.
    """
    if not text or len(text) > MAX_LONG_CHROME_LEN:
        return False
    folded = text.casefold()
    if len(text) > MAX_CHROME_LEN:
        key = _hint_key(folded)
        return (
            any(hint in key for hint in _LONG_CHROME_HINTS) and _LONG_CHROME_RE.search(text) is not None
        ) or (_FOLLOW_PROMPT_RE.search(folded) is not None and _names_networks(folded, 3))
    if (
        _CHROME_START_RE.match(text) is not None
        or (_ANYWHERE_HINT_RE.search(folded) is not None and _CHROME_ANYWHERE_RE.search(text) is not None)
        or _TAIL_HEADING_RE.match(text) is not None
    ):
        return True
    return _names_networks(folded, _SOCIAL_MIN)


def _hint_key(folded: str) -> str:
    """
    Return a casefolded line as the rules' case-blind matching reads it, to look for their hint words.

    Case-blind, a pattern's `i` also matches the Turkish `İ` and `ı`, which casefold to `i̇` and
    `ı`: those read as `i` here, so a hint word is found wherever its rule can match.
    """
    if "\u0307" in folded or "ı" in folded:
        return folded.replace("\u0307", "").replace("ı", "i")
    return folded


def _names_networks(folded: str, least: int) -> bool:
    """Naming several networks in one line with a "follow" verb is a "follow us" prompt in any language."""
    # Most lines name no network: looked for as plain words first (the pattern only matches them).
    if not any(network in folded for network in _NETWORKS):
        return False
    return len(_SOCIAL_RE.findall(folded)) >= least and _FOLLOW_RE.search(folded) is not None


def is_date_line(line: str) -> bool:
    """
    Tell whether a line holds only a date (and time), like `Monday, 09 Sep 2013 04:11 AM`.

    Every word must be a month, weekday or date label, and a month name or a
    numeric date must be present, so a short sentence never counts.
    """
    if not line or len(line) > 80 or "\n" in line:
        return False
    tokens = _TOKEN_RE.findall(line.casefold())
    words = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if not numbers or any(w not in _DATE_WORD_SET for w in words):
        return False
    if any(w in _MONTH_SET for w in words):
        return True
    # Without a month name only a numeric date (09/09/2013, 2013-09-09) will
    # do: a phone number has digits and a "year" too.
    has_year = any(_YEAR_RE.match(n) for n in numbers)
    return has_year and _NUMERIC_DATE_RE.search(line) is not None and not line.lstrip().startswith("+")


def is_meta_line(line: str) -> bool:
    """
    Tell whether a line is a post's meta row: a date with labels, separated by bars.

    Such rows ("24. März 2004, 19:49 | Genesis") sit above or below a post and
    repeat what the metadata already holds.
    """
    text = " ".join(line.split())
    # A row without a separator is one part, never a meta row: most lines end here (5.0 -> 2.8 µs a
    # line on 7,833 real article lines).
    if not text or len(text) > MAX_CHROME_LEN or not any(bar in text for bar in _META_BARS):
        return False
    parts = [p for p in _META_SPLIT_RE.split(text) if p]
    if len(parts) < 2 or not any(is_date_line(p) for p in parts):
        return False
    return all(
        is_date_line(p) or _META_LABEL_RE.match(p) or is_chrome_line(p) or len(p.split()) <= 3 for p in parts
    )


def is_tail_heading(line: str) -> bool:
    """Tell whether a line is a heading like `Related` or `Most popular`."""
    return _TAIL_HEADING_RE.match(" ".join(line.split())) is not None


def cut_tail_block(paragraphs: list[str]) -> list[str]:
    """
    Drop a trailing `Related`/`Read more` block: its heading and everything after.

    The earliest heading followed only by short teaser lines wins, which keeps
    the cut idempotent: no heading before it can qualify after the cut.
    """
    # Walk back from the end while paragraphs are teaser-sized, remembering the
    # earliest tail heading met on the way.
    cut = len(paragraphs)
    for i in range(len(paragraphs) - 1, -1, -1):
        para = paragraphs[i]
        if is_tail_heading(para):
            cut = i
        elif len(para) > _TEASER_MAX_LEN or _reads_as_sentence(para):
            # Real paragraphs after a "Read more" line belong to the article: the cut stops here.
            break
    return paragraphs[:cut]


def _reads_as_sentence(paragraph: str) -> bool:
    """Tell body text (a sentence of some length) from a teaser headline or a label."""
    text = paragraph.strip()
    return len(text.split()) >= _SENTENCE_WORDS and text.endswith((".", "!", "?", "…", '"', "”", "»", ")"))


def drop_teaser_blocks(paragraphs: list[str]) -> list[str]:
    """
    Drop a `Related`/`Lea también` heading inside the body and the teaser headlines under it.

    The block ends at the first paragraph that reads as a sentence, so a
    heading never takes real paragraphs with it.
    """
    kept: list[str] = []
    skipping = 0
    for para in paragraphs:
        if is_tail_heading(para):
            skipping = _TEASER_BLOCK_MAX
            continue
        if skipping and len(para) <= _TEASER_MAX_LEN and not _reads_as_sentence(para):
            skipping -= 1
            continue
        skipping = 0
        kept.append(para)
    return kept


def strip_chrome(paragraphs: list[str]) -> list[str]:
    """
    Remove chrome lines from each paragraph, empty paragraphs and a trailing links block.

    Lines are judged one by one because footers often arrive as one paragraph
    of several lines (site name, copyright, rights notice).
    """
    kept: list[str] = []
    for para in drop_teaser_blocks(cut_tail_block(paragraphs)):
        all_lines = para.split("\n")
        lines = [line for line in all_lines if not (is_chrome_line(line) or is_meta_line(line))]
        if len(lines) < len(all_lines):
            # A line sharing a block with chrome lines and reading as a label,
            # not a sentence, is part of the same footer ("America's News Page").
            lines = [line for line in lines if not _is_label(line)]
        if any(line.strip() for line in lines):
            kept.append("\n".join(lines).strip("\n"))
    return kept


def _is_label(line: str) -> bool:
    text = line.strip()
    return len(text) <= _LABEL_MAX_LEN and not text.endswith((".", "!", "?", ":", '"', "”", "»"))


def _normalise(line: str) -> str:
    # Digits vary (years, counts, dates) while the boilerplate around them
    # repeats, so every run of digits counts as one placeholder.
    return _DIGITS_RE.sub("0", " ".join(line.casefold().split()))


def fingerprint(line: str) -> str:
    """Return a 16-hex-digit hash of the case-, space- and digit-normalised line."""
    return hashlib.blake2b(_normalise(line).encode("utf-8"), digest_size=8).hexdigest()


def _lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and len(stripped) <= MAX_CANDIDATE_LEN and any(c.isalnum() for c in stripped):
            yield stripped


def candidate_lines(text: str) -> list[str]:
    """
    Return the fingerprints of an article's short lines, each once, in order.

    The state store counts them per source; a fingerprint seen in enough
    articles of one source is boilerplate of that source.
    """
    return list(dict.fromkeys(fingerprint(line) for line in _lines(text)))


def remove_learned(paragraphs: list[str], learned: frozenset[str]) -> list[str]:
    """Drop the lines whose fingerprint was learned as chrome, and paragraphs left empty."""
    if not learned:
        return list(paragraphs)
    kept: list[str] = []
    for para in paragraphs:
        lines = [line for line in para.split("\n") if not line.strip() or fingerprint(line) not in learned]
        if any(line.strip() for line in lines):
            kept.append("\n".join(lines).strip("\n"))
    return kept


def markup_marks(node: Any) -> str:
    """
    Return an element's class and id, for the words that name chrome, without shared styles.

    A class naming both the header and the footer (`header-footer-group`: WordPress's
    Twenty Twenty theme styles an entry's own header, headline and byline in it, as well
    as the site's) says which colours a block takes, not that it is the site's footer.
    """
    marks = f"{node.get('class') or ''} {node.get('id') or ''}"
    return _SHARED_STYLE_RE.sub(" ", marks) if "header" in marks else marks


def in_chrome_markup(element: Any, pattern: re.Pattern[str]) -> bool:
    """
    Return whether an lxml element sits in page chrome: inside `nav`, `footer` or `aside`, or
    inside an element whose class or id (`markup_marks`) matches `pattern` (each reader passes
    its own words) and that is no layout wrapper (`holds_page`).
    """
    for node in (element, *element.iterancestors()):
        if node.tag in {"body", "html"}:
            return False
        if node.tag in {"aside", "footer", "nav"}:
            return True
        if pattern.search(markup_marks(node)) and not holds_page(node):
            return True
    return False


def holds_page(node: Any) -> bool:
    """
    Tell a layout wrapper from a block of chrome: it holds half of the page's paragraphs, three or more.

    Themes class the wrappers of the article after what the page has beside it
    (`container sidebar_right`, `has-sidebar`, `has-related-articles`,
    `node--promoted`, `teaser--only-body`), in the words that also name sidebars,
    related stories and promotions; a block of chrome holds few of the paragraphs.
    """
    inside = int(node.xpath("count(.//p)"))
    return inside >= 3 and 2 * inside >= int(node.xpath("count(//p)"))
