"""PolicyQA: the one object the CLI and the UI use — corpus, index, search and cited answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import compose, keyword_only_answer
from rag.calibration import Calibration
from rag.conversation import resolve_followup
from rag.corpus import Corpus
from rag.crosslingual import EnglishToChinese, load_cedict_lines
from rag.errors import IndexStateError
from rag.evidence import CorpusYears
from rag.filters import Filters
from rag.indexing import index_calibration, index_inputs, open_index
from rag.llm import generate
from rag.question_check import MAX_QUESTION_CHARS, check_question
from rag.results import Answer, ClauseHit
from rag.retrieval import ClauseRetriever, Mode
from rag.settings import Settings

__all__ = ["ANSWER_DEPTH", "MAX_QUESTION_CHARS", "PolicyQA", "check_question"]

ANSWER_DEPTH = 10
COMPARED_PER_DOCUMENT = 3

Progress = Callable[..., Any]


@dataclass(slots=True)
class PolicyQA:
    settings: Settings
    corpus: Corpus
    retriever: ClauseRetriever
    _years: CorpusYears
    calibration: Calibration | None
    """None while the index is keyword-only: thresholds are calibrated on the vectors."""

    @classmethod
    def open(
        cls, settings: Settings, progress: Progress | None = None, *, repair: bool = False, rebuild: bool = False,
        ray: str | None = None, embedder: Any = None,
    ) -> PolicyQA:
        """Load the corpus (bundled and added documents), the embedding model and the index, building
        them on first use.

        An index that is damaged, stale or made with another model is reported (IndexStateError),
        not silently rebuilt, unless `repair`; `rebuild` re-embeds everything. `ray` ("auto" or a
        cluster address) embeds the passages a build needs on Ray Data workers. `embedder`: a
        loaded embedding model to use instead of loading the settings' one.
        """
        from rag.embedding import load_embedder, ray_embedder
        from rag.indexing import built_fingerprint
        from rag.library_changes import open_corpus

        if not settings.corpus_dir.is_dir():  # say so before minutes of building a model
            open_corpus(settings)
        embedder = embedder if embedder is not None else load_embedder(settings, progress)
        for attempt in range(2):
            seen = built_fingerprint(settings.index_dir)
            corpus = open_corpus(settings)
            inputs = index_inputs(corpus, settings.corpus_dir)
            try:
                index = open_index(
                    inputs,
                    settings.index_dir,
                    embedder,
                    repair=repair,
                    rebuild=rebuild,
                    progress=progress,
                    dense_kind=settings.dense_index,
                    tokenizer_cache_dir=settings.jieba_dir,
                    milvus_uri=settings.milvus_uri,
                    **(ray_embedder(settings, embedder, ray) if ray else {}),
                )
                break
            except IndexStateError:
                # A `policy-rag add` or `remove` that switched the index while we read: read again.
                if attempt or built_fingerprint(settings.index_dir) == seen:
                    raise

        def english() -> EnglishToChinese:
            return EnglishToChinese.from_cedict(load_cedict_lines(), "\n".join(c.normalized for c in corpus.clauses))

        retriever = ClauseRetriever(corpus, inputs.passages, index, english)
        years = CorpusYears.of(clause.normalized for clause in corpus.clauses)
        calibration = None if index.keyword_only else index_calibration(settings.index_dir, index)
        return cls(settings, corpus, retriever, years, calibration)

    @property
    def keyword_only(self) -> bool:
        """True while the index has no vectors yet (`policy-rag index` has not finished): search is by
        keywords alone and answers say so."""
        return self.retriever.keyword_only

    @property
    def embedder(self) -> Any:
        """The loaded embedding model (None for an index searched by keywords only)."""
        return getattr(self.retriever.index, "embedder", None)

    def reopened(self) -> PolicyQA:
        """A new service over the library and index as they are now (after an add or a remove), reusing
        this one's embedding model; this one keeps answering from what it loaded."""
        return PolicyQA.open(self.settings, embedder=self.embedder)

    def document_text(self, doc_id: str) -> str:
        """The full text of the document's canonical source file; clause spans index into it."""
        return self.corpus.source_text(doc_id)

    def search(self, question: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> list[ClauseHit]:
        return self.retriever.search(check_question(question), k, filters, mode)

    def search_many(
        self, questions: Sequence[str], k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid"
    ) -> list[list[ClauseHit]]:
        return self.retriever.search_many([check_question(q) for q in questions], k, filters, mode)

    def resolve(self, question: str, history: Sequence[str] = ()) -> str:
        """The question made self-contained against the earlier questions of its conversation."""
        return resolve_followup(check_question(question), history, self.retriever.registry)

    def ask(self, question: str, history: Sequence[str] = (), filters: Filters = Filters()) -> Answer:
        """Answer one question; `history` holds the earlier (resolved) questions of the conversation."""
        return self.ask_many([question], filters, history)[0]

    def ask_many(self, questions: Sequence[str], filters: Filters = Filters(), history: Sequence[str] = ()) -> list[Answer]:
        """Independent questions answered in one batch (one embedding call for all)."""
        asked = [check_question(q) for q in questions]
        registry = self.retriever.registry
        resolved = [resolve_followup(q, history, registry) for q in asked]
        queries = [self.retriever.prepare(r, filters) for r in resolved]
        all_hits = self.retriever.search_prepared(queries, ANSWER_DEPTH, per_document=COMPARED_PER_DOCUMENT)
        if self.calibration is None:
            return [
                keyword_only_answer(registry, q, r, query.analysis, hits)
                for q, r, query, hits in zip(asked, resolved, queries, all_hits)
            ]
        answers = [
            compose(
                registry,
                self.calibration,
                q,
                r,
                query.analysis,
                hits,
                query.documents,
                self._years,
                overlap=self.retriever.term_overlap(query, hits),
                focus=self.retriever.focus_terms(query),
                too_general=self.retriever.too_general(query),
                terms=self.retriever.key_terms,
            )
            for q, r, query, hits in zip(asked, resolved, queries, all_hits)
        ]
        return [generate(self.settings.llm, answer) for answer in answers]
