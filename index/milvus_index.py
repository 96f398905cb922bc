"""A hybrid index whose vectors and BM25 live in one Milvus collection, with HybridIndex's interface.

Row i of the collection has primary key i (the item's position), the item id, the dense vector, and
the keyword text Milvus turns into a BM25 sparse vector with its own BM25 function. Two analyzers:

- "tokens" (the default): the keyword text is written as this package's own tokens (jieba words with
  the caller's user words, CJK bigrams, stopwords dropped; index/tokenize.py) separated by spaces, and
  Milvus splits it at whitespace. BM25 then sees exactly the tokens the FAISS engine's bm25s sees, and
  with the same k1 and b ranks exactly alike: Milvus's score is bm25s's (Lucene) score times k1 + 1.
- "jieba": the keyword text as it is, cut by Milvus's jieba analyzer (lowercased, the same stopwords).
  Milvus Lite 2.5's jieba takes no user dictionary and makes no bigrams, so rankings differ.

Dense and sparse results map back to ids through the positions, so the policy layer's calls
(dense.search_vectors, sparse.scores, known_share, document_frequency, tokenizer) behave as on FAISS;
hybrid search here is fused by Milvus's own RRF ranker (hybrid_search with RRFRanker).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.dense import as_vectors
from index.errors import IndexStateError
from index.hits import Hit
from index.hybrid import SEARCH_MODES, FusionConfig, SearchMode, query_vectors_for

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.tokenize import JiebaTokenizer

Analyzer = Literal["tokens", "jieba"]
ANALYZERS: tuple[str, ...] = ("tokens", "jieba")

MAX_TOPK = 16384
"""Milvus returns at most this many hits per query (its topK limit): full rankings are cut there."""
INSERT_BATCH = 512
TEXT_MAX_BYTES = 65535
ID_MAX_BYTES = 1024
KEY_BYTES = 64

PK, ID, KEY, TEXT, DENSE, SPARSE = "pk", "item_id", "embedding_key", "keywords", "dense", "sparse"


def analyzer_params(analyzer: str, stopwords: Sequence[str]) -> dict[str, Any]:
    if analyzer == "tokens":
        return {"tokenizer": "whitespace"}
    if analyzer == "jieba":
        return {"tokenizer": "jieba", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(stopwords)}]}
    raise ValueError(f"unknown keyword analyzer {analyzer!r}; choose one of {', '.join(ANALYZERS)}.")


def create_collection(
    client: Any, name: str, dimension: int, *, analyzer: str, stopwords: Sequence[str], dense_kind: str,
    k1: float, b: float, description: str,
) -> None:
    """An empty collection for one index version; BM25 is computed by Milvus from the keyword text."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False, description=description)
    schema.add_field(PK, DataType.INT64, is_primary=True)
    schema.add_field(ID, DataType.VARCHAR, max_length=ID_MAX_BYTES)
    schema.add_field(KEY, DataType.VARCHAR, max_length=KEY_BYTES)
    schema.add_field(TEXT, DataType.VARCHAR, max_length=TEXT_MAX_BYTES, enable_analyzer=True,
                     analyzer_params=analyzer_params(analyzer, stopwords))
    schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field(DENSE, DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=[TEXT], output_field_names=[SPARSE]))
    index_params = client.prepare_index_params()
    if dense_kind == "hnsw":
        index_params.add_index(field_name=DENSE, index_type="HNSW", metric_type="IP",
                               params={"M": 32, "efConstruction": 200})
    else:
        index_params.add_index(field_name=DENSE, index_type="FLAT", metric_type="IP")
    index_params.add_index(field_name=SPARSE, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                           params={"bm25_k1": k1, "bm25_b": b})
    client.create_collection(name, schema=schema, index_params=index_params, consistency_level="Strong")


def insert_rows(
    client: Any, name: str, ids: Sequence[str], keys: Sequence[str], keyword_texts: Sequence[str],
    vectors: np.ndarray, progress: Callable[..., Any] | None = None,
) -> None:
    """Row i gets primary key i; a keyword text too long for Milvus is refused rather than cut."""
    for position, text in enumerate(keyword_texts):
        if len(text.encode("utf-8")) > TEXT_MAX_BYTES:
            raise IndexStateError(
                f"the keyword text of item {ids[position]!r} is {len(text.encode('utf-8'))} bytes, more than "
                f"Milvus's {TEXT_MAX_BYTES}; split the item into shorter passages."
            )
    starts = range(0, len(ids), INSERT_BATCH)
    report = progress or (lambda iterable, **_: iterable)
    for start in report(starts, total=len(starts), desc=f"Writing {len(ids)} items to Milvus"):
        stop = min(start + INSERT_BATCH, len(ids))
        client.insert(name, [
            {PK: i, ID: ids[i], KEY: keys[i], TEXT: keyword_texts[i], DENSE: vectors[i].tolist()}
            for i in range(start, stop)
        ])
    client.flush(name)


def read_ids(client: Any, name: str) -> tuple[str, ...]:
    """The item ids by position; IndexStateError when positions are missing or repeated."""
    positions, ids = read_columns(client, name, [ID])
    expected = np.arange(len(positions))
    if not np.array_equal(np.sort(positions), expected):
        raise IndexStateError(f"the Milvus collection {name} has gaps in its item positions; run `policy-rag index --rebuild`.")
    order = np.argsort(positions)
    return tuple(ids[ID][i] for i in order)


def read_columns(client: Any, name: str, fields: Sequence[str]) -> tuple[np.ndarray, dict[str, list[Any]]]:
    """Every row's position and the given fields, read in pages of positions."""
    count = int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])
    positions: list[int] = []
    columns: dict[str, list[Any]] = {field: [] for field in fields}
    start, seen = 0, 0
    while seen < count:
        rows = client.query(name, filter=f"{PK} >= {start} and {PK} < {start + MAX_TOPK}",
                            output_fields=[PK, *fields], limit=MAX_TOPK)
        for row in rows:
            positions.append(int(row[PK]))
            for field in fields:
                columns[field].append(row[field])
        seen += len(rows)
        start += MAX_TOPK
        if start > 4 * count + MAX_TOPK:  # positions far past the row count: not a collection of ours
            break
    return np.asarray(positions, dtype=np.int64), columns


class MilvusDense:
    """Inner-product search over the collection's dense field."""

    def __init__(self, client: Any, collection: str, ids: tuple[str, ...], dimension: int, kind: str) -> None:
        self._client, self._collection = client, collection
        self.ids, self._dimension, self._kind = ids, dimension, kind

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def kind(self) -> str:
        return self._kind

    def search_vectors(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        """For each query vector, at most k hits (and at most MAX_TOPK) by inner product, best first,
        ties by position as FAISS orders them. allowed, a boolean mask over positions, restricts the
        search inside Milvus (a filter on the positions)."""
        queries = as_vectors(queries, self.dimension, "query vectors")
        expression, count = position_filter(allowed, len(self.ids))
        k = min(k, count, MAX_TOPK)
        if k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        return _top(lambda limit: [_ranked(row, self.ids, 1.0) for row in self._search(queries, limit, expression)],
                    k, min(count, MAX_TOPK))

    def _search(self, queries: np.ndarray, limit: int, expression: str = "") -> list[Any]:
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._kind == "hnsw":
            params["params"] = {"ef": max(2 * limit, 128)}
        return self._client.search(self._collection, data=queries.tolist(), anns_field=DENSE, limit=limit,
                                   search_params=params, filter=expression)


class MilvusSparse:
    """BM25 by Milvus over the collection's keyword texts, in the units of bm25s's Lucene scores."""

    def __init__(
        self, client: Any, collection: str, ids: tuple[str, ...], tokenizer: JiebaTokenizer, analyzer: str, k1: float
    ) -> None:
        self._client, self._collection = client, collection
        self.ids, self.tokenizer, self.analyzer = ids, tokenizer, analyzer
        self._scale = 1.0 / (k1 + 1.0)
        self._df = functools.lru_cache(maxsize=8192)(self._document_frequency)

    def __len__(self) -> int:
        return len(self.ids)

    def query_text(self, query: str) -> str:
        """What Milvus analyses for a query: our tokens joined by spaces, or the text for its jieba."""
        if self.analyzer == "tokens":
            return " ".join(self.tokenizer.tokenize(query))
        return query.strip()

    def _search(self, texts: list[str], limit: int, expression: str = "") -> list[Any]:
        return self._client.search(self._collection, data=texts, anns_field=SPARSE, limit=limit,
                                   search_params={"metric_type": "BM25"}, filter=expression)

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every item by position (all zero when no query token is indexed); items past
        Milvus's MAX_TOPK best score 0. allowed, a boolean mask over positions, restricts the search."""
        out = np.zeros(len(self.ids), dtype=np.float32)
        text = self.query_text(query)
        expression, count = position_filter(allowed, len(self.ids))
        if not text or not count:
            return out
        for hit in self._search([text], min(count, MAX_TOPK), expression)[0]:
            out[int(hit["id"])] = hit["distance"] * self._scale
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        text = self.query_text(query)
        expression, count = position_filter(allowed, len(self.ids))
        limit = min(count, MAX_TOPK)
        if not text or k <= 0 or not limit:
            return []
        return _top(lambda fetch: [_ranked(self._search([text], fetch, expression)[0], self.ids, self._scale)],
                    min(k, limit), limit)[0]

    def search_many(self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        return [self.search(query, k, allowed) for query in queries]

    def known_share(self, query: str, min_chars: int = 2) -> float:
        """Share of the query's tokens (of at least min_chars characters) that some item holds."""
        tokens = [t for t in self.tokenizer.tokenize(query) if len(t) >= min_chars]
        if not tokens:
            return 0.0
        distinct = list(dict.fromkeys(tokens))
        found = {t for t, row in zip(distinct, self._search(distinct, 1)) if len(row)}
        return sum(t in found for t in tokens) / len(tokens)

    def document_frequency(self, token: str) -> int:
        """How many items contain this (already tokenised) token, counted up to MAX_TOPK."""
        return self._df(token)

    def _document_frequency(self, token: str) -> int:
        if not token.strip() or any(ch.isspace() for ch in token.strip()):
            return 0
        return len(self._search([token.strip()], min(len(self.ids), MAX_TOPK))[0])


def position_filter(allowed: np.ndarray | None, total: int) -> tuple[str, int]:
    """A Milvus filter keeping the positions a boolean mask allows ("" for no mask), and their count."""
    if allowed is None:
        return "", total
    mask = np.asarray(allowed, dtype=bool)
    if mask.shape != (total,):
        raise ValueError(f"the allowed mask has shape {mask.shape}; expected ({total},), one flag per item.")
    positions = np.flatnonzero(mask)
    if positions.size == total:
        return "", total
    return f"{PK} in {positions.tolist()}", int(positions.size)


def _top(search: Callable[[int], list[list[Hit]]], k: int, limit: int) -> list[list[Hit]]:
    """The k best hits of each query, ties by position. Milvus keeps an arbitrary subset of the items
    tied at the k-th score, so fetch deeper (up to limit) until the whole tie is in, as index/dense.py
    does with FAISS."""
    fetch = min(k + 1, limit)
    while True:
        rows = search(fetch)
        if fetch >= limit or not any(len(row) == fetch and row[-1].score >= row[k - 1].score for row in rows):
            return [row[:k] for row in rows]
        fetch = min(2 * fetch, limit)


def _ranked(row: Any, ids: tuple[str, ...], scale: float) -> list[Hit]:
    pairs = sorted((-float(hit["distance"]), int(hit["id"])) for hit in row)
    return [Hit(ids[position], -negative * scale) for negative, position in pairs]


class MilvusIndex:
    """HybridIndex's interface over one Milvus collection: ids, dense, sparse, embedder, search_many."""

    def __init__(
        self,
        client: Any,
        collection: str,
        ids: tuple[str, ...],
        dense: MilvusDense,
        sparse: MilvusSparse,
        embedder: Embedder | None = None,
        fusion: FusionConfig | None = None,
        annotations: dict[str, Any] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.client, self.collection = client, collection
        self.dense, self.sparse = dense, sparse
        self.embedder = embedder
        self.fusion = fusion or FusionConfig()
        self.annotations: dict[str, Any] = dict(annotations or {})
        self._on_close = on_close
        self._ids = ids

    @property
    def keyword_only(self) -> bool:
        """Never: a Milvus build writes the vectors with the keywords (HybridIndex.keyword_only)."""
        return False

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def warm_up(self) -> None:
        self.sparse.tokenizer.warm_up()

    def close(self) -> None:
        """Let go of the connection (for Milvus Lite, of its database file, which one process holds at a time)."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def search(self, query: str, k: int, mode: SearchMode = "hybrid") -> list[Hit]:
        return self.search_many([query], k, mode)[0]

    def search_many(
        self, queries: Sequence[str], k: int, mode: SearchMode = "hybrid", query_vectors: np.ndarray | None = None
    ) -> list[list[Hit]]:
        """As HybridIndex.search_many; hybrid mode is fused by Milvus's RRFRanker (for the default
        fusion: RRF with equal weights), otherwise by the same fusion as HybridIndex."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(SEARCH_MODES)}.")
        results: list[list[Hit]] = [[] for _ in queries]
        asked = [i for i, query in enumerate(queries) if query.strip()]
        if k <= 0 or not asked:
            return results
        if mode == "sparse":
            for i in asked:
                results[i] = self.sparse.search(queries[i], k)
            return results
        vectors = query_vectors_for(queries, asked, query_vectors, self.embedder, self.dense.dimension)
        if mode == "dense":
            for i, hits in zip(asked, self.dense.search_vectors(vectors, k)):
                results[i] = hits
            return results
        depth = min(max(k, self.fusion.depth), len(self._ids), MAX_TOPK)
        fusion = self.fusion
        for row, i in enumerate(asked):
            if fusion.method == "rrf" and fusion.dense_weight == fusion.sparse_weight == 1.0:
                results[i] = self._milvus_rrf(vectors[row], queries[i], k, depth)
            else:
                dense = self.dense.search_vectors(vectors[row : row + 1], depth)[0]
                results[i] = fusion.fuse(dense, self.sparse.search(queries[i], depth), limit=k)
        return results

    def _milvus_rrf(self, vector: np.ndarray, query: str, k: int, depth: int) -> list[Hit]:
        from pymilvus import AnnSearchRequest, RRFRanker

        requests = [AnnSearchRequest(data=[vector.tolist()], anns_field=DENSE, param={"metric_type": "IP"}, limit=depth)]
        text = self.sparse.query_text(query)
        if text:
            requests.append(AnnSearchRequest(data=[text], anns_field=SPARSE, param={"metric_type": "BM25"}, limit=depth))
        rows = self.client.hybrid_search(self.collection, requests, ranker=RRFRanker(int(self.fusion.rrf_k)),
                                         limit=min(k, MAX_TOPK))
        return _ranked(rows[0], self._ids, scale=1.0)
