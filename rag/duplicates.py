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

from rag.documents import FIELDS, FieldEvidence
from rag.errors import CorpusError
from rag.metadata import FileFacts
from rag.normalize import normalize_for_match

__all__ = [
    "DUPLICATE_THRESHOLD",
    "SHINGLE",
    "DuplicateFinder",
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


class DuplicateFinder:
    """Which of many known documents a new text duplicates, without comparing it with each of them.

    A sample of each known body's shingles (those whose hash falls in one bucket of SAMPLE) is
    indexed; only the documents sharing sampled shingles with the new text are compared exactly.
    Two texts at Jaccard similarity DUPLICATE_THRESHOLD share about that share of their samples, so
    no duplicate is missed while unrelated documents are never compared.
    """

    SAMPLE = 8
    CANDIDATES = 8

    def __init__(self) -> None:
        self._shingles: dict[str, frozenset[str]] = {}
        self._postings: dict[str, list[str]] = {}

    def add(self, key: str, body: str) -> None:
        shingles = _shingles(body)
        self._shingles[key] = shingles
        for shingle in self._sampled(shingles):
            self._postings.setdefault(shingle, []).append(key)

    def find(self, body: str) -> tuple[str, float] | None:
        """(key, similarity) of the known document body duplicates, or None."""
        shingles = _shingles(body)
        if not shingles:
            return None
        votes: dict[str, int] = {}
        for shingle in self._sampled(shingles):
            for key in self._postings.get(shingle, ()):
                votes[key] = votes.get(key, 0) + 1
        best: tuple[str, float] | None = None
        for key in sorted(votes, key=lambda k: -votes[k])[: self.CANDIDATES]:
            other = self._shingles[key]
            score = len(shingles & other) / len(shingles | other)
            if score >= DUPLICATE_THRESHOLD and (best is None or score > best[1]):
                best = (key, score)
        return best

    def _sampled(self, shingles: frozenset[str]) -> list[str]:
        if len(shingles) < 16 * self.SAMPLE:
            return list(shingles)
        return [s for s in shingles if hash(s) % self.SAMPLE == 0]


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
    is kept; a printed title beats a derived one. Where two files' metadata.toml entries give
    conflicting facts, that is an error; a conflict in what was read from the texts keeps the
    canonical file's value."""
    merged = canonical
    for other in others:
        for key in ("level", "status"):
            if getattr(other, key) != getattr(merged, key) and _both_given(key, merged, other):
                _conflict(key, canonical, other, getattr(other, key), getattr(merged, key))
        updates: dict[str, object] = {}
        taken: list[str] = []
        for key in ("issuer", "doc_number", "date", "city", "genre"):
            mine, theirs = getattr(merged, key), getattr(other, key)
            if mine is None and theirs is not None:
                updates[key] = theirs
                taken.append(key)
            elif (
                key in _PRINTED
                and mine is not None
                and theirs is not None
                and normalize_for_match(mine) != normalize_for_match(theirs)
                and _both_given(key, merged, other)
            ):
                _conflict(key, canonical, other, theirs, mine)
        if merged.title_derived and not other.title_derived:
            updates.update(title=other.title, title_derived=False)
            taken.append("title")
        if taken:
            updates["evidence"] = _merged_evidence(merged, other, taken)
        merged = replace(merged, **updates) if updates else merged
    return merged


_PRINTED = ("issuer", "doc_number", "date")


def _both_given(key: str, a: FileFacts, b: FileFacts) -> bool:
    """Whether both files' values of key come from metadata.toml (an override), not from the text."""
    sources = [next((e.source for e in f.evidence if e.field == key), "override") for f in (a, b)]
    return sources == ["override", "override"]


def _conflict(key: str, canonical: FileFacts, other: FileFacts, theirs: object, mine: object) -> None:
    raise CorpusError(
        f"{other.file} and {canonical.file} hold the same text but metadata.toml gives "
        f"{key} {theirs!r} and {mine!r}; make them agree"
    )


def _merged_evidence(merged: FileFacts, other: FileFacts, taken: list[str]) -> tuple[FieldEvidence, ...]:
    """The evidence of merged, with that of the facts taken from other (noting which file gave them)."""
    theirs = {e.field: e for e in other.evidence}
    evidence = {e.field: e for e in merged.evidence if e.field not in taken}
    for key in taken:
        if key in theirs:
            found = theirs[key]
            evidence[key] = replace(found, note=f"{found.note}; in {other.file}" if found.note else f"in {other.file}")
    return tuple(evidence[f] for f in FIELDS if f in evidence)
