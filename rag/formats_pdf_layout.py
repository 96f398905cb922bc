"""Printed pages back to paragraphs: the running headers, footers and page numbers of a PDF removed,
and lines broken by the page width joined back into one line per paragraph, across pages too.

Works on positioned lines (any PDF library's output fits), with rules about how documents are
printed, not about one document:
- furniture sits at the top or bottom edge of a page: an edge line is dropped when it looks like a
  page number (- 3 -, 第 3 页, 3/9, 3) or when the same line (digits aside) is at the edge of at least
  two pages and 40 % of them; each repeated line is peeled at most once per edge, so a title under
  a header with the same words stays;
- a line continues into the next when it reaches the right margin and the next line is not a
  heading (第X章, 第X条, 一、, （一）, 1. …), not indented, not centred, not in another font size
  and not after a paragraph gap; in a document without first-line indents, a line ending in
  sentence-final punctuation ends its paragraph too.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from dataclasses import dataclass

from rag.formats_base import Extraction
from rag.numbering import match_mark

__all__ = ["PdfLine", "PdfPage", "rebuild_paragraphs"]


@dataclass(frozen=True, slots=True)
class PdfLine:
    """One printed line: its text and box in points, `top` and `bottom` measured from the page top."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    """Font size of the line's first character (its box height when the file does not say)."""


@dataclass(frozen=True, slots=True)
class PdfPage:
    width: float
    height: float
    lines: tuple[PdfLine, ...]


_EDGE_LINES = 2
_REPEAT_SHARE = 0.4
_PAGE_NUMBER = re.compile(
    r"^[-－–—~～·•\s]*(第\s*)?[0-9０-９]{1,4}(\s*页)?(\s*[/／]\s*[0-9０-９]{1,4}|\s*[,，]?\s*共\s*[0-9０-９]{1,4}\s*页)?"
    r"[-－–—~～·•\s]*$|^(page|p\.)\s*\d{1,4}(\s*(of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"[0-9０-９]+")
_SENTENCE_END = tuple("。！？!?；;：:…")
_SUB_HEADING = re.compile(r"^第[一二三四五六七八九十百零〇]+[节编]")
_CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]")


def rebuild_paragraphs(pages: list[PdfPage]) -> Extraction:
    """The document's paragraphs as lines, with notes on furniture removed and lines joined."""
    kept, furniture, numbers = _remove_furniture(pages)
    lines, joined = _join_lines(kept)
    notes: list[str] = []
    if furniture:
        notes.append(f"页眉页脚 {furniture} 行已去除 (page headers/footers removed)")
    if numbers:
        notes.append(f"页码 {numbers} 处已去除 (page numbers removed)")
    if joined:
        notes.append(f"因页宽或分页断开的 {joined} 行已接回段落 (lines broken by page width or page breaks rejoined)")
    return Extraction(tuple(lines), tuple(notes))


def _key(line: PdfLine) -> str:
    return _DIGITS.sub("#", "".join(line.text.split()))


def _edges(page: PdfPage) -> tuple[list[PdfLine], list[PdfLine]]:
    """The lines nearest the top (outermost first) and nearest the bottom (outermost first)."""
    by_height = sorted(page.lines, key=lambda line: line.top)
    top = by_height[:_EDGE_LINES]
    bottom = list(reversed(by_height[-_EDGE_LINES:]))
    return top, bottom


def _remove_furniture(pages: list[PdfPage]) -> tuple[list[tuple[int, PdfLine]], int, int]:
    counts: dict[str, int] = {}
    for page in pages:
        top, bottom = _edges(page)
        for key in {_key(line) for line in top + bottom}:
            counts[key] = counts.get(key, 0) + 1
    needed = max(2, math.ceil(_REPEAT_SHARE * len(pages)))
    repeated = {key for key, count in counts.items() if count >= needed} if len(pages) >= 2 else set()
    kept: list[tuple[int, PdfLine]] = []
    furniture = numbers = 0
    for index, page in enumerate(pages):
        dropped: set[int] = set()
        for edge in _edges(page):
            peeled: set[str] = set()
            for line in edge:
                key = _key(line)
                if id(line) in dropped:
                    continue
                if _PAGE_NUMBER.match(line.text.strip()):
                    numbers += 1
                elif key in repeated and key not in peeled:
                    furniture += 1
                    peeled.add(key)
                else:
                    break
                dropped.add(id(line))
        kept.extend((index, line) for line in page.lines if id(line) not in dropped)
    return kept, furniture, numbers


@dataclass(frozen=True, slots=True)
class _Geometry:
    left: float
    right: float
    pitch: float
    indented_style: bool


def _geometry(lines: list[tuple[int, PdfLine]]) -> _Geometry:
    boxes = [line for _, line in lines]
    size = statistics.median(line.size for line in boxes)
    lefts = sorted(line.x0 for line in boxes)
    rights = sorted(line.x1 for line in boxes)
    left = _common_edge(lefts, size, from_low=True)
    right = _common_edge(rights, size, from_low=False)
    steps = [b.top - a.top for (pa, a), (pb, b) in itertools.pairwise(lines) if pa == pb and b.top > a.top]
    pitch = statistics.median(steps) if steps else size * 1.5
    indented = sum(1 for line in boxes if abs(line.x0 - (left + 2 * line.size)) < 0.6 * line.size)
    return _Geometry(left, right, pitch, indented_style=indented >= max(2, 0.1 * len(boxes)))


def _common_edge(values: list[float], size: float, *, from_low: bool) -> float:
    """The outermost edge that at least a tenth of the lines share (within half a character)."""
    needed = max(1, len(values) // 10)
    ordered = values if from_low else list(reversed(values))
    for value in ordered:
        near = sum(1 for other in values if abs(other - value) <= size / 2)
        if near >= needed:
            return value
    return ordered[0]


def _join_lines(lines: list[tuple[int, PdfLine]]) -> tuple[list[str], int]:
    if not lines:
        return [], 0
    geometry = _geometry(lines)
    out: list[str] = [lines[0][1].text.strip()]
    joined = 0
    for (page_a, a), (page_b, b) in itertools.pairwise(lines):
        if _continues(a, b, page_a == page_b, geometry):
            out[-1] = _glue(out[-1], b.text.strip())
            joined += 1
        else:
            out.append(b.text.strip())
    return out, joined


def _continues(a: PdfLine, b: PdfLine, same_page: bool, geometry: _Geometry) -> bool:
    size = max(a.size, b.size, 1.0)
    if a.x1 < geometry.right - 2 * size:
        return False  # a short line ends its paragraph
    if b.x0 > geometry.left + 0.8 * size or a.x0 > geometry.left + 4 * size:
        return False  # the next line is indented or centred, or this one is centred
    if abs(a.size - b.size) > 0.15 * size:
        return False
    if same_page and b.top - a.top > 1.6 * geometry.pitch:
        return False  # a paragraph gap
    text_b = b.text.strip()
    if match_mark(text_b) is not None or _SUB_HEADING.match(text_b):
        return False
    return geometry.indented_style or not a.text.rstrip().endswith(_SENTENCE_END)


def _glue(left: str, right: str) -> str:
    if not left or not right:
        return left + right
    if _CJK.match(left[-1]) or _CJK.match(right[0]):
        return left + right
    return f"{left} {right}"
