"""corpus/metadata.toml, the optional override layer of the bundled corpus, and the facts of one file.

What a document says about itself is read from its text (rag/library_facts.py). A [files."<name>"]
table overrides what the text gives, key by key: a key left out keeps the text's value, a key set to
"" says the text gives no such fact (unknown), whatever it seems to print. A file without a table is
read from its text alone.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from rag.documents import FieldEvidence, Level, Status
from rag.errors import CorpusError
from rag.normalize import normalize_for_match

__all__ = [
    "METADATA_FILE",
    "OVERRIDE_KEYS",
    "SCRIPTS",
    "CorpusMetadata",
    "FileFacts",
    "FileOverrides",
    "check_overrides_against_text",
    "load_metadata",
    "valid_id",
]

METADATA_FILE = "metadata.toml"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SCRIPTS = ("simplified", "traditional")
OVERRIDE_KEYS = frozenset(
    {"id", "title", "title_derived", "issuer", "doc_number", "date", "level", "region", "city", "genre", "status",
     "script"}
)
_PRINTED = ("issuer", "doc_number", "date")
"""metadata.toml values of these keys (and a title not marked title_derived) must be printed in the file."""


def valid_id(value: str) -> bool:
    return bool(_ID.match(value))


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What one file says about the document it holds (after overrides); None where it says nothing."""

    file: str
    id: str
    title: str
    title_derived: bool
    issuer: str | None
    doc_number: str | None
    date: str | None
    level: Level | None
    region: str | None
    status: Status
    script: str
    city: str | None = None
    genre: str | None = None
    evidence: tuple[FieldEvidence, ...] = ()

    def __post_init__(self) -> None:
        if not valid_id(self.id):
            raise ValueError(f"id {self.id!r} must be lower-case letters, digits and hyphens, e.g. guangdong-2021-5")
        if self.script not in SCRIPTS:
            raise ValueError(f"script {self.script!r} must be one of {', '.join(SCRIPTS)}")


@dataclass(frozen=True, slots=True)
class FileOverrides:
    """The keys one metadata.toml table gives, checked; a value of None means "unknown" on purpose."""

    file: str
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class CorpusMetadata:
    files: Mapping[str, FileOverrides]
    """Overrides per file name (files without a table are not listed)."""
    not_documents: frozenset[str]
    """Other files of the corpus folder that are not policy documents (e.g. a term list)."""


def load_metadata(corpus_dir: Path) -> CorpusMetadata:
    """The overrides of corpus_dir/metadata.toml (none if there is no such file); CorpusError naming the
    file, the entry and the fix when something in it is wrong."""
    path = corpus_dir / METADATA_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return CorpusMetadata(MappingProxyType({}), frozenset())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}; fix the file (TOML, UTF-8)") from None
    files = raw.get("files", {})
    if not isinstance(files, dict):
        raise CorpusError(f'{path}: files must hold one [files."<name>"] table per file')
    overrides = {name: _overrides(path, name, entry) for name, entry in files.items()}
    seen: dict[str, str] = {}
    for entry in overrides.values():
        doc_id = entry.values.get("id")
        if isinstance(doc_id, str):
            if doc_id in seen:
                raise CorpusError(f"{path}: id {doc_id!r} is used by both {seen[doc_id]} and {entry.file}; "
                                  "ids must be unique")
            seen[doc_id] = entry.file
    not_documents = raw.get("not_documents", [])
    if not isinstance(not_documents, list) or not all(isinstance(n, str) for n in not_documents):
        raise CorpusError(f"{path}: not_documents must be a list of file names, got {not_documents!r}")
    return CorpusMetadata(MappingProxyType(overrides), frozenset(not_documents))


def _overrides(path: Path, name: str, entry: object) -> FileOverrides:
    where = f'{path} [files."{name}"]'
    if not isinstance(entry, dict):
        raise CorpusError(f"{where} must be a table of facts")
    unknown = set(entry) - OVERRIDE_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(OVERRIDE_KEYS)}")
    values: dict[str, object] = {}
    for key, value in entry.items():
        if key == "title_derived":
            if not isinstance(value, bool):
                raise CorpusError(f"{where}: title_derived must be true or false, got {value!r}")
            values[key] = value
            continue
        if not isinstance(value, str):
            raise CorpusError(f"{where}: {key} must be a string, got {value!r}")
        text = value.strip()
        if key in ("id", "title", "script") and not text:
            raise CorpusError(f"{where}: {key} must not be empty; leave the key out to read it from the text")
        try:
            values[key] = _checked(key, text) if text else None
        except ValueError as exc:
            raise CorpusError(f"{where}: {exc}") from None
    return FileOverrides(name, MappingProxyType(values))


def _checked(key: str, value: str) -> object:
    if key == "id" and not valid_id(value):
        raise ValueError(f"id {value!r} must be lower-case letters, digits and hyphens, e.g. guangdong-2021-5")
    if key == "level":
        return Level(value)
    if key == "status":
        return Status(value)
    if key == "script" and value not in SCRIPTS:
        raise ValueError(f"script {value!r} must be one of {', '.join(SCRIPTS)}")
    return value


def check_overrides_against_text(overrides: FileOverrides, text: str) -> None:
    """Printed facts must be in the text (compared in simplified script, ignoring width and spacing).

    A derived title is exempt: it is marked as composed, not claimed to be printed.
    """
    haystack = normalize_for_match(text)
    printed = {key: overrides.values.get(key) for key in _PRINTED}
    if not overrides.values.get("title_derived", False):
        printed["title"] = overrides.values.get("title")
    for key, value in printed.items():
        if isinstance(value, str) and value and normalize_for_match(value) not in haystack:
            raise CorpusError(
                f"{METADATA_FILE}: {overrides.file} {key} = {value!r} is not printed in that file; "
                "correct it, leave it out if the text does not give it, or mark a composed title title_derived = true"
            )
