"""Document vectors keyed by sha256(model id, text), so a build embeds only texts it has not seen.

Two places keep them: each index version holds the vectors of its own items (embeddings.npy and
embedding_keys.json), and a build in progress writes what it embeds to shards as each chunk
finishes (ShardStore), so a build that is killed continues from its last finished chunk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
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
SHARD_PREFIX = "shard-"
SHARD_SUFFIX = ".npz"

EMBED_CHUNK = 512
"""Texts embedded per call and per shard: large enough for grouping by length to leave little padding,
small enough that a killed build loses under a minute of work."""
POOL_MIN_CHUNKS = 4
"""Worker processes start only for at least this many chunks: starting them costs a few seconds."""

logger = logging.getLogger(__name__)


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


class ShardStore:
    """Vectors written as they are made, one file per finished chunk (keys and vectors together,
    renamed into place whole), so whatever a killed build finished is found by the next one."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def shards(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.name.startswith(SHARD_PREFIX) and p.suffix == SHARD_SUFFIX)

    def read(self, dimension: int) -> dict[str, np.ndarray]:
        """Key -> vector from every intact shard of this dimension; damaged shards are skipped."""
        found: dict[str, np.ndarray] = {}
        for path in self.shards():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if vectors.ndim != 2 or vectors.shape != (len(keys), dimension) or not np.isfinite(vectors).all():
                    raise ValueError(f"shape {vectors.shape} for {len(keys)} keys")
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                logger.debug("skipping the damaged embedding shard %s: %s", path, error)
                continue
            found.update(zip(keys.astype(str).tolist(), vectors.astype(np.float32, copy=False)))
        return found

    def write(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{SHARD_PREFIX}{len(self.shards()):06d}-{secrets.token_hex(3)}{SHARD_SUFFIX}"
        temporary = self.folder / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=np.array(keys, dtype="S64"), vectors=np.asarray(vectors, dtype=np.float32))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / name)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(slots=True, eq=False)
class EmbeddingPlan:
    """What embedding a list of texts takes: the vectors already known (from a previous version and
    from a killed build's shards) and the distinct texts still to embed."""

    keys: list[str]
    """One per text: embedding_key(model id, text)."""
    known: dict[str, np.ndarray]
    todo: list[tuple[str, str]]
    """(key, text) of each distinct text without a vector yet."""
    resumed: int
    """How many of the known vectors a killed build had made (found in the shards)."""
    dimension: int

    def run(
        self,
        embedder: Embedder,
        batch_size: int = EMBED_CHUNK,
        progress: Progress | None = None,
        shards: ShardStore | None = None,
        workers: int = 1,
    ) -> None:
        """Embed the texts to do, batch_size at a time, each finished batch written to shards."""
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive; got {batch_size}.")
        chunks = [self.todo[i : i + batch_size] for i in range(0, len(self.todo), batch_size)]
        desc = f"Embedding {len(self.todo)} texts" + (f" ({self.resumed} done before)" if self.resumed else "")
        bar = _Ticker((progress or _no_progress)(range(len(self.todo)), total=len(self.todo), desc=desc))
        for chunk, vectors in _embedded(chunks, embedder, workers):
            vectors = as_vectors(vectors, self.dimension, f"vectors from {embedder.model_id}")
            if vectors.shape[0] != len(chunk):
                raise ModelError(
                    f"the embedding model {embedder.model_id} returned {vectors.shape[0]} vectors for "
                    f"{len(chunk)} texts; check the model."
                )
            if shards is not None:
                shards.write([key for key, _ in chunk], vectors)
            for (key, _), vector in zip(chunk, vectors):
                self.known[key] = vector
            bar.advance(len(chunk))
        bar.close()
        self.todo = []

    def cache(self) -> EmbeddingCache:
        """The known vectors of these texts, each distinct text once."""
        unique = tuple(key for key in dict.fromkeys(self.keys) if key in self.known)
        matrix = np.stack([self.known[key] for key in unique]) if unique else np.empty((0, self.dimension), np.float32)
        return EmbeddingCache(unique, np.ascontiguousarray(matrix, dtype=np.float32))

    def vectors(self, cache: EmbeddingCache | None = None) -> np.ndarray:
        """One row per text (after run); cache, if given, is self.cache() already made."""
        cache = cache or self.cache()
        if self.todo or len(cache.keys) != len(set(self.keys)):
            raise ValueError("some texts have no vector yet; run the plan first.")
        row = {key: i for i, key in enumerate(cache.keys)}
        aligned = cache.vectors[[row[key] for key in self.keys]] if self.keys else cache.vectors
        return np.ascontiguousarray(aligned, dtype=np.float32)


class _Ticker:
    """Advances a progress iterable by a batch at a time: tqdm's update(n) when it has one (so its rate
    and ETA count texts from the first batch on), else by taking n items."""

    def __init__(self, bar: Iterable[Any]) -> None:
        self._bar = bar
        self._items = iter(bar)

    def advance(self, count: int) -> None:
        if hasattr(self._bar, "update"):
            self._bar.update(count)
        else:
            for _ in range(count):
                next(self._items, None)

    def close(self) -> None:
        if hasattr(self._bar, "close"):
            self._bar.close()
        else:
            for _ in self._items:  # let a generator finish
                pass


def plan_embedding(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    shards: ShardStore | None = None,
) -> EmbeddingPlan:
    dimension = int(embedder.dimension)
    keys = [embedding_key(embedder.model_id, text) for text in texts]
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.vectors.shape[1] == dimension:
        position = {key: i for i, key in enumerate(cache.keys)}
        known = {key: cache.vectors[position[key]] for key in set(keys) if key in position}
    resumed = 0
    if shards is not None:
        wanted = set(keys)
        found = {k: v for k, v in shards.read(dimension).items() if k in wanted and k not in known}
        resumed = len(found)
        known.update(found)
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in known:
            missing.setdefault(key, text)
    return EmbeddingPlan(keys, known, list(missing.items()), resumed, dimension)


def embed_with_cache(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    batch_size: int = EMBED_CHUNK,
    progress: Progress | None = None,
    *,
    shards: ShardStore | None = None,
    workers: int = 1,
) -> tuple[np.ndarray, EmbeddingCache]:
    """Vectors aligned with texts, embedding only texts found neither in cache nor in shards (each
    distinct text once), batch_size texts at a time, each finished batch written to shards.

    progress counts texts; a resumed build says how many it found done. workers > 1 embeds in that
    many processes when the embedder can be copied into them (see index/embed_pool.py).
    Also returns the cache of exactly these texts, to save with the new index version.
    """
    plan = plan_embedding(texts, embedder, cache, shards)
    plan.run(embedder, batch_size, progress, shards, workers)
    cache = plan.cache()
    return plan.vectors(cache), cache


def _embedded(
    chunks: list[list[tuple[str, str]]], embedder: Embedder, workers: int
) -> Iterator[tuple[list[tuple[str, str]], np.ndarray]]:
    """(chunk, its vectors) as each chunk finishes: in worker processes for a long job, else here."""
    factory = getattr(embedder, "worker_factory", None)
    if workers > 1 and factory is not None and len(chunks) >= POOL_MIN_CHUNKS:
        from index.embed_pool import EmbeddingPool

        with EmbeddingPool(factory(), workers) as pool:
            yield from pool.embed_documents(chunks)
        return
    for chunk in chunks:
        yield chunk, embedder.embed_documents([text for _, text in chunk])
