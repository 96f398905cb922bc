"""The heading tree of laws and regulations (第X编/章/节/条), on small documents written for these rules."""

from __future__ import annotations

import pytest

from rag.clauses import ClauseKind
from rag.errors import CorpusError
from rag.numbering import MarkKind, cn_to_int, int_to_cn, label_keys, match_mark
from rag.parsing import ParsedText, parse_text

REGULATION = """某某市数据条例
2022年12月29日 某某市第七届人民代表大会常务委员会第十四次会议通过
目录
第一章 总 则
第二章 数据处理
第三章 附 则
第一章 总 则
第一条 为了规范数据处理活动，制定本条例。
第二条 本条例适用于本市行政区域。
第二章 数据处理
第一节 一般规定
第三条 数据处理者应当履行下列义务：
（一）建立管理制度；
（二）采取安全措施。
第十条规定的义务，由市数据主管部门监督。
第三条之一 数据处理者应当定期开展风险评估。
第二节 公共数据
第四条 公共数据按照共享为原则、不共享为例外进行管理。
第三章 附 则
第五条 本条例自2023年3月1日起施行。
附件：数据分类目录
一、公共数据
二、社会数据
"""


def _parse(text: str) -> ParsedText:
    return parse_text(text, name="law.txt")


def _labels(parsed: ParsedText) -> list[str]:
    return [u.label for u in parsed.units]


def _body(text: str, parsed: ParsedText, label: str) -> str:
    unit = next(u for u in parsed.units if u.label == label)
    return text[unit.span[0] : unit.span[1]]


def test_regulation_parses_into_notes_articles_items_and_annex() -> None:
    parsed = _parse(REGULATION)
    assert (parsed.sections, parsed.articles, parsed.items) == (3, 6, 2)
    assert _labels(parsed) == [
        "题注",
        "第一条",
        "第二条",
        "第三条",
        "第三条（一）",
        "第三条（二）",
        "第三条之一",
        "第四条",
        "第五条",
        "附件",
    ]


def test_title_is_header_and_adoption_note_and_table_of_contents_are_the_title_notes() -> None:
    parsed = _parse(REGULATION)
    assert [line.text for line in parsed.cleaned.header] == ["某某市数据条例"]
    notes = _body(REGULATION, parsed, "题注")
    assert notes.startswith("2022年12月29日 某某市第七届人民代表大会常务委员会第十四次会议通过\n目录\n第一章 总 则")
    assert notes.endswith("第三章 附 则")
    assert parsed.units[0].kind is ClauseKind.PREAMBLE


def test_section_between_chapter_and_article_is_in_the_path_not_the_label() -> None:
    parsed = _parse(REGULATION)
    unit = next(u for u in parsed.units if u.label == "第四条")
    assert unit.path == ("第二章 数据处理", "第二节 公共数据", "第四条 公共数据按照共享为原则、不共享为例外进行管理")
    assert unit.id_parts == ("第四条",)


def test_chapter_title_spaced_for_looks_is_closed_up_in_the_path() -> None:
    parsed = _parse(REGULATION)
    assert next(u for u in parsed.units if u.label == "第一条").path[0] == "第一章 总则"


def test_cross_reference_at_a_line_start_is_text_of_the_item_it_follows() -> None:
    parsed = _parse(REGULATION)
    assert _body(REGULATION, parsed, "第三条（二）") == "（二）采取安全措施。\n第十条规定的义务，由市数据主管部门监督。"


def test_inserted_article_follows_its_base_article() -> None:
    parsed = _parse(REGULATION)
    unit = next(u for u in parsed.units if u.label == "第三条之一")
    assert unit.path[:2] == ("第二章 数据处理", "第一节 一般规定")
    assert _body(REGULATION, parsed, "第三条之一") == "第三条之一 数据处理者应当定期开展风险评估。"


def test_annex_after_the_last_article_is_its_own_unit() -> None:
    parsed = _parse(REGULATION)
    assert _body(REGULATION, parsed, "第五条") == "第五条 本条例自2023年3月1日起施行。"
    assert _body(REGULATION, parsed, "附件") == "附件：数据分类目录\n一、公共数据\n二、社会数据"
    assert next(u for u in parsed.units if u.label == "附件").kind is ClauseKind.SECTION


def test_number_missing_from_the_source_is_skipped_when_the_numbering_goes_on() -> None:
    text = "第一条 甲。\n第二条 乙。\n第四条 丁。\n第五条 戊。\n"
    assert _labels(_parse(text)) == ["第一条", "第二条", "第四条", "第五条"]


def test_far_jump_is_a_quotation_inside_the_article() -> None:
    text = "第一条 甲。\n第二条 增加一条，作为第九十条：\n第九十条 新的规定。\n第三条 本决定自公布之日起施行。\n"
    parsed = _parse(text)
    assert _labels(parsed) == ["第一条", "第二条", "第三条"]
    assert "第九十条 新的规定。" in _body(text, parsed, "第二条")


def test_chapters_that_restart_their_articles_keep_labels_unique() -> None:
    text = "第一章 总则\n第一条 甲。\n第二条 乙。\n第二章 管理\n第一条 丙。\n第二条 丁。\n"
    parsed = _parse(text)
    assert parsed.articles == 4
    assert _labels(parsed) == ["第一章第一条", "第一章第二条", "第二章第一条", "第二章第二条"]


def test_articles_run_into_one_line_are_cut_at_their_headings() -> None:
    text = "第一条 为了规范飞行，制定本规则。 第二条 本规则适用于境内。\n第三条 本规则自公布之日起施行。\n"
    parsed = _parse(text)
    assert _labels(parsed) == ["第一条", "第二条", "第三条"]
    assert _body(text, parsed, "第二条") == "第二条 本规则适用于境内。"


def test_numbered_headings_of_an_interpretation_group_its_articles() -> None:
    text = (
        "最高人民法院关于审理某类案件的解释\n为正确审理案件，制定本解释。\n一、一般规定\n第一条 甲。\n第二条 有下列情形之一的：\n"
        "一、当事人死亡的；\n二、当事人失踪的。\n二、附则\n第三条 本解释自公布之日起施行。\n"
    )
    parsed = _parse(text)
    assert _labels(parsed) == ["题注", "第一条", "第二条", "第三条"]
    assert next(u for u in parsed.units if u.label == "第三条").path[0] == "二、附则"
    assert "一、当事人死亡的；" in _body(text, parsed, "第二条")


def test_bare_fu_ze_heading_closes_the_last_part() -> None:
    text = "第一编 总则\n第一章 任务\n第一条 甲。\n附则\n第二条 本法自公布之日起施行。\n"
    parsed = _parse(text)
    assert next(u for u in parsed.units if u.label == "第二条").path == ("附则", "第二条 本法自公布之日起施行")


def test_excerpt_starting_beyond_the_first_article_parses() -> None:
    text = "第一章 一般规定\n第一千一百六十四条 甲。\n第一千一百六十五条 乙。\n"
    assert _labels(_parse(text)) == ["第一千一百六十四条", "第一千一百六十五条"]


def test_documents_numbered_yi_er_keep_their_preamble_label() -> None:
    text = "各有关单位：\n一、总则\n（一）目标。\n"
    assert _labels(_parse(text))[0] == "序言"


@pytest.mark.parametrize(("numeral", "value"), [("一千", 1000), ("一千零二", 1002), ("一千零一十", 1010), ("一千二百六十", 1260)])
def test_numerals_in_the_thousands_round_trip(numeral: str, value: int) -> None:
    assert cn_to_int(numeral) == value and int_to_cn(value) == numeral


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        ("第二编 分则", MarkKind.PART, "第二编"),
        ("第一分编 通则", MarkKind.SUBPART, "第一分编"),
        ("第三节 假释", MarkKind.JIE, "第三节"),
        ("第一百二十条之二 有下列情形之一的", MarkKind.TIAO, "第一百二十条之二"),
    ],
)
def test_law_marks_and_their_labels(text: str, kind: MarkKind, label: str) -> None:
    mark = match_mark(text)
    assert mark is not None and (mark.kind, mark.label) == (kind, label)


def test_label_keys_read_inserted_articles_and_sections() -> None:
    assert label_keys("第十条之一") == ("第十条之一",)
    assert label_keys("第二章第一节") == ("第二章", "第一节")


def test_document_numbered_yi_er_that_quotes_an_article_keeps_its_numbering() -> None:
    text = (
        "各有关单位：\n一、总体要求\n（一）依照条例办理。\n第一条 为了规范管理，制定本条例。\n"
        "二、重点任务\n（二）加强监管。\n三、保障措施\n（三）加强领导。\n"
    )
    parsed = _parse(text)
    assert (parsed.sections, parsed.articles) == (3, 3)
    assert _labels(parsed) == ["序言", "一、（一）", "二、（二）", "三、（三）"]


def test_law_too_short_to_number_gives_title_notes_and_text() -> None:
    text = "某某决定\n2021年5月31日 某某委员会第十次会议通过\n为了规范管理，作出如下决定。\n本决定自公布之日起施行。\n"
    parsed = _parse(text)
    assert [line.text for line in parsed.cleaned.header] == ["某某决定"]
    assert _labels(parsed) == ["题注", "正文"]
    assert _body(text, parsed, "正文") == "为了规范管理，作出如下决定。\n本决定自公布之日起施行。"


def test_sentence_that_starts_with_a_date_is_not_an_adoption_note() -> None:
    with pytest.raises(CorpusError):
        _parse("某某案\n2019年2月1日，某某举行婚礼。\n双方发生纠纷。\n")


def test_table_of_other_laws_articles_is_not_numbered_by_them() -> None:
    rows = (
        "第一百四十一条 （《刑法修正案》第五条） 甲罪\n第一百四十二条 （《刑法修正案》第六条） 乙罪\n"
        "第一百四十二条之一 （《刑法修正案》第七条） 丙罪\n第一百六十条 （《刑法修正案》第八条） 丁罪\n"
        "第二百一十九条之一 （《刑法修正案》第二十三条） 戊罪\n第二百三十六条之一 （《刑法修正案》第二十七条） 己罪\n"
        "第二百八十条之二 （《刑法修正案》第三十二条） 庚罪\n"
    )
    text = f"某某罪名的补充规定\n2021年2月22日 某某委员会会议通过\n现对罪名作如下补充：\n{rows}"
    parsed = _parse(text)
    assert parsed.articles == 0
    assert _labels(parsed) == ["题注", "正文"]
