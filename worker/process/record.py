"""Build and check the `article/1` record: the contract with downstream consumers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from worker.models import Entity, Extracted, RawItem

SCHEMA_ID = "article/1"
_SUMMARY_CHARS = 300


@cache
def schema() -> dict[str, Any]:
    """Return the committed JSON Schema of a record."""
    text = resources.files("worker").joinpath("process/schema/article-1.json").read_text("utf-8")
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


def build_record(
    raw: RawItem,
    ex: Extracted,
    *,
    article_id: str,
    canonical_url: str,
    content_hash: str,
    fetched_at: str,
    published_at: str | None,
    language: str | None,
    tags: list[str],
    keywords: list[str],
    entities: list[Entity],
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    """Assemble a record from what the stages found; the page's own fields win over feed hints."""
    authors = list(dict.fromkeys(a.strip() for a in (ex.authors or raw.authors) if a.strip()))
    summary = ex.summary or raw.summary or lead_summary(ex.text)
    return {
        "schema": SCHEMA_ID,
        "id": article_id,
        "url": raw.url,
        "canonical_url": canonical_url,
        "source": raw.source.as_record(),
        "title": ex.title or raw.title,
        "text": ex.text,
        "summary": summary,
        "published_at": published_at,
        "fetched_at": fetched_at,
        "authors": authors,
        "language": language,
        "dateline": ex.dateline,
        "credit": ex.credit,
        "tags": tags,
        "keywords": keywords,
        "entities": [{"text": e.text, "label": e.label, "count": e.count} for e in entities],
        "content_hash": content_hash,
        "duplicate_of": duplicate_of,
        "image": ex.image,
        "site_name": ex.site_name,
    }
