"""Turning the files users bring (.txt, .md, .docx, .pdf, .html) into plain text, one paragraph or
heading per line, or refusing them with one line that names the file and says what to do.

Each format has its reader (rag/formats_markdown.py, formats_docx.py, formats_pdf.py,
formats_html.py); this module checks what every format shares (suffix, size, emptiness, that some
text came out) and tidies the lines the same way for all, so that one document gives the same lines
whichever format it arrives in. The libraries are imported only when a file of their format is read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DecodeError, DocumentRejected
from rag.formats_base import MAX_UPLOAD_SETTING, Extraction, human_size, tidy_lines
from rag.textio import decode_bytes

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "DocumentRejected",
    "ExtractedText",
    "extract_bytes",
    "extract_text",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """A document's text as one paragraph or heading per line ("\\n"); clause spans index into it."""

    text: str
    format: str  # "txt" | "md" | "docx" | "pdf" | "html"
    notes: tuple[str, ...] = ()
    """Short notes on what extraction removed or recovered, e.g. "页眉页脚 12 行已去除 (page headers/footers removed)"."""

    def __post_init__(self) -> None:
        if self.format not in set(_FORMATS.values()):
            raise ValueError(f"unknown format {self.format!r}; expected one of {sorted(set(_FORMATS.values()))}")


def extract_text(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedText:
    """Read and convert one file; DocumentRejected (one line naming the file) when it cannot be used."""
    path = Path(path)
    _format_of(path.name)
    try:
        if path.is_dir():
            raise DocumentRejected(f"{path}: is a folder, not a file; add the files inside it")
        size = path.stat().st_size
        _check_size(path.name, size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file growing while read still cannot exceed the limit
    except OSError as exc:
        raise DocumentRejected(f"{path}: cannot be read ({exc.strerror or exc}); check that it exists and is readable") from None
    return extract_bytes(data, path.name, max_bytes=max_bytes)


def extract_bytes(data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedText:
    """Convert a file's bytes; `name` (the file's name) decides the format and is quoted in refusals."""
    fmt = _format_of(name)
    _check_size(name, len(data), max_bytes)
    if not data:
        raise DocumentRejected(f"{name}: the file is empty (0 bytes); check that it was saved or uploaded completely")
    extraction = _read(fmt, data, name, max_bytes)
    lines = tidy_lines(extraction.lines)
    if not any(_has_letters(line) for line in lines):
        raise DocumentRejected(
            f"{name}: no recognisable text found (only whitespace, markup or symbols); "
            "check that this is the document you meant to add"
        )
    return ExtractedText("\n".join(lines), fmt, extraction.notes)


def _format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    fmt = _FORMATS.get(suffix)
    if fmt is None:
        shown = suffix or "no suffix"
        raise DocumentRejected(
            f"{name}: {shown} files are not supported; supported: {', '.join(SUPPORTED_SUFFIXES)} "
            "(save or export the document in one of these)"
        )
    return fmt


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DocumentRejected(
            f"{name}: {human_size(size)} is over the upload limit of {human_size(max_bytes)}; "
            f"split the file, or raise the limit with {MAX_UPLOAD_SETTING}"
        )


def _read(fmt: str, data: bytes, name: str, max_bytes: int) -> Extraction:
    if fmt == "txt":
        return Extraction(tuple(_decoded(data, name).splitlines()))
    if fmt == "md":
        from rag.formats_markdown import markdown_lines

        return markdown_lines(_decoded(data, name))
    if fmt == "docx":
        from rag.formats_docx import docx_lines

        return docx_lines(data, name, max_bytes)
    if fmt == "pdf":
        from rag.formats_pdf import pdf_lines

        return pdf_lines(data, name)
    from rag.formats_html import html_lines

    return html_lines(data, name)


def _decoded(data: bytes, name: str) -> str:
    try:
        return decode_bytes(data, name=name)
    except DecodeError as exc:
        raise DocumentRejected(str(exc)) from None


def _has_letters(line: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in line)
