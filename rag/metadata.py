"""Reading corpus/metadata.toml: the facts each file's text gives (title, number, date, issuer, …)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.documents import Level, Status
from rag.errors import CorpusError
from rag.normalize import normalize_for_match

__all__ = ["METADATA_FILE", "CorpusMetadata", "FileFacts", "check_facts_against_text", "load_metadata"]

METADATA_FILE = "metadata.toml"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SCRIPTS = ("simplified", "traditional")
_KEYS = frozenset(
    {"id", "title", "title_derived", "issuer", "doc_number", "date", "level", "region", "status", "script"}
)


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What one corpus file says about the document it holds; None where it says nothing."""

    file: str
    id: str
    title: str
    title_derived: bool
    issuer: str | None
    doc_number: str | None
    date: str | None
    level: Level
    region: str
    status: Status
    script: str

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"id {self.id!r} must be lower-case letters, digits and hyphens, e.g. hebei-2020-52")
        if self.script not in _SCRIPTS:
            raise ValueError(f"script {self.script!r} must be one of {', '.join(_SCRIPTS)}")


@dataclass(frozen=True, slots=True)
class CorpusMetadata:
    files: dict[str, FileFacts]
    """Facts per policy file name."""
    not_documents: frozenset[str]
    """Other *.txt files of the corpus folder that are not policy documents (e.g. a term list)."""


def load_metadata(corpus_dir: Path) -> CorpusMetadata:
    """Facts per file; CorpusError with the file, the entry and the fix when something is wrong."""
    path = corpus_dir / METADATA_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(
            f'no {METADATA_FILE} in corpus folder {corpus_dir}; add one with a [files."<name>"] table per file'
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}; fix the file (TOML, UTF-8)") from None
    files = raw.get("files")
    if not isinstance(files, dict) or not files:
        raise CorpusError(f'{path} has no [files."<name>"] tables; add one per corpus file')
    facts = {name: _facts(path, name, entry) for name, entry in files.items()}
    seen: dict[str, str] = {}
    for fact in facts.values():
        if fact.id in seen:
            raise CorpusError(
                f"{path}: id {fact.id!r} is used by both {seen[fact.id]} and {fact.file}; ids must be unique"
            )
        seen[fact.id] = fact.file
    not_documents = raw.get("not_documents", [])
    if not isinstance(not_documents, list) or not all(isinstance(n, str) for n in not_documents):
        raise CorpusError(f"{path}: not_documents must be a list of file names, got {not_documents!r}")
    return CorpusMetadata(facts, frozenset(not_documents))


def _facts(path: Path, name: str, entry: object) -> FileFacts:
    where = f'{path} [files."{name}"]'
    if not isinstance(entry, dict):
        raise CorpusError(f"{where} must be a table of facts")
    unknown = set(entry) - _KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    missing = [key for key in ("id", "title", "level", "region", "status", "script") if not entry.get(key)]
    if missing:
        raise CorpusError(f"{where}: missing {', '.join(missing)}; every file needs them")
    try:
        return FileFacts(
            file=name,
            id=str(entry["id"]),
            title=str(entry["title"]),
            title_derived=bool(entry.get("title_derived", False)),
            issuer=entry.get("issuer") or None,
            doc_number=entry.get("doc_number") or None,
            date=entry.get("date") or None,
            level=Level(entry["level"]),
            region=str(entry["region"]),
            status=Status(entry["status"]),
            script=str(entry["script"]),
        )
    except ValueError as exc:
        raise CorpusError(f"{where}: {exc}") from None


def check_facts_against_text(facts: FileFacts, text: str) -> None:
    """Printed facts must be in the text (compared in simplified script, ignoring width and spacing).

    A derived title is exempt: it is marked as composed, not claimed to be printed.
    """
    haystack = normalize_for_match(text)
    printed = {"issuer": facts.issuer, "doc_number": facts.doc_number, "date": facts.date}
    if not facts.title_derived:
        printed["title"] = facts.title
    for key, value in printed.items():
        if value and normalize_for_match(value) not in haystack:
            raise CorpusError(
                f"{METADATA_FILE}: {facts.file} {key} = {value!r} is not printed in that file; "
                "correct it, leave it out if the text does not give it, or mark a composed title title_derived = true"
            )
