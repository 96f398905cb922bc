"""Citations: 《title》（number）label, no number when none is printed, drafts and derived titles marked."""

from __future__ import annotations

from rag.citations import cite, cite_document
from rag.documents import Document, Level, Status


def _document(**overrides: object) -> Document:
    base: dict[str, object] = dict(
        id="guofa-2020-7",
        title="国务院关于促进国家高新技术产业开发区高质量发展的若干意见",
        title_derived=False,
        issuer="国务院",
        doc_number="国发〔2020〕7号",
        date="2020年7月13日",
        level=Level.NATIONAL,
        region="全国",
        status=Status.IN_FORCE,
        script="simplified",
        source_files=("002_aceb60dd589429a8.txt",),
    )
    base.update(overrides)
    return Document(**base)  # type: ignore[arg-type]


def test_citation_has_title_number_and_label() -> None:
    assert (
        cite(_document(), "二、（五）")
        == "《国务院关于促进国家高新技术产业开发区高质量发展的若干意见》（国发〔2020〕7号）二、（五）"
    )


def test_document_without_number_is_cited_without_one() -> None:
    doc = _document(title="某省关于某事的实施意见", doc_number=None)
    assert cite(doc, "一、（一）") == "《某省关于某事的实施意见》一、（一）"


def test_derived_title_is_marked_as_supplied() -> None:
    doc = _document(title="江苏省关于促进高新技术产业开发区高质量发展的实施意见", title_derived=True, doc_number=None)
    assert (
        cite(doc, "八、（二十四）") == "《江苏省关于促进高新技术产业开发区高质量发展的实施意见》（拟题）八、（二十四）"
    )


def test_draft_says_so_even_when_its_title_does_not() -> None:
    doc = _document(title="关于某事的实施意见", doc_number=None, status=Status.DRAFT)
    assert cite_document(doc) == "《关于某事的实施意见》（征求意见稿）"


def test_draft_mark_is_not_repeated_when_the_title_has_it() -> None:
    doc = _document(title="关于某事的实施意见（征求意见稿）", doc_number=None, status=Status.DRAFT)
    assert cite(doc, "二、（三）").count("征求意见稿") == 1
