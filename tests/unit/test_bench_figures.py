"""The real-page bench's arithmetic: a round's baseline is the mean of the bare runs around it."""

from __future__ import annotations

from bench.real_pipeline_bench import bracketed, median_round


def test_a_steady_drift_cancels_out() -> None:
    """The machine slows by 10 % over a round: the baseline is the middle, the after-only ratio is off."""
    before = {"trafilatura": 30.0, "spacy_ner": 40.0, "sum": 70.0}
    after = {"trafilatura": 33.0, "spacy_ner": 44.0, "sum": 77.0}

    figures = bracketed(80.5, before, after)

    assert {"trafilatura": 31.5, "spacy_ner": 42.0, "sum": 73.5} == figures["bare_ms_per_article"]
    assert (1.095, 1.045) == (figures["ratio_to_bare"], figures["ratio_to_bare_after"])
    assert [70.0, 77.0] == figures["bare_before_and_after_sum"]


def test_the_ratio_to_trafilatura_with_its_whole_metadata_swaps_that_run_in() -> None:
    """Earlier stops' baseline: trafilatura with its whole metadata search in place of the run summed."""
    before = {"trafilatura": 20.0, "spacy_ner": 40.0, "sum": 60.0, "trafilatura_with_metadata": 30.0}

    figures = bracketed(84.0, before, dict(before))

    assert (1.4, 1.2) == (figures["ratio_to_bare"], figures["ratio_to_bare_with_metadata"])


def test_the_median_round_is_reported() -> None:
    """Of three rounds the one with the middle ratio is taken, whatever their order."""
    rounds = [{"ratio_to_bare": 1.3, "n": 0}, {"ratio_to_bare": 1.1, "n": 1}, {"ratio_to_bare": 1.2, "n": 2}]

    assert 2 == median_round(rounds, "ratio_to_bare")["n"]
