"""An index root on disk: complete versions under versions/, and a CURRENT file naming the one in use.

A build writes a new version into a temporary folder, fsyncs it, renames it into place and only then
replaces CURRENT (os.replace), so a build killed at any moment leaves the previous version answering.
Leftovers of such a build are removed by the next one, or by remove_leftovers() (which
`policy-rag index` runs when nothing needs rebuilding).

    root/CURRENT                        "<build-id>\\n"
    root/versions/<build-id>/           manifest.json, ids.json, tokenizer.json, dense.faiss, sparse/,
                                        embeddings.npy, embedding_keys.json
    root/versions/.building-<build-id>/ a build in progress, or one that was killed
    root/embedding-shards/              vectors a build in progress has made so far (index/build.py)

A version may be keyword-only (no dense.faiss; its manifest's dense_kind is "none"): published by a
build that has much to embed, before embedding, so that keyword search works meanwhile.
Building itself is index/build.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.atomic import TEMP_SUFFIX, atomic_write_text, fsync_path
from index.embedding_cache import FILE_NAMES as CACHE_FILES
from index.embedding_cache import EmbeddingCache
from index.errors import IndexStateError
from index.hybrid import IDS_NAME, SPARSE_DIR, FusionConfig, HybridIndex
from index.manifest import KEYWORD_ONLY, MANIFEST_NAME, REBUILD, Manifest, sha256_file
from index.sparse import SparseIndex
from index.tokenize import JiebaTokenizer, TokenizerConfig

if TYPE_CHECKING:
    from index.embedder import Embedder

try:
    import fcntl
except ImportError:  # Windows: builds are not guarded against each other
    fcntl = None  # type: ignore[assignment]

CURRENT_NAME = "CURRENT"
VERSIONS_DIR = "versions"
LOCK_NAME = ".build.lock"
BUILDING_PREFIX = ".building-"
_BUILD_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")

logger = logging.getLogger(__name__)


def _new_build_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def _read_pointer(root: Path) -> str:
    """The build id CURRENT names; IndexStateError if there is no finished index at root."""
    try:
        build_id = (root / CURRENT_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexStateError(f"no index at {root}; run `policy-rag index`.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise IndexStateError(f"the index pointer {root / CURRENT_NAME} is unreadable ({error}); {REBUILD}.") from error
    if not _BUILD_ID.match(build_id):
        raise IndexStateError(f"the index pointer {root / CURRENT_NAME} is damaged ({build_id[:40]!r}); {REBUILD}.")
    return build_id


def _current_folder(root: Path) -> Path:
    build_id = _read_pointer(root)
    folder = root / VERSIONS_DIR / build_id
    if not folder.is_dir():
        raise IndexStateError(f"the index at {root} names version {build_id}, which is missing; {REBUILD}.")
    return folder


def read_manifest(root: str | os.PathLike[str]) -> Manifest:
    """The manifest of the version in use at root (for status displays); IndexStateError if there is none."""
    return Manifest.read(_current_folder(Path(root)))


def is_current(
    root: str | os.PathLike[str],
    corpus_hash: str,
    model_id: str,
    tokenizer_config: TokenizerConfig | None = None,
    dense_kind: str | None = None,
) -> bool:
    """True when the index at root is intact, complete (not keyword-only) and was built from this
    corpus, model, tokenizer settings and dense setting ("auto" or a kind, as asked).

    Reads only the manifest and checksums the data files: no model, no FAISS, no jieba.
    """
    config = tokenizer_config or TokenizerConfig()
    try:
        folder = _current_folder(Path(root))
        manifest = Manifest.read(folder)
        if (
            manifest.corpus_hash != corpus_hash
            or manifest.model_id != model_id
            or manifest.tokenizer.get("fingerprint") != config.fingerprint
            or manifest.keyword_only
            or (dense_kind is not None and not manifest.serves(dense_kind))
        ):
            return False
        manifest.verify_files(folder)
    except IndexStateError:
        return False
    return True


def load_index(
    root: str | os.PathLike[str],
    embedder: Embedder | str,
    expected_corpus_hash: str | None = None,
    *,
    fusion: FusionConfig | None = None,
    tokenizer_cache_dir: str | os.PathLike[str] | None = None,
) -> HybridIndex:
    """The index in use at root, checked against its manifest.

    embedder: the model for dense and hybrid search, or just its id to check the index and search 'sparse'.
    A keyword-only version loads as an index without vectors (HybridIndex.keyword_only), whatever the model.
    Raises IndexStateError, in words meant for the user, when there is no index, it is damaged, or it was
    built with another model, corpus or format.
    """
    root = Path(root)
    for attempt in range(2):
        build_id = _read_pointer(root)
        try:
            folder = root / VERSIONS_DIR / build_id
            return _load_version(root, folder, embedder, expected_corpus_hash, fusion, tokenizer_cache_dir)
        except IndexStateError:
            # A build that finished while we read may have removed the version we started on: retry once.
            if attempt == 0 and pointer_or_none(root) not in (None, build_id):
                continue
            raise
    raise AssertionError("unreachable")


def pointer_or_none(root: Path) -> str | None:
    try:
        return _read_pointer(root)
    except IndexStateError:
        return None


def _load_version(
    root: Path,
    folder: Path,
    embedder: Embedder | str,
    expected_corpus_hash: str | None,
    fusion: FusionConfig | None,
    tokenizer_cache_dir: str | os.PathLike[str] | None,
) -> HybridIndex:
    if not folder.is_dir():
        raise IndexStateError(f"the index at {root} names version {folder.name}, which is missing; {REBUILD}.")
    manifest = Manifest.read(folder)
    model_id = embedder if isinstance(embedder, str) else embedder.model_id
    # A keyword-only version has no vectors: any model may search it by keywords.
    if not manifest.keyword_only and manifest.model_id != model_id:
        raise IndexStateError(
            f"the index at {root} was built with model {manifest.model_id}, settings say {model_id}; {REBUILD}."
        )
    if not manifest.keyword_only and not isinstance(embedder, str) and int(embedder.dimension) != manifest.dimension:
        raise IndexStateError(
            f"the index at {root} holds {manifest.dimension}-dimensional vectors but model {model_id} makes "
            f"{embedder.dimension}-dimensional ones; {REBUILD}."
        )
    if expected_corpus_hash is not None and manifest.corpus_hash != expected_corpus_hash:
        raise IndexStateError(
            f"the index at {root} was built from other documents (corpus hash {manifest.corpus_hash[:12]}, "
            f"the documents now hash to {expected_corpus_hash[:12]}); run `policy-rag index` to update it."
        )
    # The embedding cache is for the next build, which checks it before reusing it (previous_cache):
    # at a million items it is gigabytes that a search never reads.
    manifest.verify_files(folder, [name for name in manifest.files if name not in CACHE_FILES])
    index = HybridIndex.load(
        folder,
        None if isinstance(embedder, str) else embedder,
        fusion=fusion,
        tokenizer_cache_dir=tokenizer_cache_dir,
        dense_params=manifest.dense_params,
        keyword_only=manifest.keyword_only,
    )
    if index.sparse.tokenizer.config.fingerprint != manifest.tokenizer.get("fingerprint"):
        raise IndexStateError(f"the index at {root} was tokenised under older rules than this program's; {REBUILD}.")
    dimension = 0 if index.dense is None else index.dense.dimension
    if len(index) != manifest.count or dimension != manifest.dimension:
        raise IndexStateError(
            f"the index at {root} holds {len(index)} items of dimension {dimension} but its manifest "
            f"says {manifest.count} of {manifest.dimension}; {REBUILD}."
        )
    return index


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One build at a time per root; the operating system releases the lock if the process dies."""
    if fcntl is None:
        yield
        return
    with open(root / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexStateError(
                f"another build of the index at {root} is running; wait for it to finish and try again."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_leftovers(root: str | os.PathLike[str]) -> bool:
    """Remove what killed builds left under root (unfinished versions, temporary files), unless a
    build is running now. False when one is, or when root holds no index."""
    root = Path(root)
    if not (root / CURRENT_NAME).is_file():
        return False
    try:
        with build_lock(root):
            remove_stale_versions(root, keep=pointer_or_none(root))
    except IndexStateError:
        return False  # another build holds the lock; its folder is not a leftover
    return True


def remove_stale_versions(root: Path, keep: str | None) -> None:
    """Remove every version folder but keep (builds that were killed, versions replaced) and partial files."""
    versions = root / VERSIONS_DIR
    if versions.is_dir():
        for entry in versions.iterdir():
            if entry.name == keep:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    for entry in root.iterdir():
        if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
            entry.unlink(missing_ok=True)


def _switch_pointer(root: Path, build_id: str) -> None:
    atomic_write_text(root / CURRENT_NAME, build_id + "\n")


def previous_cache(root: Path) -> EmbeddingCache | None:
    """The embeddings saved with the version in use, if they are intact; otherwise None (embed everything)."""
    try:
        folder = _current_folder(root)
        manifest = Manifest.read(folder)
        if not set(CACHE_FILES) <= set(manifest.files):
            return None
        manifest.verify_files(folder, list(CACHE_FILES))
        return EmbeddingCache.load(folder)
    except (IndexStateError, OSError, ValueError) as error:
        logger.debug("not reusing embeddings from %s: %s", root, error)
        return None


def _seal(folder: Path) -> dict[str, str]:
    """fsync every file and folder under folder; return the sha256 of each file by relative '/' path."""
    files: dict[str, str] = {}
    for directory, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            path = Path(directory) / name
            fsync_path(path)
            files[path.relative_to(folder).as_posix()] = sha256_file(path)
        fsync_path(directory)
    return files


def _library_versions() -> dict[str, str]:
    import bm25s
    import faiss
    import jieba
    import numpy

    return {
        "bm25s": bm25s.__version__,
        "faiss": faiss.__version__,
        "jieba": jieba.__version__,
        "numpy": numpy.__version__,
    }


def reusable_sparse(
    root: Path,
    corpus_hash: str,
    ids: Sequence[str],
    config: TokenizerConfig,
    tokenizer_cache_dir: str | os.PathLike[str] | None,
) -> SparseIndex | None:
    """The BM25 index of the version in use when it was built from these items and tokenizer settings
    (as a keyword-only version is, before its vectors are made), so a build need not tokenise again."""
    try:
        folder = _current_folder(root)
        manifest = Manifest.read(folder)
        if manifest.corpus_hash != corpus_hash or manifest.tokenizer.get("fingerprint") != config.fingerprint:
            return None
        manifest.verify_files(folder, [IDS_NAME, *(n for n in manifest.files if n.startswith(f"{SPARSE_DIR}/"))])
        if json.loads((folder / IDS_NAME).read_text(encoding="utf-8")) != list(ids):
            return None
        return SparseIndex.load(folder / SPARSE_DIR, ids, JiebaTokenizer(config, cache_dir=tokenizer_cache_dir))
    except (IndexStateError, OSError, ValueError) as error:
        logger.debug("not reusing the BM25 index of %s: %s", root, error)
        return None


def publish(
    root: Path,
    index: HybridIndex,
    *,
    model_id: str,
    corpus_hash: str,
    cache: EmbeddingCache | None,
    dense_setting: str,
    annotations: Mapping[str, Any] | None = None,
) -> str:
    """Write index (and the embedding cache) as a new version, switch CURRENT to it and remove the
    versions it replaces; its build id. The caller holds the build lock."""
    build_id = _new_build_id()
    staging = root / VERSIONS_DIR / f"{BUILDING_PREFIX}{build_id}"
    staging.mkdir(parents=True)
    dense = index.dense
    try:
        index.save(staging)
        if cache is not None and len(cache.keys):
            cache.save(staging)
        files = _seal(staging)
        Manifest(
            model_id=model_id,
            dimension=0 if dense is None else dense.dimension,
            corpus_hash=corpus_hash,
            count=len(index),
            dense_kind=KEYWORD_ONLY if dense is None else dense.kind,
            dense_params={"setting": dense_setting} | ({} if dense is None else dense.params),
            tokenizer=index.sparse.tokenizer.config.summary(),
            files=files,
            libraries=_library_versions(),
            build_id=build_id,
            annotations=dict(annotations or {}),
        ).write(staging)
        os.rename(staging, root / VERSIONS_DIR / build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_path(root / VERSIONS_DIR)
    _switch_pointer(root, build_id)
    remove_stale_versions(root, keep=build_id)
    return build_id


__all__ = ["CURRENT_NAME", "MANIFEST_NAME", "is_current", "load_index", "publish", "read_manifest", "remove_leftovers"]
