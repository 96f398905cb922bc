"""An index root on disk: complete versions under versions/, and a CURRENT file naming the one in use.

A build writes a new version into a temporary folder, fsyncs it, renames it into place and only then
replaces CURRENT (os.replace), so a build killed at any moment leaves the previous version answering.
Leftovers of such a build are removed by the next one, or by remove_leftovers() (which
`policy-rag index` runs when nothing needs rebuilding).

    root/CURRENT                        "<build-id>\\n"
    root/versions/<build-id>/           manifest.json, ids.json, tokenizer.json, dense.faiss, sparse/,
                                        embeddings.npy, embedding_keys.json
    root/versions/.building-<build-id>/ a build in progress, or one that was killed
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.atomic import TEMP_SUFFIX, atomic_write_text, fsync_path
from index.dense import DenseKind
from index.embedding_cache import FILE_NAMES as CACHE_FILES
from index.embedding_cache import EmbeddingCache, Progress, embed_with_cache
from index.errors import IndexStateError
from index.hybrid import FusionConfig, HybridIndex, check_items
from index.manifest import MANIFEST_NAME, REBUILD, Manifest, sha256_file
from index.tokenize import TokenizerConfig

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
    dense_kind: DenseKind | None = None,
) -> bool:
    """True when the index at root is intact and was built from this corpus, model and tokenizer settings.

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
            or (dense_kind is not None and manifest.dense_kind != dense_kind)
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
            if attempt == 0 and _pointer_or_none(root) not in (None, build_id):
                continue
            raise
    raise AssertionError("unreachable")


def _pointer_or_none(root: Path) -> str | None:
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
    if manifest.model_id != model_id:
        raise IndexStateError(
            f"the index at {root} was built with model {manifest.model_id}, settings say {model_id}; {REBUILD}."
        )
    if not isinstance(embedder, str) and int(embedder.dimension) != manifest.dimension:
        raise IndexStateError(
            f"the index at {root} holds {manifest.dimension}-dimensional vectors but model {model_id} makes "
            f"{embedder.dimension}-dimensional ones; {REBUILD}."
        )
    if expected_corpus_hash is not None and manifest.corpus_hash != expected_corpus_hash:
        raise IndexStateError(
            f"the index at {root} was built from other documents (corpus hash {manifest.corpus_hash[:12]}, "
            f"the documents now hash to {expected_corpus_hash[:12]}); run `policy-rag index` to update it."
        )
    manifest.verify_files(folder)
    index = HybridIndex.load(
        folder, None if isinstance(embedder, str) else embedder, fusion=fusion, tokenizer_cache_dir=tokenizer_cache_dir
    )
    if index.sparse.tokenizer.config.fingerprint != manifest.tokenizer.get("fingerprint"):
        raise IndexStateError(f"the index at {root} was tokenised under older rules than this program's; {REBUILD}.")
    if len(index) != manifest.count or index.dense.dimension != manifest.dimension:
        raise IndexStateError(
            f"the index at {root} holds {len(index)} items of dimension {index.dense.dimension} but its manifest "
            f"says {manifest.count} of {manifest.dimension}; {REBUILD}."
        )
    return index


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
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
        with _build_lock(root):
            _remove_stale_versions(root, keep=_pointer_or_none(root))
    except IndexStateError:
        return False  # another build holds the lock; its folder is not a leftover
    return True


def _remove_stale_versions(root: Path, keep: str | None) -> None:
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


def _previous_cache(root: Path) -> EmbeddingCache | None:
    """The embeddings saved with the version in use, if they are intact; otherwise None (embed everything)."""
    try:
        folder = _current_folder(root)
        Manifest.read(folder).verify_files(folder, list(CACHE_FILES))
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


def build_index(
    root: str | os.PathLike[str],
    items: Sequence[tuple[str, str]],
    embedder: Embedder,
    corpus_hash: str,
    tokenizer_config: TokenizerConfig | None = None,
    *,
    dense_kind: DenseKind = "flat",
    fusion: FusionConfig | None = None,
    progress: Progress | None = None,
    batch_size: int = 32,
    force: bool = False,
    tokenizer_cache_dir: str | os.PathLike[str] | None = None,
    keyword_texts: Sequence[str] | None = None,
    annotate: Callable[[HybridIndex], Mapping[str, Any]] | None = None,
) -> HybridIndex:
    """Make the index at root match items, embedding only texts the version in use has no vector for.

    annotate, if given, is called with the built index and what it returns is kept in the manifest's
    annotations (e.g. thresholds calibrated on this index).

    keyword_texts (one per item) is what BM25 indexes instead of the item texts; the caller's
    corpus_hash must cover them.

    corpus_hash is the caller's fingerprint of whatever produced the items. When corpus, model, tokenizer
    settings and dense kind are unchanged and the files are intact, the index in use is loaded and
    returned as it is. force=True rebuilds from scratch, reusing no stored vector.
    """
    root = Path(root)
    config = tokenizer_config or TokenizerConfig()
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        if not force and is_current(root, corpus_hash, embedder.model_id, config, dense_kind):
            return load_index(root, embedder, corpus_hash, fusion=fusion, tokenizer_cache_dir=tokenizer_cache_dir)
        _remove_stale_versions(root, keep=_pointer_or_none(root))

        ids, texts = check_items(items)
        cache = None if force else _previous_cache(root)
        vectors, cache = embed_with_cache(texts, embedder, cache, batch_size=batch_size, progress=progress)
        shown = progress or (lambda iterable, **_: iterable)
        for _ in shown([None], total=1, desc=f"Indexing {len(ids)} texts (keywords, vectors)"):
            index = HybridIndex.build(
                items, embedder, config, vectors=vectors, dense_kind=dense_kind, fusion=fusion,
                tokenizer_cache_dir=tokenizer_cache_dir, keyword_texts=keyword_texts,
            )

        build_id = _new_build_id()
        staging = root / VERSIONS_DIR / f"{BUILDING_PREFIX}{build_id}"
        staging.mkdir(parents=True)
        try:
            index.save(staging)
            cache.save(staging)
            files = _seal(staging)
            Manifest(
                model_id=embedder.model_id,
                dimension=int(embedder.dimension),
                corpus_hash=corpus_hash,
                count=len(ids),
                dense_kind=dense_kind,
                tokenizer=config.summary(),
                files=files,
                libraries=_library_versions(),
                build_id=build_id,
                annotations=dict(annotate(index)) if annotate else {},
            ).write(staging)
            os.rename(staging, root / VERSIONS_DIR / build_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_path(root / VERSIONS_DIR)
        _switch_pointer(root, build_id)
        _remove_stale_versions(root, keep=build_id)
        return index


__all__ = ["CURRENT_NAME", "MANIFEST_NAME", "build_index", "is_current", "load_index", "read_manifest"]
