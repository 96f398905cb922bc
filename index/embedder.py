"""Text to vectors: the Embedder protocol, the sentence-transformers implementation, and a
deterministic hashing stand-in for tests where the model is not the subject.

Every embedder returns float32 arrays of shape (n, dimension) with L2-normalised rows, so an
inner product is a cosine. Query and passage prompts belong to the model (see ModelSpec).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from index.errors import ModelError

if TYPE_CHECKING:
    from index.models import ModelSpec


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, unit rows; texts are passages to be searched."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, unit rows; texts are questions."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, never from the network.

    Loading sets torch's intra-op threads for the whole process (default: the CPUs this
    process may use), which suits a small CPU-only machine.
    """

    def __init__(self, spec: ModelSpec, *, batch_size: int = 32, threads: int | None = None) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive; got {batch_size}")
        self.spec = spec
        self.model_id = spec.model_id
        self.batch_size = batch_size
        self.model = _load(spec, threads or available_cpus())
        dimension = _dimension(self.model)
        if not dimension:
            raise ModelError(f"cannot tell the output size of embedding model {spec.model_id} at {spec.path}")
        self.dimension = int(dimension)
        self.max_seq_length = int(getattr(self.model, "max_seq_length", 0) or 0)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.query_prompt)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        texts = as_text_list(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt=prompt,  # always explicit, so no default prompt name applies behind our back
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_id!r}, dimension={self.dimension})"


class HashingEmbedder:
    """For tests only: NOT a language model. Stands in where the model is not the subject
    (fusion arithmetic, persistence, CLI plumbing).

    Hashes character 1- to 3-grams (with start and end markers, so even "" has one) into
    ``dimension`` signed buckets with CRC32 and L2-normalises: deterministic across runs and
    machines, instant, and texts sharing characters come out similar. Queries get a "q" salt
    so that, as with real prompted models, a text embeds differently as query and passage.
    """

    def __init__(self, dimension: int = 256, model_id: str | None = None) -> None:
        if dimension <= 0:
            raise ValueError(f"dimension must be positive; got {dimension}")
        self.dimension = dimension
        self.model_id = model_id or f"hashing-char-1-3gram-{dimension}"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "q")

    def _embed(self, texts: Sequence[str], salt: str) -> np.ndarray:
        texts = as_text_list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            marked = f"\x02{text}\x03"
            features = [marked[i : i + n] for n in (1, 2, 3) for i in range(len(marked) - n + 1)]
            features.append(salt + "\x01")  # a prompt-like feature, so query != passage
            for feature in features:
                code = zlib.crc32(feature.encode("utf-8"))
                out[row, code % self.dimension] += 1.0 if code & 0x80000000 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:  # every feature cancelled out; fall back to one fixed bucket
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


def as_text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of texts, not a single string")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings; got {type(text).__name__}")
    return texts


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _load(spec: ModelSpec, threads: int) -> Any:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"sentence-transformers and torch are needed for the embedding model: {exc}") from exc
    torch.set_num_threads(threads)
    try:
        with _quiet_transformers():
            return SentenceTransformer(str(spec.path), device="cpu", local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # sentence-transformers raises many kinds; all mean "cannot load"
        raise ModelError(
            f"cannot load embedding model {spec.model_id} from {spec.path}: {type(exc).__name__}: {exc}. "
            'If the folder is damaged, copy it again (or set the model to "default")'
        ) from exc


def _dimension(model: Any) -> int | None:
    for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        method = getattr(model, name, None)
        if method is not None:
            return method()
    return None


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Keep transformers' weight-loading bar and load report out of the user's terminal."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
