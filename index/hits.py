"""The Hit type and the retriever protocol that every search backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the id of an indexed item and its score (higher is better)."""

    id: str
    score: float


class Retriever(Protocol):
    def search(self, query: str, k: int) -> list[Hit]:
        """At most k hits, best first, each id at most once."""
        ...
