"""HTML for the chat: answers with [n] links, source cards, comparison tables and the corpus line.

Pure functions from rag/ types to strings. Every piece of user or document text passes through
`esc` (or `highlight`, which escapes) before it reaches HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag import export
from rag.citations import DERIVED_TITLE_MARK
from rag.clauses import Clause
from rag.documents import Document, Level, Status
from rag.export import citation_label
from rag.questions import is_english
from rag.results import Answer, Citation, ComparisonRow

LEVEL_LABELS = {Level.NATIONAL: "国家级", Level.PROVINCIAL: "省级", Level.CITY: "市级", Level.COUNTY: "县级"}
STATUS_LABELS = {Status.IN_FORCE: "现行有效", Status.DRAFT: "征求意见稿", Status.TRIAL: "试行", Status.REPEALED: "已废止"}
UNKNOWN_LABEL = "未知"
DERIVED_TITLE_NOTE = "文件未印标题，此标题系据正文拟定（拟题），并非正式标题"


@dataclass(frozen=True, slots=True)
class Words:
    """The headings and labels around one answer, in the language of its question."""

    export: export.Headings
    view_source: str
    open_text: str
    cited: str
    related: str
    no_sources: str
    turn: str
    """With {n}: the heading of a turn's sources, and of the folded sources of an older turn."""
    older_turn: str
    title_colon: str
    derived: str
    derived_note: str
    levels: dict[Level, str]
    statuses: dict[Status, str]
    no_number: str
    lead: str
    participating: str
    responsible: str
    separator: str


ZH = Words(
    export=export.ZH, view_source="查看来源", open_text="查看原文 ›", cited="答案引用的条款",
    related="可能相关的条款（未找到直接依据）", no_sources="没有引用条款。", turn="第 {n} 问",
    older_turn="第 {n} 问的来源", title_colon="：", derived="拟题", derived_note=DERIVED_TITLE_NOTE, levels=LEVEL_LABELS,
    statuses=STATUS_LABELS, no_number="文号未载明", lead="牵头单位：", participating="参与单位：",
    responsible="负责单位：", separator="；",
)
EN = Words(
    export=export.EN, view_source="Show source", open_text="Open the full text ›", cited="Clauses the answer cites",
    related="Possibly related clauses (no direct answer found)", no_sources="No clauses cited.", turn="Question {n}",
    older_turn="Sources of question {n}", title_colon=": ", derived="derived title",
    derived_note="The document prints no title; this one was derived from its text",
    levels={Level.NATIONAL: "national", Level.PROVINCIAL: "provincial", Level.CITY: "city", Level.COUNTY: "county"},
    statuses={Status.IN_FORCE: "in force", Status.DRAFT: "draft for comment", Status.TRIAL: "trial",
              Status.REPEALED: "repealed"}, no_number="no document number",
    lead="Lead: ", participating="Participating: ", responsible="Responsible: ", separator="; ",
)


def words_for(question: str) -> Words:
    """English headings for an English question, Chinese ones otherwise."""
    return EN if is_english(question) else ZH


PATH_SEPARATOR = " › "

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def esc(text: object) -> str:
    """HTML-escape any text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def user_message(question: str) -> str:
    """A question as chat content: shown literally, neither HTML nor Markdown."""
    return esc(_MARKDOWN_PUNCTUATION.sub(r"\\\1", question))


def source_anchor(turn: int, n: int) -> str:
    return f"source-{turn}-{n}"


def link_markers(escaped_text: str, turn: int, known: Iterable[int], words: Words = ZH) -> str:
    """Turn [n] in already-escaped text into links to source card n of this turn (known n only)."""
    known = set(known)

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return f'<a class="cite-ref" href="#{source_anchor(turn, n)}" title="{esc(words.view_source)} [{n}]">[{n}]</a>'

    return _MARKER.sub(replace, escaped_text)


def answer_message(answer: Answer, turn: int) -> str:
    """Chat content for an answer, with its comparison table; the table replaces the lines of the
    text that list the same entries, so each shows once."""
    words = words_for(answer.question)
    known = [c.n for c in answer.citations]
    text = export.text_without_restated_rows(answer) if answer.comparison else answer.text
    body = link_markers(esc(text), turn, known, words)
    if answer.comparison:
        body = body.rstrip("\n") + "\n\n" + comparison_table(answer.comparison, turn, known, words)
    return body


def comparison_table(rows: Sequence[ComparisonRow], turn: int, known: Iterable[int] = (), words: Words = ZH) -> str:
    """One row per document: region, document, what it says (with [n] links) or that it says nothing.

    Written without blank lines so Markdown keeps it as one HTML block inside a chat message.
    """
    known = set(known)
    head = words.export
    header = "".join(f"<th>{esc(name)}</th>" for name in (head.region, head.document, head.content))
    parts = [f'<table class="comparison-table"><thead><tr>{header}</tr></thead><tbody>']
    for row in rows:
        document = row.document
        summary = link_markers(esc(row.summary), turn, known, words) if row.summary else ""
        if not row.found:
            summary = summary or esc(head.not_mentioned)
        cls = "found" if row.found else "not-found"
        parts.append(
            f'<tr class="{cls}"><td>{esc(document.region)}</td>'
            f"<td>{document_title(document, words)}</td><td>{summary}</td></tr>"
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def document_title(document: Document, words: Words = ZH) -> str:
    """The title in 《》, with a 拟题 badge when it was derived from the text rather than printed."""
    title = f'<span class="doc-title">《{esc(document.title)}》</span>'
    if document.title_derived:
        title += f' <span class="badge badge-derived" title="{esc(words.derived_note)}">{esc(words.derived)}</span>'
    return title


def status_badge(document: Document, words: Words = ZH) -> str:
    cls = "badge-draft" if document.is_draft else "badge-in-force"
    note = f' title="{esc(words.export.draft)}"' if document.is_draft else ""
    return f'<span class="badge {cls}"{note}>{esc(words.statuses.get(document.status, document.status.value))}</span>'


def _unknown(words: Words) -> str:
    return UNKNOWN_LABEL if words is ZH else "unknown"


def document_meta(document: Document, words: Words = ZH) -> str:
    """Level, region, status and number (or that the text gives none) as a row of badges."""
    number = esc(document.doc_number) if document.doc_number else f'<span class="unknown">{esc(words.no_number)}</span>'
    return (
        f'<span class="badge badge-level">{esc(words.levels.get(document.level, _unknown(words)))}</span>'
        f'<span class="badge badge-region">{esc(document.region or _unknown(words))}</span>'
        f"{status_badge(document, words)}"
        f'<span class="doc-number">{number}</span>'
    )


def highlight(text: str, quotes: Iterable[str], cls: str = "quote") -> str:
    """Escaped text with every occurrence of each quote wrapped in <mark class=cls>."""
    out, position = [], 0
    for start, end in merge_ranges(quote_ranges(text, quotes)):
        out.append(esc(text[position:start]))
        out.append(f'<mark class="{esc(cls)}">{esc(text[start:end])}</mark>')
        position = end
    out.append(esc(text[position:]))
    return "".join(out)


def quote_ranges(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of every non-empty quote in text."""
    found = []
    for quote in quotes:
        if not quote:
            continue
        start = text.find(quote)
        while start != -1:
            found.append((start, start + len(quote)))
            start = text.find(quote, start + 1)
    return found


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ranges covering the same characters."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def units_line(clause: Clause, words: Words = ZH) -> str:
    parts = []
    if clause.lead_units:
        parts.append(f"{esc(words.lead)}{esc('、'.join(clause.lead_units))}")
    if clause.participating_units:
        parts.append(f"{esc(words.participating)}{esc('、'.join(clause.participating_units))}")
    if not parts and clause.responsible_units:
        parts.append(f"{esc(words.responsible)}{esc('、'.join(clause.responsible_units))}")
    return f'<div class="source-units">{words.separator.join(parts)}</div>' if parts else ""


def source_card(citation: Citation, turn: int, words: Words = ZH) -> str:
    """One citation: document, number, level, region, status, article and heading path, verbatim text."""
    clause, document = citation.clause, citation.document
    path = PATH_SEPARATOR.join(clause.path)
    return (
        f'<article class="source-card{" is-draft" if document.is_draft else ""}" '
        f'id="{source_anchor(turn, citation.n)}" data-n="{citation.n}">'
        f'<header class="source-head"><span class="source-n">[{citation.n}]</span>{document_title(document, words)}</header>'
        f'<div class="source-meta">{document_meta(document, words)}</div>'
        f'<div class="source-where"><span class="source-label">{esc(clause.label)}</span>'
        f'<span class="source-path">{esc(path)}</span></div>'
        f'<blockquote class="source-text">{highlight(clause.text, citation.quotes)}</blockquote>'
        f"{units_line(clause, words)}"
        f'<div class="source-citation">{esc(citation_label(citation, words.export))}</div>'
        f'<button type="button" class="open-doc" data-turn="{turn}" data-n="{citation.n}">'
        f"{esc(words.open_text)}</button>"
        "</article>"
    )


def turn_sources(question: str, answer: Answer, turn: int) -> str:
    words = words_for(answer.question)
    heading = words.related if answer.abstained else words.cited
    cards = "".join(source_card(c, turn, words) for c in answer.citations)
    cards = cards or f'<p class="sources-empty">{esc(words.no_sources)}</p>'
    return (
        f'<div class="turn-title">{esc(words.turn.format(n=turn))}{words.title_colon}'
        f"{esc(_shorten(question, 40))}</div>"
        f'<div class="turn-heading">{heading}</div>{cards}'
    )


def sources_panel(turns: Sequence[tuple[int, str, Answer]]) -> str:
    """Sources of every answered question (turn number, question, answer), newest first; older turns
    folded but still reachable from their [n] links."""
    return sources_list([(number, question, turn_sources(question, answer, number))
                         for number, question, answer in turns])


def sources_list(turns: Sequence[tuple[int, str, str]]) -> str:
    """The sources panel from each answered turn's `turn_sources` HTML, rendered once per answer
    (turn number, question, that HTML)."""
    if not turns:
        return (
            '<div class="sources-empty"><p>提问后，这里会列出答案所引用条款的原文和出处。</p>'
            '<ul class="howto"><li>答案中的 <b>[n]</b> 可跳到对应来源卡片</li>'
            "<li>来源卡片上点 <b>查看原文</b>，在全文中定位并高亮该条款</li>"
            "<li><b>筛选检索范围</b> 可只查某些文件、层级、地区，或排除征求意见稿</li>"
            "<li><b>复制到报告</b> 给出带完整出处的 Markdown 或纯文本</li></ul></div>"
        )
    sections = []
    latest = max(number for number, _, _ in turns)
    for number, question, body in sorted(turns, key=lambda t: t[0], reverse=True):
        words = words_for(question)
        if number == latest:
            sections.append(f'<section class="turn-sources latest" data-turn="{number}">{body}</section>')
        else:
            sections.append(
                f'<details class="turn-sources older" data-turn="{number}">'
                f"<summary>{esc(words.older_turn.format(n=number))}{words.title_colon}"
                f"{esc(_shorten(question, 30))}</summary>{body}</details>"
            )
    return '<div class="sources-list">' + "".join(sections) + "</div>"


def corpus_line(documents: Sequence[Document]) -> str:
    """One line naming the documents covered, from the corpus metadata (full titles on hover)."""
    chips = []
    for document in documents:
        name = " ".join(part for part in (document.issuer, short_title(document.title)) if part)
        number = f"（{esc(document.doc_number)}）" if document.doc_number else ""
        mark = DERIVED_TITLE_MARK if document.title_derived else ""
        draft = f" {status_badge(document)}" if document.is_draft else ""
        chips.append(
            f'<span class="doc-chip" title="{esc(f"《{document.title}》{mark}")}">'
            f"<b>{esc(document.region)}</b> {esc(name)}{number}{draft}</span>"
        )
    return f'<div class="corpus-line">收录 {len(documents)} 份文件：{"".join(chips)}</div>'


def short_title(title: str) -> str:
    """The kind of document a title names (若干意见, 实施意见…): what follows its last 的."""
    tail = title.rsplit("的", 1)[-1]
    for mark in ("（征求意见稿）", "(征求意见稿)"):
        tail = tail.replace(mark, "")
    return tail or title


def notice(text: str, kind: str = "info") -> str:
    """A short escaped message in chat (errors and refusals, never tracebacks)."""
    return f'<span class="notice notice-{esc(kind)}">{esc(text)}</span>'


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
