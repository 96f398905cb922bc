"""Speed of PolicyQA on this machine: index build, no-change rebuild, cold start, warm search and ask.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_retrieval.py [--questions ../shared/eval/dev.jsonl]

Uses a fresh data directory (the offline model is copied from the usual cache when present, else
built) so the build is measured from nothing. Prints the machine and every figure it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name, memory_gib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def machine() -> str:
    cpu = cpu_name()
    gib = memory_gib()
    memory = f", {gib:.0f} GiB RAM" if gib is not None else ""
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_cli(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", *args], check=True, env=env, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "eval" / "dev.jsonl")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for latency")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]

    from rag.settings import Settings

    usual = Settings.from_env()
    data_dir = Path(tempfile.mkdtemp(prefix="policyqa-bench-"))
    env = {**os.environ, "POLICYQA_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    print(f"machine: {machine()}")
    print(f"questions: {len(questions)} from {args.questions}")
    try:
        if usual.models_dir.exists():
            shutil.copytree(usual.models_dir, data_dir / "models")
        else:
            print(f"model build (first use only): {run_cli(['model', 'build'], env):.1f} s")
        print(f"index build from nothing (process incl. start-up): {run_cli(['index'], env):.1f} s")
        print(f"index refresh with nothing changed (process incl. start-up): {run_cli(['index'], env):.2f} s")
        probe = data_dir / "probe.jsonl"
        probe.write_text(json.dumps({"id": "p", "question": questions[0]}, ensure_ascii=False) + "\n", encoding="utf-8")
        colds = [run_cli(["search", "--jsonl", str(probe), "--k", "5"], env) for _ in range(3)]
        print(f"cold start, process start to first search result: median {statistics.median(colds):.2f} s "
              f"(runs: {', '.join(f'{c:.2f}' for c in colds)})")

        from rag.service import PolicyQA

        qa = PolicyQA.open(Settings.from_env(data_dir=data_dir))
        print(f"query embedding runs on: {qa.retriever.index.embedder!r}")
        qa.search(questions[0])
        qa.ask(questions[0])
        for name, call in (("search", lambda q: qa.search(q, 10)), ("ask", lambda q: qa.ask(q))):
            timings = []
            for _ in range(args.repeat):
                for question in questions:
                    started = time.perf_counter()
                    call(question)
                    timings.append((time.perf_counter() - started) * 1000)
            print(f"warm {name}, one question at a time: p50 {percentile(timings, 0.5):.1f} ms, "
                  f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms (n={len(timings)})")
        import resource

        print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
