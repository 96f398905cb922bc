"""BM25 ranking (bm25s, Lucene variant) over tokenised texts; FAISS-style positions mapped back to ids."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexStateError
from index.hits import Hit
from index.tokenize import JiebaTokenizer


def top_positions(scores: np.ndarray, k: int, positive_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the k best scores, best first, ties broken by the lower position; and those scores."""
    candidates = np.flatnonzero(scores > 0) if positive_only else np.arange(scores.shape[0])
    if k <= 0 or candidates.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    values = scores[candidates]
    if candidates.size > k:
        # Keep everything tied with the k-th score, so the tie-break below sees all of them.
        kth = np.partition(values, candidates.size - k)[candidates.size - k]
        keep = values >= kth
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))[:k]
    return candidates[order], values[order]


class SparseIndex:
    """BM25 over a tokenizer's tokens: search(query, k) returns only items sharing a token with the query."""

    def __init__(self, bm25: Any, ids: Sequence[str], tokenizer: JiebaTokenizer) -> None:
        num_docs = int(bm25.scores["num_docs"])
        if num_docs != len(ids):
            raise IndexStateError(
                f"the BM25 index holds {num_docs} items but {len(ids)} ids were given; "
                "the index folder is inconsistent, run `policy-rag index --rebuild`."
            )
        self._bm25 = bm25
        self.ids: tuple[str, ...] = tuple(ids)
        self.tokenizer = tokenizer

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        texts: Sequence[str],
        tokenizer: JiebaTokenizer,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> SparseIndex:
        if len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts; pass one id per text.")
        if not ids:
            raise ValueError("cannot build a BM25 index over no items; pass at least one (id, text) pair.")
        import bm25s

        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        bm25.index(tokenizer.tokenize_many(texts), show_progress=False)
        return cls(bm25, ids, tokenizer)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every item for the query, by position; all zero when no query token is indexed.
        allowed, a boolean mask over positions, zeroes the others (bm25s's weight mask)."""
        token_ids = self._bm25.get_tokens_ids(self.tokenizer.tokenize(query))
        if not token_ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        mask = None if allowed is None else np.asarray(allowed, dtype=np.float32)
        if mask is not None and mask.shape != (len(self.ids),):
            raise ValueError(f"the allowed mask has shape {mask.shape}; expected ({len(self.ids)},), one flag per item.")
        return self._bm25.get_scores_from_ids(token_ids, weight_mask=mask)

    def known_share(self, query: str, min_chars: int = 2) -> float:
        """Share of the query's tokens (of at least min_chars characters) that the index knows:
        low when a question is worded unlike the documents, where BM25 is least to be trusted."""
        tokens = [t for t in self.tokenizer.tokenize(query) if len(t) >= min_chars]
        if not tokens:
            return 0.0
        return len(self._bm25.get_tokens_ids(tokens)) / len(tokens)

    def document_frequency(self, token: str) -> int:
        """How many items contain this (already tokenised) token; 0 for a token never indexed.
        Read from the postings' lengths, without scoring every item."""
        token_ids = self._bm25.get_tokens_ids([token])
        if not token_ids:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[token_ids[0] + 1] - indptr[token_ids[0]])

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        """At most k items sharing a token with the query, best first; only allowed ones if a mask is given."""
        positions, values = top_positions(self.scores(query, allowed), k, positive_only=True)
        return [Hit(self.ids[p], float(v)) for p, v in zip(positions.tolist(), values.tolist())]

    def search_many(self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        return [self.search(query, k, allowed) for query in queries]

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the bm25s files into folder (ids and tokenizer settings are the caller's to store)."""
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: str | os.PathLike[str], ids: Sequence[str], tokenizer: JiebaTokenizer) -> SparseIndex:
        import bm25s

        folder = Path(folder)
        try:
            bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=False, show_progress=False)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexStateError(
                f"the BM25 files in {folder} are unreadable ({error}); run `policy-rag index --rebuild`."
            ) from error
        return cls(bm25, ids, tokenizer)
