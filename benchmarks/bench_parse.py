"""Speed of cleaning and parsing over the 3,472 real laws and regulations of ../shared/scale.

    .venv/bin/python benchmarks/bench_parse.py [--archive ../shared/scale/laws-md.tar.xz] [--workers 2]

Reads every file from the archive and turns it into text with rag.formats first (timed apart, not
as parsing), then parses them all in this process and again with a process pool, and prints
documents per second, the articles found, the total time and the machine. Files parse_text refuses
(no numbered heading and no adoption note) are counted as refused.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

from machine import cpu_name

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.errors import CorpusError
from rag.formats import extract_bytes
from rag.parsing import parse_text

ARCHIVE = REPO.parent / "shared" / "scale" / "laws-md.tar.xz"


def read_archive(archive: Path) -> list[tuple[str, bytes]]:
    """(name inside the archive, bytes) of every Markdown file."""
    with tarfile.open(archive) as tar:
        return [
            (member.name.removeprefix("./"), tar.extractfile(member).read())  # type: ignore[union-attr]
            for member in tar
            if member.isfile() and member.name.endswith(".md")
        ]


def parse_one(item: tuple[str, str]) -> tuple[int, int]:
    """(articles, units) of one document, (-1, 0) when parse_text refuses it."""
    name, text = item
    try:
        parsed = parse_text(text, name=name)
    except CorpusError:
        return -1, 0
    return parsed.articles, len(parsed.units)


def parse_chunk(items: list[tuple[str, str]]) -> list[tuple[int, int]]:
    return [parse_one(item) for item in items]


def report(label: str, results: list[tuple[int, int]], seconds: float, cpu: float | None = None) -> None:
    parsed = [r for r in results if r[0] >= 0]
    cpu_note = f" ({cpu:.1f} s of CPU)" if cpu is not None else ""
    print(
        f"{label:<24} {len(results)} documents in {seconds:6.1f} s{cpu_note} = {len(results) / seconds:6.1f} "
        f"documents/s; {len(parsed)} parsed, {len(results) - len(parsed)} refused, "
        f"{sum(a for a, _ in parsed)} articles, {sum(u for _, u in parsed)} units"
    )


def machine() -> str:
    cpu = cpu_name()
    load = ", load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return f"{cpu}, os.cpu_count()={os.cpu_count()}, {platform.platform()}, Python {platform.python_version()}{load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--workers", type=int, default=2, help="processes in the pool (0 skips the pool run)")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    started = time.perf_counter()
    files = read_archive(args.archive)
    read = time.perf_counter() - started
    started = time.perf_counter()
    items = [(name, extract_bytes(data, PurePosixPath(name).name).text) for name, data in files]
    print(f"read {len(files)} files in {read:.1f} s and turned them into text with rag.formats in "
          f"{time.perf_counter() - started:.1f} s ({sum(len(t) for _, t in items) / 1e6:.1f} M characters; "
          "neither counted below)")

    started, cpu = time.perf_counter(), time.process_time()
    results = [parse_one(item) for item in items]
    report("single process", results, time.perf_counter() - started, time.process_time() - cpu)

    if args.workers > 0:
        chunks = [items[i : i + 50] for i in range(0, len(items), 50)]
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            pooled = [r for chunk in pool.map(parse_chunk, chunks) for r in chunk]
        report(f"pool of {args.workers} workers", pooled, time.perf_counter() - started)
        if pooled != results:
            raise SystemExit("the pool's results differ from the single process's")


if __name__ == "__main__":
    main()
