"""The search index kept in Milvus (--milvus-uri) instead of the data folder: the same passages,
keyword texts and fingerprint as rag/indexing.py's folder index, in a Milvus collection named after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexStateError

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.milvus_index import MilvusIndex
    from index.milvus_store import MilvusTarget
    from rag.indexing import IndexInputs

Progress = Callable[..., Any]


def milvus_target(index_dir: Path, uri: str) -> MilvusTarget:
    """The index of this data folder's corpus in Milvus: its name comes from the index folder's name."""
    from index.milvus_store import MilvusTarget, collection_name

    return MilvusTarget(uri, collection_name(Path(index_dir).name))


def open_milvus_index(
    inputs: IndexInputs,
    index_dir: Path,
    uri: str,
    embedder: Embedder,
    *,
    repair: bool = False,
    rebuild: bool = False,
    progress: Progress | None = None,
    dense_kind: str = "flat",
    document_embedder: Embedder | None = None,
    batch_size: int | None = None,
    annotate: Callable[[Any], Mapping[str, Any]] | None = None,
    tokenizer_cache_dir: Path | None = None,
) -> MilvusIndex:
    """As rag.indexing.open_index, in Milvus: built on first use (reusing the folder index's vectors
    when there is one), otherwise loaded and checked, and rebuilt only when `repair` or `rebuild`."""
    from index.milvus_store import (
        build_milvus_index,
        folder_embeddings,
        has_milvus_index,
        load_milvus_index,
        milvus_dense_kind,
    )

    target = milvus_target(index_dir, uri)
    dense_kind = milvus_dense_kind(target, dense_kind, len(inputs.items))
    jieba_cache = tokenizer_cache_dir or Path(index_dir).parent / "jieba"
    if repair or rebuild or not has_milvus_index(target):
        index = build_milvus_index(
            target, inputs.items, document_embedder or embedder, inputs.fingerprint, inputs.tokenizer,
            keyword_texts=inputs.keyword_texts, dense_kind=dense_kind, progress=progress,
            force=rebuild, tokenizer_cache_dir=jieba_cache, seed_cache=None if rebuild else folder_embeddings(index_dir),
            annotate=annotate, **({} if batch_size is None else {"batch_size": batch_size}),
        )
        index.embedder = embedder
        return index
    index = load_milvus_index(target, embedder, inputs.fingerprint, tokenizer_cache_dir=jieba_cache)
    if index.dense.kind != dense_kind:
        index.close()
        raise IndexStateError(
            f"the index {target.where} uses {index.dense.kind} vector search, settings say {dense_kind}; "
            "run `policy-rag index` to rebuild it"
        )
    return index


def milvus_index_is_current(inputs: IndexInputs, index_dir: Path, uri: str, model_id: str, dense_kind: str) -> bool:
    from index.milvus_store import is_milvus_current, milvus_dense_kind

    target = milvus_target(index_dir, uri)
    kind = milvus_dense_kind(target, dense_kind, len(inputs.items))
    return is_milvus_current(target, inputs.fingerprint, model_id, inputs.tokenizer, kind)


def remove_milvus_index_leftovers(index_dir: Path, uri: str) -> bool:
    from index.milvus_store import remove_milvus_leftovers

    return remove_milvus_leftovers(milvus_target(index_dir, uri))
