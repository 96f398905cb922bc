"""An answer with its citations as text to paste into a report: Markdown or plain text.

Both keep the full citation strings and the clause text verbatim (the sentences the answer uses when
the citation names them, otherwise the whole clause), so a reader can check every [n]. Headings
follow the language of the question: Chinese, or English for an English question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.questions import is_english
from rag.results import Answer, Citation, ComparisonRow

_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Headings:
    """The words around an answer, in the language of its question."""

    question: str
    sources: str
    related: str
    original: str
    comparison: str
    document: str
    region: str
    content: str
    not_mentioned: str
    draft: str
    colon: str


ZH = Headings(
    question="问：", sources="来源", related="可能相关的条款", original="原文：", comparison="对比：",
    document="文件", region="地区", content="内容", not_mentioned="未提及", draft="征求意见稿，未生效", colon="：",
)
EN = Headings(
    question="Q: ", sources="Sources", related="Possibly related clauses", original="Text (original Chinese): ",
    comparison="By document:", document="Document", region="Region", content="Provisions",
    not_mentioned="not mentioned", draft="draft for comment, not in force", colon=":",
)
DRAFT_NOTE = ZH.draft


def headings(answer: Answer) -> Headings:
    """English headings for an English question, Chinese ones otherwise."""
    return EN if is_english(answer.question) else ZH


def citation_label(citation: Citation, words: Headings = ZH) -> str:
    """The citation string, flagged when the document is a draft and the string does not say so."""
    label = citation.clause.citation
    if citation.document.is_draft and "征求意见稿" not in label:
        label = f"{label}（{words.draft}）"
    return label


def quoted_text(citation: Citation) -> str:
    """What a source shows: the whole clause, verbatim (the answer above quotes the sentences used)."""
    return citation.clause.text


def restated_rows(answer: Answer) -> list[ComparisonRow]:
    """The comparison rows the answer text already lists, one line each ("- 广东：…"); a table or list
    of the comparison repeats only the others."""
    lines = [line.strip() for line in answer.text.splitlines()]
    return [row for row in answer.comparison if row.summary and any(_restates(line, row) for line in lines)]


def text_without_restated_rows(answer: Answer, text: str | None = None) -> str:
    """The answer text (or a streamed prefix of it) without the lines that a comparison table shows;
    a partly streamed such line is left out too."""
    rows = restated_rows(answer)
    text = answer.text if text is None else text
    if not rows:
        return text
    restated = [line.strip() for line in answer.text.splitlines() if any(_restates(line.strip(), r) for r in rows)]
    kept = [line for line in text.split("\n")
            if not (line.strip().startswith("- ") and any(r.startswith(line.strip()) for r in restated))]
    return "\n".join(kept)


def _restates(line: str, row: ComparisonRow) -> bool:
    return line.startswith("- ") and line.endswith(f"：{row.summary}")


def answer_to_markdown(answer: Answer) -> str:
    """Question, answer, comparison table (if any) and numbered sources with verbatim blockquotes."""
    words = headings(answer)
    text = text_without_restated_rows(answer) if answer.comparison else answer.text
    lines = [f"**{words.question.strip()}** {_one_line(answer.question)}", "", text.strip(), ""]
    if answer.comparison:
        lines += [f"| {words.document} | {words.region} | {words.content} |", "| --- | --- | --- |"]
        for row in answer.comparison:
            summary = row.summary if row.found else (row.summary or words.not_mentioned)
            lines.append(
                f"| {_table_cell(row.document.title)} | {_table_cell(row.document.region)} | {_table_cell(summary)} |"
            )
        lines.append("")
    if answer.citations:
        lines += [f"**{_sources_heading(answer, words)}**", ""]
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {citation_label(citation, words)}")
            lines.append("")
            lines += [f"> {line}" if line.strip() else ">" for line in quoted_text(citation).splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_to_plain(answer: Answer) -> str:
    """The same content without Markdown: plain lines that paste cleanly into a word processor.

    The comparison is listed once: rows the answer text already lists are not repeated after it.
    """
    words = headings(answer)
    lines = [f"{words.question}{_one_line(answer.question)}", "", _strip_markdown(answer.text.strip()), ""]
    restated = restated_rows(answer)
    unlisted = [row for row in answer.comparison if row not in restated]
    if unlisted:
        lines.append(words.comparison)
        for row in unlisted:
            summary = row.summary if row.found else (row.summary or words.not_mentioned)
            lines.append(f"- {row.document.title}（{row.document.region}）：{_strip_markdown(summary)}")
        lines.append("")
    if answer.citations:
        lines.append(f"{_sources_heading(answer, words)}{words.colon}")
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {citation_label(citation, words)}")
            lines.append(f"{words.original}“{quoted_text(citation)}”")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _sources_heading(answer: Answer, words: Headings) -> str:
    return words.related if answer.abstained else words.sources


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _table_cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _strip_markdown(text: str) -> str:
    return _MARKDOWN_HEADING.sub("", _MARKDOWN_EMPHASIS.sub(r"\2", text))
