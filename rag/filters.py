"""Which documents a search may draw from: chosen documents, level, region, drafts or not."""

from __future__ import annotations

from dataclasses import dataclass

from rag.documents import Document, Level


@dataclass(frozen=True, slots=True)
class Filters:
    """Empty sets mean "any"; drafts (征求意见稿) are included unless include_drafts is False."""

    doc_ids: frozenset[str] = frozenset()
    levels: frozenset[Level] = frozenset()
    regions: frozenset[str] = frozenset()
    include_drafts: bool = True

    def allows(self, document: Document) -> bool:
        return (
            (not self.doc_ids or document.id in self.doc_ids)
            and (not self.levels or document.level in self.levels)
            and (not self.regions or document.region in self.regions)
            and (self.include_drafts or not document.is_draft)
        )

    @property
    def is_default(self) -> bool:
        return self == Filters()
