"""Scale machinery on real documents and the real model, kept small for CI: a slice of 15 laws from
../shared/scale (read at test time), their real e5 vectors, approximate search and filters inside
it, a build killed with SIGKILL that continues from its last finished batch, keyword search while
the vectors are made, and the int8 engine."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import LAWS_ARCHIVE, REPO_ROOT

pytestmark = pytest.mark.slow

SLICE_DOCUMENTS = 15
FILTERS = {"one document": [4], "three documents": [0, 6, 13], "a third of them": list(range(0, 15, 3))}


def passages_of(name: str, data: bytes, doc_id: str) -> list[tuple[str, str, str]]:
    """(passage id, embedded text, BM25 text) of a law file, cut as the library cuts any document."""
    from rag.clauses import Clause
    from rag.formats import extract_bytes
    from rag.normalize import normalize
    from rag.parsing import parse_text
    from rag.passages import build_passages, keyword_text, passage_text

    text = extract_bytes(data, name).text
    units = parse_text(text, name=name).units
    clauses = {
        f"{doc_id}:{'.'.join(u.id_parts)}": Clause(
            f"{doc_id}:{'.'.join(u.id_parts)}", doc_id, u.kind, u.label, u.path, text[u.span[0] : u.span[1]],
            normalize(text[u.span[0] : u.span[1]]), u.span, (name,), u.label,
        )
        for u in units
    }
    return [(p.id, passage_text(p, clauses[p.clause_id]), keyword_text(p, clauses[p.clause_id]))
            for p in build_passages(clauses.values())]


@pytest.fixture(scope="module")
def law_slice() -> list[tuple[str, str, str, int]]:
    """(passage id, text, BM25 text, document number) of 15 short laws chosen by a fixed shuffle."""
    from rag.errors import PolicyQAError

    with tarfile.open(LAWS_ARCHIVE) as archive:
        members = sorted((m for m in archive if m.isfile() and m.name.endswith(".md") and 2500 < m.size < 7000),
                         key=lambda m: m.name)
        random.Random(30).shuffle(members)
        rows: list[tuple[str, str, str, int]] = []
        documents = 0
        for member in members:
            try:
                passages = passages_of(Path(member.name).name, archive.extractfile(member).read(), f"law{documents:02d}")
            except PolicyQAError:
                continue  # a court case without numbered articles
            rows += [(pid, text, keywords, documents) for pid, text, keywords in passages]
            documents += 1
            if documents == SLICE_DOCUMENTS:
                return rows
    pytest.fail(f"fewer than {SLICE_DOCUMENTS} short laws parse in {LAWS_ARCHIVE}")


@pytest.fixture(scope="module")
def embedder(default_models_dir):
    from index.models import resolve_model
    from index.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(resolve_model("default", default_models_dir))


@pytest.fixture(scope="module")
def slice_vectors(law_slice, embedder, default_models_dir):
    """The slice's real vectors, kept in a shard store of the session's data folder (instant on a rerun
    with POLICYQA_TEST_DATA_DIR)."""
    from index.embedding_cache import ShardStore, plan_embedding

    plan = plan_embedding([t for _, t, _, _ in law_slice], embedder, None,
                          ShardStore(default_models_dir.parent / "test-scale-shards"))
    plan.run(embedder, shards=ShardStore(default_models_dir.parent / "test-scale-shards"), workers=1)
    return plan.vectors()


@pytest.fixture(scope="module")
def questions(law_slice, embedder):
    """80 of the slice's passages asked as questions (their query vectors), and their positions."""
    rows = np.sort(np.random.default_rng(8).choice(len(law_slice), 80, replace=False))
    return rows, embedder.embed_queries([law_slice[i][1] for i in rows])


@pytest.fixture(scope="module")
def indexes(law_slice, slice_vectors, embedder):
    from index.ann import tuning_rows
    from index.dense import DenseIndex

    ids = [pid for pid, _, _, _ in law_slice]
    tuning = embedder.embed_queries([law_slice[i][1] for i in tuning_rows(len(ids))])
    return {kind: DenseIndex.build(ids, slice_vectors, kind=kind, tuning_queries=tuning) for kind in ("flat", "ivf", "hnsw")}


def test_the_slice_is_real_and_large_enough(law_slice, slice_vectors):
    assert len({d for *_, d in law_slice}) == SLICE_DOCUMENTS
    assert len(law_slice) >= 500
    assert slice_vectors.shape == (len(law_slice), 384)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_the_tuned_approximate_index_finds_the_exact_top_10(indexes, slice_vectors, questions, kind):
    """Tuned on one sample of passages asked as questions, checked on another."""
    from index.ann import exact_neighbours

    dense = indexes[kind]
    assert dense.params["recall_at_10"] >= 0.98 and dense.params["tuned_on"] == "passages asked as questions"
    rows, queries = questions
    truth = exact_neighbours(slice_vectors, queries, rows, 10)
    _, found = dense.search_positions(queries, 11)
    found = [[p for p in row if p != own][:10] for row, own in zip(found.tolist(), rows)]
    recall = np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth)])
    assert recall >= 0.97


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("documents", list(FILTERS))
def test_a_filtered_search_returns_only_allowed_documents_and_the_exact_top_hits(
    law_slice, indexes, questions, kind, documents
):
    doc_of = np.array([d for *_, d in law_slice])
    mask = np.isin(doc_of, FILTERS[documents])
    allowed = {pid for (pid, *_), ok in zip(law_slice, mask) if ok}
    _, queries = questions
    flat, dense = indexes["flat"], indexes[kind]
    overlaps, same_first = [], []
    for row in range(len(queries)):
        hits = dense.search_vectors(queries[row : row + 1], 10, mask)[0]
        exact = [h for h in flat.search_vectors(queries[row : row + 1], len(flat))[0] if h.id in allowed][:10]
        assert hits and {h.id for h in hits} <= allowed
        if kind == "flat":
            assert hits == exact
        overlaps.append(len({h.id for h in hits} & {h.id for h in exact}) / len(exact))
        same_first.append(hits[0].id == exact[0].id)
    assert np.mean(overlaps) >= 0.95 and np.mean(same_first) >= 0.95


KILLED_BUILD = """
import sys
from pathlib import Path
from index.build import build_index
from index.models import resolve_model
from index.onnx_embedder import OnnxEmbedder

root, models, items_file, jieba = sys.argv[1:]
rows = [line.split("\\t") for line in Path(items_file).read_text(encoding="utf-8").splitlines()]
embedder = OnnxEmbedder(resolve_model("default", Path(models)), threads=1)
build_index(root, [(r[0], r[1]) for r in rows], embedder, "slice-1", keyword_texts=[r[2] for r in rows],
            batch_size=16, keywords_first=True, workers=1, tokenizer_cache_dir=jieba)
"""


def test_a_build_killed_with_sigkill_answers_by_keywords_and_continues_from_its_last_batch(
    law_slice, embedder, default_models_dir, tmp_path
):
    from index.build import SHARDS_DIR, build_index
    from index.embedding_cache import ShardStore
    from index.store import load_index, read_manifest

    rows = law_slice[:150]
    items_file = tmp_path / "items.tsv"
    items_file.write_text("\n".join("\t".join(r[:3]) for r in rows), encoding="utf-8")
    root, jieba = tmp_path / "index", tmp_path / "jieba"
    script = tmp_path / "build.py"
    script.write_text(textwrap.dedent(KILLED_BUILD), encoding="utf-8")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(script), str(root), str(default_models_dir), str(items_file), str(jieba)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    shards = ShardStore(root / SHARDS_DIR)
    try:
        while len(shards.shards()) < 2:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() - started < 50, "the build did not finish two batches in 50 s"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    done_before = 16 * len(shards.shards())
    assert 32 <= done_before < len(rows)

    # Keyword search works meanwhile: the keyword-only version published before embedding.
    assert read_manifest(root).keyword_only
    index = load_index(root, embedder, "slice-1", tokenizer_cache_dir=jieba)
    assert index.keyword_only
    pid, _, keywords, _ = rows[100]
    assert pid in [h.id for h in index.search(keywords, 5)]

    class Counting:
        model_id, dimension, calls = embedder.model_id, embedder.dimension, []

        def embed_documents(self, texts):
            self.calls.append(len(texts))
            return embedder.embed_documents(texts)

        def embed_queries(self, texts):
            return embedder.embed_queries(texts)

    counting = Counting()
    finished = build_index(root, [r[:2] for r in rows], counting, "slice-1", keyword_texts=[r[2] for r in rows],
                           batch_size=16, tokenizer_cache_dir=jieba)
    distinct = len({r[1] for r in rows})
    assert sum(counting.calls) == distinct - done_before
    assert not finished.keyword_only and not (root / SHARDS_DIR).exists()
    assert finished.search(rows[100][1], 1, mode="dense")[0].id in {r[0] for r in rows if r[1] == rows[100][1]}


def test_the_int8_engine_is_close_to_fp32_and_names_itself(law_slice, slice_vectors, default_models_dir, embedder,
                                                           tmp_path):
    """(On a copy of the model: the int8 file is written beside the model's, and the session's model
    folder stays as built. A copy, not hard links, which onnx refuses for external weights.)"""
    import shutil

    from index.models import resolve_model
    from index.onnx_embedder import OnnxEmbedder

    shutil.copytree(default_models_dir, tmp_path / "models")
    int8 = OnnxEmbedder(resolve_model("default", tmp_path / "models"), precision="int8")
    assert int8.onnx_file.is_file() and int8.onnx_file.parent == int8.spec.onnx_file.parent
    assert int8.model_id != embedder.model_id and int8.model_id.startswith(embedder.model_id)
    sample = np.random.default_rng(4).choice(len(law_slice), 200, replace=False)
    cosine = (int8.embed_documents([law_slice[i][1] for i in sample]) * slice_vectors[sample]).sum(axis=1)
    assert cosine.min() >= 0.98 and cosine.mean() >= 0.99


def test_a_library_too_large_to_embed_at_add_answers_by_keywords_until_indexed(
    qa, laws, tmp_path, monkeypatch
):
    """`policy-rag add` of more passages than ADD_EMBEDS_AT_MOST publishes keyword search and leaves
    the vectors; answers say so until `policy-rag index` has made them (only the new ones)."""
    import shutil

    import rag.library_changes
    from rag.library_changes import add_documents
    from rag.service import PolicyQA
    from rag.settings import Settings

    data = tmp_path / "data"
    shutil.copytree(qa.settings.models_dir, data / "models", copy_function=os.link)
    settings = Settings(corpus_dir=qa.settings.corpus_dir, data_dir=data)
    shutil.copytree(qa.settings.index_dir, settings.index_dir)
    monkeypatch.setattr(rag.library_changes, "ADD_EMBEDS_AT_MOST", 1)
    henan = laws("DLC/河南地方法规/地方性法规/河南/河南省促进高新技术产业发展条例(2011-06-13).md")
    report = add_documents(settings, henan)
    assert report.index is not None and report.index.keyword_only

    waiting = PolicyQA.open(settings)
    assert waiting.keyword_only
    answer = waiting.ask("河南规定技术转让所得不超过五百万元的部分如何征税？")
    assert answer.text.startswith("语义检索索引仍在建立中") and not answer.abstained
    assert any("五百万元" in c.clause.text for c in answer.citations)

    done = PolicyQA.open(settings, repair=True)
    assert not done.keyword_only
    assert not done.ask("河南规定技术转让所得不超过五百万元的部分如何征税？").text.startswith("语义检索索引仍在建立中")
