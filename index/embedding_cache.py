"""Document vectors keyed by sha256(model id, text), so a rebuild embeds only texts it has not seen."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.dense import as_vectors
from index.errors import ModelError

if TYPE_CHECKING:
    from index.embedder import Embedder

Progress = Callable[..., Iterable[Any]]
"""A tqdm-like factory: progress(iterable, total=n, desc=text) yields the items of iterable. tqdm itself fits."""

VECTORS_NAME = "embeddings.npy"
KEYS_NAME = "embedding_keys.json"
FILE_NAMES = (VECTORS_NAME, KEYS_NAME)


def embedding_key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


def _no_progress(iterable: Iterable[Any], **_: Any) -> Iterable[Any]:
    return iterable


@dataclass(frozen=True, slots=True, eq=False)
class EmbeddingCache:
    """Row i of vectors is the document vector whose key is keys[i]."""

    keys: tuple[str, ...]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.keys):
            raise ValueError(
                f"an embedding cache needs one vector per key; got {len(self.keys)} keys and shape {self.vectors.shape}."
            )

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        np.save(folder / VECTORS_NAME, self.vectors, allow_pickle=False)
        (folder / KEYS_NAME).write_text(json.dumps(list(self.keys)), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> EmbeddingCache:
        folder = Path(folder)
        vectors = np.load(folder / VECTORS_NAME, allow_pickle=False)
        keys = json.loads((folder / KEYS_NAME).read_text(encoding="utf-8"))
        return cls(tuple(keys), np.ascontiguousarray(vectors, dtype=np.float32))


def embed_with_cache(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> tuple[np.ndarray, EmbeddingCache]:
    """Vectors aligned with texts, embedding only texts missing from cache (each distinct text once).

    Also returns the cache of exactly these texts, to save with the new index version.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive; got {batch_size}.")
    dimension = int(embedder.dimension)
    keys = [embedding_key(embedder.model_id, text) for text in texts]
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.vectors.shape[1] == dimension:
        position = {key: i for i, key in enumerate(cache.keys)}
        known = {key: cache.vectors[position[key]] for key in set(keys) if key in position}

    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in known:
            missing.setdefault(key, text)
    todo = list(missing.items())
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    report = progress or _no_progress
    for batch in report(batches, total=len(batches), desc=f"Embedding {len(todo)} texts"):
        vectors = as_vectors(
            embedder.embed_documents([text for _, text in batch]), dimension, f"vectors from {embedder.model_id}"
        )
        if vectors.shape[0] != len(batch):
            raise ModelError(
                f"the embedding model {embedder.model_id} returned {vectors.shape[0]} vectors for {len(batch)} texts; "
                "check the model."
            )
        for (key, _), vector in zip(batch, vectors):
            known[key] = vector

    unique_keys = tuple(dict.fromkeys(keys))
    matrix = np.stack([known[key] for key in unique_keys]) if unique_keys else np.empty((0, dimension), np.float32)
    row = {key: i for i, key in enumerate(unique_keys)}
    aligned = matrix[[row[key] for key in keys]] if keys else matrix
    return np.ascontiguousarray(aligned, dtype=np.float32), EmbeddingCache(unique_keys, matrix.astype(np.float32))

