"""PDF files with a text layer to plain lines, read with pypdfium2 (PDFium, the PDF engine of Chrome).

Chosen by measurement (docs/formats.md, benchmarks/pdf_extractors.py): on Chinese regulations printed
three ways, pypdfium2, pypdf, pdfplumber and PyMuPDF all recover every character, so the choice fell
on the rest: pypdfium2 is 10–20 times faster than pdfplumber and pypdf, gives each line's position
(which rebuilding paragraphs needs), marks the spaces it inserted itself (dropped next to Chinese
characters, where they are layout, not text), and is Apache-2.0/BSD licensed. PyMuPDF is as fast and
as accurate but AGPL-3.0, which would bind anyone who ships this tool.

Scanned pages (no text layer), password-protected files and damaged files are refused with a message
saying what to do; the positioned lines go to rag/formats_pdf_layout.py to become paragraphs.
"""

from __future__ import annotations

import threading
import unicodedata

from rag.errors import DocumentRejected
from rag.formats_base import Extraction
from rag.formats_pdf_layout import PdfLine, PdfPage, rebuild_paragraphs

__all__ = ["pdf_lines"]

_PDFIUM_LOCK = threading.Lock()
"""PDFium is not thread-safe: one document at a time in this process (the UI may extract concurrently)."""
_MIN_PAGE_CHARACTERS = 10
"""A page with fewer visible characters than this has no real text layer (a scan, maybe a page number)."""
_MAX_UNREADABLE_SHARE = 0.3
_HEADER_WINDOW = 1024
_LAYOUT_GAP_EM = 0.25


def pdf_lines(data: bytes, name: str) -> Extraction:
    """The text of a PDF's text layer as paragraphs; DocumentRejected for scans, encryption, damage."""
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise DocumentRejected(f"{name}: is not a PDF file (no %PDF header: binary data of another kind); "
                               "export or print the document to PDF again")
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise _open_error(name, exc, pdfium) from None
        try:
            pages, scanned = _read_pages(document, name)
        except pdfium.PdfiumError as exc:
            raise _damaged(name, exc) from None
        finally:
            document.close()
    visible = "".join(line.text for page in pages for line in page.lines if line.text.strip())
    if not visible.strip() or all(_visible_count(page) < _MIN_PAGE_CHARACTERS for page in pages):
        raise DocumentRejected(
            f"{name}: has no text layer, it looks scanned; run OCR first (e.g. save it as a searchable PDF "
            "in the scanner or PDF software) and add the result"
        )
    unreadable = sum(1 for char in visible if _unreadable(char)) / max(1, len(visible))
    if unreadable > _MAX_UNREADABLE_SHARE:
        raise DocumentRejected(
            f"{name}: its text layer is unreadable ({unreadable:.0%} of characters map to no real character: "
            "fonts without a Unicode table); run OCR on it, or export the PDF again from the original document"
        )
    result = rebuild_paragraphs(pages)
    notes = result.notes
    if scanned:
        listed = "、".join(str(number) for number in scanned[:10]) + ("…" if len(scanned) > 10 else "")
        notes = (*notes, f"第 {listed} 页没有文字层（扫描页），其内容未收录 (pages without a text layer left out: OCR them)")
    return Extraction(result.lines, notes)


def _open_error(name: str, exc: Exception, pdfium) -> DocumentRejected:
    code = getattr(exc, "err_code", None)
    if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
        return DocumentRejected(
            f"{name}: the PDF is encrypted (password-protected); open it with its password, save or print it "
            "as a PDF without a password, and add that file"
        )
    return _damaged(name, exc)


def _damaged(name: str, exc: Exception) -> DocumentRejected:
    detail = " ".join(str(exc).split())[:120]
    return DocumentRejected(
        f"{name}: the PDF is damaged and cannot be read ({detail}); open it in a PDF reader and save or "
        "print it as a new PDF"
    )


def _visible_count(page: PdfPage) -> int:
    return sum(len("".join(line.text.split())) for line in page.lines)


def _unreadable(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) in ("Co", "Cn", "Cs")


def _read_pages(document, name: str) -> tuple[list[PdfPage], list[int]]:
    from pypdfium2 import raw

    pages: list[PdfPage] = []
    scanned: list[int] = []
    for index in range(len(document)):
        page = document[index]
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                lines = _page_lines(textpage, height, raw)
            finally:
                textpage.close()
            result = PdfPage(width, height, tuple(lines))
            if _visible_count(result) < _MIN_PAGE_CHARACTERS and _has_images(page, raw):
                scanned.append(index + 1)
            pages.append(result)
        finally:
            page.close()
    if not pages:
        raise DocumentRejected(f"{name}: the PDF has no pages; export or print the document to PDF again")
    return pages, scanned


def _has_images(page, raw) -> bool:
    return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def _page_lines(textpage, height: float, raw) -> list[PdfLine]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: read one code point per character index
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 0x20) for i in range(count))
    lines: list[PdfLine] = []
    start = 0
    for end in range(count + 1):
        if end == count or text[end] in "\r\n":
            if end > start:
                line = _line(textpage, text, start, end, height, raw)
                if line is not None:
                    lines.append(line)
            start = end + 1
    return lines


def _line(textpage, text: str, start: int, end: int, height: float, raw) -> PdfLine | None:
    visible = [i for i in range(start, end) if not text[i].isspace()]
    if not visible:
        return None
    first, last = visible[0], visible[-1]
    left, bottom_a, _, top_a = textpage.get_charbox(first, loose=True)
    _, bottom_b, right, top_b = textpage.get_charbox(last, loose=True)
    size = raw.FPDFText_GetFontSize(textpage.raw, first) or (top_a - bottom_a)
    chars: list[str] = []
    for i in range(first, last + 1):
        char = text[i]
        if char == " " and raw.FPDFText_IsGenerated(textpage.raw, i) == 1 and _layout_gap(textpage, text, i, size):
            continue
        chars.append(char)
    return PdfLine(
        text="".join(chars),
        x0=left,
        x1=right,
        top=height - max(top_a, top_b),
        bottom=height - min(bottom_a, bottom_b),
        size=float(size),
    )


def _layout_gap(textpage, text: str, i: int, size: float) -> bool:
    """Whether a space PDFium inserted for a gap is layout, not text: next to a Chinese character and
    narrower than a quarter of the font size (office software spaces Latin digits apart from Chinese
    by about a fifth; a typed space is wider)."""
    before, after = text[i - 1], text[i + 1]
    if not (_is_cjk(before) or _is_cjk(after)) or before.isspace() or after.isspace():
        return False
    gap = textpage.get_charbox(i + 1, loose=True)[0] - textpage.get_charbox(i - 1, loose=True)[2]
    return gap < _LAYOUT_GAP_EM * max(size, 1.0)


def _is_cjk(char: str) -> bool:
    return bool(char) and ("\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef")
