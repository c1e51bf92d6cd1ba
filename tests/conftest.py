"""Fixtures every test shares: clean structlog state and the paths of fixtures and shared data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = FIXTURES / "000_df02527578575e69.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Properties are about results, not speed (benches measure speed): no per-example deadline, which a
# busy machine (CI runs beside other work) or a model loaded by the first example would break.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Give each test fresh contextvars, so bound context never leaks between tests."""
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def seed_text() -> str:
    """Return the seed article exactly as it came out of the news archive."""
    return SEED.read_text("utf-8")
