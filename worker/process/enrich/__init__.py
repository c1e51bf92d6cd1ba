"""
Enrich a cleaned article with tags, entities, language, dates and keywords.

Enrichment runs after cleaning and deduplication, so each step sees the final
text and no work is spent on duplicates.  Every step is a pure function in its
own module; the heavy ones (`entities`, `language`, `keywords`) load their
models once per process and are imported only by callers that need them, so
importing this package stays cheap::

    tags      normalise_tags, split_tags
    entities  load_nlp, ner_docs, entities_from_doc, extract_entities
    language  detect_language
    dates     to_utc_iso
    keywords  extract_keywords (on NER's document when there is one), stop_words
"""
