"""The Clause type: one citable unit of a document (preamble, article, item or closing)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClauseKind(StrEnum):
    PREAMBLE = "preamble"
    SECTION = "section"  # text directly under a 一、 heading, before its first article
    ARTICLE = "article"  # （一） / 第X条
    ITEM = "item"  # 1. / （1） inside an article
    CLOSING = "closing"  # signature and date


@dataclass(frozen=True, slots=True)
class Clause:
    """A citable unit.

    `id` is stable across re-reads of the same corpus (derived from document id and label).
    `text` is verbatim: source_files[0]'s text[span[0]:span[1]] == text.
    `normalized` is the text folded to simplified script and half-width punctuation, for search.
    `path` is the heading path, e.g. ("二、重点任务", "（一）提升自主创新能力", "5.引进培养一流创新人才").
    `responsible_units` are the units the text names (（省科技厅负责）, 牵头单位 and 参与单位).
    """

    id: str
    doc_id: str
    kind: ClauseKind
    label: str
    path: tuple[str, ...]
    text: str
    normalized: str
    span: tuple[int, int]
    source_files: tuple[str, ...]
    citation: str
    responsible_units: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    participating_units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        start, end = self.span
        if not 0 <= start < end:
            raise ValueError(f"clause {self.id!r} has an empty or negative span {self.span}")
        if end - start != len(self.text):
            raise ValueError(f"clause {self.id!r}: span {self.span} does not match text length {len(self.text)}")
        if not self.source_files:
            raise ValueError(f"clause {self.id!r} has no source files")
