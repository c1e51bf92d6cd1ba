"""
Find the people, organisations, places and other names an article mentions.

NER is most of an article's CPU, so the model runs with its `ner` component
alone (it carries its own tok2vec), on at most `MAX_CHARS` of the text, and
its matrix products go to numpy's OpenBLAS pinned to one thread when that can
be done (`load_nlp`).  Measured with `bench/eval_entities.py` on the English
pages of extraction-dev; the figures are in `bench/README.md`.
"""

from __future__ import annotations

import ctypes
import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import use_ops

from worker.models import Entity
from worker.process.enrich.places import is_place

EntityLabel = Literal["PERSON", "ORG", "LOC", "MISC"]

# The components NER needs; the tagger, parser and lemmatizer roughly double
# the time per article and add nothing to the entities.
NER_COMPONENTS: tuple[str, ...] = ("tok2vec", "ner")

# spaCy's OntoNotes labels mapped to ours.  Numeric and temporal labels (DATE,
# TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL) are not names: dropped.
LABELS: dict[str, EntityLabel] = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "MISC": "MISC",
}

# Texts longer than this are cut before NER: its cost grows with length, while
# the names that matter appear early in a news article.  Measured on 160 real
# English articles (`bench/eval_entities.py`): the cut keeps 99 % of each
# article's full-text top-10 entities (the goal is 98 %) and saves 9 % of NER's
# CPU; 15,000 characters would keep 98.3 %, too close to the goal to hold on
# other pages, and 10,000 only 95 %.
MAX_CHARS = 20_000

_SPACE = re.compile(r"\s+")
# Quotes, brackets and dashes that spaCy sometimes keeps at an entity's edge.
# A trailing period is kept: it belongs to `U.S.` and `St.`.
_EDGE = " \"'“”‘’«»„()[]{}<>,;:!?*–—-"
_POSSESSIVE = re.compile(r"['’][sS]$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
# Names where the article is part of the name itself.
_KEEP_THE = frozenset({"the hague", "the gambia", "the bahamas"})
_NAME_TOKENS = re.compile(r"[\s\-‐]+")
# Words that no person's name holds (surnames like Park, Church, Bridge, Court or Temple are left
# out): a "person" named with one is a building ...
_FACILITY_WORDS_TEXT = """
    museum museo musée museu muzeum stadium stadion estadio airport flughafen aeropuerto aéroport
    cathedral kathedrale catedral cathédrale mosque moschee mezquita mosquée synagogue synagoge
"""
_FACILITY_WORDS = frozenset(_FACILITY_WORDS_TEXT.split())
# ... or an organisation.
_INSTITUTION_WORDS_TEXT = """
    university universität université universidad universidade università institute institut ministry
    ministerium ministerio ministère department council committee commission corporation agency
    foundation stiftung association hospital klinikum police polizei
"""
_INSTITUTION_WORDS = frozenset(_INSTITUTION_WORDS_TEXT.split())


@dataclass
class _Group:
    """Mentions that name one entity, in the order they were met."""

    first: int
    # Set once short names joined this full name: it names the entity.
    name: str | None = None
    forms: Counter[str] = field(default_factory=Counter)
    form_first: dict[str, int] = field(default_factory=dict)
    labels: Counter[EntityLabel] = field(default_factory=Counter)
    label_first: dict[EntityLabel, int] = field(default_factory=dict)

    def add(self, text: str, label: EntityLabel, index: int) -> None:
        """Count one mention."""
        self.forms[text] += 1
        self.form_first.setdefault(text, index)
        self.labels[label] += 1
        self.label_first.setdefault(label, index)

    def absorb(self, other: _Group) -> None:
        """Take over the mentions of another group that names the same entity."""
        self.first = min(self.first, other.first)
        self.forms.update(other.forms)
        for text, index in other.form_first.items():
            self.form_first[text] = min(index, self.form_first.get(text, index))
        self.labels.update(other.labels)
        for label, index in other.label_first.items():
            self.label_first[label] = min(index, self.label_first.get(label, index))

    @property
    def count(self) -> int:
        """Return the number of mentions."""
        return self.forms.total()

    def label(self) -> EntityLabel:
        """Return the label most mentions carry; on a tie, the one seen first."""
        return min(self.labels, key=lambda lab: (-self.labels[lab], self.label_first[lab]))

    def text(self) -> str:
        """
        Return the form to publish: the most frequent, then first, properly cased one.

        A form with a lower-case letter is preferred so that a shouted
        `MOSCOW` dateline does not name the entity when `Moscow` also occurs.
        """
        if self.name is not None:
            return self.name
        cased = [f for f in self.forms if any(c.islower() for c in f)] or list(self.forms)
        return min(cased, key=lambda f: (-self.forms[f], self.form_first[f]))


def clean_mention(text: str) -> str:
    """
    Return an entity mention without possessive, leading `the` or stray punctuation.

    `Putin's` becomes `Putin` and `the United States` becomes `United States`,
    so both group with the other mentions of the same name.
    """
    text = _SPACE.sub(" ", text).strip(_EDGE)
    text = _POSSESSIVE.sub("", text).strip(_EDGE)
    if text.casefold() not in _KEEP_THE:
        text = _LEADING_THE.sub("", text)
    return text.strip(_EDGE)


def _tokens(key: str) -> list[str]:
    return [t for t in _NAME_TOKENS.split(key) if t]


def _person_for(key: str, group: _Group, persons: dict[str, tuple[list[str], _Group]]) -> _Group | None:
    """
    Return the full-name PERSON group a short name refers to, if any.

    A short name is a proper suffix of the full name (`Putin` in `Vladimir
    Putin`, `al-Muallem` in `Walid al-Muallem`) or, failing that, a single
    token of it.  A short name only ever labelled a place stays a place, so
    `Washington` does not join `George Washington`; spaCy's ORG or GPE for a
    foreign surname is a common error and does not stop the join.
    """
    labels = group.labels
    if labels["LOC"] and not labels["PERSON"]:
        return None
    tokens = _tokens(key)
    n = len(tokens)
    suffix = [g for t, g in persons.values() if len(t) > n and t[-n:] == tokens]
    inner = [g for t, g in persons.values() if n == 1 and tokens[0] in t]
    candidates = suffix or inner
    # Two people share the name (`Bashar Assad`, `Hafez Assad`): the one the
    # article mentions most is the likelier referent.
    return min(candidates, key=lambda g: (-g.count, g.first)) if candidates else None


def canonical_entities(mentions: Iterable[tuple[str, EntityLabel]]) -> list[Entity]:
    """
    Merge the mentions of one article into entities with counts.

    Mentions are grouped by their case-folded cleaned text; then a short name
    joins the longer PERSON name it abbreviates, in either order of
    appearance.  Each entity carries the label most of its mentions carry
    (PERSON once it joined a full name).

    Args:
        mentions: `(text, label)` pairs in document order.

    Returns:
        The entities by mention count, most first, then by first appearance.
    """
    groups: dict[str, _Group] = {}
    for index, (raw, label) in enumerate(mentions):
        text = clean_mention(raw)
        if not any(c.isalpha() for c in text):
            continue
        key = text.casefold()
        groups.setdefault(key, _Group(first=index)).add(text, label, index)
    persons = {
        key: (tokens, g)
        for key, g in groups.items()
        if len(tokens := _tokens(key)) > 1 and g.label() == "PERSON" and _ruled_label(key) is None
    }
    for _, person in persons.values():
        person.name = person.text()
    # Shortest names first, so that `al-Muallem`, once it joined `Walid
    # al-Muallem`, no longer attracts `Muallem` on its own.
    for key in sorted(groups, key=lambda k: len(_tokens(k))):
        target = _person_for(key, groups[key], persons)
        if target is not None:
            target.absorb(groups.pop(key))
            persons.pop(key, None)
    entities = [
        (g.first, Entity(text=g.text(), label=_label(key, g), count=g.count)) for key, g in groups.items()
    ]
    entities.sort(key=lambda fe: (-fe[1].count, fe[0]))
    return [e for _, e in entities]


def _label(key: str, group: _Group) -> EntityLabel:
    """
    Return an entity's label: its mentions' majority, corrected by what rules know better.

    A full name stays PERSON whatever spaCy called the short names that joined
    it; a country, capital, US state or continent is a place (`places`); a
    "person" whose name holds a word like "Museum" or "University" is a place
    or an organisation.
    """
    if group.name is not None:
        return "PERSON"
    label = group.label()
    ruled = _ruled_label(key)
    if ruled == "LOC" and is_place(key):
        return "LOC"
    return ruled if ruled is not None and label == "PERSON" else label


def _ruled_label(key: str) -> EntityLabel | None:
    """Return what a name is by the rules (a place, or an organisation by its words), or None."""
    if is_place(key):
        return "LOC"
    words = set(_tokens(key))
    if words & _FACILITY_WORDS:
        return "LOC"
    if words & _INSTITUTION_WORDS:
        return "ORG"
    return None


def entities_from_doc(doc: Doc) -> list[Entity]:
    """
    Return the named entities of one processed document.

    Args:
        doc: A spaCy document whose `ents` are set.

    Returns:
        The merged entities, as `canonical_entities` returns them.
    """
    return canonical_entities((ent.text, LABELS[ent.label_]) for ent in doc.ents if ent.label_ in LABELS)


def ner_docs(
    nlp: Language, texts: Sequence[str], *, batch_size: int = 32, max_chars: int = MAX_CHARS
) -> list[Doc]:
    """
    Run NER over several article texts and return their documents (tokens and entities).

    The documents serve the entities (`entities_from_doc`) and the keywords,
    which reuse their tokens rather than splitting the text again.

    Args:
        nlp: A pipeline from `load_nlp`.
        texts: Article bodies, without title or dateline.
        batch_size: Texts handed to the model together.
        max_chars: Characters of each text given to NER; see `MAX_CHARS`.

    Returns:
        One document per text, in the order of `texts`.
    """
    return list(nlp.pipe((t[:max_chars] for t in texts), batch_size=batch_size))


def extract_entities(
    nlp: Language, texts: Sequence[str], *, batch_size: int = 32, max_chars: int = MAX_CHARS
) -> list[list[Entity]]:
    """
    Run NER over several article texts at once and return each one's entities.

    Args:
        nlp: A pipeline from `load_nlp`.
        texts: Article bodies, without title or dateline.
        batch_size: Texts handed to the model together.
        max_chars: Characters of each text given to NER; see `MAX_CHARS`.

    Returns:
        One entity list per text, in the order of `texts`.
    """
    return [
        entities_from_doc(doc) for doc in ner_docs(nlp, texts, batch_size=batch_size, max_chars=max_chars)
    ]


def _components(model: str) -> list[str]:
    """Return every component a pipeline package or directory declares, without loading it."""
    path = spacy.util.get_package_path(model) if spacy.util.is_package(model) else Path(model)
    meta = spacy.util.get_model_meta(path)
    return list(meta.get("components") or meta.get("pipeline") or [])


# Where numpy's bundled OpenBLAS (the scipy-openblas wheels) keeps its library and thread switch.
_NUMPY_LIBS = Path(np.__file__).parent.parent / "numpy.libs"
_OPENBLAS_SET_THREADS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads",
)


@functools.cache
def single_threaded_openblas() -> bool:
    """
    Pin numpy's OpenBLAS to one thread; return whether that was done.

    thinc's default BLAS, BLIS, uses its slow generic kernel on CPUs its
    build does not know (AMD Zen 5 here), where numpy's OpenBLAS has tuned
    kernels: NER's CPU drops by a fifth, with the very same entities.  But
    OpenBLAS starts a thread per core and its waiting threads burn CPU (twice
    the CPU of one thread on this machine), and a worker process should use
    one core anyway; so OpenBLAS is used only once it is pinned to one thread.
    """
    for path in sorted(_NUMPY_LIBS.glob("*openblas*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for name in _OPENBLAS_SET_THREADS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                return True
    return False


@functools.cache
def load_nlp(model: str, keep: tuple[str, ...] = NER_COMPONENTS) -> Language:
    """
    Load a spaCy pipeline with only the NER components, once per process and name.

    Loading takes about a second and a hundred megabytes, so each worker
    process keeps one pipeline per model name for its lifetime.

    Args:
        model: A pipeline package name (the `spacy_model` setting) or directory.
        keep: The components to load; every other one is excluded.

    Returns:
        The pipeline, whose `pipe_names` are those of `keep` the model has.

    Raises:
        ValueError: The model has no `ner` component.
    """
    exclude = [name for name in _components(model) if name not in keep]
    if single_threaded_openblas():
        # The models keep the ops they were built with: only the load needs the context.
        with use_ops("numpy", use_blis=False):
            nlp = spacy.load(model, exclude=exclude)
    else:
        nlp = spacy.load(model, exclude=exclude)
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {model!r} has no ner component")
    return nlp
