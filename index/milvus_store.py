"""An index kept in Milvus: one collection per version, switched atomically, with a manifest.

Where it lives (a Milvus Lite file or a server URL, and the index's name) is a MilvusTarget
(index/milvus_target.py).

    <name>__v<build-id>          one collection per version, its manifest (JSON) as its description
    alias <name>                 on a server: the version in use, switched by alter_alias
    <db file>.pointers/<name>    on Milvus Lite (2.5 has no aliases): the version in use, a file
                                 replaced atomically (index/atomic.py)

A build writes a new collection, then switches the alias or pointer. Readers resolve it once, when they
load, and keep using that collection: a build keeps the version it replaced (readers may still use
it) and drops older ones and those of killed builds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.dense import EXACT_MAX_VECTORS, DenseIndex, as_vectors
from index.embedder import available_cpus
from index.embedding_cache import (
    EMBED_CHUNK,
    EmbeddingCache,
    Progress,
    embed_with_cache,
    embedding_key,
)
from index.errors import IndexStateError
from index.hybrid import FusionConfig, check_items
from index.manifest import REBUILD, utc_now
from index.milvus_index import (
    ANALYZERS,
    DENSE,
    KEY,
    MilvusDense,
    MilvusIndex,
    MilvusSparse,
    create_collection,
    insert_rows,
    read_columns,
    read_ids,
)
from index.milvus_target import (
    VERSION_MARK,
    MilvusTarget,
    collection_name,
    connect,
    current_version,
    drop_versions,
    milvus_errors,
    short_error,
    switch_version,
)
from index.tokenize import JiebaTokenizer, TokenizerConfig

if TYPE_CHECKING:
    from index.embedder import Embedder

FORMAT = "policyqa-milvus-index"
FORMAT_VERSION = 1
BM25_K1, BM25_B = 1.5, 0.75
"""The same BM25 parameters as index/sparse.py, so both engines rank alike."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MilvusManifest:
    """What a version collection holds and how it was built; kept as the collection's description."""

    model_id: str
    dimension: int
    corpus_hash: str
    count: int
    dense_kind: str
    analyzer: str
    tokenizer: Mapping[str, Any]
    bm25: Mapping[str, float] = field(default_factory=lambda: {"k1": BM25_K1, "b": BM25_B})
    libraries: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, Any] = field(default_factory=dict)
    previous: str = ""
    built_at: str = field(default_factory=utc_now)
    build_id: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @property
    def tokenizer_config(self) -> TokenizerConfig:
        return TokenizerConfig.from_dict(self.tokenizer)

    @classmethod
    def parse(cls, text: str, where: str) -> MilvusManifest:
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            raise IndexStateError(f"the Milvus collection {where} has no manifest of this program; {REBUILD}.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise IndexStateError(f"the Milvus collection {where} has no manifest of this program; {REBUILD}.")
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexStateError(
                f"the Milvus collection {where} has format version {data.get('format_version')!r} and this program "
                f"reads version {FORMAT_VERSION}; {REBUILD}."
            )
        try:
            manifest = cls(**data)
            manifest.tokenizer_config  # noqa: B018  (checks the stored tokenizer settings)
        except (TypeError, ValueError, KeyError) as error:
            raise IndexStateError(f"the manifest of the Milvus collection {where} is damaged ({error}); {REBUILD}.") from error
        return manifest


def _manifest(client: Any, collection: str) -> MilvusManifest:
    try:
        description = client.describe_collection(collection).get("description", "")
    except milvus_errors() as error:
        raise IndexStateError(f"the index version {collection} is missing from Milvus ({short_error(error)}); {REBUILD}.") from error
    return MilvusManifest.parse(description, collection)


def _libraries(client: Any, target: MilvusTarget) -> dict[str, str]:
    import jieba
    import pymilvus

    versions = {"pymilvus": pymilvus.__version__, "jieba": jieba.__version__, "numpy": np.__version__}
    if target.is_server:
        with contextlib.suppress(*milvus_errors()):
            versions["milvus"] = str(client.get_server_version())
    else:
        versions["milvus-lite"] = metadata.version("milvus-lite")
    return versions


@dataclass(frozen=True, slots=True)
class _VectorsView:
    """What `annotate` sees before the collection is written: the model and exact search over the vectors."""

    embedder: Embedder
    dense: DenseIndex

    @property
    def ids(self) -> tuple[str, ...]:
        return self.dense.ids

    def __len__(self) -> int:
        return len(self.dense.ids)


def milvus_dense_kind(target: MilvusTarget, setting: str, count: int) -> str:
    """The kind a dense setting means in Milvus: "auto" is exact search for Milvus Lite (it has no
    other) and, on a server, exact up to EXACT_MAX_VECTORS vectors and HNSW beyond, as for FAISS."""
    if setting != "auto":
        return setting
    return "flat" if not target.is_server or count <= EXACT_MAX_VECTORS else "hnsw"


def build_milvus_index(
    target: MilvusTarget,
    items: Sequence[tuple[str, str]],
    embedder: Embedder,
    corpus_hash: str,
    tokenizer_config: TokenizerConfig | None = None,
    *,
    keyword_texts: Sequence[str] | None = None,
    dense_kind: str = "flat",
    analyzer: str = "tokens",
    fusion: FusionConfig | None = None,
    progress: Progress | None = None,
    batch_size: int = EMBED_CHUNK,
    workers: int | None = None,
    force: bool = False,
    tokenizer_cache_dir: str | Path | None = None,
    seed_cache: EmbeddingCache | None = None,
    annotate: Callable[[Any], Mapping[str, Any]] | None = None,
) -> MilvusIndex:
    """Make the index at target match items, as index.store.build_index does for a folder.

    Missing vectors are embedded batch_size texts at a time, by `workers` processes (one per CPU by
    default, for embedders that can be copied into them). Vectors are reused from the version in use (or, failing that, from seed_cache, e.g. the local
    FAISS index's) for texts they hold, so only new text is embedded. annotate is called with a view
    (.embedder, .dense: exact search over the new vectors, .ids) and what it returns is kept in the
    manifest.
    """
    if analyzer not in ANALYZERS:
        raise ValueError(f"unknown keyword analyzer {analyzer!r}; choose one of {', '.join(ANALYZERS)}.")
    dense_kind = milvus_dense_kind(target, dense_kind, len(items))
    if not target.is_server and dense_kind != "flat":
        raise IndexStateError(
            f"Milvus Lite searches vectors exactly only (FLAT), not {dense_kind}; use --dense-index flat with "
            "a .db file, or a Milvus server for approximate search."
        )
    config = tokenizer_config or TokenizerConfig()
    client, close = connect(target)
    try:
        current = current_version(client, target)
        if not force and current and _matches(client, current, corpus_hash, embedder.model_id, config, dense_kind, analyzer):
            return _open(client, close, target, current, embedder, corpus_hash, fusion, tokenizer_cache_dir)
        drop_versions(client, target, keep={current} if current else set())
        ids, texts = check_items(items)
        keywords = list(keyword_texts) if keyword_texts is not None else texts
        if len(keywords) != len(ids):
            raise ValueError(f"got {len(keywords)} keyword texts for {len(ids)} items; pass one per item.")
        cache = None if force else _stored_cache(client, target, current) or seed_cache
        vectors, _ = embed_with_cache(texts, embedder, cache, batch_size=batch_size, progress=progress,
                                      workers=workers or available_cpus())
        vectors = as_vectors(vectors, int(embedder.dimension), "document vectors")
        tokenizer = JiebaTokenizer(config, cache_dir=tokenizer_cache_dir)
        if analyzer == "tokens":
            keywords = [" ".join(tokenizer.tokenize(text)) for text in keywords]
        annotations = dict(annotate(_VectorsView(embedder, DenseIndex.build(ids, vectors)))) if annotate else {}
        build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}_{secrets.token_hex(3)}"
        collection = f"{target.name}{VERSION_MARK}{build_id}"
        manifest = MilvusManifest(
            model_id=embedder.model_id, dimension=int(embedder.dimension), corpus_hash=corpus_hash, count=len(ids),
            dense_kind=dense_kind, analyzer=analyzer, tokenizer=config.to_dict(), libraries=_libraries(client, target),
            annotations=annotations, previous=current or "", build_id=build_id,
        )
        try:
            create_collection(client, collection, int(embedder.dimension), analyzer=analyzer,
                              stopwords=sorted(config.stopwords), dense_kind=dense_kind, k1=BM25_K1, b=BM25_B,
                              description=manifest.to_json())
            keys = [embedding_key(embedder.model_id, text) for text in texts]
            insert_rows(client, collection, ids, keys, keywords, vectors, progress)
            client.load_collection(collection)
            stored = client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"]
            if stored != len(ids):
                raise IndexStateError(f"Milvus holds {stored} of the {len(ids)} items written to {collection}; {REBUILD}.")
        except BaseException:
            drop_versions(client, target, keep={current} if current else set())
            raise
        switch_version(client, target, collection)
        drop_versions(client, target, keep={collection, current} if current else {collection})
        index = _assemble(client, close, collection, tuple(ids), manifest, tokenizer, embedder, fusion)
        return index
    except BaseException:
        close()
        raise


def _matches(
    client: Any, collection: str, corpus_hash: str, model_id: str, config: TokenizerConfig, dense_kind: str | None,
    analyzer: str | None,
) -> bool:
    try:
        manifest = _manifest(client, collection)
    except IndexStateError:
        return False
    return (
        manifest.corpus_hash == corpus_hash
        and manifest.model_id == model_id
        and manifest.tokenizer_config.fingerprint == config.fingerprint
        and (dense_kind is None or manifest.dense_kind == dense_kind)
        and (analyzer is None or manifest.analyzer == analyzer)
    )


def _stored_cache(client: Any, target: MilvusTarget, collection: str | None) -> EmbeddingCache | None:
    """The vectors of the version in use, by embedding key; None when there is none or it is unreadable."""
    if collection is None:
        return None
    try:
        _, columns = read_columns(client, collection, [KEY, DENSE])
        if not columns[KEY]:
            return None
        return EmbeddingCache(tuple(columns[KEY]), np.asarray(columns[DENSE], dtype=np.float32))
    except (*milvus_errors(), ValueError, KeyError) as error:
        logger.debug("not reusing vectors from %s: %s", target.where, error)
        return None


def _assemble(
    client: Any, close: Callable[[], None], collection: str, ids: tuple[str, ...], manifest: MilvusManifest,
    tokenizer: JiebaTokenizer, embedder: Embedder | None, fusion: FusionConfig | None,
) -> MilvusIndex:
    dense = MilvusDense(client, collection, ids, manifest.dimension, manifest.dense_kind)
    sparse = MilvusSparse(client, collection, ids, tokenizer, manifest.analyzer, float(manifest.bm25["k1"]))
    return MilvusIndex(client, collection, ids, dense, sparse, embedder, fusion, dict(manifest.annotations), close)


def is_milvus_current(
    target: MilvusTarget, corpus_hash: str, model_id: str, tokenizer_config: TokenizerConfig | None = None,
    dense_kind: str | None = None, analyzer: str | None = "tokens",
) -> bool:
    """True when the version in use at target was built from this corpus, model and settings (reads its manifest)."""
    client, close = connect(target)
    try:
        current = current_version(client, target)
        return bool(current) and _matches(
            client, current, corpus_hash, model_id, tokenizer_config or TokenizerConfig(), dense_kind, analyzer
        )
    finally:
        close()


def load_milvus_index(
    target: MilvusTarget,
    embedder: Embedder | str,
    expected_corpus_hash: str | None = None,
    *,
    fusion: FusionConfig | None = None,
    tokenizer_cache_dir: str | Path | None = None,
) -> MilvusIndex:
    """The version in use at target, checked against its manifest; IndexStateError in words for the user
    when there is none, or it was built with another model or from other documents."""
    client, close = connect(target)
    try:
        current = current_version(client, target)
        if current is None:
            raise IndexStateError(f"no index named {target.where}; run `policy-rag index`.")
        return _open(client, close, target, current, embedder, expected_corpus_hash, fusion, tokenizer_cache_dir)
    except BaseException:
        close()
        raise


def _open(
    client: Any, close: Callable[[], None], target: MilvusTarget, collection: str, embedder: Embedder | str,
    expected_corpus_hash: str | None, fusion: FusionConfig | None, tokenizer_cache_dir: str | Path | None,
) -> MilvusIndex:
    manifest = _manifest(client, collection)
    model_id = embedder if isinstance(embedder, str) else embedder.model_id
    if manifest.model_id != model_id:
        raise IndexStateError(
            f"the index {target.where} was built with model {manifest.model_id}, settings say {model_id}; {REBUILD}."
        )
    if not isinstance(embedder, str) and int(embedder.dimension) != manifest.dimension:
        raise IndexStateError(
            f"the index {target.where} holds {manifest.dimension}-dimensional vectors but model {model_id} makes "
            f"{embedder.dimension}-dimensional ones; {REBUILD}."
        )
    if expected_corpus_hash is not None and manifest.corpus_hash != expected_corpus_hash:
        raise IndexStateError(
            f"the index {target.where} was built from other documents (corpus hash {manifest.corpus_hash[:12]}, "
            f"the documents now hash to {expected_corpus_hash[:12]}); run `policy-rag index` to update it."
        )
    try:
        client.load_collection(collection)
    except Exception as error:
        raise IndexStateError(f"the index version {collection} cannot be loaded in Milvus ({short_error(error)}); {REBUILD}.") from error
    ids = read_ids(client, collection)
    if len(ids) != manifest.count:
        raise IndexStateError(
            f"the index {target.where} holds {len(ids)} items but its manifest says {manifest.count}; {REBUILD}."
        )
    tokenizer = JiebaTokenizer(manifest.tokenizer_config, cache_dir=tokenizer_cache_dir)
    return _assemble(client, close, collection, ids, manifest, tokenizer,
                     None if isinstance(embedder, str) else embedder, fusion)


def remove_milvus_leftovers(target: MilvusTarget) -> bool:
    """Drop the versions that neither the version in use nor the one it replaced; False when there is no index."""
    client, close = connect(target)
    try:
        current = current_version(client, target)
        if current is None:
            return False
        keep = {current}
        try:
            if previous := _manifest(client, current).previous:
                keep.add(previous)
        except IndexStateError:
            pass
        drop_versions(client, target, keep)
        return True
    finally:
        close()


def has_milvus_index(target: MilvusTarget) -> bool:
    """Whether target names a version in use (built at least once)."""
    client, close = connect(target)
    try:
        return current_version(client, target) is not None
    finally:
        close()


def folder_embeddings(root: str | Path) -> EmbeddingCache | None:
    """The vectors saved with the FAISS index in use at root (index/store.py), when intact: a first
    Milvus build reuses them instead of embedding everything again."""
    from index.embedding_cache import FILE_NAMES
    from index.manifest import Manifest
    from index.store import CURRENT_NAME, VERSIONS_DIR

    try:
        folder = Path(root) / VERSIONS_DIR / (Path(root) / CURRENT_NAME).read_text(encoding="utf-8").strip()
        Manifest.read(folder).verify_files(folder, list(FILE_NAMES))
        return EmbeddingCache.load(folder)
    except (IndexStateError, OSError, ValueError):
        return None


def read_milvus_manifest(target: MilvusTarget) -> MilvusManifest:
    """The manifest of the version in use (for status displays); IndexStateError when there is none."""
    client, close = connect(target)
    try:
        current = current_version(client, target)
        if current is None:
            raise IndexStateError(f"no index named {target.where}; run `policy-rag index`.")
        return _manifest(client, current)
    finally:
        close()


__all__ = [
    "MilvusManifest",
    "MilvusTarget",
    "build_milvus_index",
    "collection_name",
    "folder_embeddings",
    "has_milvus_index",
    "is_milvus_current",
    "load_milvus_index",
    "read_milvus_manifest",
    "remove_milvus_leftovers",
]
