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
from typing import TYPE_CHECKING, Any, Literal

import jsonschema
import structlog
from htmldate.extractors import external_date_parser
from structlog.contextvars import bound_contextvars

from worker import ids
from worker.config import Settings
from worker.delivery import Sink
from worker.errors import ParseError, PermanentError
from worker.models import Extracted, RawItem, raw_to_dict
from worker.process import dedup, neardup, record
from worker.process.clean import chrome
from worker.process.clean.html import clean_html
from worker.process.clean.metadata import Hints
from worker.process.clean.text import clean_text
from worker.process.enrich.dates import to_utc_iso
from worker.process.enrich.entities import entities_from_doc, load_nlp, ner_docs
from worker.process.enrich.keywords import extract_keywords, stop_words
from worker.process.enrich.language import detect_language
from worker.process.enrich.places import place_names
from worker.process.enrich.tags import normalise_tags
from worker.state import StateStore

if TYPE_CHECKING:
    from spacy.tokens import Doc

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
    detail: str | None = field(default=None, compare=False)


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


def hints(raw: RawItem) -> Hints:
    """Return what the feed entry or archive record states about the article, as explicit evidence."""
    return Hints(
        title=raw.title,
        published=raw.published,
        authors=raw.authors,
        tags=raw.tags,
        from_feed=raw.source.kind == "feed",
    )


def clean(raw: RawItem, learned: frozenset[str] = frozenset()) -> Extracted:
    """
    Return the extracted article for any kind of raw content (pure).

    An HTML page's metadata is resolved together with the feed's hints, so a
    feed entry's explicit date survives a date the page only seems to show.
    """
    if raw.content_type == "text":
        return clean_text(raw.content, learned_chrome=learned)
    if raw.content_type == "html":
        return clean_html(raw.content, raw.url, learned_chrome=learned, hints=hints(raw))
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

    def warm(self) -> None:
        """
        Load the models now rather than on the first article (`ingest` does before it forks workers).

        The NER model and its gazetteer (when NER runs on some language), the language
        identifier, the stop words of the NER languages, and dateparser's
        locales, which htmldate's extensive date search loads on the first
        date it reads no other way (a second and a half of CPU, once per process).
        """
        if self.settings.ner_languages:
            load_nlp(self.settings.spacy_model, keep=("ner",))
            place_names()
        detect_language("Warming up the language identifier takes one sentence of text.")
        for language in self.settings.ner_languages:
            stop_words(language)
        # A string no locale reads, so that every locale is loaded and tried.
        external_date_parser("zz 31 qq", "%Y-%m-%d")

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
        self._count(outcomes, counts)
        log.info(
            "batch_processed",
            items=len(raws),
            cpu_ms=round((time.process_time() - started) * 1000, 1),
            **counts,
        )
        return outcomes

    def _count(self, outcomes: list[Outcome], counts: dict[str, int]) -> None:
        """
        Add the batch's outcomes to the store's counters (`health` shows them), one call per counter.

        All from the outcomes, so `duplicates_exact + duplicates_near` is
        `articles_duplicate`: an article seen before (its id known) counts as an
        exact duplicate.  An emitted duplicate (INGEST_EMIT_DUPLICATES) is new.
        """
        dups: dict[str, int] = {}
        for o in outcomes:
            if o.status == "duplicate":
                kind = "duplicates_near" if o.reason == "near" else "duplicates_exact"
                dups[kind] = dups.get(kind, 0) + 1
        for status, n in counts.items():
            self.store.incr(f"articles_{status}", n)
        for kind, n in dups.items():
            self.store.incr(kind, n)

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
            # Why, in words a user can act on: "too little text (44 characters)", "a list of links (…)".
            detail = w.ex.extra.get("not_article") if w.ex is not None else None
            log.info("item_skipped", reason=reason, detail=detail)
            w.outcome = Outcome("skipped", w.raw.url, w.article_id, reason=reason, detail=detail)
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
        """Log a duplicate (`_count` counts it); finish it, or let it go on with `duplicate_of` if emitted."""
        log.info("item_deduplicated", reason=kind, duplicate_of=owner)
        if self.settings.emit_duplicates:
            w.duplicate_of = owner
            return
        self.store.mark_done(w.article_id, self.ttl_s)
        w.outcome = Outcome("duplicate", w.raw.url, w.article_id, owner, reason=kind)

    def _take_record(self, w: _Work) -> None:
        """Accept a record from a `.jsonl` archive as it is, after validation (`article/1` upgraded)."""
        try:
            rec = record.upgrade(json.loads(w.raw.content))
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
        docs: dict[int, Doc] = {}
        if need_ner:
            # `ner` carries its own tok2vec in the sm models: nothing else is needed for entities,
            # and the keywords reuse the documents' tokens and names.
            nlp = load_nlp(self.settings.spacy_model, keep=("ner",))
            found = ner_docs(nlp, [w.ex.text for w in need_ner if w.ex is not None])
            docs = {id(w): doc for w, doc in zip(need_ner, found, strict=True)}
        for i, w in enumerate(work):
            if w.record is not None:
                w.record = {**w.record, "content_hash": w.content_hash}
                continue
            assert w.ex is not None
            raw, ex = w.raw, w.ex
            lang = langs[i]
            doc = docs.get(id(w))
            w.record = record.build_record(
                raw,
                ex,
                article_id=w.article_id,
                canonical_url=ids.canonical_url(ex.canonical_url or raw.url),
                content_hash=w.content_hash,
                fetched_at=raw.fetched_at or self.clock(),
                published_at=to_utc_iso(ex.published or raw.published, tz=raw.source.tz),
                updated_at=to_utc_iso(ex.updated, tz=raw.source.tz),
                language=lang,
                tags=normalise_tags([*raw.tags, *ex.tags]),
                keywords=extract_keywords(
                    ex.text, lang, title=ex.title, doc=doc, method=self.settings.keywords
                ),
                entities=entities_from_doc(doc) if doc is not None else [],
                duplicate_of=w.duplicate_of,
            )
