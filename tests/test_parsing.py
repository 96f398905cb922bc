"""Parsing the numbering tree into leaf units with exact spans, on the real corpus and small samples."""

from __future__ import annotations

from itertools import pairwise

import pytest

from rag.clauses import ClauseKind
from rag.errors import CorpusError
from rag.numbering import cn_to_int, int_to_cn, label_keys, match_mark
from rag.parsing import ParsedText, parse_text
from rag.settings import PACKAGE_CORPUS_DIR
from rag.textio import read_text

FILES = {
    "hebei": "000_d1e2f62dd4ac9d56.txt",
    "hebei_web": "001_f2cc480d52bcecb0.txt",
    "guofa": "002_aceb60dd589429a8.txt",
    "jiangsu": "003_23e8893c0c99abef.txt",
    "sichuan": "004_29b2e8ee0b403d2c.txt",
}


def _parse(key: str) -> tuple[str, ParsedText]:
    text = read_text(PACKAGE_CORPUS_DIR / FILES[key])
    return text, parse_text(text, name=FILES[key])


def _units(parsed: ParsedText, kind: ClauseKind) -> list[str]:
    return [u.label for u in parsed.units if u.kind is kind]


@pytest.mark.parametrize(
    ("key", "sections", "articles", "items"),
    [("guofa", 7, 21, 0), ("hebei", 3, 13, 21), ("hebei_web", 3, 13, 21), ("jiangsu", 8, 24, 0), ("sichuan", 8, 28, 0)],
)
def test_numbering_counts_match_the_documents(key: str, sections: int, articles: int, items: int) -> None:
    _, parsed = _parse(key)
    assert (parsed.sections, parsed.articles, parsed.items) == (sections, articles, items)


@pytest.mark.parametrize("key", FILES)
def test_every_unit_text_is_the_exact_slice_of_the_file_and_trimmed(key: str) -> None:
    text, parsed = _parse(key)
    for unit in parsed.units:
        piece = text[unit.span[0] : unit.span[1]]
        assert piece and piece == piece.strip(), unit.label


def test_units_do_not_overlap_and_follow_the_file_order() -> None:
    _, parsed = _parse("guofa")
    spans = [u.span for u in parsed.units]
    assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_article_heading_line_and_body_lines_form_one_clause() -> None:
    text, parsed = _parse("guofa")
    unit = next(u for u in parsed.units if u.label == "二、（五）")
    body = text[unit.span[0] : unit.span[1]]
    assert body.startswith("（五）吸引培育一流创新人才。\n支持国家高新区面向全球招才引智")
    assert "申请工作许可的年龄可放宽至65岁" in body
    assert unit.path == ("二、着力提升自主创新能力", "（五）吸引培育一流创新人才")


def test_title_and_document_number_are_not_clauses() -> None:
    text, parsed = _parse("guofa")
    first = parsed.units[0]
    assert first.kind is ClauseKind.PREAMBLE
    assert text[first.span[0] : first.span[1]].startswith("各省、自治区、直辖市人民政府")
    assert all("国发〔2020〕7号\n" not in text[u.span[0] : u.span[1]] for u in parsed.units)


def test_preamble_and_closing_are_units_of_their_own() -> None:
    text, parsed = _parse("guofa")
    closing = parsed.units[-1]
    assert closing.kind is ClauseKind.CLOSING and closing.label == "落款"
    assert text[closing.span[0] : closing.span[1]] == "国务院\n2020年7月13日\n（此件公开发布）"


def test_article_with_items_yields_one_clause_per_item_and_no_empty_lead() -> None:
    _, parsed = _parse("hebei")
    assert "二、（一）" not in [u.label for u in parsed.units]
    assert _units(parsed, ClauseKind.ITEM)[:5] == [
        "二、（一）1.",
        "二、（一）2.",
        "二、（一）3.",
        "二、（一）4.",
        "二、（一）5.",
    ]
    item = next(u for u in parsed.units if u.label == "二、（一）5.")
    assert item.path == ("二、重点任务", "（一）提升自主创新能力", "5.引进培养一流创新人才")
    assert item.id_parts == ("二", "一", "5")


def test_unnumbered_principle_paragraphs_belong_to_their_article() -> None:
    text, parsed = _parse("hebei")
    unit = next(u for u in parsed.units if u.label == "一、（二）")
    assert text[unit.span[0] : unit.span[1]].count("坚持") >= 5


def test_half_width_marks_get_canonical_full_width_labels() -> None:
    _, parsed = _parse("hebei_web")
    assert "二、（一）5." in [u.label for u in parsed.units]
    assert parsed.units[1].path[1].startswith("（一）")


SYNTHETIC_TIAO = """某某市高新区管理办法
第一章 总则
第一条 为了规范高新区管理，制定本办法。
第二条 本办法适用于本市高新区。
第二章 管理机构
第三条 管委会履行下列职责：
（一）编制发展规划；
（二）负责招商引资。
第四条 管委会实行主任负责制。
第三章 附则
本章说明附则的适用。
第五条 本办法自发布之日起施行。
"""


def test_chapter_and_article_documents_parse_into_articles_and_items() -> None:
    parsed = parse_text(SYNTHETIC_TIAO, name="synthetic.txt")
    assert (parsed.sections, parsed.articles, parsed.items) == (3, 5, 2)
    labels = [(u.kind, u.label) for u in parsed.units]
    assert labels == [
        (ClauseKind.ARTICLE, "第一条"),
        (ClauseKind.ARTICLE, "第二条"),
        (ClauseKind.ARTICLE, "第三条"),  # its lead text 管委会履行下列职责 is more than the heading
        (ClauseKind.ITEM, "第三条（一）"),
        (ClauseKind.ITEM, "第三条（二）"),
        (ClauseKind.ARTICLE, "第四条"),
        (ClauseKind.SECTION, "第三章"),
        (ClauseKind.ARTICLE, "第五条"),
    ]
    item = next(u for u in parsed.units if u.label == "第三条（二）")
    assert item.path == ("第二章 管理机构", "第三条 管委会履行下列职责：", "（二）负责招商引资")
    assert SYNTHETIC_TIAO[item.span[0] : item.span[1]] == "（二）负责招商引资。"


def test_section_with_text_before_its_first_article_gets_a_section_clause() -> None:
    text = "各单位：\n一、总体要求\n本部分说明总体要求。\n（一）目标。到2025年完成。\n"
    parsed = parse_text(text, name="s.txt")
    section = parsed.units[1]
    assert (section.kind, section.label) == (ClauseKind.SECTION, "一、")
    assert text[section.span[0] : section.span[1]] == "一、总体要求\n本部分说明总体要求。"


def test_mark_out_of_sequence_is_ordinary_text() -> None:
    text = "各单位：\n一、总则\n（一）目标。\n（三）这一行引用了别处的编号。\n二、任务\n（二）任务。\n"
    parsed = parse_text(text, name="s.txt")
    assert [u.label for u in parsed.units] == ["序言", "一、（一）", "二、（二）"]
    assert parsed.articles == 2


def test_file_without_numbering_is_a_corpus_error_naming_it() -> None:
    with pytest.raises(CorpusError, match=r"notes\.txt"):
        parse_text("这是一段说明文字。\n没有编号。\n", name="notes.txt")


@pytest.mark.parametrize(
    ("numeral", "value"), [("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十八", 28), ("一百零五", 105)]
)
def test_chinese_numerals_round_trip(numeral: str, value: int) -> None:
    assert cn_to_int(numeral) == value and int_to_cn(value) == numeral


@pytest.mark.parametrize("text", ["2025年，全省", "1.5倍以上", "一是加强领导"])
def test_numbers_in_running_text_are_not_marks(text: str) -> None:
    assert match_mark(text) is None


def test_label_keys_ignore_width_enumeration_comma_and_trailing_tiao() -> None:
    assert label_keys("二、（一）5.") == label_keys("二(一)5") == ("二", "(一)", "5")
    assert label_keys("（五）条") == ("(五)",)
    assert label_keys("第三条") == ("第三条",)
    assert label_keys("发展目标") is None


def test_chapter_heading_directly_followed_by_its_first_article_is_a_section() -> None:
    text = "第一章 总则\n第一条 为了规范管理，制定本办法。\n本办法由市政府解释。\n第二条 本办法自发布之日起施行。\n"
    parsed = parse_text(text, name="t.txt")
    assert (parsed.sections, parsed.articles) == (1, 2)
    assert [u.label for u in parsed.units] == ["第一条", "第二条"]
