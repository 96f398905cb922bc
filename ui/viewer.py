"""HTML for the document viewer: the full text with the cited clause highlighted, and its outline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.clauses import Clause, ClauseKind
from rag.documents import Document
from ui.render import document_meta, document_title, esc, merge_ranges, quote_ranges

OUTLINE_DEPTH = 2  # sections and articles; items are reached through their article
_KIND_NAMES = {ClauseKind.PREAMBLE: "序言", ClauseKind.CLOSING: "落款"}

# Runs in the browser when the viewer loads: outline links scroll the text, and a new document
# (or a new cited clause) is scrolled so the highlighted clause is in view.
VIEWER_JS = """
let timers = [];
const cancel = () => { timers.forEach(clearTimeout); timers = []; };
const scrollToFocus = () => {
  const target = element.querySelector('.focus-clause');
  if (target && target.offsetParent !== null) target.scrollIntoView({block: 'center'});
};
// The tab may still be hidden or laying out when the value arrives: try again a few times,
// unless the reader has started moving around the document.
const settle = () => { cancel(); timers = [0, 120, 400, 900].map((ms) => setTimeout(scrollToFocus, ms)); };
element.addEventListener('wheel', cancel, {passive: true});
element.addEventListener('click', (event) => {
  const link = event.target.closest('[data-target]');
  if (!link) return;
  event.preventDefault();
  cancel();
  const target = element.querySelector('#' + CSS.escape(link.dataset.target));
  if (target) target.scrollIntoView({block: 'start', behavior: 'smooth'});
});
watch('value', settle);
settle();
"""


@dataclass(frozen=True, slots=True)
class OutlineEntry:
    depth: int
    heading: str
    anchor: str


def clause_anchor(index: int) -> str:
    return f"doc-clause-{index}"


def outline(clauses: Sequence[Clause]) -> list[OutlineEntry]:
    """Section and article headings in document order, each pointing at the first clause under it."""
    entries: list[OutlineEntry] = []
    seen: set[tuple[str, ...]] = set()
    for index, clause in enumerate(clauses):
        if not clause.path:
            name = _KIND_NAMES.get(clause.kind, clause.label)
            if name and (name,) not in seen:
                seen.add((name,))
                entries.append(OutlineEntry(0, name, clause_anchor(index)))
            continue
        for depth in range(min(len(clause.path), OUTLINE_DEPTH)):
            prefix = clause.path[: depth + 1]
            if prefix not in seen:
                seen.add(prefix)
                entries.append(OutlineEntry(depth, prefix[-1], clause_anchor(index)))
    return entries


def render_outline(entries: Iterable[OutlineEntry]) -> str:
    items = "".join(
        f'<li class="outline-depth-{e.depth}"><a href="#{e.anchor}" data-target="{e.anchor}">'
        f"{esc(e.heading)}</a></li>"
        for e in entries
    )
    return f'<nav class="viewer-outline"><div class="outline-title">目录</div><ul>{items}</ul></nav>'


def render_text(
    text: str, clauses: Sequence[Clause], focus: Clause | None = None, quotes: Iterable[str] = ()
) -> str:
    """The escaped text with an anchor at each clause start and the focus clause (and quotes) marked."""
    anchors: dict[int, list[str]] = defaultdict(list)
    for index, clause in enumerate(clauses):
        if clause.span[0] < len(text):
            anchors[clause.span[0]].append(clause_anchor(index))
    opens: dict[int, list[str]] = defaultdict(list)
    closes: dict[int, list[str]] = defaultdict(list)
    if focus is not None and focus.span[1] <= len(text):
        start, end = focus.span
        opens[start].append(f'<mark class="focus-clause" data-clause-id="{esc(focus.id)}">')
        closes[end].append("</mark>")
        for q_start, q_end in merge_ranges(quote_ranges(focus.text, quotes)):
            opens[start + q_start].append('<mark class="focus-quote">')
            closes[start + q_end].insert(0, "</mark>")  # inner mark closes before the clause mark
    cuts = sorted({0, len(text), *anchors, *opens, *closes})
    out = []
    for position, following in zip(cuts, cuts[1:] + [None], strict=True):
        out += closes.get(position, [])
        out += [f'<span class="clause-anchor" id="{a}"></span>' for a in anchors.get(position, [])]
        out += opens.get(position, [])
        if following is not None:
            out.append(esc(text[position:following]))
    return "".join(out)


def render_document(
    document: Document,
    text: str,
    clauses: Sequence[Clause],
    focus: Clause | None = None,
    quotes: Iterable[str] = (),
) -> str:
    """The whole viewer: header (title, badges, files), outline, and the text."""
    files = "、".join(document.source_files)
    focus_note = ""
    if focus is not None:
        focus_note = (
            f'<div class="viewer-focus">已定位：<b>{esc(focus.label)}</b> '
            f'<a href="#" data-target="{_focus_anchor(clauses, focus)}">回到引用条款</a></div>'
        )
    head = (
        f'<header class="viewer-head"><h3>{document_title(document)}</h3>'
        f'<div class="source-meta">{document_meta(document)}</div>'
        f'<div class="viewer-files">原文文件：{esc(files)}</div>{focus_note}</header>'
    )
    body = (
        f'<div class="viewer-body">{render_outline(outline(clauses))}'
        f'<div class="viewer-text">{render_text(text, clauses, focus, quotes)}</div></div>'
    )
    return f'<div class="doc-viewer" data-doc-id="{esc(document.id)}">{head}{body}</div>'


def viewer_placeholder() -> str:
    return '<div class="viewer-empty">在右侧来源卡片上点“查看原文”，或在上方选择一份文件，即可阅读全文。</div>'


def _focus_anchor(clauses: Sequence[Clause], focus: Clause) -> str:
    for index, clause in enumerate(clauses):
        if clause.id == focus.id:
            return clause_anchor(index)
    return ""
