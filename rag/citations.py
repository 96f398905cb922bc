"""Citation strings people paste into reports: 《title》（document number）label.

    《国务院关于某事的若干意见》（国发〔2019〕12号）二、（五）

- no document number printed: the number is left out;
- a title the files do not print (composed from the text) is followed by （拟题）, the archivists'
  mark for a supplied title, so nobody quotes it as the official one;
- a draft always says so: （征求意见稿） is added unless the title already contains it.
"""

from __future__ import annotations

from rag.documents import Document

__all__ = ["DERIVED_TITLE_MARK", "DRAFT_MARK", "cite", "cite_document"]

DERIVED_TITLE_MARK = "（拟题）"
DRAFT_MARK = "征求意见稿"


def cite_document(document: Document) -> str:
    """The document part of a citation: 《title》（number）, with the derived-title and draft marks."""
    parts = [f"《{document.title}》"]
    if document.doc_number:
        parts.append(f"（{document.doc_number}）")
    if document.title_derived:
        parts.append(DERIVED_TITLE_MARK)
    if document.is_draft and DRAFT_MARK not in document.title:
        parts.append(f"（{DRAFT_MARK}）")
    return "".join(parts)


def cite(document: Document, label: str) -> str:
    """The full citation of a clause of `document` with canonical label such as 二、（一）5."""
    if not label:
        raise ValueError(f"a citation of {document.id!r} needs a clause label, got {label!r}")
    return cite_document(document) + label
