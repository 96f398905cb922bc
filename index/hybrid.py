"""HybridIndex: dense (FAISS) and sparse (BM25) search over the same (id, text) items, fused by rank."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.dense import DenseIndex, as_vectors
from index.embedding_cache import EMBED_CHUNK, Progress, embed_with_cache
from index.errors import IndexStateError, ModelError
from index.fusion import DEFAULT_RRF_K, reciprocal_rank_fusion, weighted_score_fusion
from index.hits import Hit
from index.sparse import SparseIndex
from index.tokenize import JiebaTokenizer, TokenizerConfig

if TYPE_CHECKING:
    from index.embedder import Embedder

SearchMode = Literal["hybrid", "dense", "sparse"]
SEARCH_MODES: tuple[str, ...] = ("hybrid", "dense", "sparse")

IDS_NAME = "ids.json"
TOKENIZER_NAME = "tokenizer.json"
DENSE_NAME = "dense.faiss"
SPARSE_DIR = "sparse"


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """How hybrid search merges the two lists.

    method: "rrf" (reciprocal rank fusion) or "score" (weighted sum of min-max normalised scores).
    depth: how many hits each retriever contributes before fusing (at least k); a deeper list lets an
        item ranked modestly by both retrievers rise above one ranked high by a single retriever.
    """

    method: Literal["rrf", "score"] = "rrf"
    dense_weight: float = 1.0
    sparse_weight: float = 1.0
    rrf_k: float = DEFAULT_RRF_K
    depth: int = 100

    def __post_init__(self) -> None:
        if self.method not in ("rrf", "score"):
            raise ValueError(f"unknown fusion method {self.method!r}; choose 'rrf' or 'score'.")
        for name in ("dense_weight", "sparse_weight", "rrf_k"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and not negative; got {value!r}.")
        if self.depth <= 0:
            raise ValueError(f"depth must be positive; got {self.depth!r}.")

    def fuse(self, dense: Sequence[Hit], sparse: Sequence[Hit], limit: int) -> list[Hit]:
        weights = (self.dense_weight, self.sparse_weight)
        if self.method == "rrf":
            return reciprocal_rank_fusion((dense, sparse), weights, k=self.rrf_k, limit=limit)
        return weighted_score_fusion((dense, sparse), weights, limit=limit)


def check_items(items: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Ids and texts of the items; ValueError for no items, a non-string, or a repeated id."""
    if not items:
        raise ValueError("cannot build an index over no items; pass at least one (id, text) pair.")
    ids, texts, seen = [], [], set()
    for item in items:
        if len(item) != 2 or not isinstance(item[0], str) or not isinstance(item[1], str):
            raise ValueError(f"items must be (id, text) pairs of strings; got {item!r}.")
        item_id, text = item
        if item_id in seen:
            raise ValueError(f"the id {item_id!r} occurs more than once; ids must be unique.")
        seen.add(item_id)
        ids.append(item_id)
        texts.append(text)
    return ids, texts


class HybridIndex:
    """Searchable items: search(query, k, mode) -> at most k hits, best first, each id once.

    The text goes to the embedder and the tokenizer as given; normalising it (script, width) is the
    caller's job, done the same way for items and queries.

    Without a dense index (`keyword_only`, while the vectors are still being made) it searches by
    keywords alone: 'hybrid' falls back to 'sparse', and 'dense' is refused.
    """

    def __init__(
        self,
        dense: DenseIndex | None,
        sparse: SparseIndex,
        embedder: Embedder | None = None,
        fusion: FusionConfig | None = None,
    ) -> None:
        if dense is not None and dense.ids != sparse.ids:
            raise IndexStateError(
                "the vector index and the BM25 index list different ids; run `policy-rag index --rebuild`."
            )
        self.dense = dense
        self.sparse = sparse
        self.embedder = embedder
        self.fusion = fusion or FusionConfig()

    @classmethod
    def build(
        cls,
        items: Sequence[tuple[str, str]],
        embedder: Embedder,
        tokenizer_config: TokenizerConfig | None = None,
        *,
        vectors: np.ndarray | None = None,
        dense_kind: str = "flat",
        fusion: FusionConfig | None = None,
        progress: Progress | None = None,
        batch_size: int = EMBED_CHUNK,
        tokenizer_cache_dir: str | os.PathLike[str] | None = None,
        keyword_texts: Sequence[str] | None = None,
    ) -> HybridIndex:
        """Embed (unless vectors, one row per item, are given) and tokenise the items, in memory.

        keyword_texts, one per item, is what BM25 indexes instead of the item's text, e.g. a heading
        plus the passage where only the passage itself is embedded.
        """
        ids, texts = check_items(items)
        if keyword_texts is not None and len(keyword_texts) != len(ids):
            raise ValueError(f"got {len(keyword_texts)} keyword texts for {len(ids)} items; pass one per item.")
        if vectors is None:
            vectors, _ = embed_with_cache(texts, embedder, batch_size=batch_size, progress=progress)
        tokenizer = JiebaTokenizer(tokenizer_config, cache_dir=tokenizer_cache_dir)
        dense = DenseIndex.build(ids, as_vectors(vectors, embedder.dimension, "document vectors"), kind=dense_kind)
        sparse = SparseIndex.build(ids, list(keyword_texts) if keyword_texts is not None else texts, tokenizer)
        return cls(dense, sparse, embedder, fusion)

    @property
    def ids(self) -> tuple[str, ...]:
        return self.sparse.ids

    @property
    def keyword_only(self) -> bool:
        """True while the index has no vectors yet: only keyword (BM25) search works."""
        return self.dense is None

    def __len__(self) -> int:
        return len(self.sparse.ids)

    def warm_up(self) -> None:
        """Load the tokenizer's dictionary now (about 0.3 s) instead of during the first search."""
        self.sparse.tokenizer.warm_up()

    def search(self, query: str, k: int, mode: SearchMode = "hybrid") -> list[Hit]:
        return self.search_many([query], k, mode)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int,
        mode: SearchMode = "hybrid",
        query_vectors: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
    ) -> list[list[Hit]]:
        """Hits for each query; query_vectors (one row per query) skip embedding when already at hand;
        allowed (a boolean mask over positions) restricts every search to those items, inside it.

        A query that is empty or only whitespace gets no hits; so does a sparse query with no known token.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(SEARCH_MODES)}.")
        results: list[list[Hit]] = [[] for _ in queries]
        asked = [i for i, query in enumerate(queries) if query.strip()]
        if k <= 0 or not asked:
            return results
        if self.dense is None:
            if mode == "dense":
                raise IndexStateError(
                    "the vector index is still being built, so only keyword search works; "
                    "run `policy-rag index` to finish it."
                )
            mode = "sparse"
        if mode == "sparse":
            for i in asked:
                results[i] = self.sparse.search(queries[i], k, allowed)
            return results

        depth = k if mode == "dense" else max(k, self.fusion.depth)
        vectors = query_vectors_for(queries, asked, query_vectors, self.embedder, self.dense.dimension)
        dense_hits = self.dense.search_vectors(vectors, depth, allowed)
        for i, hits in zip(asked, dense_hits):
            if mode == "dense":
                results[i] = hits
            else:
                results[i] = self.fusion.fuse(hits, self.sparse.search(queries[i], depth, allowed), limit=k)
        return results

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write ids, tokenizer settings, the FAISS index (if any) and the BM25 files into an existing folder."""
        folder = Path(folder)
        (folder / IDS_NAME).write_text(json.dumps(list(self.ids), ensure_ascii=False), encoding="utf-8")
        config = self.sparse.tokenizer.config.to_dict()
        (folder / TOKENIZER_NAME).write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
        if self.dense is not None:
            self.dense.save(folder / DENSE_NAME)
        (folder / SPARSE_DIR).mkdir()
        self.sparse.save(folder / SPARSE_DIR)

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        embedder: Embedder | None = None,
        fusion: FusionConfig | None = None,
        tokenizer_cache_dir: str | os.PathLike[str] | None = None,
        dense_params: Mapping[str, Any] | None = None,
        keyword_only: bool = False,
    ) -> HybridIndex:
        """Read what save wrote (no FAISS file when keyword_only); checking the folder against its
        manifest is the caller's job (see store)."""
        folder = Path(folder)
        try:
            ids = json.loads((folder / IDS_NAME).read_text(encoding="utf-8"))
            config = TokenizerConfig.from_dict(json.loads((folder / TOKENIZER_NAME).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            raise IndexStateError(
                f"the index files in {folder} are unreadable ({error}); run `policy-rag index --rebuild`."
            ) from error
        tokenizer = JiebaTokenizer(config, cache_dir=tokenizer_cache_dir)
        dense = None if keyword_only else DenseIndex.load(folder / DENSE_NAME, ids, params=dense_params)
        sparse = SparseIndex.load(folder / SPARSE_DIR, ids, tokenizer)
        return cls(dense, sparse, embedder, fusion)


def query_vectors_for(
    queries: Sequence[str], asked: list[int], given: np.ndarray | None, embedder: Embedder | None, dimension: int
) -> np.ndarray:
    """The vectors of queries[asked]: rows of `given` (one per query) when the caller embedded them,
    else embedded by `embedder`; ModelError for an index loaded without a model."""
    if given is not None:
        given = as_vectors(given, dimension, "query vectors")
        if given.shape[0] != len(queries):
            raise ValueError(f"got {given.shape[0]} query vectors for {len(queries)} queries; pass one per query.")
        return given[asked]
    if embedder is None:
        raise ModelError(
            "this index was loaded without an embedding model, so it can only search in 'sparse' mode; "
            "pass the model to load it for 'dense' or 'hybrid' search."
        )
    return as_vectors(embedder.embed_queries([queries[i] for i in asked]), dimension, "query vectors")
