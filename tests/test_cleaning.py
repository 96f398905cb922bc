"""Cleaning finds the document inside a scraped page by general rules and never shifts offsets."""

from __future__ import annotations

import pytest

from rag.cleaning import clean, split_lines
from rag.normalize import normalize_for_match
from rag.settings import PACKAGE_CORPUS_DIR
from rag.textio import read_text

SCRAPED = PACKAGE_CORPUS_DIR / "001_f2cc480d52bcecb0.txt"

# A made-up page with other furniture than 001: other words, other order, junk between articles.
SYNTHETIC_PAGE = """热门文章：某某县召开秋季农业生产会议
网站首页 » 政务公开 » 规范性文件
当前位置：首页 › 文件库

关于加快发展数字经济的若干措施
发布时间：2021-03-02    浏览次数：523
【打印本页】【关闭窗口】
临政发〔2021〕3号
各区县人民政府，市政府各部门：
　　为加快发展数字经济，现提出如下措施。
一、总体目标
（一）到2025年，全市数字经济规模达到一千亿元。
二、重点任务
（一）建设数字基础设施。加快5G网络建设。
分享到：微信　微博
（二）培育数字产业。支持软件和信息服务业发展。（市经信局负责）
临海市人民政府
2021年3月1日
（此件公开发布）
版权所有：临海市人民政府办公室　浙ICP备12345678号
技术支持：某某网络科技有限公司
访问量：12345
"""


def _dropped_texts(text: str) -> list[str]:
    return [d.line.text for d in clean(text).dropped]


def test_split_lines_spans_index_the_raw_text() -> None:
    text = "\u3000\u3000一、总体要求  \r\n\n  （一）指导思想。\n"
    lines = split_lines(text)
    assert [text[line.start : line.end] for line in lines] == ["一、总体要求", "（一）指导思想。"]
    assert [line.number for line in lines] == [1, 3]


def test_scraped_page_furniture_around_001_is_dropped() -> None:
    dropped = " ".join(normalize_for_match(t) for t in _dropped_texts(read_text(SCRAPED)))
    for marker in ("成人在线", "中心简介", "联系人", "电话", "手机", "首页>", "来源", "作者", "日期", "字号", "来访者"):
        assert marker in dropped, marker


def test_001_body_runs_from_addressee_to_signature_and_date() -> None:
    cleaned = clean(read_text(SCRAPED))
    assert cleaned.body[0].text.startswith("各市(含定州、辛集市)人民政府")
    assert [line.text for line in cleaned.closing] == ["河北省人民政府", "2020年9月30日"]
    assert normalize_for_match(cleaned.header[-1].text) == "冀政字〔2020〕52号"


def test_dropped_and_kept_spans_are_offsets_into_the_original_text() -> None:
    text = read_text(SCRAPED)
    cleaned = clean(text)
    for line in (*cleaned.header, *cleaned.body, *cleaned.closing, *(d.line for d in cleaned.dropped)):
        assert text[line.start : line.end] == line.text


def test_a_clean_document_loses_nothing() -> None:
    for name in (
        "000_d1e2f62dd4ac9d56.txt",
        "002_aceb60dd589429a8.txt",
        "003_23e8893c0c99abef.txt",
        "004_29b2e8ee0b403d2c.txt",
    ):
        assert clean(read_text(PACKAGE_CORPUS_DIR / name)).dropped == (), name


def test_state_council_title_and_number_are_header_not_body() -> None:
    cleaned = clean(read_text(PACKAGE_CORPUS_DIR / "002_aceb60dd589429a8.txt"))
    assert [line.text for line in cleaned.header] == [
        "国务院关于促进国家高新技术产业开发区",
        "高质量发展的若干意见",
        "国发〔2020〕7号",
    ]
    assert [line.text for line in cleaned.closing] == ["国务院", "2020年7月13日", "（此件公开发布）"]


def test_synthetic_scraped_page_is_cleaned_by_the_same_rules() -> None:
    cleaned = clean(SYNTHETIC_PAGE)
    dropped = _dropped_texts(SYNTHETIC_PAGE)
    kept = " ".join(line.text for line in (*cleaned.header, *cleaned.body, *cleaned.closing))
    for junk in (
        "热门文章",
        "网站首页",
        "当前位置",
        "发布时间",
        "打印本页",
        "分享到",
        "版权所有",
        "技术支持",
        "访问量",
    ):
        assert any(junk in line for line in dropped), junk
        assert junk not in kept, junk
    assert [line.text for line in cleaned.header] == ["关于加快发展数字经济的若干措施", "临政发〔2021〕3号"]
    assert cleaned.body[0].text == "各区县人民政府，市政府各部门："
    assert [line.text for line in cleaned.closing] == ["临海市人民政府", "2021年3月1日", "（此件公开发布）"]


@pytest.mark.parametrize(
    "line", ["地址：北京市海淀区", "E-mail: office@example.gov.cn", "【字体：大 中 小】", "您现在的位置：首页"]
)
def test_page_furniture_lines_inside_the_body_are_dropped(line: str) -> None:
    text = f"各有关单位：\n一、总则\n（一）第一条规定。\n{line}\n（二）第二条规定。\n"
    assert _dropped_texts(text) == [line]


def test_long_paragraphs_are_never_judged_as_junk() -> None:
    paragraph = "（一）加强服务。" + "支持高新区设立服务窗口，公布电话：12345，" * 5 + "提供一站式服务。"
    text = f"各有关单位：\n一、总则\n{paragraph}\n"
    assert _dropped_texts(text) == []


def test_numbered_list_in_the_page_furniture_is_not_the_document_start() -> None:
    page = "一、网站导航\n二、办事指南\n各有关单位：\n一、总则\n（一）目标明确。\n二、任务\n（二）落实任务。\n"
    cleaned = clean(page)
    assert cleaned.body[0].text == "各有关单位："
    assert [d.line.text for d in cleaned.dropped] == ["一、网站导航", "二、办事指南"]
