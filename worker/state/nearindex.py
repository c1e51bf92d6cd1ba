"""
Where near-duplicate sketches are kept and how a candidate is verified (MinHash-LSH storage).

The process stage computes a text's band keys and sketch (`worker.process.neardup`);
the state store keeps them and answers "is an earlier article near enough?"
atomically (`lua/near_claim.lua` in Redis, tables in SQLite).

Layout in Redis (SQLite mirrors it in tables); every key carries the hash tag
`{nd}`, so on a Redis Cluster the index is one slot (one node, as the stream)
and its check-and-insert stays one atomic script::

    {p}{nd}:seq                    INCR counter giving each article its number n
    {p}{nd}:b:{gen}:{shard}        HASH  field = band field (int < 2**23)
                                          value = n        (HSETNX: oldest wins)
    {p}{nd}:s:{n // 100}           HASH  field = n % 100
                                          value = sketch (32 B) + record id

    gen   = unix_time // generation_s(retention): GENERATION_DAYS, or a third
            of a shorter retention; buckets of a generation expire
            (EXPIREAT on the whole key) once retention has passed its end,
            so a band is kept between the retention and a third longer;
    shard = band_slot(key, shard_bits)[0], field = band_slot(...)[1].

Check-and-insert (`worker.state.redis.near`, two Lua scripts, so that every key a
script touches is named in its KEYS): the first reads the candidates n of every
band slot in every live generation and takes a new n (INCR); the second, given
the sketch hashes of those candidates and of the new n, reads the bands again,
counts equal 2-bit slots of each distinct candidate's sketch (`sketch_matches`)
and, if the best count reaches `match_threshold()`, returns that record id;
otherwise it HSETNXes every band slot in the current generation and HSETs the
sketch.  A candidate that arrived between the two (a racing insert) sends the
pair round again, so the check stays atomic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

BANDS: Final = 16
SKETCH_SIZE: Final = 128
SKETCH_BITS: Final = 2
DEFAULT_THRESHOLD: Final = 0.35
GENERATION_DAYS: Final = 10
BAND_FIELD_BITS: Final = 23  # a signed 24-bit integer: 4 bytes + 1 in a Redis listpack


@dataclass(frozen=True)
class NearKey:
    """What the index keeps of one text: its LSH band keys (12 hex digits each) and its 2-bit sketch."""

    bands: tuple[str, ...]
    sketch: bytes


def band_slot(key: str, shard_bits: int) -> tuple[int, int]:
    """
    Split a band key into a bucket shard and an integer field.

    The shard picks one of 2**shard_bits small Redis hashes (kept small so
    Redis stores them as compact listpacks); the field is an integer below
    2**BAND_FIELD_BITS so Redis stores it in 4 bytes.
    """
    value = int(key, 16)
    shard = value & ((1 << shard_bits) - 1)
    field = (value >> shard_bits) & ((1 << BAND_FIELD_BITS) - 1)
    return shard, field


def sketch_matches(a: bytes, b: bytes) -> int:
    """Count the 2-bit slots on which two sketches agree."""
    x = np.frombuffer(a, dtype=np.uint8) ^ np.frombuffer(b, dtype=np.uint8)
    agree = 0
    for shift in (0, 2, 4, 6):
        agree += int(np.count_nonzero(((x >> shift) & 0b11) == 0))
    return agree


def match_threshold(threshold: float = DEFAULT_THRESHOLD) -> int:
    """Return the least number of agreeing slots that means Jaccard ≥ `threshold`: what Lua compares."""
    chance = 1 / (1 << SKETCH_BITS)
    need = SKETCH_SIZE * (threshold + (1 - threshold) * chance)
    return int(np.ceil(need - 1e-9))


def shard_bits(articles_per_generation: int) -> int:
    """
    Return how many band-bucket shards (as a power of two) suit the expected volume.

    Aim at 64 entries per bucket hash on average, so that even the fullest
    stays under Redis' default `hash-max-listpack-entries` of 128 and keeps
    the compact encoding (10-11 bytes an entry instead of about 60).
    """
    entries = max(1, articles_per_generation) * BANDS
    return max(0, int(np.ceil(np.log2(entries / 64))))


def generation_s(retention_s: int) -> int:
    """
    Return the length of a generation: `GENERATION_DAYS`, or a third of a shorter retention.

    Bands are kept up to one generation past the retention, so a generation
    of a third of it keeps memory within a third of the minimum while a
    lookup reads `retention / generation + 1` = 4 generations.
    """
    return max(1, min(GENERATION_DAYS * 86400, retention_s // 3))


def generation(now_s: float, gen_s: int = GENERATION_DAYS * 86400) -> int:
    """Return the generation a time falls in: band buckets expire a generation at a time."""
    return int(now_s // gen_s)


@dataclass(frozen=True)
class NearPlan:
    """
    What one check-and-insert reads and writes, apart from key names (the store names its keys).

    `gens` are the live generations, oldest first, the last one current; `slots`
    are the (shard, field) of each band; `need` is `match_threshold()`.
    """

    gens: tuple[int, ...]
    expire_at: int
    need: int
    sketch: bytes
    record_id: str
    slots: tuple[tuple[int, int], ...]


def plan(
    key: NearKey,
    record_id: str,
    *,
    now_s: float,
    retention_s: int,
    shard_bits: int,
    threshold: float = DEFAULT_THRESHOLD,
) -> NearPlan | None:
    """
    Return the plan of one article's check-and-insert (None for a short text, which has no bands).

    Args:
        key: the article's band keys and sketch (`worker.process.neardup.near_key`).
        record_id: what a later duplicate's `duplicate_of` should name.
        now_s: the current unix time, which picks the generation.
        retention_s: how long an article stays remembered (at least), in seconds.
        shard_bits: from `shard_bits()`; fixed for the life of a deployment.
        threshold: the Jaccard estimate that makes a duplicate.
    """
    if not key.bands:
        return None
    gen_s = generation_s(retention_s)
    gen = generation(now_s, gen_s)
    live = -(-retention_s // gen_s) + 1
    return NearPlan(
        gens=tuple(range(gen - live + 1, gen + 1)),
        expire_at=(gen + 1) * gen_s + retention_s,
        need=match_threshold(threshold),
        sketch=key.sketch,
        record_id=record_id,
        slots=tuple(band_slot(band, shard_bits) for band in key.bands),
    )
