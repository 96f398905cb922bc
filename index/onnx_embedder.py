"""A sentence-transformers model run from its ONNX export by onnxruntime, without torch.

Loading takes about two seconds where torch and sentence-transformers take eight or more, and
one query is embedded in about half the time. The export is checked against
sentence-transformers when it is made (index/onnx_export.py); this module only runs it, in fp32
or from its int8 quantisation (index/onnx_quantize.py).

Texts are tokenised first, sorted by token count and batched so that a batch holds texts of
nearly the same length: padding then costs almost nothing, and short texts share one call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.embedder import as_text_list, available_cpus
from index.errors import ModelError
from index.st_pipeline import Pipeline, read_pipeline

if TYPE_CHECKING:
    from index.models import ModelSpec

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "int8")

MAX_BATCH = 16
MAX_BATCH_TOKENS = 1024
"""A batch holds at most MAX_BATCH texts and MAX_BATCH_TOKENS padded tokens. Measured on 2 cores over
1,200 passages of the laws collection (benchmarks/bench_scale.py --embedding): see docs/scale.md."""


class OnnxEmbedder:
    """The Embedder of a model folder that has a verified ONNX export (``spec.onnx_file``).

    precision="int8" runs the dynamically quantised export beside it (built on first use); its
    vectors differ slightly from fp32 ones, so model_id names the precision and an index built
    with one is never searched with the other.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        precision: Precision = "fp32",
        threads: int | None = None,
        max_batch: int = MAX_BATCH,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        batch_size: int | None = None,
    ) -> None:
        """batch_size, if given, fixes the batch at that many texts (max_batch) whatever their length."""
        if batch_size is not None:
            max_batch, max_batch_tokens = batch_size, 1 << 30
        if max_batch <= 0 or max_batch_tokens <= 0:
            raise ValueError(f"batch limits must be positive; got {max_batch} texts, {max_batch_tokens} tokens")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if spec.onnx_file is None:
            raise ModelError(f"embedding model {spec.model_id} at {spec.path} has no ONNX export")
        self.spec = spec
        self.precision = precision
        self.model_id = spec.model_id
        self.max_batch = max_batch
        self.max_batch_tokens = max_batch_tokens
        self.threads = threads or available_cpus()
        self.pipeline: Pipeline = read_pipeline(spec.path)
        self._tokenizer = _load_tokenizer(Path(spec.path) / "tokenizer.json", self.pipeline)
        onnx_file = Path(spec.onnx_file)
        if precision == "int8":
            from index.onnx_quantize import RECIPE, int8_file

            onnx_file = int8_file(onnx_file)
            self.model_id = f"{spec.model_id}+onnx-{RECIPE}"
        self.onnx_file = onnx_file
        self._session = _load_session(onnx_file, self.threads)
        self._input_names = {node.name for node in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ModelError(f"the ONNX export {onnx_file} lacks the inputs {sorted(missing)}")
        dimension = self._session.get_outputs()[0].shape[-1]
        if not isinstance(dimension, int):
            raise ModelError(f"cannot tell the output size of the ONNX export {onnx_file}")
        self.dimension = dimension
        self.max_seq_length = self.pipeline.max_seq_length

    def worker_factory(self) -> Callable[[], OnnxEmbedder]:
        """A picklable callable that makes a single-threaded copy of this embedder in a worker process."""
        return functools.partial(
            OnnxEmbedder,
            self.spec,
            precision=self.precision,
            threads=1,
            max_batch=self.max_batch,
            max_batch_tokens=self.max_batch_tokens,
        )

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.query_prompt)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        texts = [prompt + text for text in as_text_list(texts)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        for rows in length_batches([len(ids) for ids in token_ids], self.max_batch, self.max_batch_tokens):
            out[rows] = self._encode_batch([token_ids[i] for i in rows])
        return out

    def _encode_batch(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), width), self.pipeline.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, row_ids in enumerate(token_ids):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0].astype(np.float32, copy=False)
        if self.pipeline.pooling == "cls":
            vectors = hidden[:, 0, :]
        else:
            weights = mask[:, :, None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.pipeline.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.model_id!r}, dimension={self.dimension})"


def length_batches(lengths: Sequence[int], max_batch: int, max_tokens: int) -> list[list[int]]:
    """Positions grouped into batches of similar length, longest first: each batch holds at most
    max_batch positions and max_tokens padded tokens (always at least one position)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        longest = max(1, lengths[order[start]])
        size = max(1, min(max_batch, max_tokens // longest))
        batches.append(order[start : start + size])
        start += size
    return batches


def _load_tokenizer(path: Path, pipeline: Pipeline) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception for unreadable files
        raise ModelError(f"cannot read the tokenizer {path}: {exc}") from exc
    if tokenizer.id_to_token(pipeline.pad_token_id) is None:
        raise ModelError(f"the tokenizer {path} has no token {pipeline.pad_token_id}, the model's padding id")
    tokenizer.enable_truncation(max_length=pipeline.max_seq_length)
    tokenizer.no_padding()  # batches are padded here, after grouping by length
    return tokenizer


def _load_session(path: Path, threads: int) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(f"onnxruntime is needed to run the ONNX export of the embedding model: {exc}") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle intra-op threads sleep instead of spinning: a server answers many questions at once on few
    # cores, and spinning threads took the CPU the other requests needed; on a busy 2-core machine
    # spinning also made embedding the passages 3-4 times slower (docs/performance.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; its warnings are for model authors
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        raise ModelError(
            f"cannot load the ONNX export {path}: {type(exc).__name__}: {exc}. "
            "Run `policy-rag model build --rebuild` to assemble the model again"
        ) from exc
