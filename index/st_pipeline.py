"""What a sentence-transformers folder does around its transformer, read from its config files:
how long inputs may be, how token vectors are pooled, whether the result is normalised.

Only pipelines the ONNX engine reproduces exactly are accepted: Transformer, then Pooling by
mean (prompt included) or by the first token, then optionally Normalize.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from index.errors import ModelError

Pooling = Literal["mean", "cls"]

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


@dataclass(frozen=True, slots=True)
class Pipeline:
    max_seq_length: int
    pooling: Pooling
    normalize: bool
    pad_token_id: int

    def __post_init__(self) -> None:
        if self.max_seq_length <= 0:
            raise ValueError(f"max_seq_length must be positive; got {self.max_seq_length}")
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls'; got {self.pooling!r}")


def read_pipeline(folder: Path) -> Pipeline:
    """The pipeline of the sentence-transformers folder ``folder``; ModelError if unsupported."""
    folder = Path(folder)
    modules = _read_json(folder / "modules.json")
    types = [module.get("type", "") for module in modules] if isinstance(modules, list) else []
    if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
        raise ModelError(f"{folder} runs modules {types}; the ONNX engine only runs Transformer, Pooling[, Normalize]")
    pooling_path = next(module.get("path", "") for module in modules if module.get("type") == _POOLING)
    config = _read_json(folder / pooling_path / "config.json")
    settings = _read_json(folder / "sentence_bert_config.json")
    model_config = _read_json(folder / "config.json")
    max_seq_length = int(settings.get("max_seq_length") or 0)
    if not max_seq_length:
        raise ModelError(f"{folder / 'sentence_bert_config.json'} names no max_seq_length")
    return Pipeline(
        max_seq_length=max_seq_length,
        pooling=_pooling_mode(config, folder),
        normalize=types[-1] == _NORMALIZE,
        pad_token_id=int(model_config.get("pad_token_id") or 0),
    )


def _pooling_mode(config: dict[str, Any], folder: Path) -> Pooling:
    modes = sorted(key.removeprefix("pooling_mode_") for key, on in config.items() if key.startswith("pooling_mode_") and on)
    if modes == ["mean_tokens"] and config.get("include_prompt", True):
        return "mean"
    if modes == ["cls_token"]:
        return "cls"
    raise ModelError(f"{folder} pools by {modes or 'nothing'}; the ONNX engine pools by mean (prompt included) or CLS")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path} is missing; the model folder is incomplete") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
