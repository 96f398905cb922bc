"""The search index of a corpus: its passages, the policy-term dictionary, and building or loading
the index folder in the data directory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexStateError
from rag.passages import Passage, build_passages, keyword_text, passage_text

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.hybrid import HybridIndex
    from index.tokenize import TokenizerConfig
    from rag.calibration import Calibration
    from rag.corpus import Corpus

PASSAGE_SCHEME = "sentences+clauses-v5"
"""Part of the index fingerprint: change it when passages_of or passage_text change."""
TERMS_FILE = "terms.txt"

Progress = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class IndexInputs:
    passages: tuple[Passage, ...]
    items: tuple[tuple[str, str], ...]
    keyword_texts: tuple[str, ...]
    fingerprint: str
    tokenizer: TokenizerConfig


def policy_terms(corpus_dir: Path) -> tuple[str, ...]:
    """The user dictionary for jieba: corpus/terms.txt, one term a line, # for comments."""
    path = corpus_dir / TERMS_FILE
    if not path.exists():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def index_inputs(corpus: Corpus, corpus_dir: Path) -> IndexInputs:
    from index.tokenize import TokenizerConfig

    passages = tuple(build_passages(corpus.clauses))
    clauses = [corpus.clause(p.clause_id) for p in passages]
    items = tuple((p.id, passage_text(p, c)) for p, c in zip(passages, clauses))
    keywords = tuple(keyword_text(p, c) for p, c in zip(passages, clauses))
    tokenizer = TokenizerConfig(user_words=policy_terms(corpus_dir))
    digest = hashlib.sha256(f"{corpus.content_hash}\n{PASSAGE_SCHEME}\n{tokenizer.fingerprint}".encode())
    for (item_id, text), keyword in zip(items, keywords):
        digest.update(f"{item_id}\t{text}\t{keyword}\n".encode())
    return IndexInputs(passages, items, keywords, digest.hexdigest(), tokenizer)


def open_index(
    inputs: IndexInputs,
    index_dir: Path,
    embedder: Embedder,
    *,
    repair: bool = False,
    rebuild: bool = False,
    progress: Progress | None = None,
    dense_kind: str = "flat",
    tokenizer_cache_dir: Path | None = None,
    milvus_uri: str | None = None,
    document_embedder: Embedder | None = None,
    batch_size: int | None = None,
    defer_dense_min: int | None = None,
) -> HybridIndex:
    """The index for these inputs.

    Built when there is none yet (first run). An existing one is loaded and checked: when it is
    damaged, stale or made with another model, IndexStateError says so and what to run — unless
    `repair` (what `policy-rag index` does), which rebuilds it, re-embedding only new text.
    `rebuild` starts from scratch. (The CLI completes the `policy-rag index` its messages name with
    the options in effect.)
    With `milvus_uri` the index lives in Milvus (rag/index_milvus.py);
    `document_embedder` (e.g. one spread over Ray) embeds the passages a build needs, batch_size at a time.
    With `defer_dense_min`, a build with at least that many passages to embed only publishes a
    keyword-only index (HybridIndex.keyword_only) and leaves the vectors to `policy-rag index`.
    """
    if milvus_uri:
        from rag.index_milvus import open_milvus_index

        return open_milvus_index(  # type: ignore[return-value]  (the same interface, in Milvus)
            inputs, index_dir, milvus_uri, embedder, repair=repair, rebuild=rebuild, progress=progress,
            dense_kind=dense_kind, document_embedder=document_embedder, batch_size=batch_size,
            annotate=_calibration_annotation, tokenizer_cache_dir=tokenizer_cache_dir,
        )
    chunk = {} if batch_size is None else {"batch_size": batch_size}
    from index.build import build_index
    from index.store import CURRENT_NAME, load_index, read_manifest

    jieba_cache = tokenizer_cache_dir or index_dir.parent / "jieba"
    adopt_legacy_index(index_dir)
    if repair or rebuild or not (index_dir / CURRENT_NAME).exists():
        index = build_index(
            index_dir,
            inputs.items,
            document_embedder or embedder,
            inputs.fingerprint,
            inputs.tokenizer,
            progress=progress,
            force=rebuild,
            keyword_texts=inputs.keyword_texts,
            dense_kind=dense_kind,
            tokenizer_cache_dir=jieba_cache,
            annotate=_calibration_annotation,
            defer_dense_min=defer_dense_min,
            **chunk,
        )
        index.embedder = embedder
        return index
    index = load_index(index_dir, embedder, inputs.fingerprint, tokenizer_cache_dir=jieba_cache)
    built = read_manifest(index_dir)
    if not built.keyword_only and not built.serves(dense_kind):
        raise IndexStateError(
            f"the index at {index_dir} uses {built.dense_setting} vector search, settings say {dense_kind}; "
            "run `policy-rag index` to rebuild it"
        )
    return index


def adopt_legacy_index(index_dir: Path) -> bool:
    """Move an index of the older layout (one per data folder, at data_dir/index itself) to index_dir,
    the folder of this corpus, when it has none yet: its vectors are then reused by the next build
    (only texts it does not hold are embedded), instead of embedding everything again."""
    from index.store import CURRENT_NAME, VERSIONS_DIR

    legacy = index_dir.parent
    if index_dir.exists() or not (legacy / CURRENT_NAME).is_file() or not (legacy / VERSIONS_DIR).is_dir():
        return False
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(legacy / VERSIONS_DIR, index_dir / VERSIONS_DIR)
        os.rename(legacy / CURRENT_NAME, index_dir / CURRENT_NAME)
    except FileNotFoundError:  # another process moved it first
        return False
    (legacy / ".build.lock").unlink(missing_ok=True)
    return True


def built_fingerprint(index_dir: Path) -> str | None:
    """The fingerprint of the index version in use at index_dir, None if there is none (reads its
    manifest only)."""
    from index.store import read_manifest

    try:
        return read_manifest(index_dir).corpus_hash
    except (OSError, IndexStateError):
        return None


def index_is_current(
    inputs: IndexInputs, index_dir: Path, model_id: str, dense_kind: str = "flat", milvus_uri: str | None = None
) -> bool:
    """Whether the index folder (or Milvus index) already matches these inputs and model; reads no model and no index."""
    if milvus_uri:
        from rag.index_milvus import milvus_index_is_current

        return milvus_index_is_current(inputs, index_dir, milvus_uri, model_id, dense_kind)
    from index.store import is_current

    return is_current(index_dir, inputs.fingerprint, model_id, inputs.tokenizer, dense_kind)


def remove_index_leftovers(index_dir: Path, milvus_uri: str | None = None) -> bool:
    """Clear what a killed build left in the index folder (or Milvus), unless a build is running there now."""
    if milvus_uri:
        from rag.index_milvus import remove_milvus_index_leftovers

        return remove_milvus_index_leftovers(index_dir, milvus_uri)
    from index.store import remove_leftovers

    return remove_leftovers(index_dir)


def _calibration_annotation(index: HybridIndex) -> dict[str, Any]:
    from rag.calibration import CALIBRATION_KEY, calibrate

    return {CALIBRATION_KEY: calibrate(index).to_json()}


def index_calibration(index_dir: Path, index: HybridIndex) -> Calibration:
    """The thresholds calibrated when the index in use was built; an index from before calibration
    was kept is calibrated now (a second or so), without changing its folder."""
    from index.store import read_manifest
    from rag.calibration import CALIBRATION_KEY, Calibration, calibrate

    annotations = getattr(index, "annotations", None)  # a Milvus index carries its manifest's
    stored = (read_manifest(index_dir).annotations if annotations is None else annotations).get(CALIBRATION_KEY)
    if stored:
        try:
            return Calibration.from_json(stored)
        except (KeyError, TypeError, ValueError):
            pass  # damaged or of another shape: calibrate again
    return calibrate(index)
