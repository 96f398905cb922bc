"""Files users bring become the same text whatever their format, or are refused in one clear line.

One real regulation from ../shared/scale/laws-md.tar.xz is written at test time as GBK .txt, .docx
(typed and with Word's automatic numbering), a multi-page PDF with a CJK font, a running header and
page numbers, and a web page with navigation and footer; every one must give the lines of its UTF-8
.txt and the same clauses. Every refusal is tried with a real file of that kind.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import zipfile
from pathlib import Path

import pytest
from formats_support import (
    PAGE_HEADER,
    ZHEJIANG_TRANSFER,
    make_docx,
    make_html,
    make_image_only_pdf,
    make_pdf,
    make_zip_bomb,
    read_regulations,
)

from rag.cleaning import junk_reason, split_lines
from rag.errors import CorpusError, DocumentRejected
from rag.formats import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_SUFFIXES,
    ExtractedText,
    extract_bytes,
    extract_text,
)
from rag.formats_docx_numbering import format_number
from rag.formats_html import MAX_ELEMENTS_FOR_MAIN_TEXT
from rag.parsing import parse_text


def _norm(text: str) -> str:
    return " ".join(text.split())


def _lines(extracted: ExtractedText) -> list[str]:
    return [_norm(line) for line in extracted.text.split("\n")]


@pytest.fixture(scope="module")
def markdown() -> str:
    return read_regulations(ZHEJIANG_TRANSFER)[ZHEJIANG_TRANSFER]


@pytest.fixture(scope="module")
def reference(markdown) -> ExtractedText:
    """The regulation's UTF-8 .txt: the text of its Markdown, as a reader sees it rendered."""
    text = extract_bytes(markdown.encode("utf-8"), "regulation.md").text
    return extract_bytes(text.encode("utf-8"), "regulation.txt")


@pytest.fixture(scope="module")
def derived(reference, tmp_path_factory) -> dict[str, ExtractedText]:
    folder = tmp_path_factory.mktemp("formats")
    lines = reference.text.split("\n")
    (folder / "gbk.txt").write_bytes(reference.text.encode("gbk"))
    (folder / "page.html").write_bytes(make_html(lines, charset="gbk"))
    make_docx(folder / "typed.docx", lines, header=PAGE_HEADER)
    make_docx(folder / "numbered.docx", lines, auto_numbering=True)
    make_pdf(folder / "printed.pdf", lines)
    names = {"gbk-txt": "gbk.txt", "html": "page.html", "docx": "typed.docx", "docx-autonumbered": "numbered.docx",
             "pdf": "printed.pdf"}
    return {kind: extract_text(folder / name) for kind, name in names.items()}


FORMATS = ["gbk-txt", "html", "docx", "docx-autonumbered", "pdf"]


# --- the same document in every format ---------------------------------------------------------

def test_markdown_keeps_headings_as_lines_and_drops_its_marks(markdown, reference) -> None:
    lines = _lines(reference)
    assert lines[0] == "浙江省促进科技成果转化条例"
    assert "第一章 总则" in lines and "第六章 附则" in lines
    assert not any(line.startswith(("#", "<!--", "-->")) or "INFO END" in line for line in lines)
    assert sum(1 for line in lines if re.match(r"^第[一二三四五六七八九十]+条", line)) == 48
    assert len(lines) == sum(1 for raw in markdown.splitlines() if raw.strip()) - 1  # all but the comment
    md = extract_bytes(markdown.encode("utf-8"), "regulation.md")
    assert md.format == "md" and any("HTML" in note for note in md.notes)


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_gives_the_lines_of_the_utf8_txt(derived, reference, kind) -> None:
    assert _lines(derived[kind]) == _lines(reference)


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_parses_to_the_same_clauses(derived, reference, kind) -> None:
    def clauses(extracted: ExtractedText) -> list[tuple[str, str]]:
        parsed = parse_text(extracted.text, name=f"regulation.{extracted.format}")
        return [(unit.label, _norm(extracted.text[unit.span[0]:unit.span[1]])) for unit in parsed.units]

    expected = clauses(reference)
    assert len(expected) > 50  # 48 articles, two of them split into items
    assert clauses(derived[kind]) == expected


def test_formats_are_reported(derived) -> None:
    assert {kind: derived[kind].format for kind in FORMATS} == {
        "gbk-txt": "txt", "html": "html", "docx": "docx", "docx-autonumbered": "docx", "pdf": "pdf"}


# --- PDF ---------------------------------------------------------------------------------------

def test_pdf_drops_running_header_and_page_numbers_and_says_so(derived) -> None:
    text = derived["pdf"].text
    assert PAGE_HEADER not in text
    assert not any(re.fullmatch(r"[-\s\d]+", line) for line in text.split("\n"))
    notes = " ".join(derived["pdf"].notes)
    assert "页眉页脚" in notes and "页码" in notes and "接回段落" in notes


def test_pdf_paragraph_split_by_a_page_break_is_one_line(reference, tmp_path) -> None:
    lines = reference.text.split("\n")
    pages = make_pdf(tmp_path / "doc.pdf", lines)
    # pages[k] is header, body pieces…, page number: find a paragraph running over a page break
    split = next(
        line for line in lines
        for page, following in itertools.pairwise(pages)
        if page[-2] + following[1] in line and not line.startswith(following[1])
    )
    assert split in extract_text(tmp_path / "doc.pdf").text.split("\n")


@pytest.mark.parametrize("style", ["第 {n} 页", "{n}", "— {n} —", "第{n}页 共9页"])
def test_pdf_page_number_styles_never_reach_the_text(reference, tmp_path, style) -> None:
    lines = reference.text.split("\n")[:40]
    make_pdf(tmp_path / "doc.pdf", lines, page_number_style=style, header="科技成果转化条例汇编")
    got = extract_text(tmp_path / "doc.pdf")
    assert [_norm(line) for line in got.text.split("\n")] == [_norm(line) for line in lines]


def test_pdf_with_a_non_embedded_cid_font_reads_the_same(reference, tmp_path) -> None:
    lines = reference.text.split("\n")[:30]
    make_pdf(tmp_path / "cid.pdf", lines, font="cid")
    assert _lines(extract_text(tmp_path / "cid.pdf")) == [_norm(line) for line in lines]


def test_pdf_with_every_glyph_placed_and_justified_reads_the_same(reference, tmp_path) -> None:
    lines = reference.text.split("\n")[:30]
    make_pdf(tmp_path / "glyphs.pdf", lines, glyphs=True)
    assert _lines(extract_text(tmp_path / "glyphs.pdf")) == [_norm(line) for line in lines]


# --- Word --------------------------------------------------------------------------------------

def test_docx_automatic_article_numbers_are_written_back(derived) -> None:
    lines = _lines(derived["docx-autonumbered"])
    assert "第一条 为了全面实施创新驱动发展战略" in lines[5]
    assert any(line.startswith("第四十八条 ") for line in lines)
    assert any("自动编号 48 处" in note for note in derived["docx-autonumbered"].notes)


def test_docx_multilevel_numbering_restarts_and_formats_each_level(tmp_path) -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    levels = [("chineseCounting", "%1、", "nothing"), ("chineseCounting", "（%2）", "nothing"),
              ("decimal", "%3.", "tab"), ("ideographTraditional", "%4、", "nothing")]
    lvl_xml = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:suff w:val="{suff}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>' for i, (fmt, text, suff) in enumerate(levels))
    numbering.append(parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="7">{lvl_xml}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="7"><w:abstractNumId w:val="7"/></w:num>'))
    plan = [(0, "总体要求"), (1, "指导思想"), (2, "坚持创新"), (2, "坚持开放"), (3, "甲项"), (3, "乙项"), (1, "基本原则"),
            (0, "重点任务"), (1, "提升创新能力"), (2, "引进人才")]
    for level, text in plan:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="7"/></w:numPr>'))
    document.add_paragraph("一段没有编号的文字。")
    document.save(tmp_path / "levels.docx")
    assert extract_text(tmp_path / "levels.docx").text.split("\n") == [
        "一、总体要求", "（一）指导思想", "1.坚持创新", "2.坚持开放", "甲、甲项", "乙、乙项", "（二）基本原则",
        "二、重点任务", "（一）提升创新能力", "1.引进人才", "一段没有编号的文字。",
    ]


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (3, "chineseCounting", "三"), (21, "chineseCounting", "二十一"), (3, "ideographTraditional", "丙"),
    (12, "decimal", "12"), (4, "upperRoman", "IV"), (2, "lowerLetter", "b"), (5, "decimalEnclosedCircle", "⑤"),
    (13, "chineseLegalSimplified", "拾叁"), (10, "ideographDigital", "一〇"), (3, "decimalFullWidth", "３"),
])
def test_word_number_formats(value, fmt, shown) -> None:
    assert format_number(value, fmt) == shown


def test_docx_tables_become_one_line_per_row(tmp_path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("附件：支持项目清单")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("序号", "项目", "金额"), ("1", "科技成果转化", "100万元"), ("2", "人才引进", "50万元")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("以上项目按规定执行。")
    document.save(tmp_path / "table.docx")
    assert extract_text(tmp_path / "table.docx").text.split("\n") == [
        "附件：支持项目清单", "序号 项目 金额", "1 科技成果转化 100万元", "2 人才引进 50万元", "以上项目按规定执行。"]


# --- web pages and Markdown --------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["table", "spans"])
def test_html_layouts_keep_every_body_line_and_only_page_junk_besides(reference, layout) -> None:
    lines = _lines(reference)
    got = _lines(extract_bytes(make_html(reference.text.split("\n"), layout=layout), "page.htm"))
    body = [line for line in got if line in lines]
    assert body == lines
    extra = [line for line in got if line not in lines]
    assert all(junk_reason(line) for line in split_lines("\n".join(extra))), extra


def test_html_declaring_utf8_but_written_in_gbk_is_still_read(reference) -> None:
    page = make_html(reference.text.split("\n"), charset="gbk").replace(b"charset=gbk", b"charset=utf-8")
    assert _lines(extract_bytes(page, "page.html")) == _lines(reference)


def test_markdown_lists_links_emphasis_and_tables_become_plain_lines() -> None:
    source = (
        "# 关于支持科技创新的若干措施\n\n<!-- 注释 -->\n## 一、总体要求\n\n"
        "**重点**支持[高新区](http://example.cn/a)建设，*鼓励* `创新`。\n\n"
        "1. 第一项措施\n2. 第二项措施\n\n- 要点甲\n- 要点乙\n\n"
        "| 序号 | 名称 |\n| --- | --- |\n| 1 | 甲企业 |\n\n第一条 正文一\n第二条 正文二\n"
    )
    assert extract_bytes(source.encode("utf-8"), "m.md").text.split("\n") == [
        "关于支持科技创新的若干措施", "一、总体要求", "重点支持高新区建设，鼓励 创新。", "1. 第一项措施",
        "2. 第二项措施", "要点甲", "要点乙", "序号 名称", "1 甲企业", "第一条 正文一", "第二条 正文二",
    ]


def test_huge_html_page_is_written_out_whole_in_linear_time() -> None:
    count = MAX_ELEMENTS_FOR_MAIN_TEXT * 2
    page = ("<html><body><div class='nav'><a href='/'>首页</a></div>"
            + "".join(f"<p>第{i}段 这是一段用于测试大网页的正文。</p>" for i in range(count)) + "</body></html>").encode()
    started = time.perf_counter()
    got = extract_bytes(page, "huge.html")
    assert time.perf_counter() - started < 30
    assert len(got.text.split("\n")) == count + 1 and any("过大" in note for note in got.notes)


def test_deeply_nested_html_is_refused_or_read_without_crashing() -> None:
    page = ("<div>" * 50_000 + "第一条 正文。" + "</div>" * 50_000).encode()
    try:
        got = extract_bytes(page, "deep.html")
    except DocumentRejected as error:
        assert "deep.html" in str(error)
    else:
        assert "第一条 正文。" in got.text


# --- refusals ----------------------------------------------------------------------------------

def _refusal(path_or_data, name: str | None = None, **kwargs) -> str:
    with pytest.raises(DocumentRejected) as error:
        if name is None:
            extract_text(path_or_data, **kwargs)
        else:
            extract_bytes(path_or_data, name, **kwargs)
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    assert isinstance(error.value, CorpusError)
    return message


def test_unsupported_suffix_lists_the_supported_ones(tmp_path) -> None:
    (tmp_path / "政策.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    message = _refusal(tmp_path / "政策.doc")
    assert "政策.doc" in message and all(suffix in message for suffix in SUPPORTED_SUFFIXES)


@pytest.mark.parametrize("name", ["scan.txt", "scan.md", "scan.html", "scan.pdf", "scan.docx"])
def test_binary_data_is_refused(name) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    message = _refusal(png, name)
    assert name in message and re.search(r"binary|not a PDF|not a Word", message)


def test_old_word_doc_renamed_docx_is_told_to_save_as_docx() -> None:
    assert "save it as .docx" in _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "old.docx")


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_empty_file_is_refused(tmp_path, suffix) -> None:
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    assert "empty" in _refusal(tmp_path / f"empty{suffix}")


@pytest.mark.parametrize(("name", "data"), [
    ("blank.txt", " \n\t\r\n\u3000\u3000\n".encode()),
    ("marks.md", b"#\n\n---\n\n<!-- INFO END -->\n\n* \n"),
    ("shell.html", b"<html><head><title></title><script>var a=1;</script></head><body><div> </div></body></html>"),
    ("blank.docx", None),
])
def test_no_recognisable_text_is_refused(tmp_path, name, data) -> None:
    if data is None:
        import docx

        document = docx.Document()
        document.add_paragraph("   ")
        buffer = io.BytesIO()
        document.save(buffer)
        data = buffer.getvalue()
    assert "no recognisable text" in _refusal(data, name)


def test_scanned_pdf_is_refused_with_ocr_advice(tmp_path) -> None:
    message = _refusal(make_image_only_pdf(tmp_path / "scan.pdf"))
    assert "scan.pdf" in message and "looks scanned" in message and "OCR" in message


def test_scanned_page_inside_a_text_pdf_is_named_in_a_note(reference, tmp_path) -> None:
    import pypdf

    lines = reference.text.split("\n")[:40]
    make_pdf(tmp_path / "text.pdf", lines)
    make_image_only_pdf(tmp_path / "scan.pdf")
    writer = pypdf.PdfWriter()
    writer.append(tmp_path / "text.pdf")
    writer.append(tmp_path / "scan.pdf")
    writer.write(tmp_path / "mixed.pdf")
    pages = len(pypdf.PdfReader(tmp_path / "mixed.pdf").pages)
    got = extract_text(tmp_path / "mixed.pdf")
    assert _lines(got) == [_norm(line) for line in lines]
    assert any(f"第 {pages} 页没有文字层" in note for note in got.notes)


def test_encrypted_pdf_is_refused(reference, tmp_path) -> None:
    import pypdf

    make_pdf(tmp_path / "plain.pdf", reference.text.split("\n")[:20])
    writer = pypdf.PdfWriter(clone_from=tmp_path / "plain.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    writer.write(tmp_path / "locked.pdf")
    message = _refusal(tmp_path / "locked.pdf")
    assert "locked.pdf" in message and "encrypted" in message and "password" in message


def test_oversize_file_names_size_limit_and_setting(reference, tmp_path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(reference.text.encode("utf-8"))
    message = _refusal(path, max_bytes=10 * 1024)
    assert "big.txt" in message and "10.0 KB" in message and "POLICYQA_MAX_UPLOAD_MB" in message
    assert re.search(r"\d+\.\d KB is over", message)
    assert _refusal(reference.text.encode("utf-8"), "big.txt", max_bytes=1000)
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_truncated_docx_is_refused_as_damaged(reference, tmp_path) -> None:
    data = make_docx(tmp_path / "whole.docx", reference.text.split("\n")).read_bytes()
    message = _refusal(data[: len(data) // 2], "cut.docx")
    assert "cut.docx" in message and "damaged" in message


def test_docx_missing_its_document_part_is_refused(tmp_path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "not a Word document" in _refusal(buffer.getvalue(), "sheet.docx")


def test_zip_bomb_docx_is_refused_before_inflating(tmp_path) -> None:
    bomb = make_zip_bomb(tmp_path / "bomb.docx", unpacked_mb=220)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    started = time.perf_counter()
    message = _refusal(bomb)
    assert time.perf_counter() - started < 2
    assert "bomb.docx" in message and "zip bomb" in message and re.search(r"unpacks to 22\d\.\d MB", message)


@pytest.mark.parametrize("cut", ["half", "garbage"])
def test_broken_pdf_is_refused_or_read_never_crashes(reference, tmp_path, cut) -> None:
    data = (tmp_path / "whole.pdf")
    make_pdf(data, reference.text.split("\n")[:40])
    raw = data.read_bytes()
    broken = raw[: len(raw) // 2] if cut == "half" else raw[:20] + bytes(range(256)) * 50
    try:
        got = extract_bytes(broken, "broken.pdf")
    except DocumentRejected as error:
        assert "broken.pdf" in str(error) and "\n" not in str(error)
    else:
        assert "第一条" in got.text  # PDFium rebuilt what was there


def test_missing_file_and_folder_are_refused(tmp_path) -> None:
    assert "cannot be read" in _refusal(tmp_path / "missing.pdf")
    (tmp_path / "folder.md").mkdir()
    assert "folder" in _refusal(tmp_path / "folder.md")


def test_extracted_text_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        ExtractedText("x", "rtf")
    assert Path("a.HTM").suffix.lower() in SUPPORTED_SUFFIXES
