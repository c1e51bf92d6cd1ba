"""Deterministic article pages and feeds for tests and benchmarks, served from 127.0.0.1."""

from __future__ import annotations

import random
from html import escape

_WORDS = (
    "council harbour minister river station budget school election court weather farmers museum bridge "
    "hospital police festival market railway treaty senator village factory airport library orchestra "
    "mayor union drought vaccine satellite border ferry tunnel mountain island coast desert forest "
    "parliament strike tariff pension reactor glacier vineyard stadium cathedral refinery laboratory "
    "committee inquiry verdict protest ceasefire summit embassy regulator investor startup software "
    "battery turbine pipeline highway canal reservoir wildfire earthquake flood harvest fishermen nurses "
    "teachers students pilots engineers judges voters tenants landlords miners drivers"
).split()
_VERBS = (
    "approved rejected announced delayed opened closed expanded reviewed funded criticised praised".split()
)
_PLACES = "Lisbon Oslo Nairobi Lima Hanoi Quebec Tbilisi Accra Porto Dakar Perth Bergen Cusco Riga".split()


def article_text(i: int, paragraphs: int = 6) -> str:
    """Return the body of article `i`: distinct random sentences, blank-line separated paragraphs."""
    rng = random.Random(1000 + i)
    paras = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(2, 4)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 16))]
            words.insert(rng.randint(1, 5), rng.choice(_VERBS))
            sentences.append(f"The {rng.choice(_PLACES)} " + " ".join(words) + ".")
        paras.append(" ".join(sentences))
    return "\n\n".join(paras)


def article_title(i: int) -> str:
    """Return the title of article `i`."""
    rng = random.Random(5000 + i)
    place, subject = rng.choice(_PLACES), rng.choice(_WORDS)
    verb, cause = rng.choice(_VERBS), rng.choice(_WORDS)
    return f"{place} {subject} {verb} after {cause} vote ({i})"


def article_page(i: int, *, site: str = "Example Times") -> bytes:
    """Return an HTML article page with site chrome around the body of article `i`."""
    body = "".join(f"<p>{escape(p)}</p>\n" for p in article_text(i).split("\n\n"))
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in _WORDS[:12])
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(article_title(i))} | {site}</title>
<meta property="og:site_name" content="{site}">
<meta name="author" content="Reporter {i}">
<meta property="article:published_time" content="2024-03-{1 + i % 28:02d}T10:00:00Z">
</head><body>
<header><nav><ul>{nav}</ul></nav></header>
<main><article>
<h1>{escape(article_title(i))}</h1>
<p class="byline">By Reporter {i}</p>
{body}
</article></main>
<footer><p>Subscribe to our newsletter for daily updates.</p>
<p>© 2024 {site}. All rights reserved.</p></footer>
</body></html>"""
    return html.encode("utf-8")


def rss_feed(base_url: str, ids: list[int], *, title: str = "Example Times") -> bytes:
    """Return an RSS 2.0 feed whose items link to `/article/<i>` pages on `base_url`."""
    items = "".join(
        f"""<item><title>{escape(article_title(i))}</title>
<link>{base_url}/article/{i}?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">article-{i}</guid>
<pubDate>Mon, {1 + i % 28:02d} Apr 2024 10:00:00 GMT</pubDate>
<category>World</category><category>world</category><category>Politics</category>
<description>{escape(article_text(i).split(chr(10))[0][:150])}</description></item>
"""
        for i in ids
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>{base_url}/</link>
<description>Test feed</description>{items}</channel></rss>""".encode()
