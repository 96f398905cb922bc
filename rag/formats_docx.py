"""Word .docx files to plain lines: the body's paragraphs in order, each table row as one line, and
the automatic numbers Word draws before paragraphs written back in front of their text.

The package is opened with python-docx after the ZIP directory has been checked, so that a file
that unpacks to far more than it weighs (a "zip bomb") is refused before anything is decompressed.
Headers, footers, footnotes, comments and deleted tracked changes are not body text and are left out.
"""

from __future__ import annotations

import io
import zipfile

from rag.errors import DocumentRejected
from rag.formats_base import MAX_UPLOAD_SETTING, Extraction, human_size
from rag.formats_docx_numbering import NumberingState, W

__all__ = ["UNZIPPED_FACTOR", "docx_lines"]

UNZIPPED_FACTOR = 10
"""A .docx may unpack to at most this many times the upload limit (real ones unpack 3–8 times their size)."""
_MAX_MEMBERS = 10_000
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_NOT_TEXT = frozenset({W + "txbxContent", W + "del", W + "instrText", W + "delText", _MC + "Fallback",
                       W + "footnoteReference", W + "commentReference"})
_CONTAINERS = frozenset({W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag", W + "ins"})


def docx_lines(data: bytes, name: str, max_bytes: int) -> Extraction:
    """The text of a .docx as lines; DocumentRejected for anything that is not a readable Word file."""
    _check_package(data, name, max_bytes)
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        try:
            numbering_xml = document.part.part_related_by(RT.NUMBERING).element
        except KeyError:
            numbering_xml = None
        styles_xml = document.styles.element
    except Exception as exc:  # noqa: BLE001 - any failure inside the parser means a damaged file
        raise _damaged(name, exc) from None
    numbering = NumberingState(numbering_xml, styles_xml)
    lines: list[str] = []
    for block in _blocks(body):
        if block.tag == W + "p":
            lines.append(numbering.label(block) + _paragraph_text(block))
        else:
            lines.extend(_table_lines(block, numbering))
    notes = ()
    if numbering.recovered:
        notes = (f"自动编号 {numbering.recovered} 处已还原 (automatic list numbers recovered)",)
    return Extraction(tuple(lines), notes)


def _check_package(data: bytes, name: str, max_bytes: int) -> None:
    if data.startswith(_OLE2):
        raise DocumentRejected(
            f"{name}: is an old Word 97-2003 .doc file (or another Office binary), not .docx; "
            "open it in Word or WPS and save it as .docx"
        )
    if not data.startswith(b"PK"):
        raise DocumentRejected(f"{name}: is not a Word .docx file (no ZIP header: binary data of another kind); "
                               "save the document as .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _damaged(name, exc) from None
    if len(members) > _MAX_MEMBERS:
        raise DocumentRejected(f"{name}: holds {len(members)} packed parts, far more than a Word file; refused as unsafe")
    unzipped = sum(member.file_size for member in members)
    limit = UNZIPPED_FACTOR * max_bytes
    if unzipped > limit:
        raise DocumentRejected(
            f"{name}: unpacks to {human_size(unzipped)}, over {UNZIPPED_FACTOR} times the upload limit "
            f"({human_size(limit)}); refused as a possible zip bomb. If the file is genuine, raise {MAX_UPLOAD_SETTING}"
        )
    if not any(member.filename == "word/document.xml" for member in members):
        raise DocumentRejected(f"{name}: is a ZIP file but not a Word document (no word/document.xml); "
                               "is it a renamed .xlsx, .pptx or archive? Save the document as .docx")


def _damaged(name: str, exc: BaseException) -> DocumentRejected:
    detail = " ".join(str(exc).split())[:120]
    return DocumentRejected(
        f"{name}: the Word file is damaged and cannot be read ({type(exc).__name__}: {detail}); "
        "open it in Word or WPS and save it again as .docx"
    )


def _blocks(container):
    """Paragraphs and tables of the body in order, looking inside content controls and custom XML."""
    stack = [iter(container)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
        elif element.tag in (W + "p", W + "tbl"):
            yield element
        elif element.tag in _CONTAINERS:
            stack.append(iter(element))


def _paragraph_text(paragraph) -> str:
    pieces: list[str] = []
    stack = [iter(paragraph)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            continue
        tag = element.tag
        if not isinstance(tag, str) or tag in _NOT_TEXT or tag == W + "pPr":
            continue
        if tag == W + "t":
            pieces.append(element.text or "")
        elif tag == W + "tab":
            pieces.append("\t")
        elif tag in (W + "br", W + "cr"):
            pieces.append("\n")
        elif tag == W + "noBreakHyphen":
            pieces.append("-")
        elif tag == W + "p":
            pieces.append("\n")  # a paragraph nested in an inline drawing: keep it apart
            stack.append(iter(element))
        else:
            stack.append(iter(element))
    return "".join(pieces)


def _table_lines(table, numbering: NumberingState) -> list[str]:
    """One line per row, cells separated by a space; a cell's paragraphs joined by a space."""
    lines: list[str] = []
    for row in table.iter(W + "tr"):
        if _nearest(row, W + "tbl") is not table:
            continue  # a row of a table nested in a cell is read with that cell
        cells: list[str] = []
        for cell in row.iter(W + "tc"):
            if _nearest(cell, W + "tr") is not row:
                continue
            paragraphs = (numbering.label(p) + _paragraph_text(p) for p in cell.iter(W + "p"))
            text = " ".join(" ".join(p.split()) for p in paragraphs if p.strip())
            if text:
                cells.append(text)
        if cells:
            lines.append(" ".join(cells))
    return lines


def _nearest(element, tag: str):
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent
