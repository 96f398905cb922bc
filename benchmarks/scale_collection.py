"""The laws collection of ../shared/scale as index items, read the way `policy-rag add` reads a file
(rag.formats.extract_text, then rag.parsing.parse_text), cut into the same passages as the bundled
corpus (rag.passages), in parallel. For benchmarks/bench_scale.py; it drives the index layer
directly and needs no library.

    docs = load_collection(folder, limit=2000, workers=2)
"""

from __future__ import annotations

import random
import re
import tarfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ARTICLE_HEADING = re.compile(r"^\s*第[一二三四五六七八九十百千零〇两]+条", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class CollectionDocument:
    """One file's passages: (id, embedded text, BM25 text) each; counts for the parse check."""

    name: str
    doc_id: str
    items: tuple[tuple[str, str, str], ...]
    clauses: int
    articles: int
    article_headings: int
    error: str = ""


def collection_files(folder: Path, limit: int | None = None, seed: int = 12) -> list[Path]:
    """The .md files under folder in a fixed shuffled order, so a --limit slice mixes national,
    provincial and city documents rather than taking the first folders."""
    files = sorted(p for p in Path(folder).rglob("*.md") if p.is_file())
    random.Random(seed).shuffle(files)
    return files[:limit] if limit else files


def unpack(archive: Path, target: Path, names: list[str] | None = None) -> Path:
    """Extract the archive (or only the named members) into target, once."""
    target.mkdir(parents=True, exist_ok=True)
    marker = target / ".unpacked"
    if names is None and marker.exists():
        return target
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and (names is None or m.name in names)]
        tar.extractall(target, members=members, filter="data")
    if names is None:
        marker.touch()
    return target


def read_document(path_and_id: tuple[str, str]) -> CollectionDocument:
    """Extract, parse and cut one file into passages (runs in a worker process)."""
    from rag.clauses import Clause
    from rag.errors import PolicyQAError
    from rag.formats import extract_text
    from rag.normalize import normalize
    from rag.parsing import parse_text
    from rag.passages import build_passages, keyword_text, passage_text

    path, doc_id = path_and_id
    name = Path(path).name
    try:
        text = extract_text(Path(path)).text
        parsed = parse_text(text, name=name)
    except PolicyQAError as error:
        return CollectionDocument(name, doc_id, (), 0, 0, 0, str(error))
    clauses = [
        Clause(
            id=f"{doc_id}:{'.'.join(unit.id_parts)}", doc_id=doc_id, kind=unit.kind, label=unit.label,
            path=unit.path, text=text[unit.span[0] : unit.span[1]],
            normalized=normalize(text[unit.span[0] : unit.span[1]]), span=unit.span,
            source_files=(name,), citation=unit.label,
        )
        for unit in parsed.units
    ]
    by_id = {c.id: c for c in clauses}
    items = tuple(
        (p.id, passage_text(p, by_id[p.clause_id]), keyword_text(p, by_id[p.clause_id]))
        for p in build_passages(clauses)
    )
    return CollectionDocument(name, doc_id, items, len(clauses), parsed.articles, len(ARTICLE_HEADING.findall(text)))


def load_collection(folder: Path, limit: int | None = None, workers: int = 2) -> list[CollectionDocument]:
    files = collection_files(folder, limit)
    jobs = [(str(path), f"d{i:05d}") for i, path in enumerate(files)]
    if workers <= 1:
        return [read_document(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(read_document, jobs, chunksize=16))
