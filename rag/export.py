"""An answer with its citations as text to paste into a report: Markdown or plain text.

Both keep the full citation strings and the clause text verbatim (the sentences the answer uses when
the citation names them, otherwise the whole clause), so a reader can check every [n].
"""

from __future__ import annotations

import re

from rag.results import Answer, Citation

DRAFT_NOTE = "征求意见稿，未生效"

_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def citation_label(citation: Citation) -> str:
    """The citation string, flagged when the document is a draft and the string does not say so."""
    label = citation.clause.citation
    if citation.document.is_draft and "征求意见稿" not in label:
        label = f"{label}（{DRAFT_NOTE}）"
    return label


def quoted_text(citation: Citation) -> str:
    """What a source shows: the whole clause, verbatim (the answer above quotes the sentences used)."""
    return citation.clause.text


def _sources_heading(answer: Answer) -> str:
    return "可能相关的条款" if answer.abstained else "来源"


def answer_to_markdown(answer: Answer) -> str:
    """Question, answer, comparison table (if any) and numbered sources with verbatim blockquotes."""
    lines = [f"**问：** {_one_line(answer.question)}", "", answer.text.strip(), ""]
    if answer.comparison:
        lines += ["| 文件 | 地区 | 内容 |", "| --- | --- | --- |"]
        for row in answer.comparison:
            summary = row.summary if row.found else (row.summary or "未提及")
            lines.append(
                f"| {_table_cell(row.document.title)} | {_table_cell(row.document.region)} | {_table_cell(summary)} |"
            )
        lines.append("")
    if answer.citations:
        lines += [f"**{_sources_heading(answer)}**", ""]
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {citation_label(citation)}")
            lines.append("")
            lines += [f"> {line}" if line.strip() else ">" for line in quoted_text(citation).splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_to_plain(answer: Answer) -> str:
    """The same content without Markdown: plain lines that paste cleanly into a word processor."""
    lines = [f"问：{_one_line(answer.question)}", "", _strip_markdown(answer.text.strip()), ""]
    if answer.comparison:
        lines.append("对比：")
        for row in answer.comparison:
            summary = row.summary if row.found else (row.summary or "未提及")
            lines.append(f"- {row.document.title}（{row.document.region}）：{_strip_markdown(summary)}")
        lines.append("")
    if answer.citations:
        lines.append(f"{_sources_heading(answer)}：")
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {citation_label(citation)}")
            lines.append(f"原文：“{quoted_text(citation)}”")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _table_cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _strip_markdown(text: str) -> str:
    return _MARKDOWN_HEADING.sub("", _MARKDOWN_EMPHASIS.sub(r"\2", text))
