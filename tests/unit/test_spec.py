"""What a CLI argument or a schedules/ entry becomes (`worker.sources.spec.resolve`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import SourceError
from worker.sources.spec import resolve


class TestResolve:
    @pytest.mark.parametrize(
        ("arg", "kind"),
        [
            ("https://s/rss", "feed"),
            ("https://s/story.html", "feed"),  # told by what it serves, at the read
            ("https://s/sitemap.xml", "sitemap"),
            ("https://s/news-sitemap.xml.gz", "sitemap"),
            ("https://s/sitemap_index.xml?page=2", "sitemap"),
        ],
        ids=["feed", "page-url", "sitemap", "news-sitemap-gz", "index-query"],
    )
    def test_web_urls(self, arg: str, kind: str) -> None:
        """http(s) URLs are feeds, or sitemaps when named like one."""
        assert (kind, arg) == (resolve(arg).kind, resolve(arg).location)

    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("feed.xml", "feed"),
            ("feed.rss", "feed"),
            ("story.html", "page"),
            ("story.htm", "page"),
            ("sitemap.xml", "archive"),
            ("dump.tar.gz", "archive"),
            ("one.txt", "archive"),
        ],
        ids=["xml", "rss", "html", "htm", "sitemap", "tarball", "text"],
    )
    def test_local_files(self, tmp_path: Path, name: str, kind: str) -> None:
        """Feeds and pages are `file:` URLs; archives (a local sitemap too) are paths."""
        path = tmp_path / name
        path.write_bytes(b"x")

        spec = resolve(str(path))

        assert kind == spec.kind
        assert (path.as_uri() if kind in {"feed", "page"} else str(path)) == spec.location

    def test_a_folder_is_an_archive_named_after_it(self, tmp_path: Path) -> None:
        """A folder is an archive named by its base name."""
        assert ("archive", tmp_path.name) == (resolve(str(tmp_path)).kind, resolve(str(tmp_path)).name)

    def test_kind_from_schedules_overrides_the_guess(self) -> None:
        """`kind = "page"` in schedules/ makes a URL a page."""
        assert "page" == resolve("https://s/rss", kind="page").kind

    def test_unknown_kind_is_refused(self) -> None:
        """A kind of no reader is a SourceError naming the kinds."""
        with pytest.raises(SourceError, match="expected one of feed, page, sitemap, archive"):
            resolve("https://s/rss", kind="podcast")
