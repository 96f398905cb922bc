"""A sentence-transformers model run from its ONNX export by onnxruntime, without torch.

Loading takes about two seconds where torch and sentence-transformers take eight or more, and
one query is embedded in about half the time. The export is checked against
sentence-transformers when it is made (index/onnx_export.py); this module only runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedder import as_text_list, available_cpus
from index.errors import ModelError
from index.st_pipeline import Pipeline, read_pipeline

if TYPE_CHECKING:
    from index.models import ModelSpec


class OnnxEmbedder:
    """The Embedder of a model folder that has a verified ONNX export (``spec.onnx_file``).

    Texts go through one at a time by default: on 2 CPU cores onnxruntime embedded the 650
    corpus passages in 13 s one by one and in 15, 20 and 34 s in padded batches of 4, 8 and 16.
    """

    def __init__(self, spec: ModelSpec, *, batch_size: int = 1, threads: int | None = None) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive; got {batch_size}")
        if spec.onnx_file is None:
            raise ModelError(f"embedding model {spec.model_id} at {spec.path} has no ONNX export")
        self.spec = spec
        self.model_id = spec.model_id
        self.batch_size = batch_size
        self.pipeline: Pipeline = read_pipeline(spec.path)
        self._tokenizer = _load_tokenizer(Path(spec.path) / "tokenizer.json", self.pipeline)
        self._session = _load_session(Path(spec.onnx_file), threads or available_cpus())
        self._input_names = {node.name for node in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ModelError(f"the ONNX export {spec.onnx_file} lacks the inputs {sorted(missing)}")
        dimension = self._session.get_outputs()[0].shape[-1]
        if not isinstance(dimension, int):
            raise ModelError(f"cannot tell the output size of the ONNX export {spec.onnx_file}")
        self.dimension = dimension
        self.max_seq_length = self.pipeline.max_seq_length

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.spec.query_prompt)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        texts = [prompt + text for text in as_text_list(texts)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first and batched by length, as sentence-transformers does, so padding stays small.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
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


def _load_tokenizer(path: Path, pipeline: Pipeline) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception for unreadable files
        raise ModelError(f"cannot read the tokenizer {path}: {exc}") from exc
    pad_token = tokenizer.id_to_token(pipeline.pad_token_id)
    if pad_token is None:
        raise ModelError(f"the tokenizer {path} has no token {pipeline.pad_token_id}, the model's padding id")
    tokenizer.enable_truncation(max_length=pipeline.max_seq_length)
    tokenizer.enable_padding(pad_id=pipeline.pad_token_id, pad_token=pad_token)
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
    # cores, and spinning threads took the CPU the other requests needed (docs/performance.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; its warnings are for model authors
    # Idle threads sleep instead of spinning: on a busy 2-core machine spinning made embedding the
    # passages 3-4 times slower (docs/performance.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        raise ModelError(
            f"cannot load the ONNX export {path}: {type(exc).__name__}: {exc}. "
            "Run `policy-rag model build --rebuild` to assemble the model again"
        ) from exc
