"""Tests of the archive readers: kinds, URLs, resume, safety and malformed input."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from worker.errors import BodyTooLarge, ParseError, SourceError
from worker.models import RawItem, SourceRef
from worker.sources.archives import ArchiveItem, SitemapEntry, detect_kind, iter_archive, iter_sitemap_urls

SEED = Path(__file__).parent.parent / "fixtures" / "000_df02527578575e69.txt"
SEED_BYTES = SEED.read_bytes()
SEED_TEXT = SEED_BYTES.decode("utf-8")
PAGE = b"<html><head><title>T</title></head><body><p>Hello</p></body></html>"


def items(path: Path, **kwargs: object) -> list[ArchiveItem]:
    return list(iter_archive(path, **kwargs))  # type: ignore[arg-type]


def raw(item: ArchiveItem) -> RawItem:
    assert item.item is not None
    return item.item


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def nested(tmp_path: Path) -> Path:
    """Return a folder two levels below tmp_path, so `../` members would land inside tmp_path."""
    work = tmp_path / "outer" / "inner"
    work.mkdir(parents=True)
    return work


# ---------------------------------------------------------------- builders


def make_tar(path: Path, members: list[tuple[str, bytes]], mode: Literal["w", "w:gz"] = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def warc_response(
    writer: WARCWriter, url: str, status: str, ctype: str, body: bytes, date: str = "2024-05-01T12:00:00Z"
) -> None:
    headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def make_warc(path: Path, *, gz: bool = True, corrupt: bool = True) -> Path:
    """Write 2 HTML pages, an image, a 404 and (optionally) a corrupt record between them."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    warc_response(writer, "https://news.example/a", "200 OK", "text/html; charset=utf-8", PAGE)
    if corrupt:
        # A gzip header followed by garbage: the record cannot be parsed at all.
        buf.write(b"\x1f\x8b\x08garbage-not-a-record" if gz else b"WARC/1.0\r\nnonsense\r\n\r\n")
    warc_response(writer, "https://news.example/logo.png", "200 OK", "image/png", b"\x89PNG....")
    warc_response(writer, "https://news.example/gone", "404 Not Found", "text/html", b"<html>404</html>")
    warc_response(
        writer,
        "https://news.example/b",
        "200 OK",
        "text/html",
        b'<html><head><meta charset="iso-8859-1"></head><body>caf\xe9</body></html>',
        date="2024-05-02T09:30:15.123456+02:00",
    )
    path.write_bytes(buf.getvalue())
    return path


def make_arc(path: Path) -> Path:
    """Write a per-record gzipped ARC v1 file: the file header, two pages and a 500."""
    desc = b"1 0 Example\nURL IP-address Archive-date Content-type Archive-length\n"
    members = [
        gzip.compress(b"filedesc://x.arc 0.0.0.0 20240501120000 text/plain %d\n%s\n" % (len(desc), desc))
    ]
    for url, status in [
        (b"http://news.example/p1", b"200 OK"),
        (b"http://news.example/err", b"500 Oops"),
        (b"http://news.example/p2", b"200 OK"),
    ]:
        http = b"HTTP/1.0 " + status + b"\r\nContent-Type: text/html\r\n\r\n<html>" + url + b"</html>"
        members.append(
            gzip.compress(b"%s 1.2.3.4 20240501120000 text/html %d\n%s\n" % (url, len(http), http))
        )
    path.write_bytes(b"".join(members))
    return path


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://news.example/new</loc>
    <image:image><image:loc>https://news.example/i.jpg</image:loc><image:title>Photo</image:title></image:image>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2024-05-01T10:00:00+02:00</news:publication_date>
      <news:title>Fresh news</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/old</loc>
    <lastmod>2024-03-01</lastmod>
  </url>
  <url><loc>https://news.example/undated</loc></url>
  <url><loc>file:///etc/passwd</loc></url>
</urlset>
"""

SITEMAP_INDEX = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/s1.xml.gz</loc><lastmod>2024-05-01</lastmod></sitemap>
  <sitemap><loc>https://news.example/s2.xml</loc></sitemap>
</sitemapindex>
"""


def build_folder(root: Path) -> Path:
    (root / "a").mkdir(parents=True)
    (root / "c" / "d").mkdir(parents=True)
    (root / "a" / "000_x.txt").write_bytes(SEED_BYTES)
    (root / "b.html").write_bytes(PAGE)
    (root / "c" / "d" / "e.htm").write_bytes(PAGE)
    (root / "c" / "z.txt").write_bytes(b"Tags: x\n\nTitle\n\nBody\n")
    (root / "notes.md").write_bytes(b"# not an article")
    return root


def build_jsonl(path: Path) -> Path:
    lines = [
        json.dumps({"schema": "article/1", "url": "https://news.example/r", "title": "R", "tags": ["a"]}),
        json.dumps({"url": "https://news.example/t", "text": SEED_TEXT, "published_at": "2013-09-09"}),
        json.dumps({"url": "https://news.example/h", "html": "<p>x</p>", "tags": "a | b", "authors": "Jo"}),
        json.dumps({"url": "https://news.example/t2", "text": "Body two"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "folder": lambda d: build_folder(d / "dump"),
    "tar.gz": lambda d: make_tar(
        d / "dump.tar.gz", [("a.txt", SEED_BYTES), ("b.html", PAGE), ("c.txt", b"c")]
    ),
    "tar": lambda d: make_tar(d / "dump.tar", [("a.txt", SEED_BYTES), ("x.bin", b"x"), ("c.htm", PAGE)], "w"),
    "zip": lambda d: make_zip(
        d / "dump.zip", [("a.txt", SEED_BYTES), ("d/", b""), ("b.html", PAGE), ("c.txt", b"c")]
    ),
    "jsonl": lambda d: build_jsonl(d / "dump.jsonl"),
    "warc.gz": lambda d: make_warc(d / "crawl.warc.gz", corrupt=False),
    "warc": lambda d: make_warc(d / "crawl.warc", gz=False, corrupt=False),
    "warc.gz-corrupt": lambda d: make_warc(d / "bad.warc.gz"),
    "arc.gz": lambda d: make_arc(d / "old.arc.gz"),
    "sitemap": lambda d: _write(d / "news.xml.gz", gzip.compress(NEWS_SITEMAP)),
    "text": lambda d: _write(d / "one.txt", SEED_BYTES),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- tests


class TestDetectKind:
    @pytest.mark.parametrize(
        ("name", "data", "expected"),
        [
            ("x.tar.gz", None, "tar"),
            ("x.TGZ", None, "tar"),
            ("x.zip", None, "zip"),
            ("x.jsonl", b"{}\n", "jsonl"),
            ("x.warc.gz", b"", "warc"),
            ("x.arc.gz", b"", "warc"),
            ("x.xml", NEWS_SITEMAP, "sitemap"),
            ("x.xml.gz", gzip.compress(SITEMAP_INDEX), "sitemap"),
            ("x.html", PAGE, "text"),
            ("x.txt", SEED_BYTES, "text"),
            ("noext-zip", None, "zip"),
            ("noext-warc", b"WARC/1.0\r\n", "warc"),
            ("noext-sitemap", gzip.compress(NEWS_SITEMAP), "sitemap"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_kind(self, tmp_path: Path, name: str, data: bytes | None, expected: str) -> None:
        """The file name decides the kind, and the first bytes when the name says nothing."""
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        elif "zip" in name:
            make_zip(path, [("a.txt", b"a")])
        else:
            make_tar(path, [("a.txt", b"a")])

        assert expected == detect_kind(path)

    def test_folder(self, tmp_path: Path) -> None:
        """A directory is a folder archive."""
        assert "folder" == detect_kind(str(tmp_path))

    @pytest.mark.parametrize(
        ("name", "data", "why"),
        [
            ("missing.tar.gz", None, "no such file"),
            ("blob.bin", b"\x00\x01 something", "unknown archive kind"),
            ("feed.xml", b"<rss><channel/></rss>", "not a sitemap"),
        ],
        ids=["missing", "unknown", "xml-not-sitemap"],
    )
    def test_errors_name_the_path(self, tmp_path: Path, name: str, data: bytes | None, why: str) -> None:
        """An unreadable or unknown path raises SourceError with a one-line message naming it."""
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)

        with pytest.raises(SourceError) as info:
            detect_kind(path)

        message = str(info.value)
        assert str(path) in message
        assert why in message
        assert "\n" not in message

    def test_iter_archive_fails_at_call(self, tmp_path: Path) -> None:
        """iter_archive detects the kind eagerly, so a bad path fails before any next()."""
        with pytest.raises(SourceError):
            iter_archive(tmp_path / "nope.zip")


class TestContentArchives:
    def test_folder_gives_seed_with_member_uri(self, tmp_path: Path) -> None:
        """A folder yields its .txt/.html/.htm files in sorted path order, each named by source and path."""
        root = build_folder(tmp_path / "dump")

        found = items(root)

        assert ["a/000_x.txt", "b.html", "c/d/e.htm", "c/z.txt"] == [i.position for i in found]
        seed = raw(found[0])
        assert "archive:dump/a/000_x.txt" == seed.url
        assert SEED_TEXT == seed.content
        assert "text" == seed.content_type
        assert "html" == raw(found[1]).content_type
        assert SourceRef(kind="archive", name="dump", url="archive:dump") == seed.source

    @pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar"], ids=["tar.gz", "tgz", "tar"])
    def test_tar_gives_seed_with_member_uri(self, tmp_path: Path, suffix: str) -> None:
        """A tar member's URL names the archive by its base name, and the member's path in it."""
        mode: Literal["w", "w:gz"] = "w" if suffix == ".tar" else "w:gz"
        path = make_tar(tmp_path / f"dump{suffix}", [("dir/000_x.txt", SEED_BYTES)], mode)

        found = items(path)

        assert 1 == len(found)
        assert "archive:dump/dir/000_x.txt" == raw(found[0]).url
        assert SEED_TEXT == raw(found[0]).content
        assert "dump" == raw(found[0]).source.name

    def test_zip_gives_seed_with_member_uri(self, tmp_path: Path) -> None:
        """A zip member's URL names the archive by its base name, and the member's path (percent-encoded)."""
        path = make_zip(tmp_path / "dump.zip", [("dir/000_x.txt", SEED_BYTES), ("dir/p q.html", PAGE)])

        found = items(path)

        assert ["archive:dump/dir/000_x.txt", "archive:dump/dir/p%20q.html"] == [raw(i).url for i in found]
        assert [SEED_TEXT, PAGE.decode()] == [raw(i).content for i in found]

    def test_single_text_file(self, tmp_path: Path) -> None:
        """A lone .txt file is one text item."""
        path = _write(tmp_path / "one.txt", SEED_BYTES)

        assert [("0", "archive:one/one.txt", SEED_TEXT)] == [
            (i.position, raw(i).url, raw(i).content) for i in items(path)
        ]

    def test_given_source_is_used(self, tmp_path: Path) -> None:
        """A source passed in is attached to every item."""
        src = SourceRef(kind="archive", name="mine", url="https://example.org/dump")
        path = make_zip(tmp_path / "dump.zip", [("a.txt", b"a"), ("b.txt", b"b")])

        found = items(path, source=src)

        assert [src, src] == [raw(i).source for i in found]
        assert ["archive:mine/a.txt", "archive:mine/b.txt"] == [raw(i).url for i in found]

    @pytest.mark.parametrize("kind", ["folder", "tar.gz", "zip", "text"], ids=str)
    def test_urls_do_not_depend_on_where_the_archive_lies(self, tmp_path: Path, kind: str) -> None:
        """The same archive in two folders gives the same URLs, and none of them holds a local path."""
        build = {
            "folder": lambda d: build_folder(d / "dump"),
            "tar.gz": lambda d: make_tar(d / "dump.tar.gz", [("dir/000_x.txt", SEED_BYTES)], "w:gz"),
            "zip": lambda d: make_zip(d / "dump.zip", [("dir/000_x.txt", SEED_BYTES)]),
            "text": lambda d: _write(d / "dump.txt", SEED_BYTES),
        }[kind]
        first, second = tmp_path / "one" / "a", tmp_path / "two"
        first.mkdir(parents=True)
        second.mkdir()

        urls = [[raw(i).url for i in items(build(d))] for d in (first, second)]

        assert urls[0] == urls[1]
        assert [] == [u for u in urls[0] if str(tmp_path) in u or not u.startswith("archive:dump/")]

    @pytest.mark.parametrize("kind", ["folder", "tar.gz", "zip", "jsonl", "warc"], ids=str)
    def test_member_over_cap_is_skipped(self, tmp_path: Path, kind: str) -> None:
        """A member over the size cap is skipped with archive_member_too_large; smaller ones still come."""
        path = BUILDERS[kind](tmp_path)
        cap = len(SEED_BYTES) - 1 if kind != "warc" else len(PAGE)

        with capture_logs() as logs:
            found = items(path, max_member_bytes=cap)

        assert len(items(path)) - 1 == len(found)
        assert ["archive_member_too_large"] == [e["event"] for e in logs if e["log_level"] == "warning"]


class TestMemberSafety:
    def test_tar_never_follows_or_extracts_unsafe_members(self, tmp_path: Path) -> None:
        """Traversal, absolute, link and device members are skipped and logged; nothing is written."""
        path = nested(tmp_path) / "evil.tar.gz"
        with tarfile.open(path, "w:gz") as tf:
            for name in ["../escape.txt", "/abs.txt", "a/../../up.txt", "ok.txt"]:
                info = tarfile.TarInfo(name)
                info.size = 2
                tf.addfile(info, io.BytesIO(b"hi"))
            for name, kind in [
                ("link.txt", tarfile.SYMTYPE),
                ("hard.txt", tarfile.LNKTYPE),
                ("dev.txt", tarfile.CHRTYPE),
            ]:
                info = tarfile.TarInfo(name)
                info.type = kind
                info.linkname = "/etc/passwd"
                tf.addfile(info)
        before = files_under(tmp_path)

        with capture_logs() as logs:
            found = items(path)

        assert ["ok.txt"] == [raw(i).url.removeprefix("archive:evil/") for i in found]
        skipped = {e["member"]: e["reason"] for e in logs if e["event"] == "archive_member_skipped"}
        assert {
            "../escape.txt": "path_traversal",
            "/abs.txt": "absolute_path",
            "a/../../up.txt": "path_traversal",
            "link.txt": "symlink",
            "hard.txt": "hardlink",
            "dev.txt": "device",
        } == skipped
        assert before == files_under(tmp_path)

    def test_zip_skips_traversal_and_symlinks(self, tmp_path: Path) -> None:
        """Zip members with unsafe names, link/device/fifo modes or encryption are skipped and logged."""
        path = nested(tmp_path) / "evil.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("../../escape.txt", "x")
            zf.writestr("..\\win.txt", "x")
            zf.writestr("C:/abs.txt", "x")
            link = zipfile.ZipInfo("link.txt")
            link.create_system = 3
            link.external_attr = (0o120777) << 16
            zf.writestr(link, "/etc/passwd")
            for name, mode in [("dev.txt", 0o020644), ("fifo.txt", 0o010644)]:
                special = zipfile.ZipInfo(name)
                special.create_system = 3
                special.external_attr = mode << 16
                zf.writestr(special, "x")
            zf.writestr("locked.txt", "x")
            zf.writestr("fine.txt", "x")
        # zipfile cannot write encrypted members: set the flag in the central directory.
        data = bytearray(path.read_bytes())
        entry = data.find(b"PK\x01\x02")
        while data[entry + 46 : entry + 56] != b"locked.txt":
            entry = data.find(b"PK\x01\x02", entry + 4)
        data[entry + 8] |= 0x1
        path.write_bytes(bytes(data))
        before = files_under(tmp_path)

        with capture_logs() as logs:
            found = items(path)

        assert ["fine.txt"] == [raw(i).url.rpartition("/")[2] for i in found]
        assert {
            "../../escape.txt": "path_traversal",
            "..\\win.txt": "path_traversal",
            "C:/abs.txt": "absolute_path",
            "link.txt": "symlink",
            "dev.txt": "device",
            "fifo.txt": "fifo",
            "locked.txt": "encrypted",
        } == {e["member"]: e["reason"] for e in logs if e["event"] == "archive_member_skipped"}
        assert before == files_under(tmp_path)

    def test_zip_bomb_read_only_up_to_cap(self, tmp_path: Path) -> None:
        """A highly compressed member larger than the cap is refused, not inflated."""
        path = make_zip(tmp_path / "bomb.zip", [("bomb.txt", b"\0" * (4 * 1024 * 1024)), ("ok.txt", b"ok")])

        with capture_logs() as logs:
            found = items(path, max_member_bytes=64 * 1024)

        assert ["ok"] == [raw(i).content for i in found]
        assert ["bomb.txt"] == [e["member"] for e in logs if e["event"] == "archive_member_too_large"]

    def test_folder_skips_symlinks(self, tmp_path: Path) -> None:
        """A symlink inside a folder archive is not followed."""
        outside = _write(tmp_path / "secret.txt", b"secret")
        root = tmp_path / "dump"
        root.mkdir()
        (root / "a.txt").write_bytes(b"a")
        os.symlink(outside, root / "b.txt")
        os.symlink(tmp_path, root / "loop")

        with capture_logs() as logs:
            found = items(root)

        assert ["a.txt"] == [i.position for i in found]
        assert {"b.txt", "loop"} == {e["member"] for e in logs if e["event"] == "archive_member_skipped"}

    def test_corrupt_tar_raises_source_error(self, tmp_path: Path) -> None:
        """A truncated tar.gz raises SourceError, not a tarfile or zlib error."""
        full = make_tar(tmp_path / "full.tar.gz", [(f"{i}.txt", os.urandom(5000)) for i in range(5)])
        cut = _write(tmp_path / "cut.tar.gz", full.read_bytes()[:4000])

        with pytest.raises(SourceError):
            items(cut)


class TestJsonl:
    def test_records_and_loose_objects(self, tmp_path: Path) -> None:
        """Emitted records stay whole; loose objects give their text or HTML plus hints."""
        path = build_jsonl(tmp_path / "dump.jsonl")

        found = [raw(i) for i in items(path)]

        assert ["record", "text", "html", "text"] == [i.content_type for i in found]
        assert path.read_text().splitlines()[0] == found[0].content
        assert ("https://news.example/t", SEED_TEXT, "2013-09-09") == (
            found[1].url,
            found[1].content,
            found[1].published,
        )
        assert (("a", "b"), ("Jo",)) == (found[2].tags, found[2].authors)

    @pytest.mark.parametrize("schema", ["article/1", "article/2"], ids=str)
    def test_records_of_either_version_stay_whole(self, tmp_path: Path, schema: str) -> None:
        """A record of either schema version is passed on whole; the pipeline upgrades article/1."""
        path = tmp_path / "records.jsonl"
        path.write_text(json.dumps({"schema": schema, "url": "https://news.example/r", "title": "R"}) + "\n")

        [found] = [raw(i) for i in items(path)]

        assert ("record", path.read_text().strip()) == (found.content_type, found.content)

    def test_bad_lines_are_skipped_with_line_number(self, tmp_path: Path) -> None:
        """Malformed lines are logged as archive_record_invalid with their line number; good ones come."""
        lines = [
            '{"url": "https://a/1", "text": "one"}',
            "not json",
            "[1, 2]",
            '{"text": "no url"}',
            '{"url": "https://a/x", "text": "t", "tags": [1]}',
            "",
            '{"url": "https://a/y"}',
            "[" * 100_000,
            '{"url": "https://a/2", "html": "<p>two</p>"}',
            "\xff\xfe",
        ]
        path = tmp_path / "bad.jsonl"
        path.write_bytes(
            "\n".join(lines).encode("utf-8", "surrogateescape").replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")
        )

        with capture_logs() as logs:
            found = items(path)

        assert ["https://a/1", "https://a/2"] == [raw(i).url for i in found]
        assert [2, 3, 4, 5, 7, 8, 10] == [e["line"] for e in logs if e["event"] == "archive_record_invalid"]


class TestWarc:
    @pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
    def test_only_html_200_pages_survive_a_corrupt_record(self, tmp_path: Path, gz: bool) -> None:
        """Two HTML pages come out with URL and UTC fetch date; image, 404 and corrupt record do not."""
        path = make_warc(tmp_path / ("crawl.warc.gz" if gz else "crawl.warc"), gz=gz)

        with capture_logs() as logs:
            found = [raw(i) for i in items(path)]

        assert [
            ("https://news.example/a", "2024-05-01T12:00:00Z", "html"),
            ("https://news.example/b", "2024-05-02T07:30:15Z", "html"),
        ] == [(i.url, i.fetched_at, i.content_type) for i in found]
        assert PAGE.decode() == found[0].content
        assert "café" in found[1].content
        summary = next(e for e in logs if e["event"] == "warc_read")
        assert (2, 1, 1) == (summary["pages"], summary["not_html"], summary["not_200"])
        if gz:
            assert 1 == len([e for e in logs if e["event"] == "warc_record_invalid"])

    def test_arc_pages(self, tmp_path: Path) -> None:
        """ARC records are read like WARC responses, with the ARC date as fetch date."""
        path = make_arc(tmp_path / "old.arc.gz")

        found = [raw(i) for i in items(path)]

        assert [
            ("http://news.example/p1", "2024-05-01T12:00:00Z", "<html>http://news.example/p1</html>"),
            ("http://news.example/p2", "2024-05-01T12:00:00Z", "<html>http://news.example/p2</html>"),
        ] == [(i.url, i.fetched_at, i.content) for i in found]


class TestResume:
    @pytest.mark.parametrize("kind", list(BUILDERS), ids=str)
    def test_resume_from_every_position(self, tmp_path: Path, kind: str) -> None:
        """Resuming after position k yields exactly the items after k, for every k and kind."""
        path = BUILDERS[kind](tmp_path)
        full = items(path)
        assert full, "the builder must produce items"

        for k, done in enumerate(full):
            assert full[k + 1 :] == items(path, start_after=done.position)

    @pytest.mark.parametrize("kind", ["tar.gz", "zip", "jsonl", "warc.gz", "sitemap"], ids=str)
    def test_bad_position_is_a_source_error(self, tmp_path: Path, kind: str) -> None:
        """A position that no reader of this kind produced raises SourceError."""
        path = BUILDERS[kind](tmp_path)

        with pytest.raises(SourceError):
            items(path, start_after="not-a-position")


class TestSitemap:
    def test_news_sitemap_with_lastmod_window(self) -> None:
        """A gzipped news sitemap gives its web URLs newer than `since` (undated kept), with news title."""
        since = datetime(2024, 4, 15, tzinfo=UTC)

        found = list(iter_sitemap_urls(gzip.compress(NEWS_SITEMAP), since=since))

        assert [
            SitemapEntry(
                "https://news.example/new", datetime(2024, 5, 1, 8, tzinfo=UTC), "Fresh news", "url"
            ),
            SitemapEntry("https://news.example/undated", None, None, "url"),
        ] == found

    def test_no_window_keeps_all_web_urls(self) -> None:
        """Without `since`, every http(s) URL comes; a file: loc never does."""
        urls = [e.url for e in iter_sitemap_urls(NEWS_SITEMAP, since=None)]

        assert [
            "https://news.example/new",
            "https://news.example/old",
            "https://news.example/undated",
        ] == urls

    def test_index_gives_child_sitemaps(self) -> None:
        """A sitemap index gives `sitemap` entries; a naive `since` is read as UTC."""
        found = list(iter_sitemap_urls(SITEMAP_INDEX, since=datetime(2024, 1, 1)))

        assert [
            ("https://news.example/s1.xml.gz", "sitemap"),
            ("https://news.example/s2.xml", "sitemap"),
        ] == [(e.url, e.kind) for e in found]

    @pytest.mark.parametrize(
        "body",
        [
            b'<!DOCTYPE urlset [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>',
            b'<!DOCTYPE x SYSTEM "http://127.0.0.1:1/evil.dtd"><urlset/>',
            b"<rss><channel/></rss>",
            b"<urlset><url><loc>https://a/</loc>",
        ],
        ids=["entity", "external-dtd", "not-sitemap", "truncated"],
    )
    def test_unsafe_or_bad_xml_is_a_parse_error(self, body: bytes) -> None:
        """DTDs, entities, other roots and broken XML raise ParseError."""
        with pytest.raises(ParseError):
            list(iter_sitemap_urls(body, since=None))

    def test_gzip_bomb_is_refused(self) -> None:
        """A gzipped sitemap inflating past the cap raises BodyTooLarge."""
        body = gzip.compress(b"<urlset>" + b" " * 2_000_000 + b"</urlset>")

        with pytest.raises(BodyTooLarge):
            list(iter_sitemap_urls(body, since=None, max_bytes=1_000_000))

    def test_local_sitemap_yields_urls_to_fetch(self, tmp_path: Path) -> None:
        """iter_archive on a sitemap file yields fetch entries, never content."""
        path = _write(tmp_path / "news.xml.gz", gzip.compress(NEWS_SITEMAP))

        found = items(path)

        assert [None, None, None] == [i.item for i in found]
        assert ["https://news.example/new", "https://news.example/old", "https://news.example/undated"] == [
            i.fetch_url for i in found
        ]


class TestArchiveItem:
    @pytest.mark.parametrize("both", [True, False], ids=["both", "neither"])
    def test_exactly_one_of_item_and_fetch(self, both: bool) -> None:
        """An ArchiveItem is either content or a URL to fetch, never both or neither."""
        src = SourceRef(kind="archive", name="x", url="file:///x")
        item = RawItem(url="u", source=src, content="c", content_type="text") if both else None
        fetch = SitemapEntry("https://a/") if both else None

        with pytest.raises(ValueError, match="exactly one"):
            ArchiveItem(position="0", item=item, fetch=fetch)


member_names = st.one_of(
    st.text(min_size=1, max_size=40),
    st.lists(
        st.sampled_from(["..", ".", "", "a", "b.txt", "/", "\\", "C:", "x.html"]), min_size=1, max_size=6
    ).map("/".join),
)


def _tree(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


class TestArbitraryNames:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(names=st.lists(member_names, min_size=1, max_size=5, unique=True), as_zip=st.booleans())
    def test_never_escapes_and_only_raises_source_error(self, names: list[str], as_zip: bool) -> None:
        """Any member names: every URL stays inside the archive URI, nothing is written, no foreign error."""
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            path = root / ("dump.zip" if as_zip else "dump.tar.gz")
            members = [(n, b"body") for n in names]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # zipfile warns on names it normalises to duplicates
                    make_zip(path, members) if as_zip else make_tar(path, members)
            except (ValueError, IndexError, UnicodeError, tarfile.TarError):
                return  # the writer itself refuses such a name
            before = _tree(root)
            try:
                found = items(path)
            except SourceError:
                found = []
            prefix = "archive:dump/"
            assert all(raw(i).url.startswith(prefix) for i in found)
            assert before == _tree(root)

    @settings(max_examples=30, deadline=None)
    @given(
        kind=st.sampled_from(["zip", "tar.gz", "warc.gz", "jsonl"]),
        cuts=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    )
    def test_corrupted_bytes_only_raise_source_error(self, kind: str, cuts: list[tuple[int, int]]) -> None:
        """Flipping bytes of an archive yields fewer items or SourceError, never another exception."""
        with tempfile.TemporaryDirectory() as tmp:
            path = BUILDERS[kind](Path(tmp))
            data = bytearray(path.read_bytes())
            for offset, value in cuts:
                data[offset % len(data)] = value
            path.write_bytes(bytes(data))
            try:
                found = items(path)
            except SourceError:
                return
            assert all(i.item is not None for i in found)
