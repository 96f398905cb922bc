"""A damaged, stale or half-built index, as a person meets it through `policy-rag`: a clear one-line
message saying what to run, `policy-rag index` putting it right, and a killed build costing nothing.

What is under test is the index folder's life, not retrieval quality, so the corpus here is the
State Council document alone (a fifth of the passages: builds take seconds). The model is the real
one, hard-linked from the session's data folder and never written. Each test works on its own copy
of a template data folder whose index `policy-rag index` built once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.default_model import MODEL_ID as DEFAULT_MODEL_ID

pytestmark = pytest.mark.slow

NATIONAL_FILE = "002_aceb60dd589429a8.txt"
QUESTIONS = [
    {"id": "talent", "question": "外籍人才工作许可年龄能放宽到多少岁？"},
    {"id": "finance", "question": "国家高新区科技金融有什么支持？"},
]
EMBEDDED = re.compile(r"Embedding (\d+) texts")
BUILD_TIMEOUT_S = 900


def link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def index_root(data_dir: Path) -> Path:
    """The corpus's index folder (data_dir/index/<corpus key>, one per corpus folder)."""
    roots = [p.parent for p in (data_dir / "index").glob("*/CURRENT")]
    assert len(roots) == 1, roots
    return roots[0]


def current_version(data_dir: Path) -> Path:
    root = index_root(data_dir)
    return root / "versions" / (root / "CURRENT").read_text(encoding="utf-8").strip()


def manifest(data_dir: Path) -> dict:
    return json.loads((current_version(data_dir) / "manifest.json").read_text(encoding="utf-8"))


def texts_embedded(result: subprocess.CompletedProcess | str) -> int:
    stderr = result if isinstance(result, str) else result.stderr
    return max((int(n) for n in EMBEDDED.findall(stderr)), default=0)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, f"expected a clean failure, got exit {result.returncode}:\n{result.stderr[-1500:]}"
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """The bundled corpus folder with only the State Council document (and the term list)."""
    from rag.settings import Settings

    source = Settings.from_env().corpus_dir
    folder = tmp_path_factory.mktemp("corpus-national")
    for name in (NATIONAL_FILE, "terms.txt"):
        shutil.copy2(source / name, folder / name)
    header, *tables = re.split(r'(?m)^(?=\[files\.")', (source / "metadata.toml").read_text(encoding="utf-8"))
    kept = [t for t in tables if t.startswith(f'[files."{NATIONAL_FILE}"]')]
    assert len(kept) == 1
    (folder / "metadata.toml").write_text(header + kept[0], encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def cli(run_cli, corpus_dir):
    """run_cli on the one-document corpus."""

    def run(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = BUILD_TIMEOUT_S):
        return run_cli(*args, data_dir=data_dir, env={"POLICYQA_CORPUS_DIR": str(corpus_dir), **(env or {})},
                       timeout=timeout)

    return run


@pytest.fixture(scope="module")
def template(tmp_path_factory, policyqa_data_dir, cli) -> Path:
    """A data folder with the session's model (hard links) and an index built by `policy-rag index`."""
    folder = tmp_path_factory.mktemp("repair") / "template"
    shutil.copytree(policyqa_data_dir / "models", folder / "models", copy_function=link_or_copy)
    ok(cli("index", data_dir=folder))
    assert (index_root(folder) / "CURRENT").is_file()
    return folder


@pytest.fixture(scope="module")
def questions_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("repair-questions") / "questions.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def search(cli, questions_file):
    """search(data_dir, env=None) -> the CompletedProcess of `policy-rag search --jsonl` on QUESTIONS."""

    def run(data_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return cli("search", "--jsonl", str(questions_file), "--k", "5", data_dir=data_dir, env=env)

    return run


def clause_ids(result: subprocess.CompletedProcess) -> list[list[str]]:
    ok(result)
    return [[h["clause_id"] for h in json.loads(line)["hits"]] for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def baseline(template, search) -> list[list[str]]:
    """The clauses the intact index returns for QUESTIONS."""
    return clause_ids(search(template))


@pytest.fixture
def data_dir(template, tmp_path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(template / "models", folder / "models", copy_function=link_or_copy)
    shutil.copytree(template / "index", folder / "index")
    return folder


@pytest.fixture(scope="module")
def other_model(template, tmp_path_factory) -> Path:
    """The default model's files in another folder without its build manifest: a folder model,
    whose id is its path, so an index built with the default model does not fit it."""
    source = next((template / "models").iterdir())
    folder = tmp_path_factory.mktemp("other-model") / "e5-copy"
    shutil.copytree(source, folder, copy_function=link_or_copy, ignore=shutil.ignore_patterns("policyqa_model.json"))
    return folder


def delete_ids(data_dir: Path) -> None:
    (current_version(data_dir) / "ids.json").unlink()


def truncate_faiss(data_dir: Path) -> None:
    path = current_version(data_dir) / "dense.faiss"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


DAMAGE = {"deleted ids.json": delete_ids, "truncated dense.faiss": truncate_faiss}


# --- damaged index -------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_search_on_a_damaged_index_fails_with_one_line_saying_to_run_index(data_dir, search, damage):
    damage(data_dir)
    message = one_line_error(search(data_dir))
    assert "policy-rag index" in message


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_index_repairs_a_damaged_index_without_re_embedding(data_dir, search, cli, baseline, damage):
    damage(data_dir)
    repaired = ok(cli("index", data_dir=data_dir))
    assert texts_embedded(repaired) == 0, "the stored vectors are intact and should be reused"
    assert clause_ids(search(data_dir)) == baseline


# --- another model -------------------------------------------------------------------------------

def test_search_with_another_model_names_both_models(data_dir, search, other_model):
    result = search(data_dir, env={"POLICYQA_MODEL": str(other_model)})
    message = one_line_error(result)
    assert DEFAULT_MODEL_ID in message
    assert str(other_model.resolve()) in message
    assert "policy-rag index" in message
    assert manifest(data_dir)["model_id"] == DEFAULT_MODEL_ID, "a failed search leaves the index as it was"


def test_index_rebuilds_for_another_model(data_dir, search, cli, other_model):
    env = {"POLICYQA_MODEL": str(other_model)}
    ok(cli("index", data_dir=data_dir, env=env))
    assert manifest(data_dir)["model_id"] == str(other_model.resolve())
    hits = clause_ids(search(data_dir, env=env))
    assert all(hits)


# --- nothing changed -----------------------------------------------------------------------------

def test_index_with_nothing_changed_keeps_the_same_build(data_dir, cli):
    before = manifest(data_dir)
    result = ok(cli("index", data_dir=data_dir))
    after = manifest(data_dir)
    assert texts_embedded(result) == 0
    assert after["build_id"] == before["build_id"]
    assert after["files"] == before["files"]


# --- a build killed midway -----------------------------------------------------------------------

def start_rebuild(data_dir: Path, corpus_dir: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir), POLICYQA_CORPUS_DIR=str(corpus_dir),
               PYTHONUNBUFFERED="1")
    with open(log, "wb") as handle:
        return subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "--rebuild"], stdout=handle,
                                stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).resolve().parents[1])


def writing_new_version(data_dir: Path) -> bool:
    return any((data_dir / "index").glob("*/versions/.building-*"))


def test_rebuild_killed_while_writing_leaves_the_previous_index_answering(data_dir, corpus_dir, search, baseline,
                                                                          cli, tmp_path):
    """SIGKILL once the new version's folder appears (after embedding, while its files are written)."""
    before = manifest(data_dir)["build_id"]
    log = tmp_path / "rebuild.log"
    process = start_rebuild(data_dir, corpus_dir, log)
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while not writing_new_version(data_dir):
            assert process.poll() is None, f"the build ended before it could be killed:\n{log.read_text()[-1500:]}"
            assert time.monotonic() < deadline, "the build never started writing a new version"
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert writing_new_version(data_dir), "the kill should have landed while the new version was being written"
    assert manifest(data_dir)["build_id"] == before
    assert clause_ids(search(data_dir)) == baseline
    ok(cli("index", data_dir=data_dir))  # nothing to rebuild, but the killed build's folder goes
    assert not writing_new_version(data_dir) and manifest(data_dir)["build_id"] == before


# --- a damaged model -----------------------------------------------------------------------------

def test_damaged_onnx_export_is_reported_and_model_build_rebuild_repairs_it(data_dir, search, cli, baseline):
    export = next((data_dir / "models").iterdir()) / "onnx" / "model.onnx"
    damaged = export.with_name("damaged.onnx")
    content = bytearray(export.read_bytes())  # a new file: the session's model is hard-linked here
    content[:64] = bytes(64)  # same size, so only loading can tell
    damaged.write_bytes(content)
    os.replace(damaged, export)

    message = one_line_error(search(data_dir))
    assert "cannot load the ONNX export" in message and "policy-rag model build --rebuild" in message

    rebuilt = ok(cli("model", "build", "--rebuild", data_dir=data_dir))
    assert "runs on onnxruntime" in rebuilt.stdout
    assert clause_ids(search(data_dir)) == baseline


def test_model_build_names_the_engine_and_a_folder_model_without_export_runs_on_torch(data_dir, cli, other_model):
    assert "runs on onnxruntime" in ok(cli("model", "build", data_dir=data_dir)).stdout
    result = ok(cli("model", "build", data_dir=data_dir, env={"POLICYQA_MODEL": str(other_model)}))
    assert "runs on sentence-transformers (it has no verified ONNX export)" in result.stdout
