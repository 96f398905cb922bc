"""The Document type: one policy document, whatever number of files hold it, and where each fact came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["EVIDENCE_SOURCES", "FIELDS", "Document", "FieldEvidence", "Level", "Origin", "Status"]


class Level(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"


class Status(StrEnum):
    IN_FORCE = "in_force"
    DRAFT = "draft"
    TRIAL = "trial"
    REPEALED = "repealed"


class Origin(StrEnum):
    BUNDLED = "bundled"
    """A file of the corpus folder shipped with the program (or given with --corpus-dir)."""
    ADDED = "added"
    """A document a user added to the library in the data folder (`policy-rag add`)."""


FIELDS = ("title", "doc_number", "issuer", "date", "level", "region", "city", "genre", "status")
"""The metadata fields of a document that are read from its text, derived, or overridden."""

EVIDENCE_SOURCES = ("text", "derived", "override")
"""text: read from a line of the text; derived: worked out from other facts (a region from the issuer,
a genre from the title, a title from the file name); override: given by metadata.toml or an option."""


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """Where one metadata field's value came from.

    `line` (1-based) and `span` (character offsets) point into the text the document's clause spans
    index into, when the value is printed there; `note` says more for people (e.g. "metadata.toml",
    "--issuer", "from the issuer").
    """

    field: str
    source: str
    line: int | None = None
    span: tuple[int, int] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"evidence for unknown field {self.field!r}; fields are {', '.join(FIELDS)}")
        if self.source not in EVIDENCE_SOURCES:
            raise ValueError(f"evidence source {self.source!r} must be one of {', '.join(EVIDENCE_SOURCES)}")

    def record(self) -> dict[str, object]:
        """The JSON form: {"source", "line", "span", "note"}, leaving out what is unknown."""
        out: dict[str, object] = {"source": self.source}
        if self.line is not None:
            out["line"] = self.line
        if self.span is not None:
            out["span"] = list(self.span)
        if self.note:
            out["note"] = self.note
        return out


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


@dataclass(frozen=True, slots=True)
class Document:
    """A policy document. A fact the texts do not give is None ("unknown"), never invented.

    `title_derived` is True when no file prints the title and it was composed from what the
    text does give (issuer, region and subject); the UI and citations mark such titles.
    `source_files` lists every file holding this document, the canonical one first: corpus file
    names for bundled documents, the file's own name as added for added ones.
    `date` is written as the seeds print it (2020年7月13日); `iso_date` gives 2020-07-13.
    `evidence` holds one FieldEvidence per known field (look one up with `evidence_of`).
    """

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
    source_files: tuple[str, ...]
    city: str | None = None
    genre: str | None = None
    origin: Origin = Origin.BUNDLED
    evidence: tuple[FieldEvidence, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or not self.title:
            raise ValueError(f"document needs an id and a title, got id={self.id!r} title={self.title!r}")
        if not self.source_files:
            raise ValueError(f"document {self.id!r} has no source files")

    @property
    def is_draft(self) -> bool:
        return self.status is Status.DRAFT

    @property
    def is_added(self) -> bool:
        return self.origin is Origin.ADDED

    @property
    def iso_date(self) -> str | None:
        """The date as YYYY-MM-DD, or None when unknown."""
        return iso_date(self.date)

    def evidence_of(self, name: str) -> FieldEvidence | None:
        return next((e for e in self.evidence if e.field == name), None)


def iso_date(date: str | None) -> str | None:
    """2020年7月13日 or 2020-07-13 as 2020-07-13; None for None or another form."""
    if not date:
        return None
    m = _ISO.match(date) or _CHINESE_DATE.match(date)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None


def chinese_date(date: str) -> str | None:
    """2020-07-13 or 2020年07月13日 as 2020年7月13日 (how documents print dates); None for another form."""
    iso = iso_date(date.strip())
    if iso is None:
        return None
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"
