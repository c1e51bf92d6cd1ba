"""The bounded decoding of content codings (pure: chunks in, pieces out)."""

from __future__ import annotations

import gzip
import sys

import pytest

from worker.errors import UnsupportedContent
from worker.fetch.decode import MAX_CODINGS, PRESCAN_BYTES, decode_body, decode_stream


def stacked_gzip(data: bytes, n: int) -> bytes:
    """Return `data` gzipped `n` times over."""
    for _ in range(n):
        data = gzip.compress(data)
    return data


class TestCodingsChain:
    @pytest.mark.parametrize("n", [1, 2, MAX_CODINGS], ids=["one", "two", "at-the-cap"])
    def test_up_to_the_cap_every_coding_is_undone(self, n: int) -> None:
        """Stacked codings are undone last first, up to MAX_CODINGS of them."""
        body = stacked_gzip(b"<p>news</p>" * 100, n)

        decoded = b"".join(decode_stream(iter([body]), ", ".join(["gzip"] * n)))

        assert b"<p>news</p>" * 100 == decoded

    @pytest.mark.parametrize("n", [MAX_CODINGS + 1, 2_000, sys.getrecursionlimit() * 2], ids=str)
    def test_a_longer_chain_is_refused_in_one_line(self, n: int) -> None:
        """More codings than the cap is UnsupportedContent with a one-line reason, never a RecursionError."""
        with pytest.raises(UnsupportedContent) as caught:
            decode_stream(iter([b"x"]), ", ".join(["gzip"] * n))

        expected = f"{n} content codings stacked, more than {MAX_CODINGS}"
        assert expected == str(caught.value)

    def test_an_unknown_coding_is_refused(self) -> None:
        """A coding we did not advertise (zstd) is refused by name."""
        with pytest.raises(UnsupportedContent, match="zstd"):
            decode_stream(iter([b"x"]), "zstd")


class TestCharsets:
    """Which charset decodes a body: BOM, the response's, the document's `<meta>`, then UTF-8 or cp1252."""

    RUSSIAN = "Новости дня: правительство приняло решение"
    POLISH = "Ziemniaki na szóstej, surówka na dziesiątej"

    @pytest.mark.parametrize(
        ("body", "charset", "expected"),
        [
            (
                f'<html><head><meta charset="windows-1251"><title>{RUSSIAN}</title>'.encode("cp1251"),
                None,
                f'<html><head><meta charset="windows-1251"><title>{RUSSIAN}</title>',
            ),
            (
                (
                    '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
                    f"<h1>{POLISH}</h1>"
                ).encode("iso-8859-2"),
                None,
                f'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"><h1>{POLISH}</h1>',
            ),
            (
                f'<meta charset="iso-8859-2"><h1>{POLISH}</h1>'.encode(),
                "utf-8",
                f'<meta charset="iso-8859-2"><h1>{POLISH}</h1>',
            ),
            (
                "<meta charset='utf-16'><p>café</p>".encode(),
                None,
                "<meta charset='utf-16'><p>café</p>",
            ),
            (
                '<meta charset="iso-8859-1"><p>“quoted” – café</p>'.encode("cp1252"),
                None,
                '<meta charset="iso-8859-1"><p>“quoted” – café</p>',
            ),
            ("<p>café</p>".encode("cp1252"), None, "<p>café</p>"),
            ('<meta charset="utf-7"><p>café</p>'.encode(), None, '<meta charset="utf-7"><p>café</p>'),
        ],
        ids=[
            "meta-charset",
            "http-equiv",
            "response-beats-document",
            "declared-utf16-is-utf8",
            "latin1-as-browsers-read-it",
            "undeclared-cp1252",
            "utf7-refused",
        ],
    )
    def test_the_charset_that_decodes_a_page(self, body: bytes, charset: str | None, expected: str) -> None:
        """A page served without a charset is read in the one its `<meta>` declares, as browsers read it."""
        assert expected == decode_body(body, charset)

    def test_a_declaration_past_the_prescan_is_not_read(self) -> None:
        """Only the first bytes are searched: a `<meta charset>` deep in the body declares nothing."""
        body = b"<!-- " + b"x" * PRESCAN_BYTES + b' --><meta charset="windows-1251">' + "дом".encode("cp1251")

        assert decode_body(body, None).endswith("дом".encode("cp1251").decode("cp1252"))
