"""Configure structlog once: JSON off a TTY, console on one, stdlib routed through it."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
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
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
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
    _configured = True


def _identity(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger; call sites bind context with `bound_contextvars`."""
    return structlog.get_logger(name)
