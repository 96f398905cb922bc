"""What retrieval and answering return: clause hits, citations, comparison rows and answers."""

from __future__ import annotations

from dataclasses import dataclass

from rag.clauses import Clause
from rag.documents import Document


@dataclass(frozen=True, slots=True)
class ClauseHit:
    """A retrieved clause with its document and fused score (higher is better).

    `matched` are the spans of clause.text (sentences) that matched the question, best first;
    `similarity` is the best cosine between the question and one of those sentences;
    `exact` marks a clause the question named (by its label, or the closing when it asks for the
    issue date) rather than one found by similarity.
    """

    clause: Clause
    document: Document
    score: float
    matched: tuple[tuple[int, int], ...] = ()
    similarity: float = 0.0
    exact: bool = False


@dataclass(frozen=True, slots=True)
class Citation:
    """Source [n] of an answer; `quotes` are the verbatim substrings of the clause the answer uses."""

    n: int
    clause: Clause
    document: Document
    quotes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for quote in self.quotes:
            if quote not in self.clause.text:
                raise ValueError(f"quote {quote[:30]!r} is not verbatim in clause {self.clause.id}")


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One document's entry in a cross-document comparison; `found` is False when it says nothing."""

    document: Document
    summary: str
    citation_ns: tuple[int, ...]
    found: bool


@dataclass(frozen=True, slots=True)
class Answer:
    """`text` carries [n] markers that refer to `citations`; when `abstained`, the citations are only
    the nearest clauses, listed as possibly related."""

    question: str
    resolved_question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    hits: tuple[ClauseHit, ...]
    comparison: tuple[ComparisonRow, ...] = ()
    generated_by: str = "extractive"
