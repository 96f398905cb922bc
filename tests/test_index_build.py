"""Builds at scale, on the fake embedder: vectors written as they are made so a build that stops
continues where it stopped, keyword-only versions that answer while vectors are made, the vector
index chosen by size and described by the manifest, and filters applied inside every search."""

from __future__ import annotations

import numpy as np
import pytest
from test_index_fakes import ITEMS, FakeEmbedder, synthetic_passages

from index.build import SHARDS_DIR, build_index, build_keyword_index
from index.dense import DenseIndex, resolve_kind
from index.embedding_cache import ShardStore, embed_with_cache
from index.errors import IndexStateError
from index.sparse import SparseIndex
from index.store import is_current, load_index, read_manifest
from index.tokenize import JiebaTokenizer

PASSAGES = synthetic_passages(60, seed=3)


@pytest.fixture(scope="module")
def jieba_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba")


class FailsAfter(FakeEmbedder):
    """Embeds `calls` batches, then fails as a killed process would stop."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls = calls

    def embed_documents(self, texts):
        if self.calls == 0:
            raise KeyboardInterrupt
        self.calls -= 1
        return super().embed_documents(texts)


def build(root, jieba_cache, items=PASSAGES, embedder=None, corpus_hash="corpus-1", **options):
    return build_index(root, items, embedder or FakeEmbedder(), corpus_hash, tokenizer_cache_dir=jieba_cache,
                       batch_size=10, **options)


# Resuming.


def test_a_build_that_stops_keeps_its_finished_batches_and_the_next_embeds_only_the_rest(tmp_path, jieba_cache):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=3))
    assert len(ShardStore(tmp_path / SHARDS_DIR).shards()) == 3

    embedder = FakeEmbedder()
    index = build(tmp_path, jieba_cache, embedder=embedder)
    assert len(embedder.embedded) == len(PASSAGES) - 30
    assert sorted(embedder.embedded) == sorted(text for _, text in PASSAGES[30:])
    assert not (tmp_path / SHARDS_DIR).exists()  # a finished build leaves no shards
    fresh = build(tmp_path / "fresh", jieba_cache)
    assert index.search_many(["公园 学生"], 10, "dense") == fresh.search_many(["公园 学生"], 10, "dense")


def test_a_resumed_build_says_how_much_was_done_before(tmp_path, jieba_cache):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=2))
    seen = []

    def progress(iterable, total, desc):
        seen.append((total, desc))
        yield from iterable

    build(tmp_path, jieba_cache, progress=progress)
    assert seen == [(40, "Embedding 40 texts (20 done before)")]


def test_a_damaged_shard_is_embedded_again(tmp_path, jieba_cache):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=2))
    first = ShardStore(tmp_path / SHARDS_DIR).shards()[0]
    first.write_bytes(first.read_bytes()[:100])
    embedder = FakeEmbedder()
    build(tmp_path, jieba_cache, embedder=embedder)
    assert len(embedder.embedded) == len(PASSAGES) - 10


def test_a_forced_rebuild_starts_over_without_the_shards(tmp_path, jieba_cache):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=2))
    embedder = FakeEmbedder()
    build(tmp_path, jieba_cache, embedder=embedder, force=True)
    assert len(embedder.embedded) == len(PASSAGES)


# Keyword search while the vectors are made.


def test_keywords_first_publishes_a_keyword_only_version_that_answers_by_keywords(tmp_path, jieba_cache):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=1), keywords_first=True)
    manifest = read_manifest(tmp_path)
    assert manifest.keyword_only and manifest.dimension == 0 and manifest.count == len(PASSAGES)
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64")

    index = load_index(tmp_path, FakeEmbedder(), "corpus-1", tokenizer_cache_dir=jieba_cache)
    assert index.keyword_only
    hits = index.search("图书馆", 5)
    assert hits and hits == index.search("图书馆", 5, mode="sparse")
    with pytest.raises(IndexStateError, match="only keyword search works.*policy-rag index"):
        index.search("图书馆", 5, mode="dense")

    embedder = FakeEmbedder()
    done = build(tmp_path, jieba_cache, embedder=embedder)
    assert not done.keyword_only and len(embedder.embedded) == len(PASSAGES) - 10
    assert is_current(tmp_path, "corpus-1", "fake-ngram-64")


def test_a_large_build_publishes_keywords_first_by_itself(tmp_path, jieba_cache, monkeypatch):
    import index.build

    monkeypatch.setattr(index.build, "KEYWORDS_FIRST_MIN", 50)
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, jieba_cache, embedder=FailsAfter(calls=0))
    assert read_manifest(tmp_path).keyword_only
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "small", jieba_cache, items=PASSAGES[:40], embedder=FailsAfter(calls=0))
    assert not (tmp_path / "small" / "CURRENT").exists()  # too little to embed to be worth it


def test_a_deferred_build_returns_the_keyword_index_and_the_next_build_adds_vectors(tmp_path, jieba_cache):
    embedder = FakeEmbedder()
    index = build(tmp_path, jieba_cache, embedder=embedder, defer_dense_min=50)
    assert index.keyword_only and embedder.embedded == []
    assert build(tmp_path, jieba_cache, defer_dense_min=1000).keyword_only is False


def test_a_keyword_index_keeps_the_vectors_of_the_version_it_replaces(tmp_path, jieba_cache):
    build(tmp_path, jieba_cache)
    grown = PASSAGES + synthetic_passages(5, seed=99)
    grown = [(f"new{i}", text) for i, (_, text) in enumerate(grown[-5:])] + PASSAGES
    keyword = build_keyword_index(tmp_path, grown, "fake-ngram-64", "corpus-2", tokenizer_cache_dir=jieba_cache)
    assert keyword.keyword_only and read_manifest(tmp_path).keyword_only
    embedder = FakeEmbedder()
    build(tmp_path, jieba_cache, items=grown, embedder=embedder, corpus_hash="corpus-2")
    assert len(embedder.embedded) == 5


def test_a_keyword_only_version_loads_whatever_the_model(tmp_path, jieba_cache):
    build_keyword_index(tmp_path, ITEMS, "fake-ngram-64", "corpus-1", tokenizer_cache_dir=jieba_cache)
    index = load_index(tmp_path, FakeEmbedder(model_id="another", dimension=32), tokenizer_cache_dir=jieba_cache)
    assert index.search("红烧肉", 1)[0].id == "restaurant"


# The vector index, chosen by size and described by the manifest.


def test_auto_is_exact_for_small_collections_and_ivf_past_the_limit():
    assert resolve_kind("auto", 1_000) == "flat"
    assert resolve_kind("auto", 10_000_000) == "ivf"
    assert resolve_kind("hnsw", 10) == "hnsw"
    with pytest.raises(ValueError, match="unknown dense index kind"):
        resolve_kind("annoy", 10)


def test_the_manifest_records_the_setting_and_the_tuned_search(tmp_path, jieba_cache):
    build(tmp_path / "auto", jieba_cache, dense_kind="auto")
    manifest = read_manifest(tmp_path / "auto")
    assert manifest.dense_kind == "flat" and manifest.dense_params["setting"] == "auto"
    assert is_current(tmp_path / "auto", "corpus-1", "fake-ngram-64", dense_kind="auto")
    assert not is_current(tmp_path / "auto", "corpus-1", "fake-ngram-64", dense_kind="flat")
    # An index built "flat" (the default before "auto") still serves "auto" at a size where auto is exact.
    build(tmp_path / "flat", jieba_cache, dense_kind="flat")
    assert is_current(tmp_path / "flat", "corpus-1", "fake-ngram-64", dense_kind="auto")
    assert not is_current(tmp_path / "flat", "corpus-1", "fake-ngram-64", dense_kind="hnsw")

    items = synthetic_passages(3000, seed=4)
    built = build(tmp_path / "ivf", jieba_cache, items=items, dense_kind="ivf", keywords_first=False)
    params = read_manifest(tmp_path / "ivf").dense_params
    assert params["kind"] == "ivf" and params["nlist"] >= 16 and params["nprobe"] <= params["nlist"]
    assert params["recall_at_10"] >= 0.98 or params["nprobe"] == params["nlist"]
    loaded = load_index(tmp_path / "ivf", FakeEmbedder(), tokenizer_cache_dir=jieba_cache)
    assert loaded.dense.params["nprobe"] == params["nprobe"]
    queries = [text for _, text in items[:20]]
    assert loaded.search_many(queries, 10, "dense") == built.search_many(queries, 10, "dense")


# Filters inside the search.


@pytest.fixture(scope="module")
def vectors():
    items = synthetic_passages(4000, seed=5)
    embedder = FakeEmbedder()
    return [i for i, _ in items], embedder.embed_documents([t for _, t in items]), embedder.embed_queries(
        [t for _, t in items[:30]])


def brute_force(ids, vectors, query, mask, k):
    positions = np.flatnonzero(mask)
    scores = vectors[positions] @ query
    order = np.lexsort((positions, -scores))[:k]
    return [ids[positions[i]] for i in order]


@pytest.mark.parametrize("share", [0.5, 0.05, 0.001])
def test_exact_search_with_a_filter_equals_searching_everything_and_filtering_after(vectors, share):
    """What retrieval did before (search every vector, then drop the disallowed) is what the selector does."""
    ids, matrix, queries = vectors
    mask = np.random.default_rng(1).random(len(ids)) < share
    mask[7] = True
    allowed = {i for i, ok in zip(ids, mask) if ok}
    flat = DenseIndex.build(ids, matrix, kind="flat")
    for row, query in enumerate(queries):
        hits = flat.search_vectors(queries[row : row + 1], 20, mask)[0]
        everything = flat.search_vectors(queries[row : row + 1], len(ids))[0]
        assert hits == [h for h in everything if h.id in allowed][:20]
        expected = np.sort(matrix[mask] @ query)[::-1][: len(hits)]
        np.testing.assert_allclose([h.score for h in hits], expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
@pytest.mark.parametrize("share", [0.3, 0.01])
def test_approximate_search_with_a_filter_returns_only_allowed_items_and_the_exact_top_hits(vectors, kind, share):
    ids, matrix, queries = vectors
    mask = np.random.default_rng(2).random(len(ids)) < share
    allowed = {i for i, ok in zip(ids, mask) if ok}
    ann = DenseIndex.build(ids, matrix, kind=kind)
    overlaps = []
    for query, hits in zip(queries, ann.search_vectors(queries, 10, mask)):
        assert hits and {h.id for h in hits} <= allowed
        exact = brute_force(ids, matrix, query, mask, 10)
        overlaps.append(len({h.id for h in hits} & set(exact)) / len(exact))
    assert np.mean(overlaps) >= 0.95


def test_a_filter_allowing_nothing_finds_nothing(vectors):
    ids, matrix, queries = vectors
    for kind in ("flat", "ivf"):
        dense = DenseIndex.build(ids, matrix, kind=kind)
        assert dense.search_vectors(queries[:2], 10, np.zeros(len(ids), dtype=bool)) == [[], []]


def test_a_mask_of_the_wrong_length_is_refused(vectors):
    ids, matrix, queries = vectors
    with pytest.raises(ValueError, match="one flag per item"):
        DenseIndex.build(ids[:100], matrix[:100]).search_vectors(queries[:1], 5, np.ones(99, dtype=bool))


def test_bm25_with_a_filter_ranks_only_allowed_items_as_without_it(jieba_cache):
    ids, texts = zip(*PASSAGES)
    sparse = SparseIndex.build(ids, texts, JiebaTokenizer(cache_dir=jieba_cache))
    mask = np.arange(len(ids)) % 3 == 0
    allowed = {i for i, ok in zip(ids, mask) if ok}
    for query in ("公园 学生 图书馆", "周末 旅游"):
        unfiltered = [h for h in sparse.search(query, len(ids)) if h.id in allowed]
        assert sparse.search(query, 5, mask) == unfiltered[:5]


def test_document_frequency_counts_the_items_holding_a_token(jieba_cache):
    ids, texts = zip(*PASSAGES)
    tokenizer = JiebaTokenizer(cache_dir=jieba_cache)
    sparse = SparseIndex.build(ids, texts, tokenizer)
    for token in ("公园", "学生", "周末", "不存在的词"):
        assert sparse.document_frequency(token) == sum(token in tokenizer.tokenize(t) for t in texts)


def test_embedding_in_worker_processes_gives_the_same_vectors(tmp_path):
    """A picklable embedder factory runs in spawned workers; the vectors match one process's."""
    embedder = _PoolableFake()
    texts = [t for _, t in PASSAGES]
    alone, _ = embed_with_cache(texts, embedder, batch_size=10, workers=1)
    pooled, _ = embed_with_cache(texts, embedder, batch_size=10, workers=2, shards=ShardStore(tmp_path))
    np.testing.assert_array_equal(alone, pooled)
    assert len(ShardStore(tmp_path).shards()) == 6


class _PoolableFake(FakeEmbedder):
    def worker_factory(self):
        return FakeEmbedder
