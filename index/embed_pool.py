"""Embedding in worker processes, one single-threaded copy of the model per core.

On 2 cores shared with other work, two processes of one thread each embedded 1.5 to 2.4 times as
many passages a second as one process running onnxruntime on two threads, whose threads wait for
each other at every operator (benchmarks/bench_scale.py --embedding, docs/scale.md).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from index.errors import ModelError

if TYPE_CHECKING:
    from index.embedder import Embedder

IN_FLIGHT_PER_WORKER = 2

_worker_embedder: Any = None


def _start_worker(factory: Callable[[], Embedder]) -> None:
    global _worker_embedder
    _worker_embedder = factory()


def _embed(texts: Sequence[str]) -> np.ndarray:
    return _worker_embedder.embed_documents(texts)


class EmbeddingPool:
    """`workers` processes, each building its embedder with `factory` (a picklable callable)."""

    def __init__(self, factory: Callable[[], Embedder], workers: int) -> None:
        if workers <= 0:
            raise ValueError(f"workers must be positive; got {workers}")
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a process holding onnxruntime threads
            initializer=_start_worker,
            initargs=(factory,),
        )

    def embed_documents(self, chunks: Sequence[Sequence[tuple[str, str]]]) -> Iterator[tuple[Any, np.ndarray]]:
        """(chunk, vectors) for each chunk of (key, text) pairs, in the order they finish."""
        pending: dict[Future[np.ndarray], Any] = {}
        queue = iter(chunks)
        try:
            while True:
                while len(pending) < IN_FLIGHT_PER_WORKER * self.workers:
                    chunk = next(queue, None)
                    if chunk is None:
                        break
                    pending[self._executor.submit(_embed, [text for _, text in chunk])] = chunk
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = pending.pop(future)
                    yield chunk, future.result()
        except BrokenProcessPool as error:
            raise ModelError(
                f"an embedding worker process stopped unexpectedly ({error}); run the command again "
                "to continue from the last finished batch."
            ) from error

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
