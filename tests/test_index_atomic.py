"""Atomic writes: a reader sees the old file or the new one, and nothing is left behind."""

from __future__ import annotations

import os

import pytest

from index.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_write_text


def test_atomic_write_creates_and_replaces_a_file(tmp_path):
    path = tmp_path / "CURRENT"
    atomic_write_text(path, "第一版\n")
    assert path.read_text(encoding="utf-8") == "第一版\n"
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "CURRENT"
    atomic_write_text(path, "old")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


def test_the_temporary_file_is_recognisable_and_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def record(source, target):
        seen.append(os.fspath(source))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", record)
    atomic_write_text(tmp_path / "manifest.json", "{}")
    (temporary,) = seen
    assert os.path.dirname(temporary) == str(tmp_path)
    assert os.path.basename(temporary).startswith(".manifest.json.") and temporary.endswith(TEMP_SUFFIX)
