"""News ingestion worker: feeds and archives in, clean enriched article records out."""

__version__ = "0.1.0"
