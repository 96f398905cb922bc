"""Reading a sentence-transformers folder's pipeline: what the ONNX engine can and cannot run.

The folders here are config files only; no model is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.errors import ModelError
from index.st_pipeline import Pipeline, read_pipeline

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}


def make_folder(
    folder: Path,
    modules: list[dict] | None = None,
    pooling: dict | None = None,
    max_seq_length: int | None = 512,
    pad_token_id: int | None = 1,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.json").write_text(json.dumps(modules or [TRANSFORMER, POOLING, NORMALIZE]))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = pooling if pooling is not None else {"pooling_mode_mean_tokens": True, "include_prompt": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **pooling}))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length}))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "pad_token_id": pad_token_id}))
    return folder


def test_mean_pooled_normalised_folder_is_read(tmp_path: Path) -> None:
    assert read_pipeline(make_folder(tmp_path)) == Pipeline(512, "mean", True, 1)


def test_cls_pooling_without_normalize_is_read(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path,
        modules=[TRANSFORMER, POOLING],
        pooling={"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False},
        max_seq_length=256,
        pad_token_id=0,
    )
    assert read_pipeline(folder) == Pipeline(256, "cls", False, 0)


@pytest.mark.parametrize(
    ("pooling", "reason"),
    [
        ({"pooling_mode_max_tokens": True}, "max_tokens"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": True}, "cls_token"),
        ({"pooling_mode_mean_tokens": True, "include_prompt": False}, "mean_tokens"),
        ({"pooling_mode_lasttoken": True}, "lasttoken"),
    ],
)
def test_pooling_the_engine_cannot_reproduce_is_refused(tmp_path: Path, pooling: dict, reason: str) -> None:
    with pytest.raises(ModelError, match=reason):
        read_pipeline(make_folder(tmp_path, pooling=pooling))


def test_extra_modules_are_refused(tmp_path: Path) -> None:
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    with pytest.raises(ModelError, match="only runs Transformer, Pooling"):
        read_pipeline(make_folder(tmp_path, modules=[TRANSFORMER, POOLING, dense]))


def test_missing_config_names_the_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "sentence_bert_config.json").unlink()
    with pytest.raises(ModelError, match="sentence_bert_config.json is missing"):
        read_pipeline(folder)


def test_unreadable_config_names_the_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "modules.json").write_text("[{not json")
    with pytest.raises(ModelError, match="cannot read .*modules.json"):
        read_pipeline(folder)


def test_missing_max_seq_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no max_seq_length"):
        read_pipeline(make_folder(tmp_path, max_seq_length=None))
