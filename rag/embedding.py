"""The embedding model named by the settings: resolved (and built on first use) under the data dir."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rag.settings import DEFAULT_MODEL, Settings

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.models import ModelSpec

Progress = Callable[..., Any]


def load_embedder(settings: Settings, progress: Progress | None = None) -> Embedder:
    """The model's verified ONNX export on onnxruntime when it has one (no torch import, about
    four times faster to load), otherwise the model on sentence-transformers."""
    from index.models import resolve_model

    spec = resolve_model(settings.model, settings.models_dir, progress=progress)
    if spec.onnx_file is not None:
        from index.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(spec, precision=settings.embed_precision)
    from index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(spec)


def model_id(settings: Settings, progress: Progress | None = None) -> str:
    """The id the index manifest records for the configured model, without loading the model."""
    from index.models import resolve_model

    return resolve_model(settings.model, settings.models_dir, progress=progress).model_id


def build_model(settings: Settings, progress: Progress | None = None, *, rebuild: bool = False) -> ModelSpec:
    """Assemble the offline default model now (otherwise done on first use), from scratch with
    ``rebuild``; the resolved model. Other models are only resolved: there is nothing to build."""
    from index.default_model import build_default_model
    from index.models import DEFAULT, resolve_model

    name = settings.model or DEFAULT_MODEL
    if rebuild and name.strip().lower() == DEFAULT:
        build_default_model(settings.models_dir, progress=progress, rebuild=True)
    return resolve_model(name, settings.models_dir, progress=progress)


def engine_note(spec: ModelSpec) -> str:
    """One line for people: what runs the model, and why when it is not the fast engine."""
    from index.default_model import onnx_record

    if spec.onnx_file is not None:
        cosine = onnx_record(spec.path).get("min_cosine")
        return f"runs on onnxruntime (ONNX export verified against sentence-transformers, lowest cosine {cosine})"
    problem = onnx_record(spec.path).get("error")
    reason = f"its ONNX export failed: {problem}" if problem else "it has no verified ONNX export"
    return f"runs on sentence-transformers ({reason})"


def ray_embedder(settings: Settings, embedder: Embedder, address: str) -> dict[str, Any]:
    """open_index's arguments for embedding a build's passages on Ray Data workers ("auto" or a
    cluster address), each worker loading the configured model once; queries stay on `embedder`."""
    from index.models import resolve_model
    from index.ray_embed import RAY_CHUNK, RayEmbedder, spec_embedder

    spec = resolve_model(settings.model, settings.models_dir)
    return {"document_embedder": RayEmbedder(embedder, partial(spec_embedder, spec), address), "batch_size": RAY_CHUNK}
