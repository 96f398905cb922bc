"""Export a sentence-transformers model's transformer to ONNX, then check that the export embeds
like sentence-transformers itself, so that onnxruntime can stand in for torch at run time.

The export holds the graph only: its weights are read from the folder's ``model.safetensors``
(ONNX external data pointing at each tensor's bytes there), so the folder stores them once. It
is written to a temporary name and renamed, and removed again if it fails the check.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelError

if TYPE_CHECKING:
    from index.embedder import Embedder, SentenceTransformerEmbedder
    from index.models import ModelSpec

ONNX_FILE = "model.onnx"
"""Beside the weights: onnxruntime reads external data only from the model file's own folder."""
WEIGHTS_FILE = "model.safetensors"
OPSET = 17
MIN_COSINE = 0.9999
"""The export must reproduce every check embedding at least this closely (cosine)."""
CHECK_BATCH = 4
"""The check runs the export on the short texts in batches of this size: the longest text of each
batch unpadded, the others padded, so one pass covers both."""
INPUTS = ("input_ids", "attention_mask")
_PARAMETER_PREFIX = "transformer."

SHORT_CHECK_TEXTS = (
    "高新区",
    "外籍人才工作许可年龄能放宽到多少岁？",
    "（五）支持高新区内企业开展外籍人才工作许可，年龄可放宽至65岁。",
    "廣東省人民政府關於促進科技創新的若干意見",
    "How old can foreign talent be to get a work permit?",
    "粵府〔2021〕5號 ＡＢＣ１２３ emoji 😀",
)
OVERLONG_CHECK_TEXT = "完善高新区管理体制，推动高新区聚焦主责主业，强化创新驱动发展。" * 40
"""Longer than any model's input limit, so truncation is checked too."""
CHECK_TEXTS = (*SHORT_CHECK_TEXTS, OVERLONG_CHECK_TEXT)


@dataclass(frozen=True, slots=True)
class OnnxExport:
    """What the model folder's manifest records of a verified export."""

    file: str  # relative to the model folder
    weights: str  # the file its external data points into, relative to the model folder
    opset: int
    min_cosine: float
    checked_texts: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def export_onnx(reference: SentenceTransformerEmbedder) -> Path:
    """Write ``ONNX_FILE`` into the folder of the loaded ``reference`` model, its weights pointing
    into the folder's ``WEIGHTS_FILE``; ModelError if it cannot be made. Needs torch and onnx."""
    folder = Path(reference.spec.path)
    target = folder / ONNX_FILE
    partial = folder / f".{ONNX_FILE}.{os.getpid()}.partial"
    try:
        _trace(reference.model, partial)
        _point_weights_at(partial, folder / WEIGHTS_FILE)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def verify_onnx(reference: Embedder, spec: ModelSpec) -> OnnxExport:
    """Check the export at ``spec.onnx_file`` against ``reference`` (sentence-transformers on the
    same folder) on CHECK_TEXTS; the export is deleted and ModelError raised if it embeds
    differently or cannot be loaded."""
    from index.onnx_embedder import OnnxEmbedder

    if spec.onnx_file is None:
        raise ValueError("verify_onnx needs a spec with its onnx_file")
    try:
        candidate = OnnxEmbedder(spec, batch_size=CHECK_BATCH)
        # The over-long text alone: padding the short ones to its 512 tokens would cost more than the rest.
        min_cosine = min(
            lowest_cosine(reference.embed_documents(group), candidate.embed_documents(group))
            for group in (list(SHORT_CHECK_TEXTS), [OVERLONG_CHECK_TEXT])
        )
        if min_cosine < MIN_COSINE:
            raise ModelError(
                f"the ONNX export of {spec.model_id} embeds differently from sentence-transformers "
                f"(cosine {min_cosine:.6f} < {MIN_COSINE})"
            )
    except BaseException:
        Path(spec.onnx_file).unlink(missing_ok=True)
        raise
    relative = Path(spec.onnx_file).relative_to(spec.path).as_posix()
    return OnnxExport(relative, WEIGHTS_FILE, OPSET, round(min_cosine, 7), len(CHECK_TEXTS))


def agreement(reference: Embedder, candidate: Embedder, texts: tuple[str, ...] | list[str]) -> float:
    """The lowest cosine between the two embedders' vectors for ``texts``, as queries and as
    passages, embedded all at once (in the candidate's batches) and, when the candidate batches
    several texts, one at a time too. Thorough, for tests; the build's check is verify_onnx."""
    texts = list(texts)
    lowest = 1.0
    for embed in ("embed_queries", "embed_documents"):
        expected = getattr(reference, embed)(texts)
        runs = [getattr(candidate, embed)(texts)]
        if getattr(candidate, "batch_size", 1) > 1:
            runs.append(np.vstack([getattr(candidate, embed)([text]) for text in texts]))
        lowest = min(lowest, *(lowest_cosine(expected, vectors) for vectors in runs))
    return lowest


def lowest_cosine(expected: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sum(_unit(expected) * _unit(actual), axis=1).min())


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _trace(model: Any, path: Path) -> None:
    """Trace the transformer on a padded batch of two, batch and sequence axes dynamic. Parameters
    stay graph inputs under their own names (no weights written, no transposed copies folded in);
    _point_weights_at turns them into initializers."""
    import torch

    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(["高新区", "支持高新区内企业开展外籍人才工作许可"], padding=True, return_tensors="pt")
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {i: axis for axis, i in axes.items()} for name in (*INPUTS, "token_embeddings")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation notes meant for model authors
            torch.onnx.export(
                _hidden_states_module(transformer),
                tuple(sample[name] for name in INPUTS),
                str(path),
                input_names=list(INPUTS),
                output_names=["token_embeddings"],
                dynamic_axes=dynamic,
                opset_version=OPSET,
                export_params=False,
                do_constant_folding=False,  # folding would bake transposed copies of the weights in
                dynamo=False,  # the TorchScript exporter: a few seconds, no extra dependencies
            )
    except Exception as exc:  # torch.onnx raises many kinds; all mean "no export"
        raise ModelError(f"cannot export the embedding model to ONNX: {type(exc).__name__}: {exc}") from exc


def _point_weights_at(path: Path, weights: Path) -> None:
    """Make every parameter input of the graph at ``path`` an initializer whose data is the same
    tensor's bytes in the safetensors file ``weights`` (which must sit in the same folder)."""
    import onnx

    tensors, data_start = _safetensors_index(weights)
    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    kept = []
    for value in graph.input:
        if value.name in INPUTS:
            kept.append(value)
            continue
        key = value.name.removeprefix(_PARAMETER_PREFIX)
        entry = tensors.get(key)
        if entry is None:
            raise ModelError(f"the ONNX export needs the weight {key!r}, which {weights.name} does not hold")
        shape = [d.dim_value for d in value.type.tensor_type.shape.dim]
        if entry["dtype"] != "F32" or entry["shape"] != shape:
            raise ModelError(
                f"weight {key!r} is {entry['dtype']} {entry['shape']} in {weights.name}, the ONNX export "
                f"expects F32 {shape}"
            )
        start, end = entry["data_offsets"]
        tensor = onnx.TensorProto(name=value.name, data_type=onnx.TensorProto.FLOAT, dims=shape,
                                  data_location=onnx.TensorProto.EXTERNAL)
        for field, text in (("location", weights.name), ("offset", data_start + start), ("length", end - start)):
            tensor.external_data.add(key=field, value=str(text))
        graph.initializer.append(tensor)
    del graph.input[:]
    graph.input.extend(kept)
    onnx.save(model, str(path))


def _safetensors_index(path: Path) -> tuple[dict[str, dict[str, Any]], int]:
    """(name -> {dtype, shape, data_offsets}, where the data starts) from a safetensors header:
    an 8-byte little-endian length, that much JSON, then the tensors' bytes."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"cannot read the tensor index of {path}: {exc}") from exc
    header.pop("__metadata__", None)
    return header, 8 + length


def _hidden_states_module(transformer: Any) -> Any:
    import torch

    class HiddenStates(torch.nn.Module):
        """The transformer with keyword inputs and its token vectors as the only output."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return HiddenStates()
