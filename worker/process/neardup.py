"""
Compute MinHash signatures, LSH band keys and compact sketches for near-duplicate detection.

Pure: it turns text into numbers; the state store keeps them
(`worker.state.nearindex`).  A text of fewer than `MIN_WORDS` words gets no
band keys.  The parameters and how they were measured: docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from worker.state.nearindex import (
    BANDS,
    DEFAULT_THRESHOLD,
    SKETCH_BITS,
    SKETCH_SIZE,
    NearKey,
    match_threshold,
    sketch_matches,
)

SHINGLE_WORDS: Final = 3
MIN_WORDS: Final = 30
ROWS: Final = 3
NUM_PERM: Final = BANDS * ROWS + SKETCH_SIZE

_SEED: Final = 0x6E65_6172_6475_7031  # "neardup1": fixed so signatures agree across processes
# Scripts written without spaces (Han, kana, Thai) count one character as one word,
# else a whole Chinese sentence would be a single token.
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_UNSPACED}]|[^\\W{_UNSPACED}]+")
_MASK64: Final = (1 << 64) - 1


def _splitmix64(state: int) -> tuple[int, int]:
    """Return the next state and output of SplitMix64: a tiny, portable PRNG."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _coefficients(count: int, seed: int) -> npt.NDArray[np.uint64]:
    """Draw `count` 64-bit constants from a seed, identically on every platform."""
    state, out = seed, []
    for _ in range(count):
        state, value = _splitmix64(state)
        out.append(value)
    return np.array(out, dtype=np.uint64)


# Multiply-add-shift hashing: h_j(x) = (a_j * x + b_j) mod 2**64 >> 32, a_j odd.
_A: Final = _coefficients(NUM_PERM, _SEED) | np.uint64(1)
_B: Final = _coefficients(NUM_PERM, _SEED ^ 0xFFFF)
_MIX: Final = _coefficients(SHINGLE_WORDS, _SEED ^ 0xABCD) | np.uint64(1)


@dataclass(frozen=True, eq=False)
class Signature:
    """
    The MinHash signature of one text.

    `values` holds `NUM_PERM` uint32 minima: the first `BANDS * ROWS` feed the
    band keys, the rest the stored sketch, so that a band collision (which
    made the pair a candidate) does not also inflate the verified estimate.
    `words` is the word count, used to skip short texts.
    """

    values: npt.NDArray[np.uint32]
    words: int

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return self.words == other.words and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash((self.words, self.values.tobytes()))


def words(text: str) -> list[str]:
    """Split text into case-folded words, so punctuation and wrapping do not matter."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _token_hashes(tokens: list[str]) -> npt.NDArray[np.uint64]:
    """
    Hash each word with CRC-32: stable across processes, unlike `hash()`, and cheap.

    32 bits are plenty for words: the shingle hash mixes three of them into 64.
    """
    return np.fromiter((zlib.crc32(tok.encode()) for tok in tokens), dtype=np.uint64, count=len(tokens))


def shingle_hashes(text: str) -> tuple[npt.NDArray[np.uint64], int]:
    """
    Return the distinct 64-bit hashes of the word shingles of `text` and its word count.

    Texts shorter than one shingle give a single shingle of all their words.
    """
    tokens = words(text)
    n = len(tokens)
    if n == 0:
        return np.empty(0, dtype=np.uint64), 0
    th = _token_hashes(tokens)
    width = min(SHINGLE_WORDS, n)
    count = n - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    for j in range(width):
        # Position-dependent odd multipliers make "a b c" and "c b a" differ.
        acc = (acc ^ (th[j : j + count] * _MIX[j])) * np.uint64(0x9E3779B97F4A7C15)
    acc ^= acc >> np.uint64(29)
    return np.unique(acc), n


def signature(text: str) -> Signature:
    """
    Compute the MinHash signature of `text`.

    Returns:
        A signature of `NUM_PERM` uint32 minima; all 0xFFFFFFFF for empty text.
    """
    shingles, n = shingle_hashes(text)
    if shingles.size == 0:
        return Signature(np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32), 0)
    mins = np.empty(NUM_PERM, dtype=np.uint32)
    # Chunk the permutations so a very long text never builds a huge matrix.
    step = max(1, (1 << 20) // shingles.size)
    for lo in range(0, NUM_PERM, step):
        hi = min(NUM_PERM, lo + step)
        hashed = _A[lo:hi, None] * shingles[None, :]
        hashed += _B[lo:hi, None]
        # The shift is monotonic, so shifting the minima equals taking the minimum of the shifted.
        mins[lo:hi] = (hashed.min(axis=1) >> np.uint64(32)).astype(np.uint32)
    return Signature(mins, n)


def band_keys(sig: Signature) -> list[str]:
    """
    Return the `BANDS` LSH band keys of a signature, or none for a short text.

    Each key is 12 hex digits of a BLAKE2b hash of the band index and its
    `ROWS` values, so keys of different bands never meet in one bucket.
    """
    if sig.words < MIN_WORDS:
        return []
    keys = []
    for band in range(BANDS):
        rows = sig.values[band * ROWS : (band + 1) * ROWS].astype("<u4").tobytes()
        keys.append(hashlib.blake2b(bytes([band]) + rows, digest_size=6).hexdigest())
    return keys


def sketch(sig: Signature) -> bytes:
    """
    Return the stored sketch: the low `SKETCH_BITS` bits of the sketch minima, packed.

    b-bit MinHash (Li and König, 2010): two texts agree on a slot with
    probability J + (1 - J) / 4, so 32 bytes estimate J to about ±0.06.
    """
    low = sig.values[BANDS * ROWS :] & np.uint32(0b11)
    packed = low[0::4] | (low[1::4] << 2) | (low[2::4] << 4) | (low[3::4] << 6)
    return packed.astype(np.uint8).tobytes()


def sketch_similarity(a: bytes, b: bytes) -> float:
    """Estimate the Jaccard similarity of two texts from their sketches (may be below 0)."""
    chance = 1 / (1 << SKETCH_BITS)
    return (sketch_matches(a, b) / SKETCH_SIZE - chance) / (1 - chance)


def similarity(a: Signature, b: Signature) -> float:
    """Estimate the Jaccard similarity of two texts from their full signatures."""
    return float(np.count_nonzero(a.values == b.values)) / NUM_PERM


def is_near_duplicate(sig: Signature, candidate: bytes, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """
    Decide whether a text is a near-duplicate of a remembered one, given its stored sketch.

    This is the reference for the state store's Lua script, which compares
    `sketch_matches` against `match_threshold(threshold)`.
    """
    if sig.words < MIN_WORDS:
        return False
    return sketch_matches(sketch(sig), candidate) >= match_threshold(threshold)


def pack(sig: Signature) -> bytes:
    """Serialise a full signature: word count (4 bytes) then the minima, little-endian."""
    return sig.words.to_bytes(4, "little") + sig.values.astype("<u4").tobytes()


def unpack(data: bytes) -> Signature:
    """Read a signature written by `pack`."""
    if len(data) != 4 + 4 * NUM_PERM:
        raise ValueError(f"a packed signature has {4 + 4 * NUM_PERM} bytes, not {len(data)}")
    values = np.frombuffer(data, dtype="<u4", offset=4).astype(np.uint32)
    return Signature(values, int.from_bytes(data[:4], "little"))


def near_key(sig: Signature) -> NearKey:
    """Return what the state store indexes for a text: its band keys and sketch (no bands: too short)."""
    return NearKey(tuple(band_keys(sig)), sketch(sig))
