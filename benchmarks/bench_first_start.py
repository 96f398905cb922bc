"""First start of a fresh checkout: how long from an empty data directory to the first answer, step by step.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_first_start.py [--serve] [--repo OTHER_CHECKOUT]

Each run uses a new empty data directory, so the embedding model and the index are built from
nothing, as on a fresh clone. It prints the machine and its load average, then:

- steps: a new process opens PolicyQA with a progress display that records when each step
  (dequantising, tokenizer, exporting, checking, embedding the passages) starts and ends, then
  answers one question; the time between steps is named too (start-up, loading, indexing). CPU
  seconds are printed beside wall-clock ones: on a busy machine they show what the work costs;
- `policy-rag ask QUESTION`: the command itself, process start to exit, as a person waits for it;
- with --serve, `policy-rag serve`: process start until the chat page answers.

--repo measures another checkout of the project (e.g. an older commit) the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from machine import cpu_name

REPO = Path(__file__).resolve().parent.parent
QUESTION = "外籍人才工作许可年龄能放宽到多少岁？"
SERVE_TIMEOUT_S = 1200

# Run in a fresh interpreter (argv: data dir, question, start time): opens PolicyQA with a progress
# factory that records each step and prints one JSON object of (name, start, end) marks.
CHILD = r"""
import json, sys, time
started = float(sys.argv[3])
marks = [("process start", started, started, 0.0, 0.0)]

def mark(name, begun, cpu_begun):
    marks.append((name, begun, time.time(), cpu_begun, time.process_time()))

def progress(iterable=None, total=None, desc="", **_):
    begun, cpu = time.time(), time.process_time()
    for item in iterable:
        yield item
    mark(desc, begun, cpu)

from pathlib import Path
from rag.service import PolicyQA
from rag.settings import Settings

mark("imports", started, 0.0)
qa = PolicyQA.open(Settings.from_env(data_dir=Path(sys.argv[1])), progress=progress)
mark("opened", time.time(), time.process_time())
begun, cpu = time.time(), time.process_time()
answer = qa.ask(sys.argv[2])
mark("first answer", begun, cpu)
print(json.dumps({"marks": marks, "abstained": answer.abstained}))
"""


def machine() -> str:
    cpu = cpu_name()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def environment(repo: Path, data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "POLICYQA_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "utf-8"}
    for name in ("POLICYQA_MODEL", "POLICYQA_DENSE_INDEX", "POLICYQA_LLM_BASE_URL", "POLICYQA_LLM_MODEL"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))  # before any installed copy
    return env


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def steps(repo: Path, work: Path) -> None:
    data_dir = work / "steps"
    started = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), QUESTION, str(started)], cwd=repo,
                          env=environment(repo, data_dir), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the first start failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    marks = result["marks"]
    print("\nsteps (new process, empty data directory), wall-clock and CPU seconds:")
    previous_end, previous_cpu = started, 0.0
    for name, begin, end, cpu_begin, cpu_end in marks[1:]:
        gap = begin - previous_end
        if name != "imports" and gap > 0.05:
            print(f"  {gap:7.1f} s {cpu_begin - previous_cpu:7.1f} s  {_gap_name(name, previous_end == marks[1][2])}")
        if name != "opened":
            print(f"  {end - begin:7.1f} s {cpu_end - cpu_begin:7.1f} s  {name}")
        previous_end, previous_cpu = end, cpu_end
    print(f"  {marks[-1][2] - started:7.1f} s {marks[-1][4]:7.1f} s  total, process start to first answer")
    models = data_dir / "models"
    if models.is_dir():
        print(f"  model folder: {folder_size(models) / 1e9:.2f} GB")


def _gap_name(next_step: str, after_imports: bool) -> str:
    if after_imports:
        return "loading the corpus"
    if next_step.startswith("Embedding"):
        return "loading the embedder, preparing the passages"
    if next_step == "opened":
        return "indexing besides embedding (tokenising for BM25, saving the index)"
    return f"before {next_step}"


def ask(repo: Path, work: Path) -> None:
    data_dir = work / "ask"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ask", QUESTION], cwd=repo,
                          env=environment(repo, data_dir), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        sys.exit(f"`policy-rag ask` failed:\n{done.stderr[-3000:]}")
    print(f"\n`policy-rag ask` on an empty data directory, process start to exit: {seconds:.1f} s "
          f"(CPU {cpu:.1f} s)")


def serve(repo: Path, work: Path) -> None:
    data_dir = work / "serve"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = work / "serve.log"
    started = time.perf_counter()
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], cwd=repo,
                                   env=environment(repo, data_dir), stdout=output, stderr=subprocess.STDOUT)
    try:
        while time.perf_counter() - started < SERVE_TIMEOUT_S:
            if process.poll() is not None:
                sys.exit(f"`policy-rag serve` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit(f"`policy-rag serve` did not answer within {SERVE_TIMEOUT_S} s")
        seconds = time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print(f"\n`policy-rag serve` on an empty data directory, process start to the page answering: {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to measure (default: this one)")
    parser.add_argument("--serve", action="store_true", help="also time `policy-rag serve` until the page answers")
    parser.add_argument("--workdir", type=Path, help="where the empty data directories go (default: a temp folder)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    work = Path(tempfile.mkdtemp(prefix="policyqa-first-start-", dir=args.workdir))
    print(f"machine: {machine()}")
    print(f"checkout: {repo}")
    print(f"load average before: {load()}")
    try:
        steps(repo, work)
        ask(repo, work)
        if args.serve:
            serve(repo, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average after: {load()}")


if __name__ == "__main__":
    main()
