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


# --- with the real model on the dev set ---------------------------------------------------------------
# The acceptance item of issue 10: another score scale (another model's, or this one's changed by any
# monotone function), calibrated at index time, keeps abstaining on the dev set's unanswerable questions
# and answers the rest. The real index's vector scores are passed through the function; calibrate() is
# what the index build runs (rag/indexing.py), so the thresholds are re-derived on the new scale.

SCALES = {"cubed": lambda x: x**3, "exponential": lambda x: math.exp(5 * x), "affine": lambda x: 2 * x - 1.3}


class _ScaledScores:
    """A dense index whose scores come out through a monotone function; all else is the real one's."""

    def __init__(self, dense, function) -> None:
        self._dense = dense
        self._function = function

    def search_vectors(self, queries, k, allowed=None):
        from index.hits import Hit

        return [[Hit(h.id, float(self._function(h.score))) for h in hits]
                for hits in self._dense.search_vectors(queries, k, allowed)]

    def __getattr__(self, name):
        return getattr(self._dense, name)


@pytest.fixture(scope="module")
def english_terms(qa):
    from rag.crosslingual import EnglishToChinese, load_cedict_lines

    return EnglishToChinese.from_cedict(load_cedict_lines(), "\n".join(c.normalized for c in qa.corpus.clauses))


def _on_scale(qa, function, english_terms, calibration=None):
    """The session's PolicyQA with its vector scores through `function`, calibrated on that scale
    (or given the old `calibration`, as a threshold written in code would be)."""
    import dataclasses

    from index.hybrid import HybridIndex
    from rag.calibration import calibrate
    from rag.indexing import index_inputs
    from rag.retrieval import ClauseRetriever

    index = qa.retriever.index
    scaled = HybridIndex(_ScaledScores(index.dense, function), index.sparse, index.embedder, index.fusion)
    passages = index_inputs(qa.corpus, qa.settings.corpus_dir).passages
    retriever = ClauseRetriever(qa.corpus, passages, scaled, lambda: english_terms)
    return dataclasses.replace(qa, retriever=retriever, calibration=calibration or calibrate(scaled))


def _abstentions(qa, gold) -> list[bool]:
    return [answer.abstained for answer in qa.ask_many([g.question for g in gold])]


@pytest.fixture(scope="module")
def dev_abstentions(qa, dev_gold) -> list[bool]:
    return _abstentions(qa, dev_gold)


@pytest.mark.slow
@pytest.mark.parametrize("scale", list(SCALES))
def test_on_another_score_scale_the_dev_set_is_answered_and_refused_as_before(
    qa, dev_gold, dev_abstentions, english_terms, scale
):
    function = SCALES[scale]
    moved = _on_scale(qa, function, english_terms)
    for language in ("zh", "en"):  # the thresholds are the old ones carried to the new scale, not the old numbers
        carried = function(qa.calibration.min_similarity(language))  # calibrate() keeps six decimals
        assert moved.calibration.min_similarity(language) == pytest.approx(carried, rel=1e-4, abs=1e-5)
        assert moved.calibration.min_similarity(language) != pytest.approx(qa.calibration.min_similarity(language))
    abstentions = _abstentions(moved, dev_gold)
    unanswerable = [a for g, a in zip(dev_gold, abstentions) if g.type == "unanswerable"]
    answerable = [a for g, a in zip(dev_gold, abstentions) if g.type != "unanswerable"]
    assert len(unanswerable) == 6 and all(unanswerable)
    assert sum(answerable) == sum(a for g, a in zip(dev_gold, dev_abstentions) if g.type != "unanswerable")
    assert abstentions == dev_abstentions


@pytest.mark.slow
def test_the_old_scales_threshold_would_not_survive_the_change(qa, dev_gold, dev_abstentions, english_terms):
    """What the calibration is for: with the thresholds of the old scale, cubed scores fall below
    them and answerable questions are refused."""
    stale = _on_scale(qa, SCALES["cubed"], english_terms, calibration=qa.calibration)
    abstentions = _abstentions(stale, dev_gold)
    assert sum(abstentions) > sum(dev_abstentions) + 10
