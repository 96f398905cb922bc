"""Coverage decisions are quantiles of off-topic similarities, so they are the model's and library's
own, and any monotone change of the score scale (another model's scale) leaves them unchanged."""

from __future__ import annotations

import math

import pytest

from rag.calibration import Calibration

OFFTOPIC = {"zh": tuple(0.80 + 0.002 * i for i in range(40)), "en": tuple(0.74 + 0.003 * i for i in range(20))}
SIMILARITIES = [0.70, 0.75, 0.79, 0.81, 0.84, 0.86, 0.875, 0.88, 0.9, 0.95]


@pytest.mark.parametrize("transform", [lambda x: x**3, lambda x: math.exp(5 * x), lambda x: 2 * x - 1.3])
def test_decisions_hold_under_a_monotone_change_of_the_score_scale(transform):
    base = Calibration(OFFTOPIC)
    moved = base.transformed(transform)
    for language in ("zh", "en"):
        for s in SIMILARITIES:
            assert base.covers(s, language) == moved.covers(transform(s), language)
            assert base.found(s, language) == moved.found(transform(s), language)


def test_a_question_closer_than_most_off_topic_ones_is_covered():
    calibration = Calibration(OFFTOPIC)
    assert calibration.covers(max(OFFTOPIC["zh"]) + 0.01, "zh")
    assert not calibration.covers(min(OFFTOPIC["zh"]), "zh")
    assert calibration.min_similarity("en") == min(OFFTOPIC["en"])


def test_the_calibration_survives_the_manifest_round_trip():
    calibration = Calibration(OFFTOPIC)
    again = Calibration.from_json(calibration.to_json())
    assert again.min_similarity("zh") == calibration.min_similarity("zh")
