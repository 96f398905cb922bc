"""Embedding builds on Ray Data (index/ray_embed.py, `policy-rag index --ray`): on a local Ray with two
CPUs, one model per worker, the vectors equal the single-process build's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

pytestmark = pytest.mark.slow

NATIONAL_FILE = "002_aceb60dd589429a8.txt"
SAMPLE = 48


def link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def assert_same_vectors(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape and got.dtype == np.float32
    cosine = np.sum(got * expected, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    assert float(cosine.min()) >= 0.9999
    assert float(np.abs(got - expected).max()) <= 1e-4


@pytest.fixture(scope="module")
def local_ray():
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def test_ray_workers_embed_as_one_process(local_ray, qa):
    from index.models import resolve_model
    from index.ray_embed import RayEmbedder, spec_embedder

    texts = _passage_texts(qa)[:SAMPLE]
    local = qa.retriever.index.embedder
    spec = resolve_model(qa.settings.model, qa.settings.models_dir)
    ray_embedder = RayEmbedder(local, partial(spec_embedder, spec), address="auto", workers=2)
    started = time.perf_counter()
    vectors = ray_embedder.embed_documents(texts)
    elapsed = time.perf_counter() - started
    assert_same_vectors(vectors, local.embed_documents(texts))
    assert ray_embedder.model_id == local.model_id
    print(f"\n{len(texts)} passages on 2 Ray workers in {elapsed:.1f} s (actor start-up included)")


def _passage_texts(qa) -> list[str]:
    from rag.indexing import index_inputs

    return [text for _, text in index_inputs(qa.corpus, qa.settings.corpus_dir).items]


def test_index_command_with_ray_builds_the_same_vectors(local_ray, run_cli, policyqa_data_dir, qa, tmp_path):
    """`policy-rag index --ray ADDRESS` (the local Ray's) on the State Council document alone, in a
    fresh data folder."""
    from index.embedding_cache import EmbeddingCache, embedding_key
    from rag.corpus import load_corpus
    from rag.indexing import index_inputs
    from rag.settings import Settings

    source = Settings.from_env().corpus_dir
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (NATIONAL_FILE, "terms.txt"):
        shutil.copy2(source / name, corpus / name)
    header, *tables = re.split(r'(?m)^(?=\[files\.")', (source / "metadata.toml").read_text(encoding="utf-8"))
    (corpus / "metadata.toml").write_text(header + "".join(t for t in tables if NATIONAL_FILE in t.split("\n")[0]),
                                          encoding="utf-8")
    data = tmp_path / "data"
    shutil.copytree(policyqa_data_dir / "models", data / "models", copy_function=link_or_copy)

    address = local_ray.get_runtime_context().gcs_address
    result = run_cli("index", "--ray", address, data_dir=data, env={"POLICYQA_CORPUS_DIR": str(corpus)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "index ready" in result.stdout

    settings = Settings.from_env(data_dir=data, corpus_dir=corpus)
    root = settings.index_dir
    stored = EmbeddingCache.load(root / "versions" / (root / "CURRENT").read_text(encoding="utf-8").strip())
    texts = [text for _, text in index_inputs(load_corpus(corpus), corpus).items]
    embedder = qa.retriever.index.embedder
    row = {key: i for i, key in enumerate(stored.keys)}
    got = stored.vectors[[row[embedding_key(embedder.model_id, text)] for text in texts]]
    assert_same_vectors(got, embedder.embed_documents(texts))


def test_ray_is_not_imported_without_ray():
    code = "import sys, rag.cli, rag.service, index.ray_embed; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
