"""Retrieval over clauses: sentence passages ranked by dense and BM25 search, fused, mapped back
to clauses; the documents a question names narrow the search, a named article comes first, and
comparisons draw from every document they compare.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from index.fusion import reciprocal_rank_fusion, weighted_score_fusion
from index.hits import Hit
from rag.clauses import Clause, ClauseKind
from rag.documents import Document
from rag.filters import Filters
from rag.normalize import normalize
from rag.passages import Passage
from rag.questions import (
    ArticleRef,
    Intent,
    QuestionAnalysis,
    analyse,
    document_constraint,
    documents_for_regions,
    without_regions,
)
from rag.registry import Registry
from rag.results import ClauseHit

if TYPE_CHECKING:
    from index.hybrid import HybridIndex
    from rag.corpus import Corpus
    from rag.crosslingual import EnglishToChinese

Mode = Literal["hybrid", "dense", "sparse"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")

PASSAGE_DEPTH = 200
"""How many passages each retriever contributes to fusion (of about 650 in the bundled corpus, half a
million in a library of 3,500 laws): both search only the documents a question may use, inside the
index (a FAISS ID selector, a bm25s weight mask), so the depth never grows with filters."""
DENSE_WEIGHT = 1.0
SPARSE_WEIGHT = 1.0
MATCHED_PER_CLAUSE = 4
FOCUS_MAX_SHARE = 0.1
TRUSTED_KNOWN_SHARE = 0.7
"""A question whose words are at least this much the documents' own vocabulary gets full BM25 weight."""


def keyword_trust(known_share: float) -> float:
    """BM25's weight in fusion, from how much of the question is worded as the documents are: a
    colloquial question (卖地收入 for 土地出让收入) matches the wrong clauses by its incidental words,
    so its ranking leans on the embeddings instead."""
    return min(1.0, known_share / TRUSTED_KNOWN_SHARE) ** 2
SECOND_PASSAGE_WEIGHT = 0.25
"""A clause with several matching sentences edges out one with a single match of the same score."""


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared for search: normalised text, what it asks, the documents it may use."""

    question: str
    text: str
    analysis: QuestionAnalysis
    documents: tuple[Document, ...]
    search_text: str
    """What is matched against passages: the text less the region names that chose the documents."""


class ClauseRetriever:
    """Searches a corpus's clauses through a HybridIndex over their sentence passages."""

    def __init__(
        self,
        corpus: Corpus,
        passages: Sequence[Passage],
        index: HybridIndex,
        english: Callable[[], EnglishToChinese] | None = None,
        registry: Registry | None = None,
    ) -> None:
        """`english` builds the English→Chinese term lookup; it is called on the first English
        question, so Chinese-only use never pays for loading the dictionary."""
        self.corpus = corpus
        self.index = index
        self._english = functools.cache(english) if english is not None else None
        # A question is translated, and its words counted, once for all the evidence read from it.
        self._translate = functools.lru_cache(maxsize=1024)(self._translation)
        self._word_frequencies = functools.lru_cache(maxsize=1024)(self._frequencies_of)
        # The top clauses' words, for term_overlap: segmenting whole clauses anew for every question
        # was a third of the CPU time of an answer.
        self._clause_tokens = functools.lru_cache(maxsize=4096)(self._tokens_of)
        self._passages = {p.id: p for p in passages}
        self._doc_number = {d.id: n for n, d in enumerate(corpus.documents)}
        # The document of each index position, as a number: a filter becomes a mask with one lookup.
        self._position_doc = np.array(
            [self._doc_number[corpus.clause(self._passages[pid].clause_id).doc_id] for pid in index.ids], dtype=np.int32
        )
        self.registry = registry if registry is not None else Registry.of(corpus.documents)

    def prepare(self, question: str, filters: Filters = Filters()) -> Query:
        text = normalize(question)
        analysis = analyse(text, self.registry)
        constraint = document_constraint(text)
        allowed = tuple(d for d in self.corpus.documents if filters.allows(d) and constraint.allows(d))
        named = documents_for_regions(self.registry, allowed, analysis.regions)
        if analysis.intent is Intent.COMPARE and (analysis.all_documents or not analysis.regions):
            return Query(question, text, analysis, allowed, text)  # 各省…, 国家和各省…: every document
        if analysis.regions and not named:
            return Query(question, text, analysis, (), text)  # the documents it names are filtered out
        search_text = without_regions(text, self.registry, analysis.regions) if named else text
        return Query(question, text, analysis, named or allowed, search_text or text)

    def search(self, question: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> list[ClauseHit]:
        return self.search_many([question], k, filters, mode)[0]

    def search_many(
        self, questions: Sequence[str], k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid"
    ) -> list[list[ClauseHit]]:
        queries = [self.prepare(q, filters) for q in questions]
        return self.search_prepared(queries, k, mode)

    def search_prepared(
        self, queries: Sequence[Query], k: int, mode: Mode = "hybrid", per_document: int = 0
    ) -> list[list[ClauseHit]]:
        """Hits for prepared queries, k each; a comparison gets at least `per_document` per
        document it compares (five documents compared need more than ten hits)."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        if self.keyword_only:
            mode = "sparse"  # no vectors yet (a large library still being embedded): keywords alone
        vectors = None
        if mode != "sparse":
            vectors = self.index.embedder.embed_queries([q.search_text for q in queries])
        results = []
        for i, query in enumerate(queries):
            vector = vectors[i : i + 1] if vectors is not None else None
            depth = k
            if per_document and query.analysis.intent is Intent.COMPARE:
                depth = max(k, per_document * len(query.documents))
            results.append(self._search_one(query, depth, mode, vector))
        return results

    def _search_one(self, query: Query, k: int, mode: Mode, vector: np.ndarray | None) -> list[ClauseHit]:
        if not query.text.strip() or not query.documents:
            return []
        allowed = self._allowed(query.documents)
        dense = self._dense_ranking(vector, allowed) if vector is not None else []
        keywords = self._keywords(query)
        sparse = self._sparse_ranking(keywords, allowed) if mode != "dense" else []
        if mode == "hybrid":
            weight = SPARSE_WEIGHT * keyword_trust(self.index.sparse.known_share(keywords))
            fused = self._fuse(query, dense, sparse, weight)
        else:
            fused = dense or sparse
        similarity = {h.id: h.score for h in dense}
        hits = self._clause_hits(fused, similarity)
        hits = _boost_named_headings(query.text, hits)
        hits = _quoted_first(query, hits)
        hits = self._article_first(query, hits)
        if query.analysis.asks_about_document:
            hits = self._closing_first(query, hits)
        if query.analysis.intent is Intent.COMPARE:
            hits = _interleave_by_document(hits, query.documents)
        return hits[:k]

    @staticmethod
    def _fuse(query: Query, dense: list[Hit], sparse: list[Hit], sparse_weight: float) -> list[Hit]:
        """Scores, not ranks (a convex combination of normalised scores, Bruch et al. 2023): on long
        regulations the embeddings' top passages are nearly level while BM25 often sets one article
        far apart, and rank fusion counted both alike. An English question's BM25 scores are those of
        dictionary translations, several Chinese terms per word, so their margins are no evidence:
        its lists are fused by rank."""
        if query.analysis.is_english:
            return reciprocal_rank_fusion((dense, sparse), (DENSE_WEIGHT, sparse_weight))
        return weighted_score_fusion((dense, sparse), (DENSE_WEIGHT, sparse_weight))

    def term_overlap(self, query: Query, hits: Sequence[ClauseHit], top: int = 3) -> float:
        """Share of the question's words (two characters or more) found in its top clauses:
        evidence, beside similarity, that the clauses are about what is asked."""
        tokenizer = self.index.sparse.tokenizer
        words = {t for t in tokenizer.tokenize(self._keywords(query)) if len(t) >= 2}
        if not words:
            return 0.0
        found = set().union(*(self._clause_tokens(h.clause.normalized) for h in hits[:top]))
        return len(words & found) / len(words)

    def _tokens_of(self, text: str) -> frozenset[str]:
        return frozenset(self.index.sparse.tokenizer.tokenize(text))

    def focus_terms(self, query: Query, max_share: float = FOCUS_MAX_SHARE) -> frozenset[str]:
        """The question's distinctive words: indexed, yet in at most `max_share` of the passages.
        A sentence holding none of them is not about what the question asks."""
        limit = max_share * len(self.index)
        return frozenset(t for t, n in self._word_frequencies(self._keywords(query)) if 0 < n <= limit)

    def key_terms(self, text: str) -> tuple[str, ...]:
        """The distinctive words of a text (in at most a tenth of the passages), in order: what a
        comparison line says the documents share or differ in."""
        limit = FOCUS_MAX_SHARE * len(self.index)
        sparse = self.index.sparse
        words = dict.fromkeys(t for t in sparse.tokenizer.words(normalize(text)) if len(t) >= 2 and not t.isdigit())
        return tuple(t for t in words if 0 < sparse.document_frequency(t) <= limit)

    def too_general(self, query: Query) -> bool:
        """A Chinese question with no word of its own: every word it has (高新区, 支持) is common
        in the documents, none is distinctive and none unknown (a colloquial word is a topic too)."""
        if query.analysis.is_english:
            return False
        limit = FOCUS_MAX_SHARE * len(self.index)
        return all(n > limit for _, n in self._word_frequencies(self._keywords(query)))

    def _frequencies_of(self, keywords: str) -> tuple[tuple[str, int], ...]:
        """The words of two characters or more, each with the number of passages holding it. Figures
        and years are left out: they date or size what is asked, they are not what it is about."""
        sparse = self.index.sparse
        words = dict.fromkeys(t for t in sparse.tokenizer.words(keywords) if len(t) >= 2 and not t.isdigit())
        return tuple((t, sparse.document_frequency(t)) for t in words)

    def _keywords(self, query: Query) -> str:
        """The BM25 query: the question itself, or for an English one its Chinese corpus terms."""
        if query.analysis.is_english and self._english is not None:
            return self._translate(query.search_text)
        return query.search_text

    def _translation(self, text: str) -> str:
        assert self._english is not None
        return self._english().translate(text)

    @property
    def keyword_only(self) -> bool:
        """True while the index has no vectors yet: searches use keywords alone."""
        return self.index.keyword_only

    def _allowed(self, documents: Sequence[Document]) -> np.ndarray | None:
        """A mask over index positions of the passages of these documents; None when that is all of them."""
        if len(documents) == len(self._doc_number):
            return None
        wanted = np.zeros(len(self._doc_number), dtype=bool)
        wanted[[self._doc_number[d.id] for d in documents]] = True
        return wanted[self._position_doc]

    def _dense_ranking(self, vector: np.ndarray, allowed: np.ndarray | None) -> list[Hit]:
        assert self.index.dense is not None
        return self.index.dense.search_vectors(vector, PASSAGE_DEPTH, allowed)[0]

    def _sparse_ranking(self, text: str, allowed: np.ndarray | None) -> list[Hit]:
        return self.index.sparse.search(text, PASSAGE_DEPTH, allowed)

    def _clause_hits(self, fused: Sequence[Hit], similarity: dict[str, float]) -> list[ClauseHit]:
        per_clause: dict[str, list[Hit]] = defaultdict(list)
        for hit in fused:
            per_clause[self._passages[hit.id].clause_id].append(hit)
        hits = []
        for clause_id, passage_hits in per_clause.items():
            score = passage_hits[0].score + SECOND_PASSAGE_WEIGHT * sum(h.score for h in passage_hits[1:2])
            top = passage_hits[:MATCHED_PER_CLAUSE]
            clause = self.corpus.clause(clause_id)
            hits.append(
                ClauseHit(
                    clause=clause,
                    document=self.corpus.document(clause.doc_id),
                    score=score,
                    matched=tuple((self._passages[h.id].start, self._passages[h.id].end) for h in top),
                    similarity=max((similarity.get(h.id, 0.0) for h in passage_hits), default=0.0),
                )
            )
        hits.sort(key=lambda h: (-h.score, h.clause.id))
        return hits

    def _article_first(self, query: Query, hits: list[ClauseHit]) -> list[ClauseHit]:
        ref = query.analysis.article_ref
        if ref is None or ref.article is None and ref.section is None:
            return hits
        named = documents_for_regions(self.registry, query.documents, query.analysis.regions)
        if len(named) != 1:
            return hits
        wanted = [c for c in self.corpus.clauses_of(named[0].id) if _label_matches(c, ref)]
        if not wanted or len(wanted) > 8:
            return hits
        first = _exact_hits(wanted, named[0], hits)
        ids = {c.id for c in wanted}
        return first + [h for h in hits if h.clause.id not in ids]

    def _closing_first(self, query: Query, hits: list[ClauseHit]) -> list[ClauseHit]:
        """A question about a document's date, number or issuer is answered by its closing (signature
        and date)."""
        closings = [
            c for d in query.documents for c in self.corpus.clauses_of(d.id) if c.kind is ClauseKind.CLOSING
        ]
        if not closings or len(query.documents) > 1:
            return hits
        first = _exact_hits(closings, query.documents[0], hits)
        return first + [h for h in hits if h.clause.id not in {c.id for c in closings}]


def _exact_hits(clauses: Sequence[Clause], document: Document, hits: Sequence[ClauseHit]) -> list[ClauseHit]:
    """Hits for clauses the question named, ranked above everything found by similarity."""
    top = hits[0].score if hits else 1.0
    by_id = {h.clause.id: h for h in hits}
    return [
        ClauseHit(
            clause,
            document,
            top + 1.0 - i * 1e-3,
            by_id[clause.id].matched if clause.id in by_id else (),
            by_id[clause.id].similarity if clause.id in by_id else 0.0,
            exact=True,
        )
        for i, clause in enumerate(clauses)
    ]


HEADING_BOOST = 1.5
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．]|第[一二三四五六七八九十百]+[章条])")


def _boost_named_headings(text: str, hits: list[ClauseHit]) -> list[ClauseHit]:
    """A question that names a part by its heading (在提升自主创新能力这部分…) prefers clauses under it."""
    def titles(hit: ClauseHit) -> set[str]:
        return {normalize(_NUMBERING.sub("", h)).rstrip("。.") for h in hit.clause.path}

    named = {t for hit in hits for t in titles(hit) if len(t) >= 4 and t in text}
    if not named:
        return hits
    boosted = [replace(h, score=h.score * HEADING_BOOST) if titles(h) & named else h for h in hits]
    return sorted(boosted, key=lambda h: (-h.score, h.clause.id))


def _quoted_first(query: Query, hits: list[ClauseHit]) -> list[ClauseHit]:
    """Clauses holding every phrase the question quotes come first, in their order."""
    phrases = query.analysis.phrases
    if not phrases:
        return hits
    holding = [h for h in hits if all(p in h.clause.normalized for p in phrases)]
    if not holding:
        return hits
    return holding + [h for h in hits if h not in holding]


def _label_matches(clause: Clause, ref: ArticleRef) -> bool:
    label = normalize(clause.label)
    if ref.section and not label.startswith(f"{ref.section}、"):
        return False
    if ref.article and f"({ref.article})" not in label:
        return False
    if ref.item and not label.endswith(f"{ref.item}."):
        return False
    return ref.article is not None or ref.section is not None


def _interleave_by_document(hits: list[ClauseHit], documents: Sequence[Document]) -> list[ClauseHit]:
    """Round-robin over documents (in order of their best hit) so each appears near the top."""
    queues: dict[str, list[ClauseHit]] = defaultdict(list)
    for hit in hits:
        queues[hit.document.id].append(hit)
    order = [d for d in dict.fromkeys(h.document.id for h in hits) if d in {doc.id for doc in documents}]
    merged: list[ClauseHit] = []
    depth = max((len(q) for q in queues.values()), default=0)
    for rank in range(depth):
        for doc_id in order:
            if rank < len(queues[doc_id]):
                merged.append(queues[doc_id][rank])
    return merged
