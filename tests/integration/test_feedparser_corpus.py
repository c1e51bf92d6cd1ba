"""Every feed of feedparser's own test suite goes through parse_feed with nothing but ParseError escaping."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.errors import ParseError
from worker.sources.feeds import ParsedFeed, parse_feed

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = REPO_ROOT.parent / "shared" / "data" / "feedparser-tests.tar.gz"
SDIST_VERSION = "6.0.14"


def _download_sdist(target: Path) -> Path | None:
    """Fetch feedparser's sdist from PyPI with pip; its tests/ holds the same corpus."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"feedparser=={SDIST_VERSION}",
        "-d",
        str(target),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    return next(target.glob("feedparser-*.tar.gz"), None)


def _xml_members(archive: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    """Yield (name, bytes) of every .xml file under a tests/ directory, read straight from the tar."""
    for member in archive.getmembers():
        parts = member.name.split("/")
        if member.isfile() and member.name.endswith(".xml") and "tests" in parts:
            handle = archive.extractfile(member)
            if handle is not None:
                yield member.name, handle.read()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    path: Path | None = ARCHIVE if ARCHIVE.is_file() else None
    if path is None:
        path = _download_sdist(tmp_path_factory.mktemp("sdist"))
    if path is None:
        pytest.skip(f"neither {ARCHIVE} nor the feedparser {SDIST_VERSION} sdist from PyPI is available")
    with tarfile.open(path) as archive:
        return list(_xml_members(archive))


class TestFeedparserCorpus:
    def test_every_file_parses_or_raises_parse_error(self, corpus, capsys):
        """Each of the corpus's .xml files yields a ParsedFeed or a ParseError, and all are processed."""
        parsed, refused = 0, 0
        for name, body in corpus:
            try:
                result = parse_feed(body, url=f"http://corpus.example.org/{name}")
            except ParseError:
                refused += 1
                continue
            assert isinstance(result, ParsedFeed), name
            parsed += 1

        with capsys.disabled():
            print(f"\nfeedparser corpus: {len(corpus)} files, {parsed} parsed, {refused} ParseError")
        expected = len(corpus)
        assert expected == parsed + refused
        # The corpus is mostly valid feeds: a parser refusing many of them is broken.
        assert parsed > 0.9 * len(corpus)

    def test_corpus_is_complete(self, corpus):
        """The corpus read is the whole of feedparser's test suite, not a stray subset."""
        dirs = {name.split("tests/", 1)[1].split("/", 1)[0] for name, _ in corpus}

        assert {"wellformed", "illformed"} <= dirs
        assert len(corpus) > 1000
