"""
Run one batch of raw items through clean → dedupe → enrich → sinks.

The order is the rule: clean first (chrome must be gone before the content
hash, near-duplicate signature and NER see the text), then dedupe (so a
duplicate costs no enrichment), then enrich, then the sinks, then mark the
article done.  Stages are pure functions; this module owns the effects
(state store and sinks), which are injected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import jsonschema
import structlog
from structlog.contextvars import bound_contextvars

from worker import ids
from worker.config import Settings
from worker.delivery import Sink
from worker.errors import ParseError, PermanentError
from worker.models import Entity, Extracted, RawItem, raw_to_dict
from worker.process import dedup, neardup, record
from worker.process.clean import chrome
from worker.process.clean.html import clean_html
from worker.process.clean.text import clean_text
from worker.process.enrich.dates import to_utc_iso
from worker.process.enrich.entities import extract_entities, load_nlp
from worker.process.enrich.keywords import extract_keywords
from worker.process.enrich.language import detect_language
from worker.process.enrich.tags import normalise_tags
from worker.state import StateStore

log = structlog.get_logger(__name__)

Status = Literal["new", "duplicate", "skipped", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one item; `record` is set for emitted articles."""

    status: Status
    url: str
    article_id: str | None = None
    duplicate_of: str | None = None
    reason: str | None = None
    record: dict[str, Any] | None = field(default=None, compare=False)


@dataclass
class _Work:
    raw: RawItem
    article_id: str
    ex: Extracted | None = None
    content_hash: str = ""
    duplicate_of: str | None = None
    record: dict[str, Any] | None = None
    outcome: Outcome | None = None


def now_iso() -> str:
    """Return the current UTC time as `YYYY-MM-DDTHH:MM:SSZ`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean(raw: RawItem, learned: frozenset[str] = frozenset()) -> Extracted:
    """Return the extracted article for any kind of raw content (pure)."""
    if raw.content_type == "text":
        return clean_text(raw.content, learned_chrome=learned)
    if raw.content_type == "html":
        return clean_html(raw.content, raw.url, learned_chrome=learned)
    raise ParseError(f"no cleaner for content type {raw.content_type!r}", url=raw.url)


class Pipeline:
    """
    The processing half of the worker, shared by Celery tasks and `ingest`.

    Heavy resources (the NER model) load once per process, on first use.
    """

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        sinks: Sequence[Sink],
        *,
        clock: Callable[[], str] = now_iso,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sinks = list(sinks)
        self.clock = clock
        self.ttl_s = settings.retention_s

    def process(self, raws: Sequence[RawItem]) -> list[Outcome]:
        """Process a batch; per-item failures become `failed` outcomes (and dead letters)."""
        started = time.process_time()
        work = [_Work(raw=r, article_id=ids.article_id(r.url)) for r in raws]
        for w in work:
            with bound_contextvars(source=w.raw.source.name, url=w.raw.url, article_id=w.article_id):
                self._guard(w, "clean", self._clean_and_dedupe)
        fresh = [w for w in work if w.outcome is None]
        if fresh:
            self._enrich(fresh)
            records = [w.record for w in fresh if w.record is not None]
            for sink in self.sinks:
                sink.write(records)
            for w in fresh:
                self.store.mark_done(w.article_id, self.ttl_s)
                assert w.record is not None
                w.outcome = Outcome("new", w.raw.url, w.article_id, w.duplicate_of, record=w.record)
                log.debug("article_emitted", url=w.raw.url, article_id=w.article_id)
        outcomes = [w.outcome for w in work if w.outcome is not None]
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        log.info(
            "batch_processed",
            items=len(raws),
            cpu_ms=round((time.process_time() - started) * 1000, 1),
            **counts,
        )
        return outcomes

    def _guard(self, w: _Work, stage: str, fn: Callable[[_Work], None]) -> None:
        """Turn a permanent error of one item into a dead letter; transient ones go up to the task."""
        try:
            fn(w)
        except PermanentError as exc:
            self._fail(w, stage, exc)

    def _fail(self, w: _Work, stage: str, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        # The raw item itself, so `dead retry` can run it again as it was (zone included);
        # the content is capped to keep the dead-letter stream small.
        payload = {**raw_to_dict(w.raw), "content": w.raw.content[:100_000]}
        self.store.dead_letter(reason, stage, w.raw.source.name, payload)
        log.warning("item_failed", stage=stage, error=reason)
        w.outcome = Outcome("failed", w.raw.url, w.article_id, reason=reason)

    def _clean_and_dedupe(self, w: _Work) -> None:
        if self.store.is_done(w.article_id):
            log.debug("item_deduplicated", reason="seen")
            w.outcome = Outcome("duplicate", w.raw.url, w.article_id, w.article_id, reason="seen")
            return
        if w.raw.content_type == "record":
            self._take_record(w)
        else:
            # A byte-identical page under another URL (mirrors, tracking redirects) is caught
            # before cleaning, so it costs no extraction.  Emitted duplicates need the full path.
            if not self.settings.emit_duplicates:
                raw_key = "raw:" + dedup.raw_hash(w.raw.content)
                owner = self.store.claim_content(raw_key, w.article_id, self.ttl_s)
                if owner is not None:
                    self._duplicate(w, owner, "exact")
                    return
            ex = clean(w.raw)
            if ex.is_article and ex.text.strip():
                ex = self._remove_learned_chrome(w.raw, ex)
            w.ex = ex
        if w.ex is None or not w.ex.is_article or not w.ex.text.strip():
            reason = "not_an_article" if w.ex is not None and not w.ex.is_article else "empty_text"
            log.info("item_skipped", reason=reason)
            w.outcome = Outcome("skipped", w.raw.url, w.article_id, reason=reason)
            return
        w.content_hash = dedup.content_hash(w.ex.text)
        owner = self.store.claim_content(w.content_hash, w.article_id, self.ttl_s)
        kind = "exact"
        if owner is None:
            owner = self.store.near_claim(
                w.article_id, neardup.near_key(neardup.signature(w.ex.text)), self.ttl_s
            )
            kind = "near"
        if owner is not None:
            self._duplicate(w, owner, kind)

    def _duplicate(self, w: _Work, owner: str, kind: str) -> None:
        """Count and log a duplicate; finish it, or let it go on with `duplicate_of` set when emitted."""
        self.store.incr(f"duplicates_{kind}")
        log.info("item_deduplicated", reason=kind, duplicate_of=owner)
        if self.settings.emit_duplicates:
            w.duplicate_of = owner
            return
        self.store.mark_done(w.article_id, self.ttl_s)
        w.outcome = Outcome("duplicate", w.raw.url, w.article_id, owner, reason=kind)

    def _take_record(self, w: _Work) -> None:
        """Accept an `article/1` record from a `.jsonl` archive as it is, after validation."""
        try:
            rec = json.loads(w.raw.content)
            record.validate(rec)
        except (ValueError, jsonschema.ValidationError) as exc:
            raise ParseError(f"invalid record: {str(exc).splitlines()[0]}", url=w.raw.url) from exc
        w.record = rec
        w.ex = Extracted(title=rec["title"], text=rec["text"])

    def _remove_learned_chrome(self, raw: RawItem, ex: Extracted) -> Extracted:
        """Count this article's candidate chrome lines for its source; drop those seen often."""
        candidates = chrome.candidate_lines(ex.text)
        learned = self.store.learn_chrome(raw.source.name, candidates, self.settings.chrome_min_count)
        if not learned:
            return ex
        paragraphs = chrome.remove_learned(ex.text.split("\n\n"), learned)
        return replace(ex, text="\n\n".join(paragraphs))

    def _enrich(self, work: list[_Work]) -> None:
        """Language, dates, tags, keywords for each; NER for the batch in one `nlp.pipe`."""
        need_ner: list[_Work] = []
        langs: dict[int, str | None] = {}
        for i, w in enumerate(work):
            if w.record is not None:
                continue
            assert w.ex is not None
            langs[i] = detect_language(w.ex.text)
            if w.duplicate_of is None and langs[i] in self.settings.ner_languages:
                need_ner.append(w)
        entities: dict[int, list[Entity]] = {}
        if need_ner:
            # `ner` carries its own tok2vec in the sm models: nothing else is needed for entities.
            nlp = load_nlp(self.settings.spacy_model, keep=("ner",))
            found = extract_entities(nlp, [w.ex.text for w in need_ner if w.ex is not None])
            entities = {id(w): ents for w, ents in zip(need_ner, found, strict=True)}
        for i, w in enumerate(work):
            if w.record is not None:
                w.record = {**w.record, "content_hash": w.content_hash}
                continue
            assert w.ex is not None
            raw, ex = w.raw, w.ex
            lang = langs[i]
            w.record = record.build_record(
                raw,
                ex,
                article_id=w.article_id,
                canonical_url=ids.canonical_url(ex.canonical_url or raw.url),
                content_hash=w.content_hash,
                fetched_at=raw.fetched_at or self.clock(),
                published_at=to_utc_iso(ex.published or raw.published, tz=raw.source.tz),
                language=lang,
                tags=normalise_tags([*raw.tags, *ex.tags]),
                keywords=extract_keywords(ex.text, lang),
                entities=entities.get(id(w), []),
                duplicate_of=w.duplicate_of,
            )
