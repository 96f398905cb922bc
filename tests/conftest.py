"""Shared fixtures: one data folder (embedding model and index) built once per test session, the
PolicyQA service opened on it, the dev question set, and a runner for the `policy-rag` command.
Tests that need a data folder of their own link the session's model into it (data_dir_with_model).

Set POLICYQA_TEST_DATA_DIR to keep the built model and index between runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

# Before anything imports huggingface_hub: no machine here reaches the hub, and asking costs ~90 s.
os.environ["HF_HUB_OFFLINE"] = "1"
# The tests measure the offline default: no model, index kind, precision, answer generator or admin password
# from the caller's shell.
for _name in ("POLICYQA_MODEL", "POLICYQA_DENSE_INDEX", "POLICYQA_EMBED_PRECISION", "POLICYQA_LLM_BASE_URL",
              "POLICYQA_LLM_MODEL", "POLICYQA_LLM_API_KEY", "POLICYQA_ADMIN_PASSWORD"):
    os.environ.pop(_name, None)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYQA_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
"""../shared beside the repository (POLICYQA_SHARED_DIR where a checkout lives elsewhere)."""
DEV_GOLD = SHARED / "eval" / "dev.jsonl"
LAWS_ARCHIVE = SHARED / "scale" / "laws-md.tar.xz"
HELDOUT_GOLD = {name: REPO_ROOT / "eval" / f"{name}.jsonl" for name in ("heldout", "heldout2")}
CLI_TIMEOUT_S = 900
# 3,472 real laws and regulations in Markdown, beside the repository (POLICYQA_SCALE_DIR overrides).
SCALE_DIR = Path(os.environ.get("POLICYQA_SCALE_DIR") or Path(__file__).resolve().parents[2] / "shared" / "scale")
LAWS_TARBALL = SCALE_DIR / "laws-md.tar.xz"


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory) -> Path:
    """The session's data folder: $POLICYQA_TEST_DATA_DIR (kept between runs) or a tmp folder."""
    folder = os.environ.get("POLICYQA_TEST_DATA_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("policyqa-data")


@pytest.fixture(scope="session")
def default_models_dir(session_data_dir) -> Path:
    """models/ of the session's data folder, holding the default model, built once per session.
    Every test that needs the real model uses this one (linked or copied into its own folder
    where it needs one); none builds its own."""
    from index.default_model import build_default_model

    models_dir = session_data_dir / "models"
    build_default_model(models_dir)
    return models_dir


@pytest.fixture
def data_dir_with_model(default_models_dir, tmp_path) -> Path:
    """An empty data folder of this test's own whose models/ holds the session's model as hard
    links: free to build an index in, never to change model files in place."""
    data_dir = tmp_path / "data"
    shutil.copytree(default_models_dir, data_dir / "models", copy_function=_link_or_copy)
    return data_dir


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture(scope="session")
def qa(default_models_dir):
    """PolicyQA over the bundled corpus with the default offline model; the first use in a session
    builds the index (and the model, if no test has yet), every later test reuses them."""
    from rag.service import PolicyQA
    from rag.settings import Settings

    # A kept folder's (POLICYQA_TEST_DATA_DIR) index is brought up to date when the corpus changed.
    kept = bool(os.environ.get("POLICYQA_TEST_DATA_DIR"))
    return PolicyQA.open(Settings.from_env(data_dir=default_models_dir.parent), repair=kept)


@pytest.fixture(scope="session")
def policyqa_data_dir(qa) -> Path:
    """The session's data folder, holding a built model (models/) and a current index (index/);
    the CLI and `policy-rag serve` tests point POLICYQA_DATA_DIR at it."""
    return qa.settings.data_dir


@pytest.fixture(scope="session")
def dev_gold_path() -> Path:
    """../shared/eval/dev.jsonl beside the repository (CI has it there too)."""
    if not DEV_GOLD.is_file():
        pytest.fail(f"the dev question set is missing: {DEV_GOLD} (it lives beside the repository, in shared/eval)")
    return DEV_GOLD


@pytest.fixture(scope="session")
def dev_gold(dev_gold_path):
    """The 63 dev questions with their expected clauses."""
    from rag.evaluation import load_gold

    return load_gold(dev_gold_path)


@pytest.fixture(scope="session", params=["dev", "heldout", "heldout2"])
def gold(request, dev_gold):
    """Each question set the acceptance figures must hold on: the shared dev set, and our own
    eval/heldout.jsonl and eval/heldout2.jsonl, 60 questions each of the same kinds written from the
    documents alone by someone who had not seen the system (docs/evaluation.md)."""
    from rag.evaluation import load_gold

    return dev_gold if request.param == "dev" else load_gold(HELDOUT_GOLD[request.param])


@pytest.fixture(scope="session")
def matcher(qa):
    """Scores hits and citations against gold quotes as ../shared/eval/README.md defines."""
    from rag.evaluation import Matcher

    return Matcher(qa.corpus.document_of_file)


def read_laws(paths: frozenset[str] | None = None) -> dict[str, str]:
    """Texts of ../shared/scale/laws-md.tar.xz by path inside it (DLC/…/x.md), read at test time and
    never copied into the repository: only `paths`, or every document when paths is None."""
    if not LAWS_TARBALL.is_file():
        pytest.fail(f"the real-law corpus is missing: {LAWS_TARBALL} (it lives beside the repository, in shared/scale;"
                    " set POLICYQA_SCALE_DIR to its folder)")
    texts: dict[str, str] = {}
    with tarfile.open(LAWS_TARBALL) as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if member.isfile() and name.endswith(".md") and (paths is None or name in paths):
                texts[name] = archive.extractfile(member).read().decode("utf-8")
    if paths is not None and (missing := paths - texts.keys()):
        pytest.fail(f"not in {LAWS_TARBALL}: {sorted(missing)}")
    return texts


RunCli = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    """Runs `python -m rag.cli ARGS` in a fresh process: run_cli(*args, data_dir=DIR, env={...}, input=...)."""

    def run(*args: str, data_dir: Path, env: Mapping[str, str] | None = None, input: str | None = None,
            timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
        full_env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8")
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "rag.cli", *args], check=False, cwd=REPO_ROOT, env=full_env, input=input,
            capture_output=True, text=True, encoding="utf-8", timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def laws(tmp_path_factory) -> Callable[..., list[Path]]:
    """laws(member, …) -> their paths, unpacked from ../shared/scale/laws-md.tar.xz at test time (only the
    members asked for, once per session). Members are named as in the archive, e.g.
    "DLC/河南地方法规/地方性法规/河南/河南省促进高新技术产业发展条例(2011-06-13).md"."""
    import tarfile

    if not LAWS_ARCHIVE.is_file():
        pytest.fail(f"the real-document archive is missing: {LAWS_ARCHIVE} (set POLICYQA_SHARED_DIR)")
    folder = tmp_path_factory.mktemp("laws")
    unpacked: dict[str, Path] = {}

    def extract(*members: str) -> list[Path]:
        wanted = {m.removeprefix("./") for m in members} - set(unpacked)
        if wanted:
            with tarfile.open(LAWS_ARCHIVE, mode="r:xz") as archive:
                for info in archive:
                    name = info.name.removeprefix("./")
                    if name in wanted and info.isfile():
                        target = folder / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with archive.extractfile(info) as source:  # type: ignore[union-attr]
                            target.write_bytes(source.read())
                        unpacked[name] = target
            missing = wanted - set(unpacked)
            if missing:
                pytest.fail(f"not in {LAWS_ARCHIVE.name}: {sorted(missing)}")
        return [unpacked[m.removeprefix("./")] for m in members]

    return extract
