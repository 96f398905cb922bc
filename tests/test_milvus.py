"""The Milvus backend (index/milvus_*.py) against Milvus Lite: the same rankings as the FAISS engine,
versions switched atomically, stale or other-model collections refused in one line, and through
`policy-rag --milvus-uri` the same figures and output as the default engine.

The first part uses a fake embedder over synthetic passages (Milvus is the subject); the slow part
uses the real model and the bundled corpus, reusing the session's FAISS vectors (no re-embedding).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")

from test_index_fakes import ITEMS, FakeEmbedder, synthetic_passages

from index.errors import IndexStateError
from index.hybrid import HybridIndex
from index.milvus_store import (
    MilvusTarget,
    build_milvus_index,
    collection_name,
    connect,
    is_milvus_current,
    load_milvus_index,
    remove_milvus_leftovers,
)

QUERIES = ["公园里的桃花", "红烧肉", "地铁什么时候通车？", "python data", "图书馆晚上开放吗", "学生学习", "没有的词汇"]
ITEMS_300 = synthetic_passages(300) + ITEMS


def assert_same_ranking(got, expected, atol=1e-6):
    """Equal hits in equal order, except that items whose scores differ by float rounding alone
    (Milvus and FAISS add up inner products in different orders) may swap."""
    assert len(got) == len(expected)
    assert np.allclose([h.score for h in got], [h.score for h in expected], atol=atol)
    expected_score = {h.id: h.score for h in expected}
    for hit, wanted in zip(got, expected):
        if hit.id != wanted.id:
            assert hit.id in expected_score and abs(expected_score[hit.id] - wanted.score) <= atol, (hit, wanted)


def versions(target: MilvusTarget) -> list[str]:
    client, close = connect(target)
    try:
        return sorted(n for n in client.list_collections() if n.startswith(target.name + "__v"))
    finally:
        close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same items in the FAISS engine and in Milvus Lite."""
    embedder = FakeEmbedder()
    local = HybridIndex.build(ITEMS_300, embedder)
    target = MilvusTarget(str(tmp_path_factory.mktemp("milvus") / "pair.db"), collection_name("pair"))
    milvus = build_milvus_index(target, ITEMS_300, embedder, "corpus-1")
    yield local, milvus, embedder
    milvus.close()


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_scores_equal_bm25s_scores(pair, query):
    local, milvus, _ = pair
    assert np.allclose(milvus.sparse.scores(query), local.sparse.scores(query), atol=1e-5)
    assert milvus.sparse.known_share(query) == local.sparse.known_share(query)
    assert_same_ranking(milvus.sparse.search(query, 20), local.sparse.search(query, 20), atol=1e-5)


def test_document_frequency_counts_the_items_holding_a_token(pair):
    local, milvus, _ = pair
    for token in ["公园", "学生", "红烧肉", "python", "不存在的词"]:
        assert milvus.sparse.document_frequency(token) == local.sparse.document_frequency(token)


@pytest.mark.parametrize("query", QUERIES)
def test_dense_search_equals_exact_faiss_ties_included(pair, query):
    local, milvus, embedder = pair
    vector = embedder.embed_queries([query])
    for k in (1, 10, 100, len(ITEMS_300)):
        assert_same_ranking(milvus.dense.search_vectors(vector, k)[0], local.dense.search_vectors(vector, k)[0])


def test_hybrid_search_is_milvus_rrf_over_its_two_rankings(tmp_path):
    embedder = FakeEmbedder()
    target = MilvusTarget(str(tmp_path / "rrf.db"), collection_name("rrf"))
    milvus = build_milvus_index(target, ITEMS, embedder, "c")
    local = HybridIndex.build(ITEMS, embedder)
    for query in ["公园里的桃花", "python data", "红烧肉和清蒸鱼", "图书馆晚上开放"]:
        got = milvus.search(query, 2)  # (further down, items sharing no character with the query tie at 0)
        assert_same_ranking(got, local.search(query, 2))  # RRF sums 1/(60 + rank) over the two rankings
    milvus.close()


def test_search_modes_and_limits(pair):
    _, milvus, _ = pair
    assert milvus.search("   ", 5) == []
    assert milvus.search("公园", 0) == []
    assert len(milvus.search("公园", 3, mode="dense")) == 3
    assert all(h.score > 0 for h in milvus.search("公园", 50, mode="sparse"))
    with pytest.raises(ValueError, match="unknown search mode"):
        milvus.search("公园", 3, mode="fuzzy")


def test_rebuild_reuses_stored_vectors_and_switches_versions(tmp_path):
    target = MilvusTarget(str(tmp_path / "v.db"), collection_name("versions"))
    embedder = FakeEmbedder()
    first = build_milvus_index(target, ITEMS, embedder, "one")
    assert len(embedder.embedded) == len(ITEMS)
    same = build_milvus_index(target, ITEMS, embedder, "one")  # up to date: loaded, nothing embedded
    assert same.collection == first.collection and len(embedder.embedded) == len(ITEMS)
    changed = [*ITEMS[:-1], ("new", "新建的体育馆周末对市民免费开放")]
    second = build_milvus_index(target, changed, embedder, "two")
    assert embedder.embedded[len(ITEMS):] == ["新建的体育馆周末对市民免费开放"]
    assert second.collection != first.collection
    # The version replaced is kept for readers still on it; the one before it goes with the next build.
    assert [h.id for h in first.search("红烧肉", 1)] == ["restaurant"]
    assert versions(target) == sorted([first.collection, second.collection])
    third = build_milvus_index(target, ITEMS, embedder, "three")
    assert versions(target) == sorted([second.collection, third.collection])
    assert remove_milvus_leftovers(target)
    assert versions(target) == sorted([second.collection, third.collection])
    assert target.pointer.read_text(encoding="utf-8").strip() == third.collection
    for index in (first, same, second, third):
        index.close()


def test_stale_or_other_model_collection_is_refused_in_one_line(tmp_path):
    target = MilvusTarget(str(tmp_path / "s.db"), collection_name("stale"))
    build_milvus_index(target, ITEMS, FakeEmbedder(), "corpus-a").close()
    assert is_milvus_current(target, "corpus-a", "fake-ngram-64")
    assert not is_milvus_current(target, "corpus-b", "fake-ngram-64")
    assert not is_milvus_current(target, "corpus-a", "other-model")
    with pytest.raises(IndexStateError, match=r"built from other documents.*run `policy-rag index`") as stale:
        load_milvus_index(target, FakeEmbedder(), "corpus-b")
    with pytest.raises(IndexStateError, match=r"built with model fake-ngram-64, settings say e5.*--rebuild") as other:
        load_milvus_index(target, FakeEmbedder(model_id="e5"), "corpus-a")
    with pytest.raises(IndexStateError, match="64-dimensional vectors but model fake-ngram-64 makes 32"):
        load_milvus_index(target, FakeEmbedder(dimension=32), "corpus-a")
    assert "\n" not in str(stale.value) + str(other.value)
    loaded = load_milvus_index(target, "fake-ngram-64", "corpus-a")  # a model id alone: sparse search
    assert [h.id for h in loaded.search("红烧肉", 1, mode="sparse")] == ["restaurant"]
    loaded.close()


def test_missing_index_and_damaged_pointer_are_reported(tmp_path):
    target = MilvusTarget(str(tmp_path / "m.db"), collection_name("missing"))
    with pytest.raises(IndexStateError, match=r"no index named policyqa_missing in Milvus at .*run `policy-rag index`"):
        load_milvus_index(target, FakeEmbedder())
    target.pointer.parent.mkdir(parents=True)
    target.pointer.write_text("policyqa_missing__vgone\n", encoding="utf-8")
    with pytest.raises(IndexStateError, match="missing from Milvus"):
        load_milvus_index(target, FakeEmbedder())
    target.pointer.write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(IndexStateError, match="is damaged"):
        load_milvus_index(target, FakeEmbedder())


def test_failed_build_leaves_the_version_in_use_answering(tmp_path, monkeypatch):
    import index.milvus_store as store

    target = MilvusTarget(str(tmp_path / "f.db"), collection_name("failed"))
    embedder = FakeEmbedder()
    good = build_milvus_index(target, ITEMS, embedder, "good")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "insert_rows", broken)
    with pytest.raises(OSError, match="disk full"):
        build_milvus_index(target, [*ITEMS, ("extra", "额外的文字")], embedder, "bad")
    assert versions(target) == [good.collection]
    good.close()
    again = load_milvus_index(target, embedder, "good")
    assert [h.id for h in again.search("红烧肉", 1)] == ["restaurant"]
    again.close()


def test_milvus_lite_refuses_approximate_vector_search(tmp_path):
    target = MilvusTarget(str(tmp_path / "h.db"), collection_name("hnsw"))
    with pytest.raises(IndexStateError, match=r"Milvus Lite searches vectors exactly only \(FLAT\), not hnsw"):
        build_milvus_index(target, ITEMS, FakeEmbedder(), "c", dense_kind="hnsw")


def test_uri_must_be_a_lite_file_or_a_server_url():
    with pytest.raises(IndexStateError, match=r"neither a Milvus Lite file \(a path ending in .db\) nor a server URL"):
        MilvusTarget("/tmp/index.sqlite", "policyqa_x")
    assert MilvusTarget("https://milvus.example:19530", "policyqa_x").is_server
    assert not MilvusTarget("~/data/milvus.db", "policyqa_x").is_server


@pytest.fixture
def lite_server(tmp_path):
    """Milvus Lite's engine served over TCP, reached by URL as a Milvus server would be."""
    from index.milvus_target import import_milvus_lite

    import_milvus_lite()
    from milvus_lite.server import Server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server(str(tmp_path / "served.db"), f"127.0.0.1:{port}")
    assert server.init() and server.start()
    time.sleep(1.0)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_server_url_switches_versions_by_alias(lite_server, monkeypatch):
    """Over a URL the version in use is an alias. Milvus Lite's engine has no aliases (UNIMPLEMENTED),
    so this client keeps them itself; everything else goes to the engine over the network."""
    import pymilvus

    aliases: dict[str, str] = {}

    class AliasingClient(pymilvus.MilvusClient):
        def describe_alias(self, alias, **kwargs):
            if alias not in aliases:
                raise pymilvus.MilvusException(message=f"alias {alias} not found")
            return {"alias": alias, "collection_name": aliases[alias]}

        def create_alias(self, collection_name, alias, **kwargs):
            assert alias not in aliases
            aliases[alias] = collection_name

        def alter_alias(self, collection_name, alias, **kwargs):
            assert alias in aliases
            aliases[alias] = collection_name

    monkeypatch.setattr(pymilvus, "MilvusClient", AliasingClient)
    target = MilvusTarget(lite_server, collection_name("served"))
    embedder = FakeEmbedder()
    first = build_milvus_index(target, ITEMS, embedder, "one")
    assert aliases == {target.name: first.collection}
    second = build_milvus_index(target, ITEMS[:-1], embedder, "two")
    assert aliases == {target.name: second.collection}
    loaded = load_milvus_index(target, embedder, "two")
    assert loaded.collection == second.collection and len(loaded) == len(ITEMS) - 1
    assert [h.id for h in loaded.search("红烧肉", 1)] == ["restaurant"]
    for index in (first, second, loaded):
        index.close()


# --- The real model and the bundled corpus, through PolicyQA and the CLI -----------------------------


@pytest.fixture(scope="session")
def milvus_qa(qa, tmp_path_factory):
    """PolicyQA with its index in Milvus Lite, built from the session's FAISS vectors."""
    from dataclasses import replace

    from rag.service import PolicyQA

    uri = str(tmp_path_factory.mktemp("milvus-qa") / "policyqa.db")
    opened = PolicyQA.open(replace(qa.settings, milvus_uri=uri))
    yield opened
    opened.retriever.index.close()


@pytest.mark.slow
def test_milvus_qa_uses_milvus(milvus_qa, qa):
    from index.milvus_index import MilvusIndex

    assert isinstance(milvus_qa.retriever.index, MilvusIndex)
    assert milvus_qa.retriever.index.ids == qa.retriever.index.ids
    assert milvus_qa.calibration == qa.calibration


@pytest.mark.slow
def test_retrieval_figures_within_002_of_faiss(milvus_qa, qa, gold, matcher):
    from rag.cli_search import hit_record
    from rag.evaluation import by_id, score_search

    questions = [g.question for g in gold]
    tables = {}
    for name, service in (("faiss", qa), ("milvus", milvus_qa)):
        results = service.search_many(questions, 10)
        records = by_id({"id": g.id, "hits": [hit_record(h) for h in hits]} for g, hits in zip(gold, results))
        tables[name] = score_search(gold, records, matcher)
    for metric in ("hit@5", "mrr@10"):
        assert abs(tables["milvus"].get(metric) - tables["faiss"].get(metric)) <= 0.02, metric


@pytest.mark.slow
def test_search_and_ask_give_the_default_engines_output(milvus_qa, qa, dev_gold):
    questions = [g.question for g in dev_gold]
    faiss_hits, milvus_hits = qa.search_many(questions, 10), milvus_qa.search_many(questions, 10)
    same = sum([h.clause.id for h in a] == [h.clause.id for h in b] for a, b in zip(faiss_hits, milvus_hits))
    assert same >= 0.95 * len(questions)
    for a, b in zip(faiss_hits, milvus_hits):
        if [h.clause.id for h in a] == [h.clause.id for h in b]:
            assert [h.score for h in b] == pytest.approx([h.score for h in a], abs=1e-4)
    faiss_answers, milvus_answers = qa.ask_many(questions[:30]), milvus_qa.ask_many(questions[:30])
    same = sum(a.text == b.text and a.abstained == b.abstained for a, b in zip(faiss_answers, milvus_answers))
    assert same >= 0.95 * 30


def _search_records(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_cli_search_json_has_the_same_fields_through_milvus(run_cli, policyqa_data_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "talent", "question": "外籍人才工作许可年龄能放宽到多少岁？"},
            {"id": "lead", "question": "谁牵头负责高新区发展规划？"}]
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    uri = str(tmp_path / "cli.db")
    default = _search_records(run_cli("search", "--jsonl", str(questions), "--k", "5", data_dir=policyqa_data_dir))
    milvus = run_cli("--milvus-uri", uri, "search", "--jsonl", str(questions), "--k", "5", data_dir=policyqa_data_dir)
    assert "pkg_resources" not in milvus.stderr and "WARNING" not in milvus.stderr
    milvus_records = _search_records(milvus)
    assert [set(r) for r in milvus_records] == [set(r) for r in default]
    for a, b in zip(default, milvus_records):
        assert [set(h) for h in b["hits"]] == [set(h) for h in a["hits"]]
        assert [h["clause_id"] for h in b["hits"]] == [h["clause_id"] for h in a["hits"]]
    # The environment fallback reaches the same index, which `policy-rag index` finds up to date.
    indexed = run_cli("index", data_dir=policyqa_data_dir, env={"POLICYQA_MILVUS_URI": uri})
    assert indexed.returncode == 0 and f"index at Milvus {uri} is up to date" in indexed.stdout


@pytest.mark.slow
def test_cli_reports_a_collection_of_another_model_in_one_line(run_cli, policyqa_data_dir, tmp_path):
    from rag.index_milvus import milvus_target
    from rag.settings import Settings

    uri = str(tmp_path / "other.db")
    target = milvus_target(Settings.from_env(data_dir=policyqa_data_dir).index_dir, uri)
    build_milvus_index(target, ITEMS, FakeEmbedder(model_id="some-other-model"), "x").close()
    result = run_cli("--milvus-uri", uri, "search", "外籍人才", data_dir=policyqa_data_dir)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "was built with model some-other-model" in lines[0] and "policy-rag index --rebuild" in lines[0]


def test_bad_milvus_uri_is_one_line(run_cli, tmp_path):
    result = run_cli("--milvus-uri", "ftp://x", "search", "外籍人才", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "--milvus-uri or POLICYQA_MILVUS_URI" in result.stderr


def test_help_stays_light():
    """--milvus-uri and --ray are options; neither pymilvus nor ray is imported to print help."""
    code = ("import sys; from rag.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in ('pymilvus', 'ray', 'milvus_lite') if m in sys.modules))")
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


ADDED_DOCUMENT = """# 示范市低空物流配送管理办法

第一条 为了规范本市低空无人机物流配送活动，保障飞行安全，制定本办法。

第二条 无人机物流配送企业应当在每次飞行前向市交通运输主管部门报备航线，航线距离居民楼不得少于三十米。

第三条 本办法自发布之日起施行。
"""


@pytest.mark.slow
def test_add_updates_the_milvus_index(run_cli, qa, tmp_path):
    """`policy-rag --milvus-uri FILE add DOC` puts the new document's passages into Milvus (only they are
    embedded: the seeds' vectors come from the folder index) and `search` finds them there."""
    import os
    import shutil

    from rag.settings import Settings

    data = tmp_path / "data"

    def link(source: str, target: str) -> None:
        os.link(source, target)

    shutil.copytree(qa.settings.models_dir, data / "models", copy_function=link)
    shutil.copytree(qa.settings.index_dir, Settings(corpus_dir=qa.settings.corpus_dir, data_dir=data).index_dir)
    document = tmp_path / "低空物流配送管理办法.md"
    document.write_text(ADDED_DOCUMENT, encoding="utf-8")
    uri = str(tmp_path / "library.db")
    added = run_cli("--milvus-uri", uri, "add", str(document), data_dir=data)
    assert added.returncode == 0, added.stderr[-2000:]
    embedded = [int(n) for n in re.findall(r"Embedding (\d+) texts", added.stderr)]
    assert embedded and max(embedded) < 20  # the new document's passages only
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "drone", "question": "无人机配送航线离居民楼至少多远？"}, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    found = run_cli("--milvus-uri", uri, "search", "--jsonl", str(questions), "--k", "3", data_dir=data)
    hits = _search_records(found)[0]["hits"]
    assert hits and hits[0]["source_files"] == ["低空物流配送管理办法.md"]
    assert "三十米" in hits[0]["text"]


def test_allowed_mask_restricts_the_search_inside_milvus(pair):
    local, milvus, embedder = pair
    allowed = np.zeros(len(ITEMS_300), dtype=bool)
    allowed[::3] = True
    vector = embedder.embed_queries(["公园里的桃花"])
    assert_same_ranking(milvus.dense.search_vectors(vector, 20, allowed)[0], local.dense.search_vectors(vector, 20, allowed)[0])
    assert np.allclose(milvus.sparse.scores("公园里的桃花", allowed), local.sparse.scores("公园里的桃花", allowed), atol=1e-5)
    assert all(milvus.ids.index(h.id) % 3 == 0 for h in milvus.sparse.search("学生学习", 30, allowed))
    nothing = np.zeros(len(ITEMS_300), dtype=bool)
    assert milvus.dense.search_vectors(vector, 5, nothing) == [[]]
    assert not milvus.sparse.scores("公园", nothing).any()
