"""Approximate vector indexes and their tuning: IVF with 8-bit scalar quantisation, HNSW, and the
search depth (nprobe, efSearch) that reaches a target recall@10 against exact search.

Recall is measured on the collection itself: a sample of its passages asked as questions (their
query vectors, when the builder has the model; otherwise their own vectors) is searched exactly and
approximately, each passage's own position left out since it trivially finds itself, and the
smallest depth whose recall@10 reaches the target is kept. Query vectors matter: on 3,400 law
passages, IVF at nprobe 32 of 128 found 0.99 of the exact top 10 for document vectors and 0.985 for
passages asked as questions (docs/scale.md has the figures at scale).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from index.dense import DenseIndex

TARGET_RECALL = 0.98
RECALL_AT = 10
TUNING_QUERIES = 400
NPROBES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
EF_SEARCHES = (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
TRAIN_PER_LIST = 40
"""k-means training points per IVF list (FAISS asks for at least 39)."""


def ivf_lists(count: int) -> int:
    """IVF lists for `count` vectors: the power of two nearest below 4·√count (1,024 for 100k,
    2,048 for 500k, 4,096 for 10^6), at least 16."""
    return max(16, 2 ** int(math.log2(max(16.0, 4 * math.sqrt(count)))))


def build_ivf(vectors: np.ndarray, nlist: int | None = None, seed: int = 1234) -> Any:
    """IVF{nlist},SQ8 by inner product, trained on a fixed random sample of the vectors."""
    from index.dense import build_threads

    count, dimension = vectors.shape
    nlist = nlist or ivf_lists(count)
    with build_threads() as faiss:
        index = faiss.index_factory(dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        sample = min(count, TRAIN_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(seed).choice(count, size=sample, replace=False))
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.seed = seed
        index.train(np.ascontiguousarray(vectors[rows]))
        index.add(vectors)
    return index


def build_hnsw(vectors: np.ndarray, m: int = 32, ef_construction: int = 200) -> Any:
    from index.dense import build_threads

    with build_threads() as faiss:
        index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(vectors)
    return index


def tuning_rows(count: int, seed: int = 99) -> np.ndarray:
    """Positions of the passages a tuning asks about: a fixed random sample."""
    return np.sort(np.random.default_rng(seed).choice(count, size=min(TUNING_QUERIES, count), replace=False))


def tune(
    dense: DenseIndex,
    vectors: np.ndarray,
    target: float = TARGET_RECALL,
    queries: np.ndarray | None = None,
) -> dict[str, Any]:
    """The smallest search depth of this approximate index whose recall@10 reaches target (the
    deepest tried if none does), with the recall measured at each depth. queries: one query vector
    for each position of tuning_rows (the passages asked as questions); default their own vectors."""
    rows = tuning_rows(vectors.shape[0])
    kind = "passages asked as questions" if queries is not None else "passage vectors"
    queries = np.ascontiguousarray(vectors[rows] if queries is None else queries, dtype=np.float32)
    if queries.shape != (len(rows), vectors.shape[1]):
        raise ValueError(f"tuning needs {len(rows)} query vectors of dimension {vectors.shape[1]}; got {queries.shape}.")
    truth = exact_neighbours(vectors, queries, rows, RECALL_AT)
    name, depths = ("nprobe", NPROBES) if dense.kind == "ivf" else ("ef_search", EF_SEARCHES)
    if dense.kind == "ivf":
        nlist = int(_ivf(dense).nlist)
        depths = tuple(d for d in depths if d < nlist) + (nlist,)
    measured: dict[str, float] = {}
    chosen = depths[-1]
    for depth in depths:
        dense.params[name] = depth
        recall = recall_at(dense, queries, rows, truth)
        measured[str(depth)] = round(recall, 4)
        if recall >= target:
            chosen = depth
            break
    dense.params[name] = chosen
    return {
        name: chosen,
        "recall_at_10": measured[str(chosen)],
        "target_recall": target,
        "tuning_queries": len(rows),
        "tuned_on": kind,
        "recall_by_depth": measured,
        **({"nlist": int(_ivf(dense).nlist)} if dense.kind == "ivf" else {}),
    }


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Positions of each query's k nearest vectors by inner product, its own row left out."""
    from index.dense import build_threads

    with build_threads() as faiss:
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        _, positions = flat.search(queries, k + 1)
    return _without_self(positions, rows, k)


def recall_at(dense: DenseIndex, queries: np.ndarray, rows: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's exact k nearest (own row left out) that the index finds."""
    k = truth.shape[1]
    _, positions = dense.search_positions(queries, k + 1)
    approx = _without_self(positions, rows, k)
    return float(np.mean([len(set(a[a >= 0].tolist()) & set(t.tolist())) / k for a, t in zip(approx, truth)]))


def _without_self(positions: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    out = np.full((positions.shape[0], k), -1, dtype=np.int64)
    for r, (row, own) in enumerate(zip(positions, rows)):
        kept = row[row != own][:k]
        out[r, : len(kept)] = kept
    return out


def _ivf(dense: DenseIndex) -> Any:
    from index.dense import _faiss

    return _faiss().extract_index_ivf(dense.faiss_index)
