"""Turn fetched pages and text articles into clean article text with their metadata."""

from worker.process.clean.html import clean_html
from worker.process.clean.text import clean_text

__all__ = ["clean_html", "clean_text"]
