"""The chat's HTML: escaping of every user and document text, [n] links, cards, highlighting, viewer."""

from __future__ import annotations

import re
from dataclasses import replace

from ui_support import (
    DERIVED,
    DRAFT,
    DRAFT_CLAUSE,
    NATIONAL,
    NATIONAL_CLAUSES,
    NATIONAL_TEXT,
    TALENT,
    answer,
)

from rag.results import Citation, ComparisonRow
from ui import render, viewer

SCRIPT = "<script>alert(1)</script>"


def test_user_question_is_escaped_not_rendered():
    html = render.user_message(f"{SCRIPT}<img src=x onerror=alert(2)>")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in html


def test_user_question_markdown_is_shown_literally():
    assert render.user_message("**重点** #1") == "\\*\\*重点\\*\\* \\#1"


def test_answer_markers_link_to_their_source_card():
    html = render.answer_message(answer("年龄可放宽至65岁[1]。"), turn=3)
    assert '<a class="cite-ref" href="#source-3-1"' in html
    assert html.count("cite-ref") == 1


def test_answer_marker_without_citation_stays_text():
    html = render.answer_message(answer("见[1]和[7]。"), turn=1)
    assert "[7]" in html and 'href="#source-1-7"' not in html


def test_answer_text_is_escaped():
    html = render.answer_message(answer(f"{SCRIPT}[1]"), turn=1)
    assert "<script" not in html and "&lt;script&gt;" in html


def test_source_card_shows_document_article_path_and_highlighted_quote():
    card = render.source_card(Citation(1, TALENT, NATIONAL, ("工作许可年龄可放宽至65岁。",)), turn=2)
    assert 'id="source-2-1"' in card
    assert "《国务院关于促进高新区发展的意见》" in card and "国发〔2020〕7号" in card
    assert "国家级" in card and "全国" in card and "现行有效" in card
    assert "二、（二）" in card and "二、重点任务 › （二）吸引人才" in card
    assert '<mark class="quote">工作许可年龄可放宽至65岁。</mark>' in card
    assert TALENT.citation in card
    assert 'data-turn="2" data-n="1"' in card


def test_draft_gets_a_warning_badge_and_units():
    card = render.source_card(Citation(1, DRAFT_CLAUSE, DRAFT), turn=1)
    assert '<span class="badge badge-draft"' in card and "征求意见稿" in card
    assert "is-draft" in card
    assert "牵头单位：科技厅" in card and "参与单位：财政厅" in card
    assert "文号未载明" in card


def test_derived_title_is_marked():
    assert "拟题" in render.document_title(DERIVED)
    assert "拟题" not in render.document_title(NATIONAL)


def test_document_text_in_cards_is_escaped():
    evil = replace(NATIONAL, title=f"标题{SCRIPT}")
    clause = replace(TALENT, text=f"条款{SCRIPT}", span=(0, len(f"条款{SCRIPT}")), path=("<b>路径</b>",))
    card = render.source_card(Citation(1, clause, evil, (SCRIPT,)), turn=1)
    assert "<script" not in card and "<b>路径" not in card
    assert '<mark class="quote">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in card


def test_highlight_marks_every_occurrence_and_merges_overlaps():
    assert render.highlight("甲乙甲", ["甲"]) == '<mark class="quote">甲</mark>乙<mark class="quote">甲</mark>'
    assert render.highlight("abcdef", ["bcd", "cde"]) == 'a<mark class="quote">bcde</mark>f'
    assert render.highlight("a<b", []) == "a&lt;b"


def test_sources_panel_lists_newest_turn_first_and_folds_older():
    first, second = answer(question="第一个问题"), answer(question="第二个问题")
    html = render.sources_panel([(1, "第一个问题", first), (2, "第二个问题", second)])
    assert html.index("source-2-1") < html.index("source-1-1")
    assert '<details class="turn-sources older" data-turn="1">' in html


def test_abstained_answer_lists_possibly_related_clauses():
    html = render.sources_panel([(1, "问", answer("没有找到[1]", abstained=True))])
    assert "可能相关的条款" in html


def test_comparison_table_has_one_row_per_document_with_links():
    rows = (
        ComparisonRow(NATIONAL, "放宽至65岁[1]", (1,), True),
        ComparisonRow(DRAFT, "", (), False),
    )
    html = render.answer_message(answer(comparison=rows), turn=1)
    table = html[html.index("<table"):]
    assert table.count("<tr class=") == 2
    assert 'href="#source-1-1"' in table and "未提及" in table
    assert "\n\n" not in table  # one Markdown HTML block


def test_corpus_line_names_every_document_from_metadata():
    line = render.corpus_line([NATIONAL, DRAFT, DERIVED])
    assert "收录 3 份文件" in line
    assert "国务院" in line and "国发〔2020〕7号" in line and "征求意见稿" in line
    assert "《江苏省关于促进高新区发展的实施意见》（拟题）" in line


def test_viewer_highlights_focus_clause_and_quote_in_full_text():
    html = viewer.render_document(NATIONAL, NATIONAL_TEXT, NATIONAL_CLAUSES, TALENT, ["放宽至65岁"])
    focus = re.search(r'<mark class="focus-clause"[^>]*>(.*?)</mark>(?!</mark>)', html).group(0)
    assert "（二）吸引人才。" in focus
    assert '<mark class="focus-quote">放宽至65岁</mark>' in focus
    text = re.sub(r"<[^>]+>", "", html[html.index('class="viewer-text"'):])
    assert "一、总体要求" in text and "（一）指导思想。坚持创新驱动。" in text


def test_viewer_keeps_text_verbatim_apart_from_markup():
    html = viewer.render_text(NATIONAL_TEXT, NATIONAL_CLAUSES, TALENT, ["放宽至65岁"])
    assert re.sub(r"<[^>]+>", "", html) == render.esc(NATIONAL_TEXT)


def test_viewer_outline_lists_sections_and_articles_with_anchors():
    entries = viewer.outline(NATIONAL_CLAUSES)
    assert [(e.depth, e.heading) for e in entries] == [
        (0, "一、总体要求"), (1, "（一）指导思想"), (0, "二、重点任务"), (1, "（二）吸引人才"),
    ]
    html = viewer.render_document(NATIONAL, NATIONAL_TEXT, NATIONAL_CLAUSES)
    for entry in entries:
        assert f'data-target="{entry.anchor}"' in html and f'id="{entry.anchor}"' in html
    assert "focus-clause" not in html


def test_viewer_escapes_document_text():
    text = f"前言{SCRIPT}\n"
    clause = replace(NATIONAL_CLAUSES[0], text=text[:-1], span=(0, len(text) - 1), path=())
    html = viewer.render_document(NATIONAL, text, [clause], clause)
    assert "<script" not in html and "&lt;script&gt;" in html
