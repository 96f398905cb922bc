"""Fusion arithmetic, checked against values computed by hand."""

from __future__ import annotations

import pytest

from index.fusion import (
    min_max_normalise,
    reciprocal_rank_fusion,
    weighted_score_fusion,
)
from index.hits import Hit


def hits(*ids: str) -> list[Hit]:
    return [Hit(id_, 1.0) for id_ in ids]


def scored(**scores: float) -> list[Hit]:
    return [Hit(id_, score) for id_, score in scores.items()]


def as_pairs(fused: list[Hit]) -> list[tuple[str, float]]:
    return [(hit.id, pytest.approx(hit.score)) for hit in fused]


def test_rrf_sums_one_over_k_plus_rank():
    fused = reciprocal_rank_fusion([hits("x", "y", "z"), hits("y", "w")])
    assert as_pairs(fused) == [
        ("y", 1 / 62 + 1 / 61),
        ("x", 1 / 61),
        ("w", 1 / 62),
        ("z", 1 / 63),
    ]


def test_rrf_weights_scale_each_list():
    fused = reciprocal_rank_fusion([hits("x", "y"), hits("y", "x")], weights=[3.0, 1.0], k=1)
    assert as_pairs(fused) == [("x", 3 / 2 + 1 / 3), ("y", 3 / 3 + 1 / 2)]


def test_rrf_with_zero_weight_ignores_a_list_but_keeps_its_ids():
    fused = reciprocal_rank_fusion([hits("a"), hits("b")], weights=[1.0, 0.0])
    assert as_pairs(fused) == [("a", 1 / 61), ("b", 0.0)]


def test_rrf_ties_go_to_the_better_rank_then_the_smaller_id():
    assert [h.id for h in reciprocal_rank_fusion([hits("b"), hits("a")])] == ["a", "b"]
    assert [h.id for h in reciprocal_rank_fusion([hits("a"), hits("b")])] == ["a", "b"]
    # With k=0 all three score exactly 1: z1 and m from rank 1 alone, a1 as 1/2 + 1/2 from rank 2 twice.
    fused = reciprocal_rank_fusion([hits("z1", "a1"), hits("m", "a1")], k=0)
    assert as_pairs(fused) == [("m", 1.0), ("z1", 1.0), ("a1", 1.0)]


def test_rrf_counts_a_repeated_id_once_at_its_best_rank():
    assert as_pairs(reciprocal_rank_fusion([hits("a", "a", "b")])) == [("a", 1 / 61), ("b", 1 / 63)]


def test_rrf_limit_cuts_the_fused_list():
    assert [h.id for h in reciprocal_rank_fusion([hits("a", "b", "c")], limit=2)] == ["a", "b"]
    assert reciprocal_rank_fusion([hits("a")], limit=0) == []


def test_fusing_nothing_gives_nothing():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert weighted_score_fusion([[], []]) == []


def test_min_max_maps_best_to_one_and_worst_to_zero():
    assert as_pairs(min_max_normalise(scored(a=0.9, b=0.5, c=0.1))) == [("a", 1.0), ("b", 0.5), ("c", 0.0)]
    assert as_pairs(min_max_normalise(scored(a=-2.0, b=-4.0))) == [("a", 1.0), ("b", 0.0)]


def test_min_max_of_equal_scores_is_one():
    assert as_pairs(min_max_normalise(scored(a=3.0, b=3.0))) == [("a", 1.0), ("b", 1.0)]
    assert min_max_normalise([]) == []


def test_weighted_score_fusion_adds_normalised_scores():
    # dense: x 1.0, y 0.5, z 0.0; sparse: y 1.0, w 0.0; then y 1.5, x 1.0, w 0 (rank 2) before z 0 (rank 3).
    fused = weighted_score_fusion([scored(x=0.9, y=0.5, z=0.1), scored(y=10.0, w=5.0)])
    assert as_pairs(fused) == [("y", 1.5), ("x", 1.0), ("w", 0.0), ("z", 0.0)]


def test_weighted_score_fusion_applies_weights():
    fused = weighted_score_fusion([scored(x=1.0, y=0.0), scored(y=2.0, x=1.0)], weights=[0.25, 1.0], limit=1)
    assert as_pairs(fused) == [("y", 1.0)]


@pytest.mark.parametrize("fuse", [reciprocal_rank_fusion, weighted_score_fusion])
def test_one_weight_per_list_is_required(fuse):
    with pytest.raises(ValueError, match="1 weights for 2 ranked lists"):
        fuse([hits("a"), hits("b")], weights=[1.0])


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_weights_must_be_finite_and_not_negative(weight):
    with pytest.raises(ValueError, match="weights must be finite"):
        reciprocal_rank_fusion([hits("a")], weights=[weight])


def test_rrf_constant_must_not_be_negative():
    with pytest.raises(ValueError, match="RRF constant"):
        reciprocal_rank_fusion([hits("a")], k=-1)


def test_fusion_does_not_change_its_inputs():
    first, second = hits("a", "b"), hits("b", "c")
    reciprocal_rank_fusion([first, second])
    weighted_score_fusion([first, second])
    assert first == hits("a", "b") and second == hits("b", "c")
