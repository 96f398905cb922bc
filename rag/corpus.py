"""The corpus API: load the policy files into documents and clauses, and look them up.

    corpus = load_corpus(settings.corpus_dir)
    corpus.find_clause("国发〔2020〕7号", "二、（五）").citation

Loading reads every policy file of the corpus folder (the bundled library: its metadata read from
the text, with metadata.toml as an optional override layer) and the documents a user added to the
library in the data folder (rag/library.py hands them in as SourceFile), cleans and parses each file,
recognises files that hold the same document (rag.duplicates) and keeps one document with the
canonical file's clauses; a clause lists every file that holds it, and a part that only a duplicate
prints (a signature and date) becomes a clause cited from that file, so no text is lost by merging.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from rag.citations import cite
from rag.clauses import Clause
from rag.cleaning import DroppedLine
from rag.documents import Document, Origin
from rag.duplicates import (
    DUPLICATE_THRESHOLD,
    FileSummary,
    group_duplicates,
    merge_facts,
    similarity,
)
from rag.errors import CorpusError, UnknownReferenceError
from rag.indexing import TERMS_FILE
from rag.library_facts import Override, read_facts
from rag.library_files import extract_text_of, supported_suffixes
from rag.metadata import (
    METADATA_FILE,
    CorpusMetadata,
    FileFacts,
    check_overrides_against_text,
    load_metadata,
)
from rag.normalize import normalize, to_simplified
from rag.numbering import label_keys
from rag.parsing import ParsedText, Unit, parse_text
from rag.references import find_clause_by_label, resolve_document
from rag.textio import read_text
from rag.units import find_unit_notes

__all__ = ["CleaningReport", "Corpus", "DocumentCounts", "SourceFile", "bundled_files", "load_corpus", "parse_source",
           "read_bundled"]

PARSER_VERSION = "1"
"""Part of the content hash: bump it when cleaning or parsing changes, so built indexes go stale."""

ORPHAN_REASON = "cut off from its clause by page junk"


@dataclass(frozen=True, slots=True)
class DocumentCounts:
    sections: int
    articles: int
    items: int
    clauses: int


@dataclass(frozen=True, slots=True)
class CleaningReport:
    """What was dropped from one file as not being document text, with spans into that file."""

    file: str
    dropped: tuple[DroppedLine, ...]

    @property
    def dropped_chars(self) -> int:
        return sum(len(d.line.text) for d in self.dropped)


@dataclass(frozen=True, slots=True)
class Corpus:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    counts: Mapping[str, DocumentCounts]
    reports: tuple[CleaningReport, ...]
    content_hash: str
    aliases: Mapping[str, str]
    """Ids and file names of every file → the id of the document it holds."""
    file_texts: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """File name → its decoded text; a clause's span indexes into the text of its first source file."""
    _by_id: Mapping[str, Clause] = field(init=False, repr=False, compare=False)
    _by_doc: Mapping[str, tuple[Clause, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {c.id: c for c in self.clauses}
        if len(by_id) != len(self.clauses):
            raise CorpusError("two clauses share an id; the numbering of a document repeats a label")
        by_doc: dict[str, list[Clause]] = {d.id: [] for d in self.documents}
        for c in self.clauses:
            by_doc[c.doc_id].append(c)
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))
        object.__setattr__(self, "_by_doc", MappingProxyType({k: tuple(v) for k, v in by_doc.items()}))

    def document(self, doc_id: str) -> Document:
        """The document with this id (or the id or file name of one of its files)."""
        doc_id = self.aliases.get(doc_id, doc_id)
        for document in self.documents:
            if document.id == doc_id:
                return document
        raise UnknownReferenceError(
            f"no document with id {doc_id!r}; ids are {', '.join(d.id for d in self.documents)}"
        )

    def clauses_of(self, doc_id: str) -> tuple[Clause, ...]:
        return self._by_doc[self.document(doc_id).id]

    def clause(self, clause_id: str) -> Clause:
        """The clause with this id; an alias document id before the colon works too."""
        found = self._by_id.get(clause_id)
        if found is None and ":" in clause_id:
            doc_part, rest = clause_id.split(":", 1)
            found = self._by_id.get(f"{self.aliases.get(doc_part, doc_part)}:{rest}")
        if found is None:
            raise UnknownReferenceError(
                f"no clause with id {clause_id!r}; ids look like {self.clauses[0].id}. "
                "List them with `policy-rag clauses --jsonl`"
            )
        return found

    def resolve_document(self, ref: str) -> Document:
        """The document a reference names: id, document number (also 国发7号), region, issuer or title."""
        return resolve_document(ref.strip(), self.documents, self.aliases)

    def find_clause(self, doc_ref: str, label: str) -> Clause:
        """The clause of the referenced document with this label (二、（五）, 二(一)5, 第三条, 序言…)."""
        document = self.resolve_document(doc_ref)
        return find_clause_by_label(document, self._by_doc[document.id], label.strip())

    def lookup(self, ref: str, label: str | None = None) -> Clause:
        """A clause by id, or by document reference and label (also run together: 国发7号二、（五）)."""
        if label is not None:
            return self.find_clause(ref, label)
        ref = ref.strip()
        try:
            return self.clause(ref)
        except UnknownReferenceError:
            for cut in range(1, len(ref)):
                if label_keys(ref[cut:]) is None:
                    continue
                try:
                    document = self.resolve_document(ref[:cut])
                except UnknownReferenceError:
                    continue
                return find_clause_by_label(document, self._by_doc[document.id], ref[cut:])
            raise

    def document_of_file(self, file: str) -> str:
        """The id of the document a corpus file holds (Hebei's two files give the same id)."""
        try:
            return self.aliases[file]
        except KeyError:
            raise UnknownReferenceError(f"no corpus file {file!r}; files are {', '.join(self.file_texts)}") from None

    def file_text(self, file: str) -> str:
        try:
            return self.file_texts[file]
        except KeyError:
            raise UnknownReferenceError(f"no corpus file {file!r}; files are {', '.join(self.file_texts)}") from None

    def source_text(self, doc_id: str) -> str:
        """The text of the document's canonical file (its first source file)."""
        return self.file_text(self.document(doc_id).source_files[0])

    def report(self, file: str) -> CleaningReport:
        for report in self.reports:
            if report.file == file:
                return report
        raise UnknownReferenceError(f"no corpus file {file!r}; files are {', '.join(r.file for r in self.reports)}")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of the library, read: its name (unique in the library), the text clause spans index
    into, its facts, and a fingerprint of what was read (for the content hash)."""

    file: str
    text: str
    facts: FileFacts
    origin: Origin
    fingerprint: str


@dataclass(frozen=True, slots=True)
class _ReadFile:
    facts: FileFacts
    text: str
    parsed: ParsedText
    report: CleaningReport
    origin: Origin


def bundled_files(corpus_dir: Path) -> tuple[list[str], CorpusMetadata]:
    """The names of the policy files of a corpus folder (supported suffixes, minus not_documents)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; pass --corpus-dir or set POLICYQA_CORPUS_DIR")
    metadata = load_metadata(corpus_dir)
    suffixes = supported_suffixes()
    names = sorted(
        p.name
        for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and p.name not in metadata.not_documents
        and p.name != TERMS_FILE and not p.name.startswith(".")
    )
    missing = [n for n in metadata.files if n not in names]
    if missing:
        raise CorpusError(f"{METADATA_FILE} lists {', '.join(missing)} but {corpus_dir} has no such file")
    return names, metadata


def read_bundled(corpus_dir: Path, name: str, metadata: CorpusMetadata) -> SourceFile:
    """One file of the corpus folder with its metadata.toml overrides (if any) on what its text gives."""
    path = Path(corpus_dir) / name
    text = read_text(path) if path.suffix.lower() == ".txt" else extract_text_of(path)
    entry = metadata.files.get(name)
    overrides: dict[str, Override] = {}
    if entry is not None:
        check_overrides_against_text(entry, text)
        overrides = {key: Override(value, METADATA_FILE) for key, value in entry.values.items()}
    facts = read_facts(name, text, overrides=overrides)
    return SourceFile(name, text, facts, Origin.BUNDLED, "")


def load_corpus(corpus_dir: Path, added: Sequence[SourceFile] = ()) -> Corpus:
    """Read, clean, parse and merge every file of the corpus folder, plus the `added` documents of the
    library; CorpusError saying what to fix on failure.

    Duplicates are recognised among the corpus folder's files; added documents were checked against
    everything when they were added (rag/library_add.py), so each is a document of its own.
    """
    corpus_dir = Path(corpus_dir)
    names, metadata = bundled_files(corpus_dir)
    sources = [read_bundled(corpus_dir, name, metadata) for name in names]
    taken = set(names)
    for source in added:
        if source.file in taken:
            raise CorpusError(
                f"the library holds two files named {source.file!r} (one in {corpus_dir}); "
                f"remove the added one with `policy-rag remove {source.facts.id}` and add it again"
            )
        taken.add(source.file)
    files = {s.file: _read(s) for s in (*sources, *added)}
    summaries = [
        FileSummary(
            name=name,
            body="\n".join(line.text for line in files[name].parsed.cleaned.body),
            junk_chars=files[name].report.dropped_chars,
            script=files[name].facts.script,
        )
        for name in names
    ]
    groups = [[s.name for s in group] for group in group_duplicates(summaries)] + [[s.file] for s in added]
    documents: list[Document] = []
    clauses: list[Clause] = []
    counts: dict[str, DocumentCounts] = {}
    aliases: dict[str, str] = {}
    for group in groups:
        canonical, others = files[group[0]], [files[n] for n in group[1:]]
        document = _document(canonical, others)
        if any(d.id == document.id for d in documents):
            raise CorpusError(
                f"two documents of the library have the id {document.id!r}; "
                f"give one another id (metadata.toml) or remove the added one with `policy-rag remove`"
            )
        doc_clauses = [_clause(document, unit, canonical, others) for unit in canonical.parsed.units]
        # A part only a duplicate prints (001's signature and date) is kept, cited from that file.
        labels = {unit.label for unit in canonical.parsed.units}
        for other in others:
            for unit in other.parsed.units:
                if unit.label not in labels:
                    labels.add(unit.label)
                    doc_clauses.append(_clause(document, unit, other, []))
        documents.append(document)
        clauses.extend(doc_clauses)
        parsed = canonical.parsed
        counts[document.id] = DocumentCounts(parsed.sections, parsed.articles, parsed.items, len(doc_clauses))
        for f in (canonical, *others):
            aliases[f.facts.id] = document.id
            aliases[f.facts.file] = document.id
    return Corpus(
        documents=tuple(documents),
        clauses=tuple(clauses),
        counts=MappingProxyType(counts),
        reports=tuple(f.report for f in files.values()),
        content_hash=_content_hash(corpus_dir, names, added),
        aliases=MappingProxyType(aliases),
        file_texts=MappingProxyType({name: f.text for name, f in files.items()}),
    )


def parse_source(file: str, text: str) -> tuple[ParsedText, CleaningReport]:
    """The parsed text of one file and what cleaning dropped from it."""
    parsed = parse_text(text, name=file)
    orphans = tuple(DroppedLine(line, ORPHAN_REASON) for line in parsed.orphans)
    dropped = tuple(sorted((*parsed.cleaned.dropped, *orphans), key=lambda d: d.line.start))
    return parsed, CleaningReport(file, dropped)


def _read(source: SourceFile) -> _ReadFile:
    parsed, report = parse_source(source.file, source.text)
    return _ReadFile(source.facts, source.text, parsed, report, source.origin)


def _document(canonical: _ReadFile, others: list[_ReadFile]) -> Document:
    merged = merge_facts(canonical.facts, [o.facts for o in others])
    return Document(
        id=merged.id,
        title=merged.title,
        title_derived=merged.title_derived,
        issuer=merged.issuer,
        doc_number=merged.doc_number,
        date=merged.date,
        level=merged.level,
        region=merged.region,
        status=merged.status,
        script=merged.script,
        source_files=(canonical.facts.file, *(o.facts.file for o in others)),
        city=merged.city,
        genre=merged.genre,
        origin=canonical.origin,
        evidence=merged.evidence,
    )


def _clause(document: Document, unit: Unit, canonical: _ReadFile, others: list[_ReadFile]) -> Clause:
    text = canonical.text[unit.span[0] : unit.span[1]]
    sources = [canonical.facts.file]
    for other in others:
        twin = next((u for u in other.parsed.units if u.label == unit.label), None)
        if twin and similarity(text, other.text[twin.span[0] : twin.span[1]]) >= DUPLICATE_THRESHOLD:
            sources.append(other.facts.file)
    notes = find_unit_notes(to_simplified(text))
    return Clause(
        id=f"{document.id}:{'.'.join(unit.id_parts)}",
        doc_id=document.id,
        kind=unit.kind,
        label=unit.label,
        path=unit.path,
        text=text,
        normalized=normalize(text),
        span=unit.span,
        source_files=tuple(sources),
        citation=cite(document, unit.label),
        responsible_units=_flatten(n.responsible for n in notes),
        lead_units=_flatten(n.lead for n in notes),
        participating_units=_flatten(n.participating for n in notes),
    )


def _flatten(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(unit for group in groups for unit in group))


def _content_hash(corpus_dir: Path, names: list[str], added: Sequence[SourceFile] = ()) -> str:
    digest = hashlib.sha256(f"policyqa-corpus parser={PARSER_VERSION}\n".encode())
    for name in [METADATA_FILE, *names]:
        path = corpus_dir / name
        data = path.read_bytes() if path.exists() else b""
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    for source in added:
        digest.update(f"added\0{source.file}\0{source.fingerprint}\n".encode())
    return digest.hexdigest()
