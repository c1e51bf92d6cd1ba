"""Turn fetched pages and text articles into clean article text with their metadata."""

from worker.clean.html import clean_html
from worker.clean.text import clean_text

__all__ = ["clean_html", "clean_text"]
