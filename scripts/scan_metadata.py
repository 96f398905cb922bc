"""Reads the metadata of every document in a tarball of Markdown laws and prints how many facts were found.

    python scripts/scan_metadata.py                       # ../shared/scale/laws-md.tar.xz
    python scripts/scan_metadata.py --misses date --show 20   # and the files that gave no date

Prints, per fact, how many documents got it, and the time read_metadata took (measured under load on a
shared machine, so read the time as an upper bound).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.gazetteer import load_gazetteer
from rag.metadata_text import TextMetadata, read_metadata

DEFAULT_TARBALL = ROOT.parent / "shared" / "scale" / "laws-md.tar.xz"
FACTS = ("title", "doc_number", "issuer", "date", "adopted", "effective", "level", "region", "city", "genre",
         "status")


def documents(tarball: Path):
    with tarfile.open(tarball) as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".md"):
                yield member.name.removeprefix("./"), archive.extractfile(member).read().decode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", nargs="?", type=Path, default=DEFAULT_TARBALL)
    parser.add_argument("--misses", choices=FACTS, help="list files that did not give this fact")
    parser.add_argument("--show", type=int, default=10, help="how many misses or values to list")
    parser.add_argument("--values", choices=FACTS, help="print the most common values of this fact")
    args = parser.parse_args()
    gazetteer = load_gazetteer()
    counts: Counter[str] = Counter()
    values: Counter[str] = Counter()
    misses: list[str] = []
    total = 0
    elapsed = 0.0
    for name, text in documents(args.tarball):
        started = time.perf_counter()
        meta = read_metadata(text, file_name=Path(name).name, gazetteer=gazetteer)
        elapsed += time.perf_counter() - started
        total += 1
        for fact in FACTS:
            if getattr(meta, fact) is not None:
                counts[fact] += 1
        if meta.amended:
            counts["amended"] += 1
        if args.values and getattr(meta, args.values) is not None:
            values[getattr(meta, args.values).value] += 1
        if args.misses and getattr(meta, args.misses) is None:
            misses.append(name)
        if isinstance(meta, TextMetadata) and meta.level is not None:
            counts[f"level={meta.level.value}"] += 1
    print(f"{total} documents, read_metadata {elapsed:.1f} s in all ({1000 * elapsed / max(total, 1):.2f} ms each)")
    for fact in (*FACTS, "amended"):
        print(f"  {fact:<11} {counts[fact]:>5}  ({100 * counts[fact] / max(total, 1):.1f}%)")
    print("  levels:", ", ".join(f"{k.split('=')[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("level=")))
    for value, count in values.most_common(args.show):
        print(f"  {count:>5}  {value}")
    for name in misses[: args.show]:
        print("  missing:", name)
    if args.misses:
        print(f"  ({len(misses)} without {args.misses})")


if __name__ == "__main__":
    main()
