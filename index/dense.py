"""Nearest-neighbour search over L2-normalised float32 vectors with FAISS: exact inner product or HNSW."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.errors import IndexStateError, ModelError
from index.hits import Hit

if TYPE_CHECKING:
    from index.embedder import Embedder

DenseKind = Literal["flat", "hnsw"]
DENSE_KINDS: tuple[str, ...] = ("flat", "hnsw")

SEARCH_THREADS = 1
"""FAISS threads for searching. Measured on 2 cores over 2,000 x 384 vectors: 0.30 ms a query and 20 ms
a batch of 100 with one thread, 0.23 ms and 23 ms with two; over 50,000, two threads took 24 ms a query
against 4 ms with one."""


@functools.cache
def _faiss() -> Any:
    """Import FAISS on first use, not at import time, and pin its search threads once."""
    import faiss

    faiss.omp_set_num_threads(SEARCH_THREADS)
    return faiss


@contextmanager
def _threads(count: int) -> Iterator[None]:
    faiss = _faiss()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(SEARCH_THREADS)


def as_vectors(array: Any, dimension: int, what: str) -> np.ndarray:
    """A C-contiguous float32 (n, dimension) array, or ModelError saying what was wrong with the input."""
    vectors = np.ascontiguousarray(array, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise ModelError(f"{what} have shape {vectors.shape}, expected (n, {dimension}); check the embedding model.")
    if not np.isfinite(vectors).all():
        raise ModelError(f"{what} contain NaN or infinite values; check the embedding model.")
    return vectors


class DenseIndex:
    """FAISS over one vector per id; search by query vectors, or by text when it holds an embedder."""

    def __init__(self, faiss_index: Any, ids: Sequence[str], embedder: Embedder | None = None) -> None:
        if faiss_index.ntotal != len(ids):
            raise IndexStateError(
                f"the vector index holds {faiss_index.ntotal} vectors but {len(ids)} ids were given; "
                "the index folder is inconsistent, run `policy-rag index --rebuild`."
            )
        self._index = faiss_index
        self.ids: tuple[str, ...] = tuple(ids)
        self.embedder = embedder

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        embedder: Embedder | None = None,
        kind: DenseKind = "flat",
        hnsw_m: int = 32,
        ef_construction: int = 200,
    ) -> DenseIndex:
        """kind="flat" is exact and fast up to ~10^5 vectors; "hnsw" is approximate for larger corpora."""
        if len(ids) != len(vectors):
            raise ValueError(f"got {len(ids)} ids for {len(vectors)} vectors; pass one id per vector.")
        if kind not in DENSE_KINDS:
            raise ValueError(f"unknown dense index kind {kind!r}; choose one of {', '.join(DENSE_KINDS)}.")
        if np.ndim(vectors) != 2:
            raise ValueError(f"document vectors must be a 2-d array (n, dimension); got shape {np.shape(vectors)}.")
        dimension = int(np.shape(vectors)[1])
        vectors = as_vectors(vectors, dimension, "document vectors")
        faiss = _faiss()
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
            index.add(vectors)
        else:
            index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            with _threads(os.cpu_count() or 1):
                index.add(vectors)
        return cls(index, ids, embedder)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> DenseKind:
        return "hnsw" if hasattr(self._index, "hnsw") else "flat"

    def search_vectors(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """For each query vector, at most k hits by inner product, best first, ties by insertion order."""
        queries = as_vectors(queries, self.dimension, "query vectors")
        k = min(k, len(self.ids))
        if k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        # FAISS keeps an arbitrary subset of the items tied at the k-th score: fetch deeper until the
        # whole tie is in, so the order below (ties by insertion order) never depends on k.
        fetch = min(k + 1, len(self.ids))
        while True:
            scores, positions = self._search(queries, fetch)
            if fetch == len(self.ids) or not np.any(scores[:, fetch - 1] >= scores[:, k - 1]):
                break
            fetch = min(2 * fetch, len(self.ids))
        results = []
        for row_scores, row_positions in zip(scores, positions):
            found = row_positions >= 0  # HNSW may find fewer than asked, padded with -1
            row_scores, row_positions = row_scores[found], row_positions[found]
            order = np.lexsort((row_positions, -row_scores))[:k]
            results.append(
                [Hit(self.ids[p], float(s)) for p, s in zip(row_positions[order].tolist(), row_scores[order].tolist())]
            )
        return results

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "hnsw":
            params = _faiss().SearchParametersHNSW(efSearch=max(2 * k, 128))
            return self._index.search(queries, k, params=params)
        return self._index.search(queries, k)

    def search(self, query: str, k: int) -> list[Hit]:
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        if self.embedder is None:
            raise ModelError("this vector index was loaded without an embedding model; pass one to search by text.")
        results: list[list[Hit]] = [[] for _ in queries]
        asked = [i for i, query in enumerate(queries) if query.strip()]
        if asked:
            vectors = self.embedder.embed_queries([queries[i] for i in asked])
            for i, hits in zip(asked, self.search_vectors(vectors, k)):
                results[i] = hits
        return results

    def save(self, path: str | os.PathLike[str]) -> None:
        _faiss().write_index(self._index, os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str], ids: Sequence[str], embedder: Embedder | None = None) -> DenseIndex:
        try:
            index = _faiss().read_index(os.fspath(path))
        except RuntimeError as error:
            raise IndexStateError(
                f"the vector index file {path} is unreadable ({error}); run `policy-rag index --rebuild`."
            ) from error
        return cls(index, ids, embedder)
