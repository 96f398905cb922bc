"""Decision thresholds calibrated for the embedding model and the library, not written as cosines.

Whether a question is covered at all, and whether a document says anything on a compared topic,
are decided by how similar the question's best sentence is. What counts as similar depends on the
model (another model, or another version of this one, has another scale) and on the library. So at
index time the library is asked everyday questions about nothing it holds (rag/data/offtopic.toml,
Chinese and English); the thresholds are quantiles of how close it comes to them, and are stored in
the index manifest. A quantile is a rank: any monotone change of the score scale leaves every
decision as it was.

    calibration = calibrate(index)              # at index time, stored in the manifest
    calibration.covers(similarity, "zh")        # at question time
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import CorpusError
from rag.normalize import normalize

if TYPE_CHECKING:
    from index.hybrid import HybridIndex

__all__ = ["CALIBRATION_KEY", "Calibration", "calibrate", "offtopic_questions"]

CALIBRATION_KEY = "policyqa_calibration"
"""Where the calibration is kept among the index manifest's annotations."""

COVERED_QUANTILE = {"zh": 0.9, "en": 0.0}
"""A question is covered when its best sentence is closer than this share of off-topic questions
come. Chinese questions on topic sit clearly above everyday ones (measured on the dev and held-out
sets: their lowest is near the off-topic 90th percentile); English questions meet Chinese text
across languages, where on-topic and off-topic similarities overlap, so only a question less
similar than every off-topic one is refused on similarity, and the term checks decide the rest
(docs/evaluation.md)."""
FOUND_QUANTILE = {"zh": 0.5, "en": 0.0}
"""In a comparison, a document whose best sentence is below this quantile of the off-topic
similarities says nothing on the topic."""
LANGUAGES = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Calibration:
    """Off-topic similarities of this model and library, per question language, and what follows."""

    offtopic: Mapping[str, tuple[float, ...]]

    def __post_init__(self) -> None:
        for language in LANGUAGES:
            if not self.offtopic.get(language):
                raise ValueError(f"a calibration needs off-topic similarities for {language!r}")

    def _quantile(self, language: str, q: float) -> float:
        return float(np.quantile(np.asarray(self.offtopic[language]), q, method="lower"))

    def min_similarity(self, language: str) -> float:
        return self._quantile(language, COVERED_QUANTILE[language])

    def found_similarity(self, language: str) -> float:
        return self._quantile(language, FOUND_QUANTILE[language])

    def covers(self, similarity: float, language: str) -> bool:
        """Whether a best-sentence similarity is that of a question the library covers."""
        return similarity >= self.min_similarity(language)

    def found(self, similarity: float, language: str) -> bool:
        """Whether a document's best sentence, in a comparison, says something on the topic."""
        return similarity >= self.found_similarity(language)

    def to_json(self) -> dict[str, Any]:
        return {
            "offtopic": {k: list(v) for k, v in self.offtopic.items()},
            "min_similarity": {k: self.min_similarity(k) for k in LANGUAGES},
            "found_similarity": {k: self.found_similarity(k) for k in LANGUAGES},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        return cls({k: tuple(float(x) for x in v) for k, v in data["offtopic"].items()})

    def transformed(self, function: Any) -> Calibration:
        """The calibration of a score scale changed by a monotone function (for tests)."""
        return Calibration({k: tuple(float(function(x)) for x in v) for k, v in self.offtopic.items()})


@cache
def offtopic_questions() -> Mapping[str, tuple[str, ...]]:
    source = resources.files("rag") / "data" / "offtopic.toml"
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
        return {"zh": tuple(raw["chinese"]), "en": tuple(raw["english"])}
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read the off-topic questions {source}: {exc}; reinstall policy-rag") from None


def calibrate(index: HybridIndex, questions: Mapping[str, Sequence[str]] | None = None) -> Calibration:
    """Ask the index the off-topic questions; the best passage similarity of each, per language."""
    questions = questions or offtopic_questions()
    offtopic = {}
    for language in LANGUAGES:
        texts = [normalize(q) for q in questions[language]]
        vectors = index.embedder.embed_queries(texts)
        hits = index.dense.search_vectors(vectors, 1)
        offtopic[language] = tuple(round(h[0].score, 6) for h in hits if h)
    return Calibration(offtopic)
