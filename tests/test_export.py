"""Copying an answer into a report: full citation strings and verbatim clause text, in Markdown or plain."""

from __future__ import annotations

from dataclasses import replace

from ui_support import DRAFT, DRAFT_CLAUSE, NATIONAL, TALENT, answer

from rag.export import answer_to_markdown, answer_to_plain, citation_label
from rag.results import Citation, ComparisonRow


def test_markdown_has_question_answer_and_full_citation_with_verbatim_quote():
    md = answer_to_markdown(answer())
    assert "**问：** 外籍人才工作许可年龄能放宽到多少岁？" in md
    assert "工作许可年龄可放宽至65岁[1]。" in md
    assert f"[1] {TALENT.citation}" in md
    assert "> （二）吸引人才。支持招才引智。工作许可年龄可放宽至65岁。" in md


def test_without_quotes_the_whole_clause_is_quoted():
    md = answer_to_markdown(answer(citations=(Citation(1, TALENT, NATIONAL),)))
    assert f"> {TALENT.text}" in md


def test_multiline_clause_stays_inside_the_blockquote():
    clause = replace(TALENT, text="第一行\n第二行", span=(0, 7))
    md = answer_to_markdown(answer(citations=(Citation(1, clause, NATIONAL),)))
    assert "> 第一行\n> 第二行" in md


def test_plain_text_has_no_markdown_and_keeps_citations():
    plain = answer_to_plain(answer("**放宽**至65岁[1]。"))
    assert "**" not in plain and ">" not in plain
    assert "问：外籍人才工作许可年龄能放宽到多少岁？" in plain
    assert "放宽至65岁[1]。" in plain
    assert f"[1] {TALENT.citation}" in plain
    assert "原文：“（二）吸引人才。支持招才引智。工作许可年龄可放宽至65岁。”" in plain


def test_draft_citation_always_says_draft():
    clause = replace(DRAFT_CLAUSE, citation="《实施意见》三、（五）")
    assert "征求意见稿" in citation_label(Citation(1, clause, DRAFT))
    assert citation_label(Citation(1, DRAFT_CLAUSE, DRAFT)) == DRAFT_CLAUSE.citation  # title already says so


def test_abstained_answer_lists_possibly_related_clauses():
    md = answer_to_markdown(answer("已收录的政策文件中没有找到相关规定。", abstained=True))
    assert "可能相关的条款" in md and "**来源**" not in md


def test_comparison_becomes_a_table_with_one_row_per_document():
    rows = (ComparisonRow(NATIONAL, "放宽至65岁[1]", (1,), True), ComparisonRow(DRAFT, "", (), False))
    md = answer_to_markdown(answer(comparison=rows))
    assert "| 文件 | 地区 | 内容 |" in md
    assert f"| {NATIONAL.title} | 全国 | 放宽至65岁[1] |" in md
    assert f"| {DRAFT.title} | 四川 | 未提及 |" in md
    plain = answer_to_plain(answer(comparison=rows))
    assert f"- {DRAFT.title}（四川）：未提及" in plain


def test_table_cells_escape_pipes():
    rows = (ComparisonRow(NATIONAL, "甲|乙[1]", (1,), True),)
    assert "甲\\|乙[1]" in answer_to_markdown(answer(comparison=rows))
