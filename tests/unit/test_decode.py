"""The bounded decoding of content codings (pure: chunks in, pieces out)."""

from __future__ import annotations

import gzip
import sys

import pytest

from worker.errors import UnsupportedContent
from worker.fetch.decode import MAX_CODINGS, decode_stream


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
