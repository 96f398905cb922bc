"""Pure functions that merge several ranked hit lists into one: reciprocal rank fusion and a weighted score sum."""

from __future__ import annotations

import math
from collections.abc import Sequence

from index.hits import Hit

DEFAULT_RRF_K = 60
"""The constant of Cormack, Clarke and Büttcher (2009): damps the weight of the very top ranks."""


def _check_weights(rankings: Sequence[Sequence[Hit]], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(
            f"got {len(weights)} weights for {len(rankings)} ranked lists; pass one weight per list."
        )
    for weight in weights:
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"fusion weights must be finite and not negative; got {weight!r}.")
    return [float(w) for w in weights]


def _ranked(scores: dict[str, float], best_rank: dict[str, int], limit: int | None) -> list[Hit]:
    # Ties go to the id that some list ranked higher, then to the smaller id, so output never depends on dict order.
    order = sorted(scores, key=lambda id_: (-scores[id_], best_rank[id_], id_))
    if limit is not None:
        order = order[: max(limit, 0)]
    return [Hit(id_, scores[id_]) for id_ in order]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hit]],
    weights: Sequence[float] | None = None,
    k: float = DEFAULT_RRF_K,
    limit: int | None = None,
) -> list[Hit]:
    """Score each id by the sum over lists of weight / (k + rank), ranks counted from 1; best first.

    Only ranks matter, so lists with incomparable scores (cosine, BM25) combine without calibration.
    An id repeated within one list counts at its best rank only.
    """
    if not math.isfinite(k) or k < 0:
        raise ValueError(f"the RRF constant k must be finite and not negative; got {k!r}.")
    weights = _check_weights(rankings, weights)
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights):
        seen: set[str] = set()
        for rank, hit in enumerate(ranking, start=1):
            if hit.id in seen:
                continue
            seen.add(hit.id)
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (k + rank)
            best_rank[hit.id] = min(best_rank.get(hit.id, rank), rank)
    return _ranked(scores, best_rank, limit)


def min_max_normalise(ranking: Sequence[Hit]) -> list[Hit]:
    """Scores mapped linearly onto [0, 1] (best 1, worst 0); a list whose scores are all equal maps to 1."""
    if not ranking:
        return []
    high = max(hit.score for hit in ranking)
    low = min(hit.score for hit in ranking)
    span = high - low
    return [Hit(hit.id, (hit.score - low) / span if span > 0 else 1.0) for hit in ranking]


def weighted_score_fusion(
    rankings: Sequence[Sequence[Hit]],
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Score each id by the weighted sum of its min-max normalised scores; an id absent from a list adds 0.

    Normalisation is within each list as given, so a list cut at depth d is scaled over its top d only.
    An id repeated within one list counts with its first (best-ranked) score.
    """
    weights = _check_weights(rankings, weights)
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights):
        seen: set[str] = set()
        for rank, hit in enumerate(min_max_normalise(ranking), start=1):
            if hit.id in seen:
                continue
            seen.add(hit.id)
            scores[hit.id] = scores.get(hit.id, 0.0) + weight * hit.score
            best_rank[hit.id] = min(best_rank.get(hit.id, rank), rank)
    return _ranked(scores, best_rank, limit)
