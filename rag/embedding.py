"""The embedding model named by the settings: resolved (and built on first use) under the data dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.settings import DEFAULT_MODEL, Settings

if TYPE_CHECKING:
    from index.embedder import Embedder

Progress = Callable[..., Any]


def load_embedder(settings: Settings, progress: Progress | None = None) -> Embedder:
    """The model's verified ONNX export on onnxruntime when it has one (no torch import, about
    four times faster to load), otherwise the model on sentence-transformers."""
    from index.models import resolve_model

    spec = resolve_model(settings.model, settings.models_dir, progress=progress)
    if spec.onnx_file is not None:
        from index.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(spec)
    from index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(spec)


def model_id(settings: Settings, progress: Progress | None = None) -> str:
    """The id the index manifest records for the configured model, without loading the model."""
    from index.models import resolve_model

    return resolve_model(settings.model, settings.models_dir, progress=progress).model_id


def build_model(settings: Settings, progress: Progress | None = None) -> Path:
    """Assemble the offline default model now (otherwise done on first use); its folder."""
    from index.models import resolve_model

    return resolve_model(settings.model or DEFAULT_MODEL, settings.models_dir, progress=progress).path
