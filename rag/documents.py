"""The Document type: one policy document, whatever number of files hold it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class Document:
    """A policy document. A fact the texts do not give is None ("unknown"), never invented.

    `title_derived` is True when no file prints the title and it was composed from what the
    text does give (issuer, region and subject); the UI and citations mark such titles.
    `source_files` lists every corpus file holding this document, the canonical one first.
    """

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
    source_files: tuple[str, ...]
    city: str | None = None
    genre: str | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.title:
            raise ValueError(f"document needs an id and a title, got id={self.id!r} title={self.title!r}")
        if not self.source_files:
            raise ValueError(f"document {self.id!r} has no source files")

    @property
    def is_draft(self) -> bool:
        return self.status is Status.DRAFT
