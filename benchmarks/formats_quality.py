"""Measures how well each candidate library turns Chinese regulations back into text (docs/formats.md).

PDF: real regulations from ../shared/scale/laws-md.tar.xz are printed four ways: reportlab with an
embedded TrueType CJK font (WenQuanYi Zen Hei, ragged right), the same with every character placed
on its own and lines justified, reportlab with the built-in, non-embedded STSong-Light CID font, and LibreOffice Writer exporting a Word file (justified, first-line
indents, header and page-number fields; skipped when `soffice` is not installed). Each page carries a
running header and a page number. Every library's plain text is compared with the document's text:
character accuracy = 1 - (edit operations / characters in the document), once ignoring all whitespace and once
with spaces counted (a space a library invents between 2021 and 年 counts as an error), after
dropping the header and page-number lines from every library's output alike. Then the
product's own pipeline (rag.formats.extract_text) is scored by the share of the document's lines it
gives back exactly, and by its character accuracy against the whole text.

HTML: the same documents as web pages in three layouts (tests/formats_support.make_html); trafilatura
and readability-lxml find the main text, rag/formats_html.py writes it out as lines; scored by body
lines found and extra lines let through.

    pip install -e ".[test,bench]"   # reportlab, pypdf, pdfplumber
    pip install pymupdf readability-lxml   # optional: measured too when installed (PyMuPDF is AGPL)
    python benchmarks/formats_quality.py
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from formats_support import (
    PAGE_HEADER,
    make_docx,
    make_html,
    make_pdf,
    read_regulations,
)

from rag.formats import extract_bytes, extract_text

DOCUMENTS = (
    "DLC/浙江地方法规/地方性法规/浙江/浙江省促进科技成果转化条例(2021-09-30).md",
    "DLC/上海地方法规/地方性法规/上海/上海市推进科技创新中心建设条例(2020-01-20).md",
    "DLC/北京地方法规/地方性法规/北京/北京国际科技创新中心建设条例(2024-01-25).md",
    "DLC/山东地方法规/地方性法规/山东/山东省人才发展促进条例(2020-03-26).md",
    "DLC/河南地方法规/地方性法规/河南/河南省促进高新技术产业发展条例(2011-06-13).md",
    "行政法/促进科技成果转化法(2015-08-29).md",
)


def _edit_errors(expected: str, got: str) -> int:
    errors = 0
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, expected, got, autojunk=False).get_opcodes():
        if op != "equal":
            errors += max(a1 - a0, b1 - b0)
    return errors


def _accuracy(expected: str, got: str) -> float:
    return 1 - _edit_errors(expected, got) / max(1, len(expected))


def _stream(lines: list[str], *, spaces: bool) -> str:
    """Lines concatenated (a line break is no character in Chinese); spaces collapsed or removed."""
    joined = "".join(" ".join(line.split()) for line in lines)
    return joined if spaces else re.sub(r"\s+", "", joined)


def _pdf_readers():
    def read_pypdf(path: Path) -> str:
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)

    def read_pdfplumber(path: Path) -> str:
        import pdfplumber

        with pdfplumber.open(path) as document:
            return "\n".join(page.extract_text() or "" for page in document.pages)

    def read_pypdfium2(path: Path) -> str:
        import pypdfium2

        document = pypdfium2.PdfDocument(path)
        try:
            return "\n".join(page.get_textpage().get_text_range() for page in document)
        finally:
            document.close()

    def read_pymupdf(path: Path) -> str:
        import pymupdf

        with pymupdf.open(path) as document:
            return "\n".join(page.get_text() for page in document)

    readers = {"pypdf": read_pypdf, "pdfplumber": read_pdfplumber, "pypdfium2": read_pypdfium2,
               "PyMuPDF": read_pymupdf}
    return {name: read for name, read in readers.items() if _installed(_MODULES[name])}


_MODULES = {"pypdf": "pypdf", "pdfplumber": "pdfplumber", "pypdfium2": "pypdfium2", "PyMuPDF": "pymupdf",
            "trafilatura": "trafilatura", "readability-lxml": "readability"}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _make_pdfs(folder: Path, stem: str, lines: list[str]) -> dict[str, Path]:
    """kind → a PDF of the lines, each page with PAGE_HEADER at the top and "- N -" at the bottom."""
    made: dict[str, Path] = {}
    for font in ("ttf", "cid"):
        path = folder / f"{stem}-{font}.pdf"
        make_pdf(path, lines, font=font)
        made[f"reportlab-{font}"] = path
    path = folder / f"{stem}-glyphs.pdf"
    make_pdf(path, lines, glyphs=True)
    made["reportlab-glyphs"] = path
    if shutil.which("soffice"):
        docx = make_docx(folder / f"{stem}.docx", lines, header=PAGE_HEADER)
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(docx)],
                       check=True, capture_output=True, timeout=300)
        made["office"] = folder / f"{stem}.pdf"
    return made


_FURNITURE = re.compile(r"[-\s]*\d+[-\s]*")


def _body_lines(text: str) -> list[str]:
    """A library's lines without the running header and the page numbers (each library alike)."""
    return [line for line in text.splitlines()
            if "".join(line.split()) != PAGE_HEADER and not _FURNITURE.fullmatch(line)]


def pdf_table(documents: dict[str, str]) -> None:
    readers = _pdf_readers()
    totals: dict[tuple[str, str], list[float]] = {}
    pipeline: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index, (name, markdown) in enumerate(documents.items()):
            lines = extract_bytes(markdown.encode("utf-8"), Path(name).name).text.split("\n")
            for kind, path in _make_pdfs(folder, f"doc{index}", lines).items():
                for library, read in readers.items():
                    started = time.perf_counter()
                    text = read(path)
                    seconds = time.perf_counter() - started
                    got = _body_lines(text)
                    exact_spaces = _accuracy(_stream(lines, spaces=True), _stream(got, spaces=True))
                    no_spaces = _accuracy(_stream(lines, spaces=False), _stream(got, spaces=False))
                    totals.setdefault((kind, library), []).append(no_spaces)
                    totals.setdefault((kind, library + " (spaces)"), []).append(exact_spaces)
                    totals.setdefault((kind, library + " (s)"), []).append(seconds)
                extracted = extract_text(path).text.split("\n")
                matcher = difflib.SequenceMatcher(None, [" ".join(x.split()) for x in lines],
                                                  [" ".join(x.split()) for x in extracted], autojunk=False)
                same_lines = sum(block.size for block in matcher.get_matching_blocks()) / len(lines)
                chars = _accuracy(_stream(lines, spaces=True), _stream(extracted, spaces=True))
                pipeline.setdefault(kind, []).extend([same_lines, chars])
                pipeline.setdefault(kind + " lines", []).append(same_lines)
                pipeline.setdefault(kind + " chars", []).append(chars)
    kinds = sorted({kind for kind, _ in totals})
    print(f"\nPDF: mean over {len(documents)} regulations; character accuracy ignoring whitespace / counting spaces; "
          "seconds per document")
    print(f"| library | {' | '.join(kinds)} |")
    print("| --- |" + " --- |" * len(kinds))
    for library in readers:
        cells = []
        for kind in kinds:
            plain = _mean(totals[(kind, library)])
            spaced = _mean(totals[(kind, library + " (spaces)")])
            seconds = _mean(totals[(kind, library + " (s)")])
            cells.append(f"{plain:.4f} / {spaced:.4f} / {seconds:.2f} s")
        print(f"| {library} | {' | '.join(cells)} |")
    print("\nrag.formats (pypdfium2 + furniture removal + paragraph joining): lines given back exactly / "
          "character accuracy counting spaces")
    for kind in kinds:
        print(f"| {kind} | {_mean(pipeline[kind + ' lines']):.4f} | {_mean(pipeline[kind + ' chars']):.4f} |")


def html_table(documents: dict[str, str]) -> None:
    from rag.formats_html import _element_lines, decode_page, fragment_lines

    def by_trafilatura(page: str) -> list[str]:
        import trafilatura

        found = trafilatura.bare_extraction(page, include_tables=True, include_comments=False, with_metadata=True)
        return [] if found is None else _element_lines(found.body)

    def by_readability(page: str) -> list[str]:
        from readability import Document

        return list(fragment_lines(Document(page).summary(html_partial=True)))

    extractors = [(name, read) for name, read in (("trafilatura", by_trafilatura), ("readability-lxml", by_readability))
                  if _installed(_MODULES[name])]

    results: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for name, markdown in documents.items():
        lines = extract_bytes(markdown.encode("utf-8"), Path(name).name).text.split("\n")
        body = [" ".join(line.split()) for line in lines[1:]]
        for layout in ("article", "table", "spans"):
            page = decode_page(make_html(lines, layout=layout), name)
            for library, read in extractors:
                got = [" ".join(line.split()) for line in read(page)]
                found = sum(1 for line in body if line in got) / len(body)
                extra = sum(1 for line in got if line not in lines)
                results.setdefault((layout, library), []).append((found, extra))
    print(f"\nHTML: mean over {len(documents)} regulations; body lines found / extra (non-document) lines per page")
    print("| library | article (<p>) | table with <br> | TRS <div>/<span> |")
    print("| --- | --- | --- | --- |")
    for library, _ in extractors:
        cells = []
        for layout in ("article", "table", "spans"):
            values = results[(layout, library)]
            cells.append(f"{_mean([v[0] for v in values]):.4f} / {_mean([v[1] for v in values]):.1f}")
        print(f"| {library} | {' | '.join(cells)} |")


def _mean(values: list[float]) -> float:
    return sum(values) / max(1, len(values))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    documents = read_regulations(*DOCUMENTS)
    pdf_table(documents)
    html_table(documents)


if __name__ == "__main__":
    main()
