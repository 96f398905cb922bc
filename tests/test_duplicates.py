"""The same document in two files is recognised by its content, and their facts are merged."""

from __future__ import annotations

import pytest

from rag.cleaning import clean
from rag.documents import Level, Status
from rag.duplicates import (
    DUPLICATE_THRESHOLD,
    FileSummary,
    choose_canonical,
    group_duplicates,
    merge_facts,
    similarity,
)
from rag.errors import CorpusError
from rag.metadata import FileFacts
from rag.settings import PACKAGE_CORPUS_DIR
from rag.textio import read_text


def _body(name: str) -> str:
    return "\n".join(line.text for line in clean(read_text(PACKAGE_CORPUS_DIR / name)).body)


def _summary(name: str, body: str, junk: int = 0, script: str = "simplified") -> FileSummary:
    return FileSummary(name=name, body=body, junk_chars=junk, script=script)


def _facts(file: str, **overrides: object) -> FileFacts:
    base: dict[str, object] = dict(
        file=file,
        id=file.split(".")[0],
        title="某省关于某事的实施意见",
        title_derived=True,
        issuer=None,
        doc_number=None,
        date=None,
        level=Level.PROVINCIAL,
        region="某省",
        status=Status.IN_FORCE,
        script="simplified",
    )
    base.update(overrides)
    return FileFacts(**base)  # type: ignore[arg-type]


def test_simplified_and_traditional_scraped_copies_score_as_the_same_document() -> None:
    assert similarity(_body("000_d1e2f62dd4ac9d56.txt"), _body("001_f2cc480d52bcecb0.txt")) >= 0.95


@pytest.mark.parametrize("other", ["002_aceb60dd589429a8.txt", "003_23e8893c0c99abef.txt", "004_29b2e8ee0b403d2c.txt"])
def test_documents_on_the_same_subject_stay_far_below_the_threshold(other: str) -> None:
    assert similarity(_body("000_d1e2f62dd4ac9d56.txt"), _body(other)) < DUPLICATE_THRESHOLD / 2


def test_grouping_ignores_file_names() -> None:
    text = "（一）加强组织领导。坚持党对高新区工作的统一领导。（二）加强要素保障。支持扩区调区。"
    groups = group_duplicates(
        [
            _summary("b.txt", text),
            _summary("zzz.txt", "完全不同的另一份文件内容，讲别的事情。"),
            _summary("a.txt", text),
        ]
    )
    assert [[s.name for s in g] for g in groups] == [["a.txt", "b.txt"], ["zzz.txt"]]


def test_canonical_file_is_the_one_with_less_junk_then_simplified_script() -> None:
    noisy = _summary("000.txt", "x", junk=300, script="simplified")
    clean_traditional = _summary("001.txt", "x", junk=0, script="traditional")
    clean_simplified = _summary("002.txt", "x", junk=0, script="simplified")
    assert [s.name for s in choose_canonical([noisy, clean_traditional, clean_simplified])] == [
        "002.txt",
        "001.txt",
        "000.txt",
    ]


def test_merge_takes_printed_title_and_facts_the_canonical_file_lacks() -> None:
    canonical = _facts("000.txt")
    scraped = _facts(
        "001.txt",
        title="某省人民政府关于某事的实施意见",
        title_derived=False,
        issuer="某省人民政府",
        doc_number="某政字〔2020〕52号",
        date="2020年9月30日",
        script="traditional",
    )
    merged = merge_facts(canonical, [scraped])
    assert (merged.title, merged.title_derived) == ("某省人民政府关于某事的实施意见", False)
    assert (merged.issuer, merged.doc_number, merged.date) == ("某省人民政府", "某政字〔2020〕52号", "2020年9月30日")
    assert (merged.id, merged.file, merged.script) == ("000", "000.txt", "simplified")


def test_conflicting_printed_facts_are_an_error() -> None:
    with pytest.raises(CorpusError, match="doc_number"):
        merge_facts(_facts("a.txt", doc_number="甲〔2020〕1号"), [_facts("b.txt", doc_number="甲〔2020〕2号")])
