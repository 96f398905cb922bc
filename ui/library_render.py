"""HTML for the 文件库 tab: the list of the library's documents, and what was read from a file about to be
added. Pure functions from rag/ types to strings; all text passes through `esc`."""

from __future__ import annotations

from collections.abc import Sequence

from rag.corpus import Corpus
from rag.documents import Document, Level, Status
from rag.library_checks import Prepared
from rag.library_report import DetectedField
from ui.render import LEVEL_LABELS, UNKNOWN_LABEL, esc, short_title

STATUS_SHORT = {Status.IN_FORCE: "现行", Status.DRAFT: "草案", Status.TRIAL: "试行", Status.REPEALED: "废止"}
STATUS_CLASS = {Status.IN_FORCE: "badge-in-force", Status.DRAFT: "badge-draft", Status.TRIAL: "badge-trial",
                Status.REPEALED: "badge-repealed"}
ORIGIN_LABELS = {False: "内置", True: "新增"}
FIELD_LABELS = {
    "title": "标题", "number": "文号", "issuer": "发文机关", "date": "日期", "level": "层级",
    "region": "地区", "city": "城市", "genre": "文种", "status": "状态",
}
"""The metadata a person may correct before adding, by override option (rag.library_changes.OVERRIDE_OPTIONS)."""
SOURCE_LABELS = {"text": "正文", "derived": "推断", "override": "人工填写", "filename": "文件名"}


def _unknown() -> str:
    return f'<span class="unknown">{UNKNOWN_LABEL}</span>'


def status_badge(document: Document) -> str:
    """现行 / 草案 / 试行 / 废止; a status the text does not mark is shown as unknown (taken as in force)."""
    evidence = document.evidence_of("status")
    if document.status is Status.IN_FORCE and evidence is not None and evidence.source == "derived":
        return ('<span class="badge badge-derived" title="正文未标明草案、试行或废止，按现行处理">'
                f"{UNKNOWN_LABEL}（按现行）</span>")
    return f'<span class="badge {STATUS_CLASS[document.status]}">{esc(STATUS_SHORT[document.status])}</span>'


def library_list(corpus: Corpus) -> str:
    """Every document of the library, national first, added ones last: a table with origin, place,
    status and counts."""
    documents = sorted(corpus.documents, key=lambda d: (d.is_added, d.level is not Level.NATIONAL))
    added = sum(d.is_added for d in documents)
    rows = []
    for d in documents:
        counts = corpus.counts.get(d.id)
        number = f'<div class="doc-number">{esc(d.doc_number)}</div>' if d.doc_number else ""
        origin = "added" if d.is_added else "bundled"
        rows.append(
            f'<tr data-doc-id="{esc(d.id)}" data-origin="{origin}">'
            f'<td class="lib-title" title="{esc(d.title)}">《{esc(short_title(d.title))}》{number}</td>'
            f'<td><span class="badge badge-origin-{origin}">{ORIGIN_LABELS[d.is_added]}</span></td>'
            f"<td>{esc(LEVEL_LABELS[d.level]) if d.level else _unknown()}</td>"
            f"<td>{esc(d.region) if d.region else _unknown()}</td>"
            f"<td>{esc(d.city) if d.city else '—'}</td>"
            f'<td class="lib-date">{esc(d.date) if d.date else _unknown()}</td>'
            f"<td>{status_badge(d)}</td>"
            f'<td class="num">{counts.articles if counts else "—"}</td>'
            f'<td class="num">{counts.clauses if counts else "—"}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in ("文件", "来源", "层级", "地区", "城市", "日期", "状态", "条", "条款"))
    return (
        f'<div class="library-summary">共 {len(documents)} 份文件：内置 {len(documents) - added} 份，'
        f"新增 {added} 份。</div>"
        f'<table class="library-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def detected(prepared: Prepared, fields: Sequence[DetectedField]) -> str:
    """What was read from a file before adding it: each field with where it came from, and its counts."""
    rows = []
    for field in fields:
        value = esc(_shown_value(field)) if field.value is not None else _unknown()
        if field.line is not None:
            line = field.line_text if len(field.line_text) <= 60 else field.line_text[:60] + "…"
            where = f'第 {field.line} 行：<span class="lib-line">{esc(line)}</span>'
        elif field.value is None:
            where = "正文未载明"
        else:
            where = esc(SOURCE_LABELS.get(field.source, field.source))
            if field.note:
                where += f'（<span class="lib-note">{esc(field.note)}</span>）'
        rows.append(f'<tr data-field="{esc(field.option)}"><th>{FIELD_LABELS[field.option]}</th>'
                    f"<td>{value}</td><td>{where}</td></tr>")
    c = prepared.counts
    notes = "".join(f'<li>{esc(note)}</li>' for note in prepared.notes)
    return (
        f'<div class="lib-detected"><div class="lib-file">已读取 <b>{esc(prepared.file)}</b>：'
        f"{c.sections} 章节，{c.articles} 条，{c.items} 项，共 {c.clauses} 个条款。请核对下表，"
        "有误的在下方改正后再加入文件库。</div>"
        '<table class="library-table"><thead><tr><th>字段</th><th>识别结果</th><th>依据</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>{f"<ul class=lib-notes>{notes}</ul>" if notes else ""}</div>'
    )


def _shown_value(field: DetectedField) -> str:
    if field.option == "level" and field.value:
        return LEVEL_LABELS.get(Level(field.value), field.value)
    if field.option == "status" and field.value:
        return STATUS_SHORT.get(Status(field.value), field.value)
    return field.value or ""
