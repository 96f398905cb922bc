"""Checking files offered to the library: each one is read (or refused) before anything is written,
then compared with the library: a duplicate is reported, another version of a document needs --replace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from rag.corpus import Corpus, DocumentCounts, parse_source
from rag.documents import Document
from rag.duplicates import DuplicateFinder
from rag.errors import CorpusError
from rag.library_facts import Override, read_facts
from rag.library_files import Candidate, DocumentRejected, extract
from rag.metadata import FileFacts
from rag.normalize import normalize_for_match

__all__ = ["SAME_TEXT", "Checker", "Outcome", "Prepared", "Verdict", "read_candidate"]

SAME_TEXT = 0.95
"""Similarity above which a text with the same number or title is the same document, not another version
(two copies of one document, scraped or in the other script, score above it; amended versions below)."""
_VERSION_MARKS = re.compile(r"[（(](征求意见稿|草案|送审稿|修订草案|试行|暂行)[)）]")

class Verdict(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    NEEDS_REPLACE = "needs-replace"
    REFUSED = "refused"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Prepared:
    """One file read and checked, ready to be written into the library."""

    shown: str
    file: str
    """Its name in the library (the file's own name, made unique)."""
    suffix: str
    original: bytes
    text: str
    text_format: str
    notes: tuple[str, ...]
    facts: FileFacts
    counts: DocumentCounts
    body: str = field(default="", repr=False)
    """The text of its clauses, for recognising duplicates."""
    replaces: tuple[Document, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    shown: str
    verdict: Verdict
    message: str = ""
    prepared: Prepared | None = None


def read_candidate(candidate: Candidate, max_bytes: int, overrides: Mapping[str, Override]) -> Prepared | Outcome:
    """One file read, its metadata read and its text parsed; or the refusal (nothing is written)."""
    shown = candidate.shown
    try:
        extracted = extract(candidate.path, max_bytes)
        original = candidate.path.read_bytes()
        facts = read_facts(candidate.name, extracted.text, overrides=overrides)
        parsed, _ = parse_source(candidate.name, extracted.text)
    except DocumentRejected as exc:
        return Outcome(shown, Verdict.REFUSED, str(exc))
    except (CorpusError, OSError) as exc:
        return Outcome(shown, Verdict.REFUSED, f"{candidate.name}: {exc}")
    if not parsed.units:
        return Outcome(shown, Verdict.REFUSED, f"{candidate.name}: no clauses found in the text")
    body = "\n".join(extracted.text[u.span[0] : u.span[1]] for u in parsed.units)
    counts = DocumentCounts(parsed.sections, parsed.articles, parsed.items, len(parsed.units))
    return Prepared(
        shown=shown, file=candidate.name, suffix=candidate.path.suffix.lower(), original=original,
        text=extracted.text, text_format=extracted.format, notes=extracted.notes, facts=facts, counts=counts,
        body=body,
    )

class Checker:
    """Checks candidates one by one against the library and the candidates accepted before them."""

    def __init__(self, corpus: Corpus, replace_versions: bool) -> None:
        self.corpus = corpus
        self.replace_versions = replace_versions
        self.finder = DuplicateFinder()
        self.documents: dict[str, Document] = {d.id: d for d in corpus.documents}
        for document in corpus.documents:
            self.finder.add(document.id, "\n".join(c.text for c in corpus.clauses_of(document.id)))
        self.batch: dict[str, Prepared] = {}
        self.names = set(corpus.file_texts)
        self.ids = set(corpus.aliases) | set(self.documents)

    def check(self, prepared: Prepared) -> Outcome:
        """Added (with the id and file name it gets, and what it replaces), a duplicate, or a version
        that needs --replace."""
        shown, facts = prepared.shown, prepared.facts
        same = self.finder.find(prepared.body)
        versions = self._versions_of(facts)
        version_ids = {v.id if isinstance(v, Document) else v.facts.id for v in versions}
        # Nearly the same text is the same document (another copy, the other script), unless it is a
        # version of the same number or title that differs beyond SAME_TEXT: an amended regulation.
        if same is not None and (same[1] >= SAME_TEXT or same[0] not in version_ids):
            where = self._describe(same[0])
            return Outcome(shown, Verdict.DUPLICATE, f"{shown}: already in the library as {where}; not added again")
        if versions:
            bundled = [d for d in versions if isinstance(d, Document) and not d.is_added]
            pending = [p for p in versions if isinstance(p, Prepared)]
            what = ", ".join(self._describe(d.id if isinstance(d, Document) else d.facts.id) for d in versions)
            if bundled or pending:
                return Outcome(shown, Verdict.NEEDS_REPLACE,
                               f"{shown}: another version of {what} (same number or title), which cannot be "
                               "replaced (bundled, or added in this run)")
            if not self.replace_versions:
                return Outcome(shown, Verdict.NEEDS_REPLACE,
                               f"{shown}: another version of {what} (same number or title, different text) is in "
                               "the library; add it with --replace to replace that one")
        replaces = tuple(d for d in versions if isinstance(d, Document))
        freed = {f for d in replaces for f in d.source_files}
        name = self._unique_name(prepared.file, freed)
        facts = replace(facts, file=name, id=self._unique_id(facts.id))
        accepted = replace(prepared, file=name, facts=facts, replaces=replaces)
        self.batch[facts.id] = accepted
        self.finder.add(facts.id, prepared.body)
        self.names.add(name)
        self.ids.add(facts.id)
        return Outcome(shown, Verdict.ADDED, prepared=accepted)

    def _describe(self, key: str) -> str:
        if key in self.batch:
            p = self.batch[key]
            return f"{p.facts.id} 《{p.facts.title}》 (from {p.shown}, in this run)"
        d = self.documents[key]
        return f"{d.id} 《{d.title}》"

    def _versions_of(self, facts: FileFacts) -> list[Document | Prepared]:
        number = normalize_for_match(facts.doc_number) if facts.doc_number else None
        title = _title_key(facts.title) if not facts.title_derived else None

        def same(doc_number: str | None, doc_title: str, derived: bool) -> bool:
            if number and doc_number and normalize_for_match(doc_number) == number:
                return True
            return bool(title) and not derived and _title_key(doc_title) == title

        found: list[Document | Prepared] = [
            d for d in self.documents.values() if same(d.doc_number, d.title, d.title_derived)
        ]
        found += [p for p in self.batch.values() if same(p.facts.doc_number, p.facts.title, p.facts.title_derived)]
        return found

    def _unique_name(self, name: str, freed: set[str]) -> str:
        taken = self.names - freed
        if name not in taken:
            return name
        path = Path(name)
        n = 2
        while f"{path.stem} ({n}){path.suffix}" in taken:
            n += 1
        return f"{path.stem} ({n}){path.suffix}"

    def _unique_id(self, doc_id: str) -> str:
        if doc_id not in self.ids:
            return doc_id
        n = 2
        while f"{doc_id}-{n}" in self.ids:
            n += 1
        return f"{doc_id}-{n}"


def _title_key(title: str) -> str:
    return normalize_for_match(_VERSION_MARKS.sub("", title))
