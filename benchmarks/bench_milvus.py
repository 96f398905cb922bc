"""Milvus Lite and Ray against the default engine on the bundled corpus: build time, search latency,
retrieval figures on every question set, BM25 analyzers, and Ray's vectors.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_milvus.py --data-dir DIR [--embed] [--ray]

DIR holds the model and the FAISS index (built first if missing). The Milvus Lite database is a fresh
file in a temporary folder. --embed also times a Milvus build that embeds every passage (about a
minute here); --ray times embedding on a local Ray (two workers) and compares its vectors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_retrieval import machine, percentile

GOLD = {
    "dev": REPO.parent / "shared" / "eval" / "dev.jsonl",
    "heldout": REPO / "eval" / "heldout.jsonl",
    "heldout2": REPO / "eval" / "heldout2.jsonl",
}


def figures(qa, gold, matcher) -> dict[str, float]:
    from rag.cli_search import hit_record
    from rag.evaluation import by_id, score_search

    results = qa.search_many([g.question for g in gold], 10)
    table = score_search(gold, by_id({"id": g.id, "hits": [hit_record(h) for h in hits]}
                                     for g, hits in zip(gold, results)), matcher)
    return {"hit@5": table.get("hit@5"), "mrr@10": table.get("mrr@10")}


def latency(qa, questions: list[str], repeat: int = 2) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            qa.search(question, 10)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000


def with_index(qa, index):
    """The same service over another index of the same passages."""
    from rag.crosslingual import EnglishToChinese, load_cedict_lines
    from rag.indexing import index_inputs
    from rag.retrieval import ClauseRetriever

    corpus = qa.corpus
    inputs = index_inputs(corpus, qa.settings.corpus_dir)

    def english():
        return EnglishToChinese.from_cedict(load_cedict_lines(), "\n".join(c.normalized for c in corpus.clauses))

    return replace(qa, retriever=ClauseRetriever(corpus, inputs.passages, index, english))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--embed", action="store_true", help="also time a Milvus build that embeds every passage")
    parser.add_argument("--ray", action="store_true", help="also embed on a local Ray and compare the vectors")
    args = parser.parse_args()

    from index.milvus_store import build_milvus_index, folder_embeddings
    from rag.evaluation import Matcher, load_gold
    from rag.index_milvus import milvus_target
    from rag.indexing import index_inputs
    from rag.service import PolicyQA
    from rag.settings import Settings

    print(f"machine: {machine()} (measured under load: other jobs share the cores)")
    from importlib.metadata import version

    print(f"pymilvus {version('pymilvus')}, milvus-lite {version('milvus-lite')}")
    faiss_qa = PolicyQA.open(Settings.from_env(data_dir=args.data_dir), repair=True)
    inputs = index_inputs(faiss_qa.corpus, faiss_qa.settings.corpus_dir)
    embedder = faiss_qa.retriever.index.embedder
    folder = Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    uri = str(folder / "bench.db")
    target = milvus_target(faiss_qa.settings.index_dir, uri)
    print(f"passages: {len(inputs.items)}")

    started = time.perf_counter()
    milvus_qa = PolicyQA.open(replace(faiss_qa.settings, milvus_uri=uri))
    print(f"Milvus Lite build, vectors reused from the FAISS index: {time.perf_counter() - started:.1f} s "
          "(start Milvus Lite, create, insert, flush, load; plus loading the model and corpus)")
    started = time.perf_counter()
    reopened = PolicyQA.open(replace(faiss_qa.settings, milvus_uri=uri))
    print(f"Milvus Lite open of the built index (model, corpus, ids): {time.perf_counter() - started:.1f} s")
    reopened.retriever.index.close()

    if args.embed:
        started = time.perf_counter()
        build_milvus_index(replace(target, name=target.name + "_embed"), inputs.items, embedder, inputs.fingerprint,
                           inputs.tokenizer, keyword_texts=inputs.keyword_texts, force=True).close()
        print(f"Milvus Lite build embedding all {len(inputs.items)} passages: {time.perf_counter() - started:.1f} s")

    jieba_index = build_milvus_index(
        replace(target, name=target.name + "_jieba"), inputs.items, embedder, inputs.fingerprint, inputs.tokenizer,
        keyword_texts=inputs.keyword_texts, analyzer="jieba", seed_cache=folder_embeddings(faiss_qa.settings.index_dir),
    )
    jieba_qa = with_index(faiss_qa, jieba_index)

    dev_questions = [g.question for g in load_gold(GOLD["dev"])]
    for name, service in (("FAISS", faiss_qa), ("Milvus Lite", milvus_qa)):
        latency(service, dev_questions[:5], repeat=1)  # warm up
        p50, p95 = latency(service, dev_questions)
        print(f"search latency, {name}, dev questions, k=10 through the policy layer: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    raw = milvus_qa.retriever.index
    times = []
    for question in dev_questions:
        started = time.perf_counter()
        raw.search(question, 10)
        times.append(time.perf_counter() - started)
    print(f"search latency, Milvus hybrid_search with RRFRanker (index level, query embedding included): "
          f"p50 {statistics.median(times) * 1000:.1f} ms")

    matcher = Matcher(faiss_qa.corpus.document_of_file)
    print("\nretrieval figures (hybrid, k=10)      FAISS            Milvus Lite      Milvus jieba analyzer")
    for name, path in GOLD.items():
        gold = load_gold(path)
        row = [figures(s, gold, matcher) for s in (faiss_qa, milvus_qa, jieba_qa)]
        cells = "   ".join(f"{r['hit@5']:.3f} / {r['mrr@10']:.3f}" for r in row)
        print(f"{name:<10} hit@5 / MRR@10        {cells}")

    dev = load_gold(GOLD["dev"])
    same = 0
    for a, b in zip(faiss_qa.search_many([g.question for g in dev], 10), milvus_qa.search_many([g.question for g in dev], 10)):
        same += [h.clause.id for h in a] == [h.clause.id for h in b]
    print(f"dev questions whose top-10 clauses are identical on both engines: {same}/{len(dev)}")

    if args.ray:
        import ray

        from index.models import resolve_model
        from index.ray_embed import RayEmbedder, spec_embedder

        texts = [text for _, text in inputs.items]
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_started = time.perf_counter() - started
        spec = resolve_model(faiss_qa.settings.model, faiss_qa.settings.models_dir)
        ray_embedder = RayEmbedder(embedder, partial(spec_embedder, spec), workers=2)
        started = time.perf_counter()
        ray_vectors = ray_embedder.embed_documents(texts)
        ray_seconds = time.perf_counter() - started
        started = time.perf_counter()
        local_vectors = embedder.embed_documents(texts)
        local_seconds = time.perf_counter() - started
        cosine = np.sum(ray_vectors * local_vectors, axis=1)
        print(f"\nRay: start {ray_started:.1f} s; {len(texts)} passages on 2 workers {ray_seconds:.1f} s "
              f"({len(texts) / ray_seconds:.0f}/s, actor start-up included); one process {local_seconds:.1f} s "
              f"({len(texts) / local_seconds:.0f}/s)")
        print(f"Ray vs one process: min cosine {cosine.min():.7f}, max abs diff {np.abs(ray_vectors - local_vectors).max():.2e}")
        ray.shutdown()

    jieba_index.close()
    milvus_qa.retriever.index.close()


if __name__ == "__main__":
    main()
