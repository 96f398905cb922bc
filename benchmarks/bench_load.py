"""Many people asking at once: concurrent gradio_client sessions against a real `policy-rag serve`.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_load.py --clients 50 --questions 2
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_load.py --clients 20 --duration 60
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_load.py --clients 50 --workers 2   # behind nginx

Starts the server itself (on a free loopback port, with --data-dir, building the model and index on
first use), waits until it answers, connects every client, then lets them all ask at once through
the /ask endpoint the question box uses; each client asks its questions one after another. The
questions are the held-out sets eval/*.jsonl. Prints the machine, errors, busy refusals, answers
without a citation, latency, answers per second, and the server's CPU time and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
import serving
from machine import cpu_name

REPO = serving.REPO
NO_FILTERS = ([], [], [], True)  # documents, levels, regions, include drafts


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    answerable: bool


@dataclass(frozen=True, slots=True)
class Result:
    question: Question
    outcome: str  # cited, abstained, uncited, busy, error, timeout
    seconds: float
    started: float
    detail: str = ""


def load_questions(paths: list[Path]) -> list[Question]:
    questions = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                questions.append(Question(record["id"], record["question"], bool(record.get("expected"))))
    return questions


def message_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def classify(question: Question, chat: list[dict]) -> tuple[str, str]:
    """cited: an answer with [n] links; abstained: an unanswerable question answered without one."""
    answer = message_text(chat[-1]) if chat else ""
    if "notice-error" in answer or not answer:
        return "error", answer[:200]
    if 'class="cite-ref"' in answer:
        return "cited", ""
    return ("uncited", answer[:200]) if question.answerable else ("abstained", "")


class ClientRun:
    """One person: a gradio_client session asking its questions one after another."""

    def __init__(self, url: str, questions: list[Question], timeout: float, per_session: int):
        self.url, self.questions, self.timeout, self.per_session = url, questions, timeout, per_session
        self.client = None
        self.asked_in_session = 0
        self.connect_seconds: list[float] = []

    def connect(self) -> None:
        from gradio_client import Client

        if self.client is not None:
            self.client.close()
        started = time.monotonic()
        self.client = Client(self.url, verbose=False, download_files=False, ssl_verify=False)
        self.connect_seconds.append(time.monotonic() - started)
        self.asked_in_session = 0

    def ask(self, question: Question) -> Result:
        from gradio_client.exceptions import AppError
        from gradio_client.utils import QueueError

        if self.client is None or self.asked_in_session >= self.per_session:
            self.connect()
        self.asked_in_session += 1
        started = time.monotonic()
        job = self.client.submit(question.text, *NO_FILTERS, api_name="/ask")
        try:
            _box, chat, _sources, _md, _plain = job.result(timeout=self.timeout)
        except QueueError as error:
            return Result(question, "busy", time.monotonic() - started, started, str(error))
        except TimeoutError:
            job.cancel()
            self.client = None  # a stuck session is abandoned, as a person would reload the page
            return Result(question, "timeout", time.monotonic() - started, started)
        except AppError as error:
            return Result(question, "error", time.monotonic() - started, started, str(error)[:200])
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown, not raised
            text = f"{type(error).__name__}: {error}"
            outcome = "busy" if "queue is full" in text.lower() else "error"
            return Result(question, outcome, time.monotonic() - started, started, text[:200])
        outcome, detail = classify(question, chat)
        return Result(question, outcome, time.monotonic() - started, started, detail)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run(url: str, questions: list[Question], args: argparse.Namespace, served: serving.Served | None) -> dict:
    rng = random.Random(args.seed)
    pool = questions[:]
    rng.shuffle(pool)
    runs = [ClientRun(url, [pool[(i * args.questions + j) % len(pool)] for j in range(len(pool))],
                      args.timeout, args.session_questions) for i in range(args.clients)]
    pids = served.worker_pids if served else []
    if args.warmup:
        for worker_url in (served.worker_urls if served else [url]):
            warm_up(worker_url)
    with ThreadPoolExecutor(max_workers=args.clients) as pool_exec:
        connected = list(pool_exec.map(lambda r: _try(r.connect), runs))
    failed_connects = [c for c in connected if c]
    start_rss = [serving.rss_mib(pid) for pid in pids]
    start_cpu = [serving.cpu_seconds(pid) for pid in pids]
    own_cpu = resource.getrusage(resource.RUSAGE_SELF)
    peak_rss = list(start_rss)
    timeline: list[tuple[float, float]] = []  # (seconds, total RSS of the workers), once a minute
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(1.0):
            for i, pid in enumerate(pids):
                value = serving.rss_mib(pid)
                if value is not None and (peak_rss[i] is None or value > peak_rss[i]):
                    peak_rss[i] = value
            elapsed = time.monotonic() - began
            if pids and elapsed >= 60 * (len(timeline) + 1):
                timeline.append((elapsed, sum(serving.rss_mib(pid) or 0 for pid in pids)))

    ready = [r for r in runs if r.client]
    gate = threading.Barrier(max(1, len(ready)))
    began = time.monotonic()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    deadline = began + args.duration if args.duration else None

    def client_loop(client: ClientRun) -> list[Result]:
        gate.wait()
        results = []
        for number, question in enumerate(_cycle(client.questions)):
            if deadline is None and number >= args.questions:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            results.append(client.ask(question))
        client.close()
        return results

    with ThreadPoolExecutor(max_workers=args.clients) as pool_exec:
        results = [r for batch in pool_exec.map(client_loop, ready) for r in batch]
    elapsed = time.monotonic() - began
    stop_sampling.set()
    end_rss = [serving.rss_mib(pid) for pid in pids]
    end_cpu = [serving.cpu_seconds(pid) for pid in pids]
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "results": results,
        "elapsed": elapsed,
        "failed_connects": failed_connects,
        "connect_seconds": [s for r in runs for s in r.connect_seconds],
        "rss": list(zip(start_rss, end_rss, peak_rss, strict=True)),
        "timeline": timeline,
        "server_cpu": sum((e or 0) - (s or 0) for s, e in zip(start_cpu, end_cpu, strict=True)),
        "client_cpu": (own.ru_utime + own.ru_stime) - (own_cpu.ru_utime + own_cpu.ru_stime),
    }


def warm_up(url: str) -> None:
    """The app's example questions once, not measured, on each worker directly: a server that has
    just started loads its English dictionary and fills its caches on its first questions, as any
    long-running one already has."""
    from rag.settings import Settings
    from ui.app import load_examples

    examples = load_examples(Settings.from_env().corpus_dir)
    client = ClientRun(url, [], timeout=120, per_session=max(1, len(examples)))
    for _kind, text in examples:
        client.ask(Question("warm-up", text, True))
    client.close()


def _try(function) -> str:
    try:
        function()
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"[:200]
    return ""


def _cycle(items):
    while True:
        yield from items


def report(measured: dict, args: argparse.Namespace, where: str, questions: int, load_before: str) -> int:
    results: list[Result] = measured["results"]
    counts = Counter(r.outcome for r in results)
    answered = [r for r in results if r.outcome in ("cited", "abstained", "uncited")]
    latencies = [r.seconds for r in answered]
    busy = [r.seconds for r in results if r.outcome == "busy"]
    connects = measured["connect_seconds"]
    plan = f"for {args.duration:g} s" if args.duration else f"× {args.questions} questions"
    print(f"machine: {machine()}")
    print(f"load average: {load_before} before, {load_average()} after (1, 5, 15 min)")
    print(f"server: {where}")
    print(f"run: {args.clients} clients {plan}, each a new session every {args.session_questions} questions; "
          f"{questions} held-out questions from {', '.join(p.name for p in args.eval)}")
    print(f"questions asked: {len(results)}; answered {len(answered)} (cited {counts['cited']}, "
          f"unanswerable and abstained {counts['abstained']}, uncited {counts['uncited']}); "
          f"busy {counts['busy']}; errors {counts['error'] + len(measured['failed_connects'])}; "
          f"timeouts (> {args.timeout:g} s) {counts['timeout']}")
    if latencies:
        print(f"latency (s): p50 {percentile(latencies, .5):.2f}  p95 {percentile(latencies, .95):.2f}  "
              f"max {max(latencies):.2f}  mean {statistics.fmean(latencies):.2f}")
    if busy:
        print(f"busy replies came after (s): p50 {percentile(busy, .5):.2f}  max {max(busy):.2f}")
    print(f"throughput: {len(answered) / measured['elapsed']:.1f} answers/s over {measured['elapsed']:.1f} s")
    if connects:
        print(f"connecting a session (s): p50 {percentile(connects, .5):.2f}  max {max(connects):.2f}")
    if answered:
        print(f"CPU: server {measured['server_cpu']:.1f} s ({1000 * measured['server_cpu'] / len(answered):.0f} ms "
              f"per answer), this benchmark's clients {measured['client_cpu']:.1f} s")
    for i, (start, end, peak) in enumerate(measured["rss"]):
        print(f"server worker {i + 1} RSS (MiB): {start:.0f} at start, {end:.0f} at end, {peak:.0f} peak")
    if measured["timeline"]:
        print("server RSS by minute (MiB): " + ", ".join(f"{s / 60:.0f} min {m:.0f}" for s, m in measured["timeline"]))
    problems = [r for r in results if r.outcome in ("error", "timeout", "uncited")]
    for failure in measured["failed_connects"][:5]:
        print(f"  connect failed: {failure}")
    for r in problems[:10]:
        print(f"  {r.outcome}: {r.question.id} {r.question.text[:40]!r} after {r.seconds:.1f} s {r.detail[:160]}")
    ok = not problems and not measured["failed_connects"]
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--questions", type=int, default=2, help="questions per client (default 2)")
    parser.add_argument("--duration", type=float, default=0,
                        help="ask for this many seconds instead of a fixed number of questions")
    parser.add_argument("--session-questions", type=int, default=10,
                        help="a client starts a new session (a new person) after this many questions (default 10)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a question may take before it "
                        "counts as hung (default 30)")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("POLICYQA_DATA_DIR") or Path.home() / ".cache" / "policyqa"),
                        help="data folder of the server (model and index; built on first use)")
    parser.add_argument("--workers", type=int, default=1, help="serve processes; more than 1 puts nginx in front")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra argument for `policy-rag serve`")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--eval", type=Path, nargs="+",
                        default=sorted([*(REPO / "eval").glob("heldout*.jsonl"), *(REPO / "eval").glob("fresh*.jsonl")]),
                        help="question files (default: the held-out sets about the bundled documents, "
                        "eval/heldout*.jsonl and eval/fresh*.jsonl; eval/regions* need other regions' documents)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="measure from the first question (by default the app's example questions go first, unmeasured)")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions(args.eval)
    load_before = load_average()
    served = None
    if args.url:
        url, where = args.url, f"{args.url} (already running)"
    else:
        print(f"starting {args.workers} × policy-rag serve {' '.join(args.serve_arg)} (data in {args.data_dir}) ...",
              file=sys.stderr, flush=True)
        served = serving.start(args.data_dir, args.workers, args.serve_arg)
        url = served.url
        proxy = " behind nginx (deploy/nginx-policyqa.conf)" if served.proxy else ""
        extra = " ".join(args.serve_arg) or "default settings"
        where = f"{args.workers} × policy-rag serve ({extra}){proxy} at {url}, data in {args.data_dir}"
    try:
        measured = run(url, questions, args, served)
    finally:
        if served:
            served.stop()
    return report(measured, args, where, len(questions), load_before)


if __name__ == "__main__":
    sys.exit(main())
