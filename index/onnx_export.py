"""Export a sentence-transformers model's transformer to ONNX, then check that the export embeds
like sentence-transformers itself, so that onnxruntime can stand in for torch at run time.

The export goes where sentence-transformers' own ONNX backend looks (``onnx/model.onnx``), is
written to a temporary name and renamed, and is removed again if it fails the check.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelError

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.models import ModelSpec

ONNX_FILE = "onnx/model.onnx"
OPSET = 17
MIN_COSINE = 0.9999
"""The export must reproduce every check embedding at least this closely (cosine)."""

CHECK_TEXTS = (
    "高新区",
    "外籍人才工作许可年龄能放宽到多少岁？",
    "（五）支持高新区内企业开展外籍人才工作许可，年龄可放宽至65岁。",
    "河北省人民政府關於促進高新技術產業開發區高質量發展的實施意見",
    "How old can foreign talent be to get a work permit?",
    "冀政字〔2020〕52號 ＡＢＣ１２３ emoji 😀",
    # Longer than any model's input limit, so truncation is checked too.
    "完善高新区管理体制，推动高新区聚焦主责主业，强化创新驱动发展。" * 40,
)


@dataclass(frozen=True, slots=True)
class OnnxExport:
    """What the model folder's manifest records of a verified export."""

    file: str  # relative to the model folder
    opset: int
    min_cosine: float
    checked_texts: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def export_onnx(spec: ModelSpec) -> OnnxExport:
    """Write ``spec.path / ONNX_FILE`` from the model and verify it; ModelError if it cannot be
    made or embeds differently. Needs torch, sentence-transformers and onnx."""
    from index.embedder import SentenceTransformerEmbedder
    from index.onnx_embedder import OnnxEmbedder

    reference = SentenceTransformerEmbedder(spec)
    target = Path(spec.path) / ONNX_FILE
    _write_export(reference.model, target)
    try:
        # Batches of 4 so that the check covers padding as well as single texts.
        candidate = OnnxEmbedder(dataclasses.replace(spec, onnx_file=target), batch_size=4)
        min_cosine = agreement(reference, candidate, CHECK_TEXTS)
        if min_cosine < MIN_COSINE:
            raise ModelError(
                f"the ONNX export of {spec.model_id} embeds differently from sentence-transformers "
                f"(cosine {min_cosine:.6f} < {MIN_COSINE})"
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return OnnxExport(ONNX_FILE, OPSET, round(min_cosine, 7), len(CHECK_TEXTS))


def agreement(reference: Embedder, candidate: Embedder, texts: tuple[str, ...] | list[str]) -> float:
    """The lowest cosine between the two embedders' vectors for ``texts``, as queries and as
    passages, embedded all at once (in the candidate's batches) and one at a time."""
    lowest = 1.0
    for embed in ("embed_queries", "embed_documents"):
        expected = getattr(reference, embed)(list(texts))
        batched = getattr(candidate, embed)(list(texts))
        single = np.vstack([getattr(candidate, embed)([text]) for text in texts])
        for vectors in (batched, single):
            cosines = np.sum(_unit(expected) * _unit(vectors), axis=1)
            lowest = min(lowest, float(cosines.min()))
    return lowest


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _write_export(model: Any, target: Path) -> None:
    """Trace the transformer on a padded batch of two, with batch and sequence axes dynamic."""
    import torch

    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(["高新区", "支持高新区内企业开展外籍人才工作许可"], padding=True, return_tensors="pt")
    inputs = tuple(sample[name] for name in ("input_ids", "attention_mask"))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation notes meant for model authors
            torch.onnx.export(
                _hidden_states_module(transformer),
                inputs,
                str(partial),
                input_names=["input_ids", "attention_mask"],
                output_names=["token_embeddings"],
                dynamic_axes={**axes, "token_embeddings": {0: "batch", 1: "tokens"}},
                opset_version=OPSET,
                dynamo=False,  # the TorchScript exporter: one self-contained file, a few seconds
            )
        os.replace(partial, target)
    except Exception as exc:  # torch.onnx raises many kinds; all mean "no export"
        raise ModelError(f"cannot export the embedding model to ONNX: {type(exc).__name__}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


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

