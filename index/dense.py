"""Nearest-neighbour search over L2-normalised float32 vectors with FAISS: exact inner product
("flat"), or approximate for large collections ("ivf": IVF with 8-bit scalar quantisation;
"hnsw"), chosen by size with "auto" and tuned to a measured recall (index/ann.py).

A search may be restricted to allowed positions (a boolean mask): FAISS skips the others inside
the search (an IDSelector), so a filter costs nothing in depth and never needs over-fetching.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.errors import IndexStateError, ModelError
from index.hits import Hit

if TYPE_CHECKING:
    from index.embedder import Embedder

DenseKind = Literal["flat", "hnsw", "ivf"]
DENSE_KINDS: tuple[str, ...] = ("flat", "hnsw", "ivf")
DENSE_SETTINGS: tuple[str, ...] = ("auto", *DENSE_KINDS)
"""What a caller may ask for: a kind, or "auto" (exact up to EXACT_MAX_VECTORS, then IVF)."""

EXACT_MAX_VECTORS = 200_000
"""Exact search scans every vector: measured 0.045-0.075 µs a vector for one query on this 2-core
machine (10-15 ms at 200k, 72 ms at 10^6), so past 200k an IVF index takes over (docs/scale.md)."""

SEARCH_THREADS = 1
"""FAISS threads for searching. Measured on 2 cores over 2,000 x 384 vectors: 0.30 ms a query and 20 ms
a batch of 100 with one thread, 0.23 ms and 23 ms with two; over 50,000, two threads took 24 ms a query
against 4 ms with one."""

HNSW_FILTER_MIN_SHARE = 0.05
"""Below this share of allowed vectors an HNSW graph walk rarely meets enough of them: the allowed
vectors are then scanned exactly (HNSW keeps them in full)."""


@functools.cache
def _faiss() -> Any:
    """Import FAISS on first use, not at import time, and pin its search threads once."""
    import faiss

    faiss.omp_set_num_threads(SEARCH_THREADS)
    return faiss


@contextmanager
def build_threads(count: int | None = None) -> Iterator[Any]:
    """FAISS with `count` threads (default: every CPU) for building, back to SEARCH_THREADS after."""
    faiss = _faiss()
    faiss.omp_set_num_threads(count or os.cpu_count() or 1)
    try:
        yield faiss
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


def resolve_kind(setting: str, count: int) -> DenseKind:
    """The kind a setting means for a collection of `count` vectors."""
    if setting not in DENSE_SETTINGS:
        raise ValueError(f"unknown dense index kind {setting!r}; choose one of {', '.join(DENSE_SETTINGS)}.")
    if setting == "auto":
        return "flat" if count <= EXACT_MAX_VECTORS else "ivf"
    return setting  # type: ignore[return-value]


class DenseIndex:
    """FAISS over one vector per id; search by query vectors, or by text when it holds an embedder.

    params holds how the index was made and is searched (nlist, nprobe, ef_search, the recall
    measured when it was tuned); the index manifest keeps it.
    """

    def __init__(
        self,
        faiss_index: Any,
        ids: Sequence[str],
        embedder: Embedder | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if faiss_index.ntotal != len(ids):
            raise IndexStateError(
                f"the vector index holds {faiss_index.ntotal} vectors but {len(ids)} ids were given; "
                "the index folder is inconsistent, run `policy-rag index --rebuild`."
            )
        self._index = faiss_index
        self.ids: tuple[str, ...] = tuple(ids)
        self.embedder = embedder
        self.params: dict[str, Any] = {"kind": _kind_of(faiss_index), **dict(params or {})}
        self.params["kind"] = _kind_of(faiss_index)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        embedder: Embedder | None = None,
        kind: str = "flat",
        hnsw_m: int = 32,
        ef_construction: int = 200,
        target_recall: float | None = None,
        tuning_queries: np.ndarray | None = None,
    ) -> DenseIndex:
        """kind: "flat" (exact), "ivf", "hnsw", or "auto" (by size). An approximate index is tuned
        until its recall@10 against exact search reaches target_recall, on the query vectors of the
        passages at index.ann.tuning_rows(len(ids)) if given, else on their own vectors (index/ann.py),
        and records what it measured in params."""
        from index.ann import TARGET_RECALL, build_hnsw, build_ivf, tune

        if len(ids) != len(vectors):
            raise ValueError(f"got {len(ids)} ids for {len(vectors)} vectors; pass one id per vector.")
        if np.ndim(vectors) != 2:
            raise ValueError(f"document vectors must be a 2-d array (n, dimension); got shape {np.shape(vectors)}.")
        resolved = resolve_kind(kind, len(ids))
        dimension = int(np.shape(vectors)[1])
        vectors = as_vectors(vectors, dimension, "document vectors")
        params: dict[str, Any] = {"setting": kind}
        if resolved == "flat":
            index = _faiss().IndexFlatIP(dimension)
            index.add(vectors)
        elif resolved == "ivf":
            index = build_ivf(vectors)
        else:
            index = build_hnsw(vectors, hnsw_m, ef_construction)
        dense = cls(index, ids, embedder, params)
        if resolved != "flat":
            dense.params.update(tune(dense, vectors, target_recall or TARGET_RECALL, tuning_queries))
        return dense

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> DenseKind:
        return self.params["kind"]

    @property
    def faiss_index(self) -> Any:
        return self._index

    def search_vectors(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        """For each query vector, at most k hits by inner product, best first, ties by insertion order.

        allowed: a boolean mask over positions; only those are searched (inside FAISS, not by
        filtering a longer list afterwards).
        """
        queries = as_vectors(queries, self.dimension, "query vectors")
        restriction = _Restriction.of(allowed, len(self.ids))
        k = min(k, restriction.count)
        if k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        # FAISS keeps an arbitrary subset of the items tied at the k-th score: fetch deeper until the
        # whole tie is in, so the order below (ties by insertion order) never depends on k.
        fetch = min(k + 1, restriction.count)
        while True:
            scores, positions = self._search(queries, fetch, restriction)
            if fetch == restriction.count or not np.any(scores[:, fetch - 1] >= scores[:, k - 1]):
                break
            fetch = min(2 * fetch, restriction.count)
        results = []
        for row_scores, row_positions in zip(scores, positions):
            found = row_positions >= 0  # an approximate search may find fewer than asked, padded with -1
            row_scores, row_positions = row_scores[found], row_positions[found]
            order = np.lexsort((row_positions, -row_scores))[:k]
            results.append(
                [Hit(self.ids[p], float(s)) for p, s in zip(row_positions[order].tolist(), row_scores[order].tolist())]
            )
        return results

    def search_positions(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's raw answer: (scores, positions), each (len(queries), k), position -1 where none."""
        queries = as_vectors(queries, self.dimension, "query vectors")
        restriction = _Restriction.of(allowed, len(self.ids))
        return self._search(queries, max(1, min(k, restriction.count)), restriction)

    def _search(self, queries: np.ndarray, k: int, restriction: _Restriction) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        selector = restriction.selector()
        share = restriction.count / max(1, len(self.ids))
        if self.kind == "ivf":
            nprobe = int(self.params.get("nprobe", 16))
            nlist = int(faiss.extract_index_ivf(self._index).nlist)
            if selector is not None:
                # As many allowed vectors scanned as an unrestricted search would scan: more lists when
                # fewer vectors are allowed, every list (an exact scan of the allowed ones) at the limit.
                nprobe = min(nlist, math.ceil(nprobe / share))
            params = faiss.SearchParametersIVF(nprobe=min(nprobe, nlist), max_codes=0)
            if selector is not None:
                params.sel = selector
            return self._index.search(queries, k, params=params)
        if self.kind == "hnsw":
            if selector is not None and share < HNSW_FILTER_MIN_SHARE:
                storage = faiss.downcast_index(self._index.storage)
                return storage.search(queries, k, params=faiss.SearchParameters(sel=selector))
            ef = max(2 * k, int(self.params.get("ef_search", 128)))
            if selector is not None:
                ef = min(len(self.ids), math.ceil(ef / share))
            params = faiss.SearchParametersHNSW(efSearch=ef)
            if selector is not None:
                params.sel = selector
            return self._index.search(queries, k, params=params)
        if selector is None:
            return self._index.search(queries, k)
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))

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

    def memory_bytes(self) -> int:
        """Bytes the FAISS index takes (its serialised size, which is what it holds in memory)."""
        return int(_faiss().serialize_index(self._index).nbytes)

    def save(self, path: str | os.PathLike[str]) -> None:
        _faiss().write_index(self._index, os.fspath(path))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        ids: Sequence[str],
        embedder: Embedder | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> DenseIndex:
        try:
            index = _faiss().read_index(os.fspath(path))
        except RuntimeError as error:
            raise IndexStateError(
                f"the vector index file {path} is unreadable ({error}); run `policy-rag index --rebuild`."
            ) from error
        return cls(index, ids, embedder, params)


class _Restriction:
    """Which positions a search may return: all of them, or those of a mask, as a FAISS selector."""

    def __init__(self, mask: np.ndarray | None, count: int) -> None:
        self.mask = mask
        self.count = count
        self._bits: np.ndarray | None = None

    @classmethod
    def of(cls, allowed: np.ndarray | None, total: int) -> _Restriction:
        if allowed is None:
            return cls(None, total)
        mask = np.asarray(allowed, dtype=bool)
        if mask.shape != (total,):
            raise ValueError(f"the allowed mask has shape {mask.shape}; expected ({total},), one flag per item.")
        count = int(np.count_nonzero(mask))
        return cls(None if count == total else mask, count)

    def selector(self) -> Any:
        """An IDSelectorBitmap over the mask (None when everything is allowed); keeps its bits alive."""
        if self.mask is None:
            return None
        faiss = _faiss()
        self._bits = np.packbits(self.mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.mask.shape[0], faiss.swig_ptr(self._bits))
        selector.referenced_bits = self._bits  # FAISS reads the bits during the search
        return selector


def _kind_of(faiss_index: Any) -> DenseKind:
    faiss = _faiss()
    if hasattr(faiss_index, "hnsw"):
        return "hnsw"
    if faiss.try_extract_index_ivf(faiss_index) is not None:
        return "ivf"
    return "flat"
