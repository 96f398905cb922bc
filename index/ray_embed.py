"""Document embedding spread over a Ray cluster with Ray Data: the model is loaded once per worker
(an actor of map_batches), every passage is embedded one by one as in one process, so the vectors are
the same as a single-process build's.

Ray is imported when documents are first embedded, never at import time. On a cluster, every node
needs the model at the same path (a shared data folder, or the same `policy-rag model build` on each).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.dense import as_vectors
from index.embedder import as_text_list
from index.errors import SearchEngineError

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.models import ModelSpec

RAY_CHUNK = 4096
"""Texts per Ray Data job: the build's progress, and what a killed build loses, go by this many."""
WORKER_BATCH = 32

logger = logging.getLogger(__name__)


def spec_embedder(spec: ModelSpec, threads: int = 1) -> Embedder:
    """The model of a spec on onnxruntime when it has a verified export, else on sentence-transformers;
    one thread each, since a worker is given one CPU."""
    if spec.onnx_file is not None:
        from index.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(spec, threads=threads)
    from index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(spec, threads=threads)


def connect_ray(address: str) -> bool:
    """Join Ray: "auto" is the cluster this machine belongs to (RAY_ADDRESS or `ray start`), or else a
    new local Ray on this machine's cores; anything else is a cluster address (head:6379, ray://head:10001).
    An already initialised Ray is used as it is. True when this call started Ray."""
    try:
        import ray
    except ImportError:
        raise SearchEngineError("--ray needs Ray Data; install it with `pip install -e .[scale]`.") from None
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **options)
            except ConnectionError:
                ray.init(**options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise SearchEngineError(f"cannot join Ray at {address!r} ({error}); check --ray.") from error
    return True


class _EmbedBatch:
    """A Ray Data actor: builds the model once, then embeds batch after batch."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self._embedder = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self._embedder.embed_documents([str(text) for text in batch["text"]])
        return {"position": batch["position"], "vector": np.asarray(vectors, dtype=np.float32)}


class RayEmbedder:
    """An Embedder whose documents are embedded by Ray Data workers; queries stay in this process.

    factory must be picklable (e.g. functools.partial(spec_embedder, spec)): each worker calls it once.
    workers defaults to the cluster's CPUs, one CPU each.
    """

    def __init__(
        self, local: Embedder, factory: Callable[[], Embedder], address: str = "auto", workers: int | None = None,
        batch_size: int = WORKER_BATCH,
    ) -> None:
        if workers is not None and workers <= 0:
            raise ValueError(f"workers must be positive; got {workers}.")
        self._local, self._factory = local, factory
        self.model_id, self.dimension = local.model_id, int(local.dimension)
        self.address, self.workers, self.batch_size = address, workers, batch_size

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._local.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = as_text_list(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        connect_ray(self.address)
        import ray
        import ray.data

        workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        workers = min(workers, max(1, -(-len(texts) // self.batch_size)))
        dataset = ray.data.from_items([{"position": i, "text": text} for i, text in enumerate(texts)])
        embedded = dataset.map_batches(
            _EmbedBatch, fn_constructor_kwargs={"factory": self._factory}, batch_size=self.batch_size,
            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1, batch_format="numpy",
        )
        out = np.full((len(texts), self.dimension), np.nan, dtype=np.float32)
        for batch in embedded.iter_batches(batch_format="numpy", batch_size=None):
            out[np.asarray(batch["position"], dtype=np.int64)] = batch["vector"]
        return as_vectors(out, self.dimension, f"vectors from {self.model_id} on Ray")

    def __repr__(self) -> str:
        return f"RayEmbedder({self.model_id!r}, address={self.address!r})"
