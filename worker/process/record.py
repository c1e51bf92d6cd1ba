"""Build and check the `article/2` record: the contract with downstream consumers."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from worker.models import Entity, Extracted, RawItem

SCHEMA_ID = "article/2"
# The previous version, still read from JSONL archives and upgraded on the way in.
PREVIOUS_SCHEMA_ID = "article/1"
_SUMMARY_CHARS = 300
# The schema caps `authors`; the cleaning already does, feed hints may not.
MAX_AUTHORS = 10
_TAG_RE = re.compile(r"<[^>]*>")
_WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")


@cache
def schema() -> dict[str, Any]:
    """Return the committed JSON Schema of a record."""
    text = resources.files("worker").joinpath("process/schema/article-2.json").read_text("utf-8")
    return dict(json.loads(text))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def validate(record: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` when the record breaks the schema."""
    _validator().validate(record)


def lead_summary(text: str, limit: int = _SUMMARY_CHARS) -> str | None:
    """Return the first paragraph, cut at a word boundary, for records with no summary of their own."""
    first = text.strip().split("\n\n", 1)[0].strip()
    if not first:
        return None
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def plain(value: str | None) -> str | None:
    """Return a feed's summary as plain text: tags out, entities (`&nbsp;`) decoded, spaces collapsed."""
    if not value:
        return None
    text = " ".join(html.unescape(_TAG_RE.sub(" ", value)).split())
    return text or None


def word_count(text: str) -> int:
    """Count the words of a text (`state-of-the-art` and `don't` are one word each)."""
    return len(_WORD_RE.findall(text))


def image_object(
    url: str | None, caption: str | None = None, credit: str | None = None
) -> dict[str, Any] | None:
    """Return the record's `image`: {url, caption, credit}, or None without a URL."""
    return {"url": url, "caption": caption, "credit": credit} if url else None


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """
    Return an `article/1` record as `article/2`; any other record unchanged.

    The new keys are null (the old record never stated them), `image` becomes
    an object and `word_count` is counted from the text.
    """
    if record.get("schema") != PREVIOUS_SCHEMA_ID:
        return record
    image = record.get("image")
    source = record.get("source")
    return {
        **record,
        "schema": SCHEMA_ID,
        "source": {**source, "title": None} if isinstance(source, dict) else source,
        "entry_id": None,
        "updated_at": None,
        "publisher": None,
        "section": None,
        "word_count": word_count(str(record.get("text") or "")),
        "image": image_object(image) if isinstance(image, str) else image,
        "site_name": record.get("site_name"),
        "is_accessible_for_free": None,
    }


def build_record(
    raw: RawItem,
    ex: Extracted,
    *,
    article_id: str,
    canonical_url: str,
    content_hash: str,
    fetched_at: str,
    published_at: str | None,
    updated_at: str | None = None,
    language: str | None,
    tags: list[str],
    keywords: list[str],
    entities: list[Entity],
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    """Assemble a record from what the stages found; the page's own fields win over feed hints."""
    authors = list(dict.fromkeys(a.strip() for a in (ex.authors or raw.authors) if a.strip()))
    summary = ex.summary or plain(raw.summary) or lead_summary(ex.text)
    return {
        "schema": SCHEMA_ID,
        "id": article_id,
        "url": raw.url,
        "canonical_url": canonical_url,
        "source": raw.source.as_record(),
        "entry_id": raw.entry_id,
        "title": ex.title or raw.title,
        "text": ex.text,
        "summary": summary,
        "published_at": published_at,
        "updated_at": updated_at,
        "fetched_at": fetched_at,
        "authors": authors[:MAX_AUTHORS],
        "publisher": ex.publisher,
        "language": language,
        "dateline": ex.dateline,
        "credit": ex.credit,
        "section": ex.section,
        "tags": tags,
        "keywords": keywords,
        "entities": [{"text": e.text, "label": e.label, "count": e.count} for e in entities],
        "word_count": word_count(ex.text),
        "content_hash": content_hash,
        "duplicate_of": duplicate_of,
        "image": image_object(ex.image, ex.image_caption, ex.image_credit),
        "site_name": ex.site_name,
        "is_accessible_for_free": ex.is_accessible_for_free,
    }
