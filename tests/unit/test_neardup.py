"""Tests for near-duplicate signatures, band keys and sketches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process import neardup as nd
from worker.state import nearindex as ni

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WIRE = (FIXTURES / "000_df02527578575e69.txt").read_text()

COUNCIL_VOTE = """
The city council voted 7 to 2 on Tuesday night to build protected bike lanes along Main Street,
ending a debate that has divided shop owners and cyclists for more than a year.
The plan removes 140 parking spaces between Fifth Avenue and the river and adds concrete
barriers, new signals at four intersections and a loading zone for every block.
Mayor Linda Park called the vote a turning point for safety after three cyclists were
injured on the street last spring. Construction is expected to start in April and cost
about 4.2 million dollars, most of it from a state transportation grant.
Several merchants told the council they feared losing customers who drive downtown.
Council member Ray Ortiz, who voted against the plan, said the city should have tested
a temporary design first. Supporters filled the chamber wearing yellow shirts and
cheered when the final count was read. The transportation department will hold two
public meetings next month to present the detailed drawings.
"""

PROTEST_RIDE = """
Hundreds of cyclists rode slowly down Main Street on Saturday morning to demand that the
city speed up its long delayed bike lane project, briefly blocking traffic near the river.
Organizers from the Downtown Riders Club said the painted lanes installed two years ago
offer no real protection and that drivers park in them every day. Police escorted the
group for about an hour and reported no arrests. A delivery driver who was stuck behind
the ride said he supported safer streets but lost a morning of work.
The riders carried signs with the names of people hurt in crashes and stopped for a
minute of silence outside city hall. A spokesperson for the mayor said the administration
shares the goal of safer cycling and expects to announce a new timeline soon.
Business groups have asked for more parking studies before any lanes are rebuilt, and the
club plans another ride next month if nothing changes.
"""


def syndicated_copy(text: str) -> str:
    """Wrap the story in another site's chrome, edit a few words, re-wrap it and drop a sentence."""
    body = text.replace("Monday", "Tuesday").replace("vehemently", "strongly")
    body = body.replace("Lavrov assured Muallem that", "Lavrov told Muallem")
    body = body.replace(' "The president asked me', " “The president asked me")
    sentences = body.split(". ")
    del sentences[3]
    words = ". ".join(sentences).split()
    rewrapped = "\n".join(" ".join(words[i : i + 11]) for i in range(0, len(words), 11))
    header = "World News | Politics | Middle East\nSubscribe to our daily newsletter"
    footer = "Copyright 2013 Example Herald. All rights reserved.\nShare this article: Facebook Twitter Email"
    return f"{header}\n{rewrapped}\n{footer}"


def adapted_copy(text: str) -> str:
    """
    Adapt the story as another outlet's editor does: a lead of their own, words changed, background
    added, the last paragraphs cut.
    """
    paragraphs = [p for p in text.split("\n\n") if p.strip()][3:]  # the story, without tags, title, date
    edits = {
        "on Monday": "this week",
        "held talks": "met",
        "counterpart": "colleague",
        "told": "said to",
        "regime": "government",
        "vowed": "promised",
        "refused": "declined",
        "Putin": "Vladimir Putin",
        "strikes": "air strikes",
        "Moscow": "the Russian capital",
    }
    body = []
    for paragraph in paragraphs[1:-8]:
        for old, new in edits.items():
            paragraph = paragraph.replace(old, new, 1)
        body.append(paragraph)
    lead = (
        "Damascus has thanked Moscow for standing by it, as Syria's top diplomat flew to Russia "
        "while Washington weighs a military response to last month's chemical attack."
    )
    background = (
        "The civil war began in 2011 with protests against the government and has since drawn in "
        "regional powers, while millions of Syrians have fled to Turkey, Lebanon and Jordan."
    )
    body.insert(4, background)
    return "\n\n".join([lead, *body])


def exact_jaccard(a: str, b: str) -> float:
    """Return the Jaccard similarity of the two texts' shingle sets."""
    sa, sb = nd.shingle_hashes(a)[0], nd.shingle_hashes(b)[0]
    return np.intersect1d(sa, sb).size / np.union1d(sa, sb).size


def found(original: str, copy: str) -> bool:
    """Run the full rule: an LSH candidate whose stored sketch verifies."""
    sig_a, sig_b = nd.signature(original), nd.signature(copy)
    candidate = bool(set(nd.band_keys(sig_a)) & set(nd.band_keys(sig_b)))
    return candidate and nd.is_near_duplicate(sig_b, nd.sketch(sig_a))


class TestNearDuplicate:
    def test_syndicated_copy_is_found(self):
        """A copy in other chrome with a few edited words and a dropped sentence is a near-duplicate."""
        copy = syndicated_copy(WIRE)

        assert copy != WIRE
        assert True is found(WIRE, copy)

    def test_adapted_wire_copy_is_found(self):
        """
        An outlet's own version of a wire story (new lead, edits, background, tail cut) keeps under
        half of the shingles and is still the same story: the sketch verifies it.
        """
        copy = adapted_copy(WIRE)

        assert 0.35 <= exact_jaccard(WIRE, copy) < 0.5
        assert True is nd.is_near_duplicate(nd.signature(copy), nd.sketch(nd.signature(WIRE)))

    def test_same_topic_story_is_not(self):
        """A different story on the same subject is not a near-duplicate."""
        sig_a, sig_b = nd.signature(COUNCIL_VOTE), nd.signature(PROTEST_RIDE)

        assert set() == set(nd.band_keys(sig_a)) & set(nd.band_keys(sig_b))
        assert False is nd.is_near_duplicate(sig_b, nd.sketch(sig_a))
        assert nd.similarity(sig_a, sig_b) < 0.1

    def test_same_topic_story_is_not_even_inside_shared_chrome(self):
        """Identical site chrome around two distinct stories does not make them duplicates."""
        chrome = "Home | Local | Transport | Opinion\nSign up for breaking news alerts\n"

        assert False is found(chrome + COUNCIL_VOTE + chrome, chrome + PROTEST_RIDE + chrome)

    def test_short_text_is_never_a_near_duplicate(self):
        """A text under MIN_WORDS is left to exact dedup, even against itself."""
        short = "Markets closed higher on Friday."
        sig = nd.signature(short)

        assert False is nd.is_near_duplicate(sig, nd.sketch(sig))


class TestSignature:
    def test_deterministic_across_processes(self):
        """Two interpreters with different hash seeds compute the same signature."""
        code = (
            "import sys; from worker.process import neardup as nd; "
            "sys.stdout.write(nd.pack(nd.signature(sys.stdin.read())).hex())"
        )
        root = Path(__file__).resolve().parents[2]
        outputs = {
            subprocess.run(
                [sys.executable, "-c", code],
                input=WIRE,
                capture_output=True,
                text=True,
                check=True,
                cwd=root,
                env={"PYTHONHASHSEED": seed, "PATH": ""},
            ).stdout
            for seed in ("1", "2")
        }

        assert {nd.pack(nd.signature(WIRE)).hex()} == outputs

    @given(
        st.lists(st.text("abcdefghij", min_size=1, max_size=6), min_size=1, max_size=60),
        st.sampled_from([" ", "\n", "  ", " -- ", ", ", "\n\n"]),
    )
    def test_ignores_case_punctuation_and_wrapping(self, words, separator):
        """Case, punctuation and line breaks between the words do not change the signature."""
        plain = " ".join(words)
        styled = separator.join(w.upper() if i % 3 == 0 else w for i, w in enumerate(words))

        assert nd.signature(plain) == nd.signature(styled)

    def test_word_order_matters(self):
        """Shingles keep word order, so a shuffled text is a different text."""
        words = WIRE.split()
        shuffled = " ".join(words[1::2] + words[0::2])

        assert nd.similarity(nd.signature(WIRE), nd.signature(shuffled)) < 0.2

    def test_cjk_text_is_split_into_characters(self):
        """A Chinese sentence without spaces counts one word per character."""
        sig = nd.signature("我们在打一场无声的战役")

        assert 11 == sig.words

    def test_empty_text(self):
        """An empty text has no words and no band keys."""
        sig = nd.signature("")

        assert (0, []) == (sig.words, nd.band_keys(sig))


class TestBandKeys:
    @pytest.mark.parametrize(
        ("count", "expected"),
        [(1, 0), (nd.MIN_WORDS - 1, 0), (nd.MIN_WORDS, nd.BANDS), (500, nd.BANDS)],
        ids=["one-word", "just-short", "just-long-enough", "article"],
    )
    def test_only_long_texts_get_band_keys(self, count, expected):
        """Texts under MIN_WORDS words get no band keys; longer ones get one a band."""
        text = " ".join(f"w{i}" for i in range(count))

        assert expected == len(nd.band_keys(nd.signature(text)))

    def test_keys_are_short_hex_and_differ_between_bands(self):
        """Each key is 12 hex digits, and every band gives its own key."""
        keys = nd.band_keys(nd.signature(WIRE))

        assert nd.BANDS == len(set(keys))
        assert all(12 == len(k) and int(k, 16) >= 0 for k in keys)

    @given(st.text("0123456789abcdef", min_size=12, max_size=12), st.integers(0, 16))
    def test_slot_is_in_range(self, key, bits):
        """A slot's shard fits in shard_bits and its field in BAND_FIELD_BITS."""
        shard, field = ni.band_slot(key, bits)

        assert 0 <= shard < 2**bits
        assert 0 <= field < 2**ni.BAND_FIELD_BITS

    @pytest.mark.parametrize(
        ("articles", "expected"),
        [(1, 0), (4, 0), (5, 1), (1000, 8), (100_000, 15)],
        ids=["one", "four", "five", "thousand", "hundred-thousand"],
    )
    def test_shard_bits_keep_buckets_near_64_entries(self, articles, expected):
        """Shards grow with volume so the mean bucket holds at most 64 entries."""
        bits = ni.shard_bits(articles)

        assert expected == bits
        assert articles * nd.BANDS / 2**bits <= 64


class TestSketch:
    def test_identical_texts_agree_everywhere(self):
        """A sketch agrees with itself on every slot and estimates Jaccard 1."""
        sketch = nd.sketch(nd.signature(WIRE))

        assert (32, nd.SKETCH_SIZE, 1.0) == (len(sketch), ni.sketch_matches(sketch, sketch), 1.0)
        assert 1.0 == nd.sketch_similarity(sketch, sketch)

    @given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
    def test_matches_are_symmetric_and_bounded(self, a, b):
        """Agreement counts are symmetric and between 0 and SKETCH_SIZE."""
        matches = ni.sketch_matches(a, b)

        assert matches == ni.sketch_matches(b, a)
        assert 0 <= matches <= nd.SKETCH_SIZE

    @given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
    def test_match_threshold_is_monotonic(self, low, high):
        """A higher Jaccard threshold never needs fewer agreeing slots."""
        low, high = sorted((low, high))

        assert ni.match_threshold(low) <= ni.match_threshold(high) <= nd.SKETCH_SIZE

    def test_threshold_agrees_with_the_estimate(self):
        """The integer the Lua script compares means the same as the float estimate."""
        need = ni.match_threshold()
        below = bytes(32)
        at = bytes([0b11] * ((nd.SKETCH_SIZE - need) // 4 + 1) + [0] * 31)[:32]

        assert nd.sketch_similarity(below, below) >= nd.DEFAULT_THRESHOLD
        assert (ni.sketch_matches(below, at) >= need) == (
            nd.sketch_similarity(below, at) >= nd.DEFAULT_THRESHOLD - 1e-9
        )


class TestPack:
    @given(
        st.lists(st.integers(0, 2**32 - 1), min_size=nd.NUM_PERM, max_size=nd.NUM_PERM),
        st.integers(0, 2**32 - 1),
    )
    def test_round_trip(self, values, words):
        """Unpacking a packed signature gives it back."""
        sig = nd.Signature(np.array(values, dtype=np.uint32), words)

        assert sig == nd.unpack(nd.pack(sig))

    @given(st.text(max_size=400))
    def test_round_trip_of_real_signatures(self, text):
        """Signatures of any text survive packing."""
        sig = nd.signature(text)

        assert sig == nd.unpack(nd.pack(sig))

    def test_wrong_length_is_refused(self):
        """A truncated blob raises ValueError instead of giving a wrong signature."""
        data = nd.pack(nd.signature(WIRE))[:-1]

        with pytest.raises(ValueError, match="bytes"):
            nd.unpack(data)


class TestPlan:
    def test_layout(self):
        """A plan holds the live generations, the expiry, the threshold, the sketch and a slot a band."""
        sig = nd.signature(WIRE)

        plan = ni.plan(nd.near_key(sig), "rec-1", now_s=86400.0 * 100, retention_s=30 * 86400, shard_bits=8)

        assert plan is not None
        assert ((7, 8, 9, 10), 110 * 86400 + 30 * 86400) == (plan.gens, plan.expire_at)
        assert (ni.match_threshold(), nd.sketch(sig), "rec-1") == (plan.need, plan.sketch, plan.record_id)
        assert tuple(ni.band_slot(k, 8) for k in nd.band_keys(sig)) == plan.slots

    @pytest.mark.parametrize(
        ("retention_s", "expected"),
        [
            (30 * 86400, (10, 4, 110 * 86400 + 30 * 86400)),
            (7 * 86400, (42, 4, 43 * 201600 + 7 * 86400)),
            (180, (16, 4, 17 * 60 + 180)),
        ],
        ids=["30-days", "7-days", "3-minutes"],
    )
    def test_generations_are_a_third_of_a_short_retention(self, retention_s, expected):
        """Under 30 days a generation is a third of the retention: bands outlive it by a third at most."""
        sig = nd.signature(WIRE)
        now_s = 86400.0 * 100 if retention_s > 180 else 1000.0

        plan = ni.plan(nd.near_key(sig), "r", now_s=now_s, retention_s=retention_s, shard_bits=4)

        assert plan is not None
        assert expected == (plan.gens[-1], len(plan.gens), plan.expire_at)

    def test_short_text_has_no_plan(self):
        """A short text is not checked, so there is nothing to send."""
        sig = nd.signature("Too short to check.")

        assert None is ni.plan(nd.near_key(sig), "r", now_s=0, retention_s=30 * 86400, shard_bits=4)
