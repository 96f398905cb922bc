"""Building an index version (index/store.py keeps the versions): what is already embedded is reused,
the rest is embedded in chunks written to disk as they finish, so a killed build continues where it
stopped; a build with much to embed first publishes a keyword-only version, so that keyword search
works while the vectors are made; the vector index is chosen by size ("auto") and tuned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index import store
from index.dense import DenseIndex
from index.embedder import available_cpus
from index.embedding_cache import EMBED_CHUNK, Progress, ShardStore, plan_embedding
from index.hybrid import FusionConfig, HybridIndex, check_items
from index.sparse import SparseIndex
from index.tokenize import JiebaTokenizer, TokenizerConfig

if TYPE_CHECKING:
    from index.embedder import Embedder

SHARDS_DIR = "embedding-shards"
KEYWORDS_FIRST_MIN = 2_000
"""A build with at least this many texts to embed (a minute or more on 2 cores) publishes a
keyword-only version first."""


def build_index(
    root: str | os.PathLike[str],
    items: Sequence[tuple[str, str]],
    embedder: Embedder,
    corpus_hash: str,
    tokenizer_config: TokenizerConfig | None = None,
    *,
    dense_kind: str = "flat",
    fusion: FusionConfig | None = None,
    progress: Progress | None = None,
    batch_size: int = EMBED_CHUNK,
    force: bool = False,
    tokenizer_cache_dir: str | os.PathLike[str] | None = None,
    keyword_texts: Sequence[str] | None = None,
    annotate: Callable[[HybridIndex], Mapping[str, Any]] | None = None,
    keywords_first: bool | None = None,
    defer_dense_min: int | None = None,
    workers: int | None = None,
) -> HybridIndex:
    """Make the index at root match items, embedding only texts that neither the version in use nor
    an unfinished build has a vector for.

    corpus_hash is the caller's fingerprint of whatever produced the items. When corpus, model,
    tokenizer settings and dense setting are unchanged and the files are intact, the index in use is
    loaded and returned as it is. force=True embeds everything again.

    keyword_texts (one per item) is what BM25 indexes instead of the item texts; the caller's
    corpus_hash must cover them. dense_kind is "flat", "ivf", "hnsw" or "auto" (index/dense.py).
    annotate, if given, is called with the built index and what it returns is kept in the manifest's
    annotations (e.g. thresholds calibrated on this index). keywords_first publishes a keyword-only
    version before embedding (default: when there are KEYWORDS_FIRST_MIN texts or more to embed).
    defer_dense_min: with at least this many texts to embed, stop after publishing the keyword-only
    version and return it (HybridIndex.keyword_only); the next build makes the vectors.
    workers: processes that embed (default: one per CPU, for embedders that can be copied into them).
    """
    root = Path(root)
    config = tokenizer_config or TokenizerConfig()
    root.mkdir(parents=True, exist_ok=True)
    with store.build_lock(root):
        if not force and store.is_current(root, corpus_hash, embedder.model_id, config, dense_kind):
            return store.load_index(root, embedder, corpus_hash, fusion=fusion, tokenizer_cache_dir=tokenizer_cache_dir)
        store.remove_stale_versions(root, keep=store.pointer_or_none(root))

        ids, texts = check_items(items)
        keywords = list(keyword_texts) if keyword_texts is not None else texts
        if len(keywords) != len(ids):
            raise ValueError(f"got {len(keywords)} keyword texts for {len(ids)} items; pass one per item.")
        shards = ShardStore(root / SHARDS_DIR)
        if force:
            shards.clear()
        plan = plan_embedding(texts, embedder, None if force else store.previous_cache(root), shards)
        sparse = store.reusable_sparse(root, corpus_hash, ids, config, tokenizer_cache_dir)
        defer = defer_dense_min is not None and len(plan.todo) >= defer_dense_min
        if defer or (keywords_first if keywords_first is not None else len(plan.todo) >= KEYWORDS_FIRST_MIN):
            if sparse is None:
                sparse = SparseIndex.build(ids, keywords, JiebaTokenizer(config, cache_dir=tokenizer_cache_dir))
                store.publish(
                    root, HybridIndex(None, sparse, embedder, fusion), model_id=embedder.model_id,
                    corpus_hash=corpus_hash, cache=plan.cache(), dense_setting=dense_kind,
                )
            if defer:
                return store.load_index(root, embedder, corpus_hash, fusion=fusion, tokenizer_cache_dir=tokenizer_cache_dir)
        plan.run(embedder, batch_size, progress, shards, workers or available_cpus())
        cache = plan.cache()
        dense = DenseIndex.build(
            ids, plan.vectors(cache), kind=dense_kind, tuning_queries=_tuning_queries(embedder, texts, dense_kind)
        )
        if sparse is None:
            sparse = SparseIndex.build(ids, keywords, JiebaTokenizer(config, cache_dir=tokenizer_cache_dir))
        index = HybridIndex(dense, sparse, embedder, fusion)
        store.publish(
            root, index, model_id=embedder.model_id, corpus_hash=corpus_hash, cache=cache,
            dense_setting=dense_kind, annotations=annotate(index) if annotate else None,
        )
        shards.clear()
        return index


def _tuning_queries(embedder: Embedder, texts: Sequence[str], dense_kind: str) -> np.ndarray | None:
    """For an approximate index: the query vectors of the passages its tuning asks about (index/ann.py)."""
    from index.ann import tuning_rows
    from index.dense import resolve_kind

    if resolve_kind(dense_kind, len(texts)) == "flat":
        return None
    return embedder.embed_queries([texts[i] for i in tuning_rows(len(texts))])


def build_keyword_index(
    root: str | os.PathLike[str],
    items: Sequence[tuple[str, str]],
    model_id: str,
    corpus_hash: str,
    tokenizer_config: TokenizerConfig | None = None,
    *,
    tokenizer_cache_dir: str | os.PathLike[str] | None = None,
    keyword_texts: Sequence[str] | None = None,
    dense_setting: str = "flat",
) -> HybridIndex:
    """Publish a keyword-only version of items at root without embedding anything (seconds, where
    embedding a large library takes hours): keyword search works at once, and the next build_index
    adds the vectors. The vectors of the version it replaces are kept for that build.

    model_id is recorded for the build that follows; a complete index of the same items is left as it is.
    """
    root = Path(root)
    config = tokenizer_config or TokenizerConfig()
    root.mkdir(parents=True, exist_ok=True)
    with store.build_lock(root):
        if store.is_current(root, corpus_hash, model_id, config):
            return store.load_index(root, model_id, corpus_hash, tokenizer_cache_dir=tokenizer_cache_dir)
        store.remove_stale_versions(root, keep=store.pointer_or_none(root))
        ids, texts = check_items(items)
        keywords = list(keyword_texts) if keyword_texts is not None else texts
        if len(keywords) != len(ids):
            raise ValueError(f"got {len(keywords)} keyword texts for {len(ids)} items; pass one per item.")
        sparse = SparseIndex.build(ids, keywords, JiebaTokenizer(config, cache_dir=tokenizer_cache_dir))
        index = HybridIndex(None, sparse)
        store.publish(
            root, index, model_id=model_id, corpus_hash=corpus_hash, cache=store.previous_cache(root),
            dense_setting=dense_setting,
        )
        return index
