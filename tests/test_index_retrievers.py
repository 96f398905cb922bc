"""One contract suite run against every retriever (sparse, dense, HNSW, hybrid), then what each adds."""

from __future__ import annotations

import numpy as np
import pytest
from test_index_fakes import ITEMS, FakeEmbedder, synthetic_passages

from index.build import build_index
from index.dense import DenseIndex
from index.errors import ModelError
from index.hits import Hit
from index.hybrid import FusionConfig, HybridIndex
from index.sparse import SparseIndex, top_positions
from index.store import load_index
from index.tokenize import JiebaTokenizer

IDS = [item_id for item_id, _ in ITEMS]
TEXTS = [text for _, text in ITEMS]


@pytest.fixture(scope="module")
def jieba_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba")


class InMode:
    """A HybridIndex seen through the plain retriever protocol in one search mode."""

    def __init__(self, index: HybridIndex, mode: str) -> None:
        self.index, self.mode = index, mode

    def search(self, query: str, k: int) -> list[Hit]:
        return self.index.search(query, k, self.mode)

    def search_many(self, queries: list[str], k: int) -> list[list[Hit]]:
        return self.index.search_many(queries, k, self.mode)


def make_retriever(name: str, cache, tmp_path_factory):
    embedder = FakeEmbedder()
    if name == "sparse":
        return SparseIndex.build(IDS, TEXTS, JiebaTokenizer(cache_dir=cache))
    if name in ("dense-flat", "dense-hnsw"):
        return DenseIndex.build(IDS, embedder.embed_documents(TEXTS), embedder, kind=name.removeprefix("dense-"))
    hybrid = HybridIndex.build(ITEMS, embedder, tokenizer_cache_dir=cache)
    if name == "hybrid-rrf":
        return InMode(hybrid, "hybrid")
    if name == "hybrid-score":
        return InMode(HybridIndex(hybrid.dense, hybrid.sparse, embedder, FusionConfig(method="score")), "hybrid")
    if name in ("hybrid-as-dense", "hybrid-as-sparse"):
        return InMode(hybrid, name.removeprefix("hybrid-as-"))
    if name == "hybrid-saved-and-loaded":
        root = tmp_path_factory.mktemp("index")
        build_index(root, ITEMS, embedder, "corpus-1", tokenizer_cache_dir=cache)
        return InMode(load_index(root, FakeEmbedder(), "corpus-1", tokenizer_cache_dir=cache), "hybrid")
    raise AssertionError(name)


RETRIEVERS = [
    "sparse", "dense-flat", "dense-hnsw", "hybrid-rrf", "hybrid-score",
    "hybrid-as-dense", "hybrid-as-sparse", "hybrid-saved-and-loaded",
]


@pytest.fixture(scope="module", params=RETRIEVERS)
def retriever(request, jieba_cache, tmp_path_factory):
    return make_retriever(request.param, jieba_cache, tmp_path_factory)


QUERIES = ["公园里的桃花", "红烧肉", "地铁什么时候通车？", "python data", "图书馆晚上开放吗"]


# The contract: every retriever.


@pytest.mark.parametrize("k", [1, 3])
def test_search_returns_at_most_k_hits(retriever, k):
    for query in QUERIES:
        assert len(retriever.search(query, k)) <= k


def test_hit_ids_are_unique_and_indexed(retriever):
    for query in QUERIES:
        ids = [hit.id for hit in retriever.search(query, 5)]
        assert len(ids) == len(set(ids))
        assert set(ids) <= set(IDS)


def test_hits_are_best_first(retriever):
    for query in QUERIES:
        scores = [hit.score for hit in retriever.search(query, len(IDS))]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_returns_no_hits(retriever, query):
    assert retriever.search(query, 5) == []


def test_k_larger_than_the_corpus_returns_each_item_at_most_once(retriever):
    hits = retriever.search("公园里的桃花", 1000)
    assert 1 <= len(hits) <= len(IDS)
    assert len({hit.id for hit in hits}) == len(hits)


def test_k_zero_returns_no_hits(retriever):
    assert retriever.search("公园里的桃花", 0) == []


def test_an_items_own_text_finds_it_first(retriever):
    for item_id, text in ITEMS:
        assert retriever.search(text, 3)[0].id == item_id


def test_a_distinctive_word_finds_its_item_first(retriever):
    assert retriever.search("红烧肉", 3)[0].id == "restaurant"
    assert retriever.search("Python", 3)[0].id == "python"


def test_a_smaller_k_gives_a_prefix_of_a_larger_k(retriever):
    for query in QUERIES:
        assert retriever.search(query, 2) == retriever.search(query, 6)[:2]


def test_search_is_deterministic(retriever):
    assert [retriever.search(q, 5) for q in QUERIES] == [retriever.search(q, 5) for q in QUERIES]


def test_search_many_matches_search_one_by_one(retriever):
    queries = [*QUERIES, ""]
    assert retriever.search_many(queries, 4) == [retriever.search(query, 4) for query in queries]


# What each retriever adds.


def test_sparse_returns_only_items_sharing_a_token(jieba_cache):
    sparse = SparseIndex.build(IDS, TEXTS, JiebaTokenizer(cache_dir=jieba_cache))
    assert [hit.id for hit in sparse.search("红烧肉", 10)] == ["restaurant"]
    assert all(hit.score > 0 for hit in sparse.search("公园 地铁 python", 10))


@pytest.mark.parametrize("query", ["zzzz", "的了", "什么？", "。，！"])
def test_sparse_query_without_an_indexed_token_returns_no_hits(jieba_cache, query):
    assert SparseIndex.build(IDS, TEXTS, JiebaTokenizer(cache_dir=jieba_cache)).search(query, 5) == []


def test_sparse_indexes_items_that_have_no_tokens(jieba_cache):
    sparse = SparseIndex.build(["empty", "text"], ["。。。", "公园桃花"], JiebaTokenizer(cache_dir=jieba_cache))
    assert [hit.id for hit in sparse.search("公园", 5)] == ["text"]


def test_top_positions_breaks_ties_by_position():
    positions, values = top_positions(np.array([1.0, 3.0, 3.0, 0.0, 3.0]), 2)
    assert positions.tolist() == [1, 2] and values.tolist() == [3.0, 3.0]
    assert top_positions(np.array([0.0, 2.0, 0.0]), 5, positive_only=True)[0].tolist() == [1]


def test_dense_searches_a_batch_of_vectors():
    embedder = FakeEmbedder()
    dense = DenseIndex.build(IDS, embedder.embed_documents(TEXTS))
    results = dense.search_vectors(embedder.embed_queries(TEXTS), 1)
    assert [hits[0].id for hits in results] == IDS
    assert results[0][0].score == pytest.approx(1.0, abs=1e-5)


def test_dense_refuses_vectors_of_the_wrong_dimension():
    dense = DenseIndex.build(IDS, FakeEmbedder().embed_documents(TEXTS))
    with pytest.raises(ModelError, match=r"expected \(n, 64\)"):
        dense.search_vectors(np.ones((1, 32), dtype=np.float32), 3)


def test_dense_without_an_embedder_cannot_search_text():
    dense = DenseIndex.build(IDS, FakeEmbedder().embed_documents(TEXTS))
    with pytest.raises(ModelError, match="without an embedding model"):
        dense.search("公园", 3)


def test_hnsw_agrees_with_exact_search_on_the_top_hit():
    items = synthetic_passages(500)
    embedder = FakeEmbedder()
    vectors = embedder.embed_documents([text for _, text in items])
    ids = [item_id for item_id, _ in items]
    flat = DenseIndex.build(ids, vectors, kind="flat")
    hnsw = DenseIndex.build(ids, vectors, kind="hnsw")
    queries = vectors[:50]
    assert [h[0].id for h in hnsw.search_vectors(queries, 10)] == [h[0].id for h in flat.search_vectors(queries, 10)]


def test_hybrid_uses_given_query_vectors_instead_of_embedding(jieba_cache):
    embedder = FakeEmbedder()
    hybrid = HybridIndex.build(ITEMS, embedder, tokenizer_cache_dir=jieba_cache)
    vectors = embedder.embed_queries(QUERIES)
    calls = embedder.query_calls
    assert hybrid.search_many(QUERIES, 4, query_vectors=vectors) == hybrid.search_many(QUERIES, 4)
    assert embedder.query_calls == calls + 1


def test_hybrid_embeds_all_queries_in_one_batch(jieba_cache):
    embedder = FakeEmbedder()
    hybrid = HybridIndex.build(ITEMS, embedder, tokenizer_cache_dir=jieba_cache)
    hybrid.search_many(QUERIES * 10, 5)
    assert embedder.query_calls == 1


def test_hybrid_refuses_an_unknown_mode(jieba_cache):
    hybrid = HybridIndex.build(ITEMS, FakeEmbedder(), tokenizer_cache_dir=jieba_cache)
    with pytest.raises(ValueError, match="unknown search mode 'bm25'"):
        hybrid.search("公园", 3, mode="bm25")


@pytest.mark.parametrize(
    ("items", "message"),
    [([], "no items"), ([("a", "x"), ("a", "y")], "'a' occurs more than once"), ([("a", None)], "pairs of strings")],
)
def test_hybrid_refuses_bad_items(items, message, jieba_cache):
    with pytest.raises(ValueError, match=message):
        HybridIndex.build(items, FakeEmbedder(), tokenizer_cache_dir=jieba_cache)


@pytest.mark.parametrize("bad", [{"method": "max"}, {"dense_weight": -1.0}, {"depth": 0}])
def test_fusion_config_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        FusionConfig(**bad)


def test_known_share_is_the_share_of_query_tokens_the_index_has_seen(jieba_cache):
    sparse = SparseIndex.build(["a", "b"], ["公园桃花盛开", "图书馆开放时间"], JiebaTokenizer(cache_dir=jieba_cache))
    assert sparse.known_share("公园桃花") == 1.0
    assert sparse.known_share("量子计算芯片") == 0.0
    assert 0.0 < sparse.known_share("公园里的量子计算") < 1.0
    assert sparse.known_share("。。。") == 0.0
