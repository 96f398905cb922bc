"""Figures at scale: the 3,472 laws of ../shared/scale (≈147k articles) through the index layer, and
10^6 synthetic vectors. Prints the machine first and every figure as it is measured.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scale.py [--limit N] [--stages ...]
        --work-dir DIR   keeps the unpacked laws, the embedding shards (a killed run continues) and the index
        --limit N        a slice of N documents (a fixed shuffle of the collection), for a quick run
        --stages         any of: parse bm25 embed dense search synthetic embedding (default: all but
                         synthetic and embedding)

Stages: parse (extract + parse + passages, in parallel), bm25 (build time, memory, query time),
embed (passages/s, resumable), dense (exact and IVF build, tuned nprobe, recall@10 against exact on
the collection's vectors and on real questions, bytes per vector), search (latency of exact, IVF and
filtered searches and of a whole hybrid query), synthetic (10^6 clustered 384-d vectors: exact vs
IVF), embedding (engines: fp32 and int8, one text at a time or grouped by length, threads or
processes, and the cosine of int8 against fp32).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from machine import cpu_name, memory_gib
from scale_collection import load_collection, unpack

ARCHIVE = REPO.parent / "shared" / "scale" / "laws-md.tar.xz"
QUESTION_SETS = [REPO.parent / "shared" / "eval" / "dev.jsonl", REPO / "eval" / "heldout.jsonl",
                 REPO / "eval" / "heldout2.jsonl"]
DEFAULT_STAGES = ("parse", "bm25", "embed", "dense", "search")


def say(text: str) -> None:
    print(text, flush=True)


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu_name()}, {os.cpu_count()} cores, {memory_gib() or 0:.0f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.platform()}; load average at start {load}")


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(seconds: list[float]) -> str:
    ms = sorted(1000 * s for s in seconds)
    p = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]
    return f"p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms (n={len(ms)})"


def questions() -> list[str]:
    from rag.normalize import normalize

    out = []
    for path in QUESTION_SETS + [Path("/work/fresh/fresh1.jsonl")]:
        if path.is_file():
            out += [normalize(json.loads(line)["question"]) for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
    return out


def stage_parse(args: argparse.Namespace) -> list:
    folder = unpack(ARCHIVE, args.work_dir / "laws")
    started = time.perf_counter()
    docs = load_collection(folder, args.limit, workers=args.workers)
    seconds = time.perf_counter() - started
    ok = [d for d in docs if not d.error]
    passages = sum(len(d.items) for d in ok)
    mismatched = [d for d in ok if d.articles != d.article_headings]
    say(f"parse: {len(docs)} files in {seconds:.1f} s with {args.workers} processes "
        f"({len(docs) / seconds:.0f} files/s); refused {len(docs) - len(ok)}; clauses {sum(d.clauses for d in ok)}, "
        f"articles {sum(d.articles for d in ok)} (第X条 headings {sum(d.article_headings for d in ok)}; "
        f"{len(mismatched)} files differ), passages {passages}, "
        f"characters embedded {sum(len(t) for d in ok for _, t, _ in d.items)}")
    for d in [d for d in docs if d.error][:5]:
        say(f"  refused: {d.error[:160]}")
    return ok


def stage_bm25(docs: list, args: argparse.Namespace) -> None:
    from index.sparse import SparseIndex
    from index.tokenize import JiebaTokenizer, TokenizerConfig

    ids = [i for d in docs for i, _, _ in d.items]
    keywords = [k for d in docs for _, _, k in d.items]
    tokenizer = JiebaTokenizer(TokenizerConfig(), cache_dir=args.work_dir / "jieba")
    tokenizer.warm_up()
    before = rss_mb()
    started = time.perf_counter()
    sparse = SparseIndex.build(ids, keywords, tokenizer)
    seconds = time.perf_counter() - started
    say(f"bm25: built over {len(ids)} passages in {seconds:.1f} s ({len(ids) / seconds:.0f} passages/s); "
        f"RSS +{rss_mb() - before:.0f} MB")
    doc_of = np.array([int(i[1:6]) for i in ids])
    one_doc = doc_of == doc_of[len(doc_of) // 2]
    tenth = doc_of % 10 == 3
    qs = questions()
    for label, mask in (("no filter", None), ("a tenth of the documents", tenth), ("one document", one_doc)):
        times = []
        for q in qs:
            t = time.perf_counter()
            sparse.search(q, 200, mask)
            times.append(time.perf_counter() - t)
        say(f"bm25 query ({label}): {percentiles(times)}")


def embedder_of(args: argparse.Namespace):
    from index.models import resolve_model
    from index.onnx_embedder import OnnxEmbedder

    spec = resolve_model("default", args.models_dir)
    return OnnxEmbedder(spec, precision=args.precision)


def stage_embed(docs: list, args: argparse.Namespace) -> np.ndarray:
    from tqdm import tqdm

    from index.embedding_cache import ShardStore, plan_embedding

    texts = [t for d in docs for _, t, _ in d.items]
    embedder = embedder_of(args)
    shards = ShardStore(args.work_dir / f"shards-{args.precision}")
    plan = plan_embedding(texts, embedder, None, shards)
    todo = len(plan.todo)
    say(f"embed: {len(texts)} passages ({len(set(plan.keys))} distinct), {len(set(plan.keys)) - todo} found in "
        f"{shards.folder}, {todo} to embed with {args.workers} worker processes ({args.precision})")
    started = time.perf_counter()
    plan.run(embedder, progress=lambda it, **kw: tqdm(it, mininterval=30, **kw), shards=shards, workers=args.workers)
    seconds = time.perf_counter() - started
    if todo:
        say(f"embed: {todo} passages in {seconds:.0f} s = {todo / seconds:.1f} passages/s")
    return plan.vectors()


def stage_dense(ids: list[str], texts: list[str], vectors: np.ndarray, args: argparse.Namespace) -> dict:
    from index.ann import exact_neighbours, tuning_rows
    from index.dense import DenseIndex

    embedder = embedder_of(args)
    tuning = embedder.embed_queries([texts[i] for i in tuning_rows(len(ids))])
    held_out = np.setdiff1d(np.random.default_rng(21).choice(len(ids), 600, replace=False), tuning_rows(len(ids)))[:300]
    checks = {
        "real questions (dev, heldout, heldout2, fresh1)": (embedder.embed_queries(questions()), np.full(len(questions()), -1)),
        f"{len(held_out)} other passages asked as questions": (embedder.embed_queries([texts[i] for i in held_out]), held_out),
    }
    truths = {name: exact_neighbours(vectors, q, rows, 10) for name, (q, rows) in checks.items()}
    built = {}
    for kind in args.kinds:
        before = rss_mb()
        started = time.perf_counter()
        dense = DenseIndex.build(ids, vectors, kind=kind, tuning_queries=tuning)
        seconds = time.perf_counter() - started
        size = dense.memory_bytes()
        tuned = {k: v for k, v in dense.params.items() if k not in ("recall_by_depth", "setting")}
        say(f"dense {kind}: built and tuned in {seconds:.1f} s over {len(ids)} vectors; {size / len(ids):.0f} bytes/vector "
            f"({size / 2**20:.0f} MB); RSS +{rss_mb() - before:.0f} MB; {tuned}")
        if kind != "flat":
            say(f"  recall@10 by search depth while tuning: {dense.params['recall_by_depth']}")
            for name, (queries, rows) in checks.items():
                _, found = dense.search_positions(queries, 11)
                found = [[p for p in row if p != own][:10] for row, own in zip(found.tolist(), rows)]
                recall = np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truths[name])])
                say(f"  recall@10 against exact on {name}: {recall:.3f}")
        built[kind] = dense
    built["queries"] = checks["real questions (dev, heldout, heldout2, fresh1)"][0]
    return built


def stage_search(built: dict, docs: list, args: argparse.Namespace) -> None:
    qv = built["queries"]
    doc_of = np.array([int(i[1:6]) for d in docs for i, _, _ in d.items])
    masks = {"no filter": None, "a tenth of the documents": doc_of % 10 == 3,
             "one document": doc_of == doc_of[len(doc_of) // 2]}
    for kind in args.kinds:
        for label, mask in masks.items():
            times = []
            allowed = None if mask is None else {i for i, ok in zip(built[kind].ids, mask) if ok}
            for row in range(len(qv)):
                t = time.perf_counter()
                hits = built[kind].search_vectors(qv[row : row + 1], 200, mask)
                times.append(time.perf_counter() - t)
                if allowed is not None:
                    assert all(h.id in allowed for h in hits[0]), "a filtered search returned a disallowed item"
            say(f"search {kind} depth 200 ({label}): {percentiles(times)}")
    flat = built["flat"]
    for kind in [k for k in args.kinds if k != "flat"]:
        for label, mask in list(masks.items())[1:]:
            same = np.mean([
                len({h.id for h in a[:10]} & {h.id for h in b[:10]}) / max(1, min(10, len(b)))
                for a, b in zip(built[kind].search_vectors(qv, 10, mask), flat.search_vectors(qv, 10, mask))
            ])
            say(f"filtered {kind} vs filtered exact ({label}): top-10 overlap {same:.3f}")
    say(f"RSS now {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB")


def stage_hybrid(built: dict, docs: list, args: argparse.Namespace) -> None:
    """A whole query as the product runs it: embed the question, dense and BM25 at depth 200, fuse."""
    from index.hybrid import HybridIndex
    from index.sparse import SparseIndex
    from index.tokenize import JiebaTokenizer, TokenizerConfig

    ids = [i for d in docs for i, _, _ in d.items]
    sparse = SparseIndex.build(ids, [k for d in docs for _, _, k in d.items],
                               JiebaTokenizer(TokenizerConfig(), cache_dir=args.work_dir / "jieba"))
    embedder = embedder_of(args)
    for kind in args.kinds:
        index = HybridIndex(built[kind], sparse, embedder)
        index.warm_up()
        times = []
        for q in questions():
            t = time.perf_counter()
            index.search(q, 10)
            times.append(time.perf_counter() - t)
        say(f"hybrid query with {kind} (embed question + dense + BM25 + fusion, depth 100): {percentiles(times)}")
    say(f"RSS with the embedder, BM25 over {len(ids)} passages and the {', '.join(args.kinds)} indexes: {rss_mb():.0f} MB")


def stage_synthetic(args: argparse.Namespace) -> None:
    """10^6 clustered unit vectors (a Gaussian mixture: real embeddings are not uniform on the sphere)."""
    from index.ann import exact_neighbours
    from index.dense import DenseIndex

    n, d, centres = args.synthetic, 384, 20_000
    rng = np.random.default_rng(5)
    means = rng.standard_normal((centres, d)).astype(np.float32)
    vectors = means[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, d)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [str(i) for i in range(n)]
    queries = vectors[rng.choice(n, 200, replace=False)] + 0.05 * rng.standard_normal((200, d)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = exact_neighbours(vectors, queries, np.full(200, -1), 10)
    for kind in ("flat", "ivf"):
        started = time.perf_counter()
        dense = DenseIndex.build(ids, vectors, kind=kind)
        seconds = time.perf_counter() - started
        times = []
        for row in range(len(queries)):
            t = time.perf_counter()
            dense.search_positions(queries[row : row + 1], 10)
            times.append(time.perf_counter() - t)
        _, found = dense.search_positions(queries, 10)
        recall = np.mean([len(set(a.tolist()) & set(t.tolist())) / 10 for a, t in zip(found, truth)])
        tuned = {k: v for k, v in dense.params.items() if k in ("nlist", "nprobe", "recall_at_10")}
        say(f"synthetic {n} x {d} {kind}: built in {seconds:.0f} s; {dense.memory_bytes() / n:.0f} bytes/vector; "
            f"search {percentiles(times)}; recall@10 on 200 noisy copies {recall:.3f}; {tuned}")
        del dense


def stage_embedding(docs: list, args: argparse.Namespace) -> None:
    """Engines on a fixed sample of the collection's passages: passages per second and int8 parity."""

    from index.embed_pool import EmbeddingPool
    from index.models import resolve_model
    from index.onnx_embedder import OnnxEmbedder

    texts = [t for d in docs for _, t, _ in d.items]
    sample = [texts[i] for i in np.random.default_rng(3).choice(len(texts), args.sample, replace=False)]
    spec = resolve_model("default", args.models_dir)
    say(f"embedding engines on {len(sample)} passages ({np.mean([len(t) for t in sample]):.0f} characters on average)")
    reference = None
    for precision in ("fp32", "int8"):
        for label, options in (("one text per call", {"batch_size": 1}), ("grouped by length", {})):
            embedder = OnnxEmbedder(spec, precision=precision, threads=1, **options)
            embedder.embed_documents(sample[:8])
            wall, cpu = time.perf_counter(), time.process_time()
            out = embedder.embed_documents(sample)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            say(f"  {precision}, 1 thread, {label}: {len(sample) / wall:.1f} passages/s wall, "
                f"{len(sample) / cpu:.1f} per CPU-second")
            if precision == "fp32" and reference is None:
                reference = out
            elif precision == "int8":
                cosine = (out * reference).sum(axis=1)
                say(f"  int8 vs fp32 cosine over {len(sample)} passages: min {cosine.min():.4f}, "
                    f"mean {cosine.mean():.4f}, 1st percentile {np.percentile(cosine, 1):.4f}")
        threads = OnnxEmbedder(spec, precision=precision, threads=args.workers)
        threads.embed_documents(sample[:8])
        t = time.perf_counter()
        threads.embed_documents(sample)
        say(f"  {precision}, one process on {args.workers} threads: {len(sample) / (time.perf_counter() - t):.1f} passages/s")
        chunks = [[(str(i), s) for i, s in enumerate(sample[j : j + 128])] for j in range(0, len(sample), 128)]
        with EmbeddingPool(threads.worker_factory(), args.workers) as pool:
            list(pool.embed_documents(chunks[:args.workers]))  # start the workers
            t = time.perf_counter()
            list(pool.embed_documents(chunks))
        say(f"  {precision}, {args.workers} processes of 1 thread: {len(sample) / (time.perf_counter() - t):.1f} passages/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="documents (default: all 3,472)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/policyqa-scale"))
    parser.add_argument("--models-dir", type=Path, default=Path(os.environ.get("POLICYQA_DATA_DIR", Path.home() / ".cache/policyqa")) / "models")
    parser.add_argument("--stages", nargs="+", default=list(DEFAULT_STAGES),
                        choices=[*DEFAULT_STAGES, "synthetic", "embedding"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--precision", choices=["fp32", "int8"], default="fp32")
    parser.add_argument("--kinds", nargs="+", default=["flat", "ivf", "hnsw"], choices=["flat", "ivf", "hnsw"],
                        help="vector indexes to build and compare (flat is always needed as the reference)")
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="vectors in the synthetic stage")
    parser.add_argument("--sample", type=int, default=2000, help="passages in the embedding stage")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    say(f"machine: {machine()}")
    say(f"command: {' '.join(sys.argv)}")
    docs = stage_parse(args) if set(args.stages) - {"synthetic"} else []
    if "bm25" in args.stages:
        stage_bm25(docs, args)
    if "embedding" in args.stages:
        stage_embedding(docs, args)
    if {"embed", "dense", "search"} & set(args.stages):
        vectors = stage_embed(docs, args)
        ids = [i for d in docs for i, _, _ in d.items]
        if {"dense", "search"} & set(args.stages):
            built = stage_dense(ids, [t for d in docs for _, t, _ in d.items], vectors, args)
            if "search" in args.stages:
                stage_search(built, docs, args)
                stage_hybrid(built, docs, args)
    if "synthetic" in args.stages:
        stage_synthetic(args)
    say(f"peak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
