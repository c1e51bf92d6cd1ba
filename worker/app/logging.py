"""
Configure structlog once: JSON off a TTY, console on one, stdlib routed through it.

While `ingest` draws its progress bar (`progress_bar`), log lines are written
above it (tqdm's `write`) and the events of single items are DEBUG, so the bar
keeps the bottom line and the screen shows one line per source.  The beat's
line per tick and kombu's filesystem-broker hostname warning are DEBUG too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

_configured = False

# Libraries that log at INFO about every message they move; WARNING keeps the useful part.
# Celery's "Received task" and "Task … succeeded" lines repeat our own `task_done`
# event (which carries the bound context) and cost a render per task; failures
# are still logged by Celery at ERROR.
_NOISY = (
    "kombu",
    "amqp",
    "celery.redirected",
    "celery.app.trace",
    "celery.worker.strategy",
    "trafilatura",
    "readability",
)


# Events about one article, batch or chunk, not a source, and what `ingest` says itself
# (skipped files): DEBUG while the progress bar counts them.
PER_ITEM_EVENTS = frozenset(
    {
        "task_done",
        "batch_processed",
        "item_deduplicated",
        "item_skipped",
        "item_failed",
        "archive_chunk_read",
        "archive_resumed",
        "archive_files_skipped",
        "robots_fetched",
        "sitemap_deferred",
    }
)
_items_at_debug = False

# Lines of libraries that repeat for ever or say nothing actionable: DEBUG only.
# (logger, start of the message): the beat says "Sending due task" at every tick (720 lines an hour
# at INGEST_TICK_S=5); kombu says "No hostname was supplied" of the filesystem broker, which has none.
_CHATTER = (
    ("celery.beat", "Scheduler: Sending due task"),
    ("kombu.connection", "No hostname was supplied"),
)


class _ChatterFilter(logging.Filter):
    """Drop a logger's repeated line unless DEBUG is on."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        return not str(record.msg).startswith(self.prefix)


def _items_to_debug(_logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop the INFO and WARNING events of single items while the progress bar counts them (unless DEBUG)."""
    if (
        _items_at_debug
        and method in {"info", "warning"}
        and event.get("event") in PER_ITEM_EVENTS
        and not logging.getLogger().isEnabledFor(logging.DEBUG)
    ):
        raise structlog.DropEvent
    return event


@contextmanager
def progress_bar() -> Iterator[None]:
    """
    Let a tqdm progress bar own the bottom line of stderr while inside.

    Log lines go through `tqdm.write` (the bar is cleared, the line printed,
    the bar drawn again), and per-item events drop to DEBUG.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    global _items_at_debug
    _items_at_debug = True
    try:
        with logging_redirect_tqdm():
            yield
    finally:
        _items_at_debug = False


def configure(level: str = "INFO", *, json: bool | None = None, force: bool = False) -> None:
    """
    Set up structlog and the stdlib root logger to share one renderer.

    Args:
        level: lowest level emitted.
        json: render JSON lines; by default when stderr is not a TTY.
        force: configure again even when already done (tests, Celery's signal).
    """
    global _configured
    if _configured and not force:
        return
    use_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[_items_to_debug, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name, prefix in _CHATTER:
        lib = logging.getLogger(name)
        lib.filters[:] = [f for f in lib.filters if not isinstance(f, _ChatterFilter)]
        lib.addFilter(_ChatterFilter(prefix))
    _configured = True


def _identity(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger; call sites bind context with `bound_contextvars`."""
    return structlog.get_logger(name)
