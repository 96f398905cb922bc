"""Recognising files that hold the same document, by content, and merging their facts.

Two files are the same document when the Jaccard similarity of the character 4-gram sets of their
bodies, folded by `normalize_for_match` (simplified script, NFKC widths, no whitespace), is at least
DUPLICATE_THRESHOLD. The same policy in two scripts or scraped from two pages scores above 0.9;
different documents on the same subject (a province's implementing opinions and the State Council
text they implement) share phrases but stay far below (0.08 to 0.21 on this corpus).

The canonical file of a group is the cleaner source: the fewest characters of dropped page junk,
then simplified script before traditional, then file name order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.errors import CorpusError
from rag.metadata import FileFacts
from rag.normalize import normalize_for_match

__all__ = [
    "DUPLICATE_THRESHOLD",
    "SHINGLE",
    "FileSummary",
    "choose_canonical",
    "group_duplicates",
    "merge_facts",
    "similarity",
]

SHINGLE = 4
DUPLICATE_THRESHOLD = 0.8


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What duplicate handling needs to know about one parsed file."""

    name: str
    body: str  # the document text (header to closing) with dropped junk left out
    junk_chars: int
    script: str


def _shingles(text: str) -> frozenset[str]:
    folded = normalize_for_match(text)
    if len(folded) <= SHINGLE:
        return frozenset({folded}) if folded else frozenset()
    return frozenset(folded[i : i + SHINGLE] for i in range(len(folded) - SHINGLE + 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the folded character 4-gram sets of two texts (0.0 to 1.0)."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def group_duplicates(files: Sequence[FileSummary]) -> list[tuple[FileSummary, ...]]:
    """Groups of files holding the same document (single files are groups of one), canonical first."""
    shingles = [_shingles(f.body) for f in files]
    parent = list(range(len(files)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(files)):
        for j in range(i + 1, len(files)):
            union = shingles[i] | shingles[j]
            if union and len(shingles[i] & shingles[j]) / len(union) >= DUPLICATE_THRESHOLD:
                parent[root(j)] = root(i)
    groups: dict[int, list[FileSummary]] = {}
    for i, f in enumerate(files):
        groups.setdefault(root(i), []).append(f)
    ordered = [choose_canonical(group) for group in groups.values()]
    return sorted(ordered, key=lambda g: g[0].name)


def choose_canonical(group: Sequence[FileSummary]) -> tuple[FileSummary, ...]:
    """The group ordered canonical first: least junk, then simplified script, then file name."""
    return tuple(sorted(group, key=lambda f: (f.junk_chars, f.script != "simplified", f.name)))


def merge_facts(canonical: FileFacts, others: Sequence[FileFacts]) -> FileFacts:
    """The canonical file's facts, completed by the others: a fact one file gives and another does not
    is kept; a printed title beats a derived one. Conflicting printed facts are an error."""
    merged = canonical
    for other in others:
        for key in ("level", "status"):
            if getattr(other, key) != getattr(merged, key):
                raise CorpusError(
                    f"{other.file} and {canonical.file} hold the same text but metadata.toml gives "
                    f"{key} {getattr(other, key)!r} and {getattr(merged, key)!r}; make them agree"
                )
        updates: dict[str, object] = {}
        for key in ("issuer", "doc_number", "date"):
            mine, theirs = getattr(merged, key), getattr(other, key)
            if mine is None and theirs is not None:
                updates[key] = theirs
            elif mine is not None and theirs is not None and normalize_for_match(mine) != normalize_for_match(theirs):
                raise CorpusError(
                    f"{other.file} and {canonical.file} hold the same text but metadata.toml gives "
                    f"{key} {theirs!r} and {mine!r}; make them agree"
                )
        if merged.title_derived and not other.title_derived:
            updates.update(title=other.title, title_derived=False)
        merged = replace(merged, **updates) if updates else merged
    return merged
