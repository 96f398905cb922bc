"""Makers of the files users bring, written from a document's text lines at test time: a Word file
(optionally with Word's automatic numbering), a multi-page PDF with a CJK font, a running header and
page numbers, and a web page with navigation around the body. Used by tests/test_formats.py and by
benchmarks/pdf_extractors.py; nothing here is product code.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path


def _scale_archive() -> Path:
    """../shared/scale/laws-md.tar.xz beside the checkout (CI), or beside a folder holding it (a worktree)."""
    relative = Path("shared") / "scale" / "laws-md.tar.xz"
    for folder in Path(__file__).resolve().parents[1:]:
        if (folder / relative).is_file():
            return folder / relative
    return Path(__file__).resolve().parents[2] / relative


SCALE_ARCHIVE = _scale_archive()
ZHEJIANG_TRANSFER = "DLC/浙江地方法规/地方性法规/浙江/浙江省促进科技成果转化条例(2021-09-30).md"
WQY_ZENHEI = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
"""Debian's fonts-wqy-zenhei (scripts/setup.sh --test installs it): a TrueType CJK font reportlab embeds."""


def read_regulations(*members: str) -> dict[str, str]:
    """The Markdown text of the named members of ../shared/scale/laws-md.tar.xz (read, never copied)."""
    wanted = {member.removeprefix("./") for member in members}
    found: dict[str, str] = {}
    with tarfile.open(SCALE_ARCHIVE, "r:xz") as archive:
        for info in archive:
            name = info.name.removeprefix("./")
            if name in wanted:
                handle = archive.extractfile(info)
                assert handle is not None
                found[name] = handle.read().decode("utf-8")
                if len(found) == len(wanted):
                    break
    missing = wanted - set(found)
    if missing:
        raise FileNotFoundError(f"not in {SCALE_ARCHIVE}: {sorted(missing)}")
    return found


_TIAO = re.compile(r"^(第[一二三四五六七八九十百零〇]+条)\s*")
_CN_DIGITS = "零一二三四五六七八九"


# --- Word ---------------------------------------------------------------------------------------

def make_docx(path: Path, lines: list[str], *, auto_numbering: bool = False, header: str | None = None) -> Path:
    """A .docx with one paragraph per line, the first line as the title, chapter headings centred,
    paragraphs justified with a two-character first-line indent. With auto_numbering, every article's
    第X条 is removed from its text and produced by a Word numbering definition instead (lvlText
    第%1条, numFmt chineseCounting, a space after the number), as Word users write them. With a
    header, every page carries it at the top and a "- N -" page number field at the bottom."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Pt

    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "WenQuanYi Zen Hei"
    style.element.rPr.rFonts.set(qn_east_asia(), "WenQuanYi Zen Hei")
    style.font.size = Pt(12)
    style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    num_id = _add_article_numbering(document, parse_xml, nsdecls) if auto_numbering else None
    for index, line in enumerate(lines):
        if index == 0:
            document.add_heading(line, level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
            continue
        if re.match(r"^第[一二三四五六七八九十]+章", line):
            document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
            continue
        match = _TIAO.match(line) if num_id is not None else None
        paragraph = document.add_paragraph(line[match.end():] if match else line)
        paragraph.paragraph_format.first_line_indent = Pt(24)
        if match:
            paragraph._p.get_or_add_pPr().append(
                parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>')
            )
    if header is not None:
        section = document.sections[0]
        section.header.paragraphs[0].text = header
        section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run("- ")
        footer._p.append(parse_xml(
            f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
        footer._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> -</w:t></w:r>'))
    document.save(path)
    return path


def qn_east_asia() -> str:
    from docx.oxml.ns import qn

    return qn("w:eastAsia")


def _add_article_numbering(document, parse_xml, nsdecls) -> int:
    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:multiLevelType w:val="multilevel"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:suff w:val="space"/><w:lvlText w:val="第%1条"/><w:lvlJc w:val="left"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="（%2）"/><w:lvlJc w:val="left"/></w:lvl>'
        "</w:abstractNum>"
    )
    first_num = next(iter(numbering.findall("{*}num")), None)
    if first_num is not None:
        first_num.addprevious(abstract)  # abstractNum elements precede num elements in the schema
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return 90


def make_zip_bomb(path: Path, *, unpacked_mb: int) -> Path:
    """A real .docx (python-docx's) plus a part of `unpacked_mb` MB of zeros that really inflates to
    that size: raw deflate blocks of 1 MB of zeros, each ending on a full flush so they can be
    repeated, written into the ZIP by hand (compressing hundreds of MB here would take seconds)."""
    import binascii
    import io
    import struct
    import zipfile
    import zlib

    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as source:
        members = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    chunk = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = block * unpacked_mb + zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(unpacked_mb):
        crc = binascii.crc32(chunk, crc)
    entries = [(name, 0, data, binascii.crc32(data), len(data)) for name, data in members]
    entries.append(("word/media/image1.png", 8, deflated, crc, unpacked_mb << 20))
    out, central = io.BytesIO(), io.BytesIO()
    for name, method, data, checksum, size in entries:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, checksum, len(data), size,
                              len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, checksum,
                                  len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central.getvalue()),
                          start, 0))
    path.write_bytes(out.getvalue())
    return path


# --- PDF ----------------------------------------------------------------------------------------

PAGE_HEADER = "浙江省人民代表大会常务委员会公报"


def make_pdf(path: Path, lines: list[str], *, font: str = "ttf", header: str = PAGE_HEADER,
             page_number_style: str = "- {n} -", glyphs: bool = False) -> list[list[str]]:
    """A multi-page A4 PDF laid out like a printed regulation: a centred title, chapter headings
    centred, paragraphs indented two characters and wrapped at the page width, a running header and
    a page number on every page. font "ttf" embeds WenQuanYi Zen Hei (as office software embeds
    fonts); "cid" uses reportlab's built-in STSong-Light (not embedded). With glyphs, every character
    is placed on its own and full lines are justified to both margins, as some office and print-to-PDF
    software write them. Returns, per page, the strings drawn in drawing order."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    name = _register_font(font)
    size, leading = 12.0, 20.0
    width, height = A4
    left, right, top, bottom = 72.0, 72.0, 80.0, 80.0
    text_width = width - left - right
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pages: list[list[str]] = [[]]
    y = height - top

    def start_page() -> None:
        nonlocal y
        pdf.setFont(name, 9)
        pdf.drawCentredString(width / 2, height - 45, header)
        pdf.line(left, height - 50, width - right, height - 50)
        pages[-1].append(header)
        y = height - top

    def end_page() -> None:
        number = page_number_style.format(n=len(pages))
        pdf.setFont(name, 9)
        pdf.drawCentredString(width / 2, 40, number)
        pages[-1].append(number)
        pdf.showPage()
        pages.append([])
        start_page()

    start_page()
    for index, line in enumerate(lines):
        centred = index == 0 or re.match(r"^第[一二三四五六七八九十]+章", line) is not None
        font_size = 16.0 if index == 0 else size
        indent = 0.0 if centred else 2 * font_size
        wrapped = _wrap(line, name, font_size, text_width, indent, pdfmetrics)
        for row, piece in enumerate(wrapped):
            if y < bottom:
                end_page()
            pdf.setFont(name, font_size)
            if centred:
                pdf.drawCentredString(width / 2, y, piece)
            elif glyphs:
                x0 = left + (indent if row == 0 else 0.0)
                _draw_glyphs(pdf, piece, x0, y, width - right - x0 if row < len(wrapped) - 1 else None,
                             name, font_size, pdfmetrics)
            else:
                pdf.drawString(left + (indent if row == 0 else 0.0), y, piece)
            pages[-1].append(piece)
            y -= leading if index else leading * 1.5
    number = page_number_style.format(n=len(pages))
    pdf.setFont(name, 9)
    pdf.drawCentredString(width / 2, 40, number)
    pages[-1].append(number)
    pdf.save()
    return pages


def _draw_glyphs(pdf, piece: str, x: float, y: float, justify_to: float | None, font: str, size: float,
                 pdfmetrics) -> None:
    widths = [pdfmetrics.stringWidth(char, font, size) for char in piece]
    gap = (justify_to - sum(widths)) / (len(piece) - 1) if justify_to and len(piece) > 1 else 0.0
    for char, char_width in zip(piece, widths, strict=True):
        pdf.drawString(x, y, char)
        x += char_width + gap


def _register_font(font: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    if font == "cid":
        if "STSong-Light" not in registered:
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    if "WQYZenHei" in registered:
        return "WQYZenHei"  # reading the 17 MB font file takes a second: once per process
    if not WQY_ZENHEI.is_file():
        raise FileNotFoundError(f"{WQY_ZENHEI} is missing: run `bash scripts/setup.sh --test` (fonts-wqy-zenhei)")
    pdfmetrics.registerFont(TTFont("WQYZenHei", str(WQY_ZENHEI), subfontIndex=0))
    return "WQYZenHei"


def _wrap(line: str, font: str, size: float, width: float, indent: float, pdfmetrics) -> list[str]:
    pieces: list[str] = []
    current, available = "", width - indent
    for char in line:
        if current and pdfmetrics.stringWidth(current + char, font, size) > available:
            pieces.append(current)
            current, available = "", width
        current += char
    if current:
        pieces.append(current)
    return pieces


def make_image_only_pdf(path: Path) -> Path:
    """A PDF whose page is a picture of text (as a scanner makes): no text layer at all."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (800, 1100), 255)
    draw = ImageDraw.Draw(image)
    for row in range(30):
        draw.rectangle((80, 80 + row * 32, 720, 96 + row * 32), fill=40)  # lines of "ink"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
    pdf.showPage()
    pdf.save()
    return path


# --- web page -----------------------------------------------------------------------------------

def make_html(lines: list[str], *, charset: str = "utf-8", layout: str = "article") -> bytes:
    """A government-site article page: navigation, breadcrumb, the document, related links and a
    footer; encoded in `charset` and declaring it. Layouts seen on such sites: "article" (paragraphs
    as <p> in a content <div>), "table" (an old table layout, lines separated by <br> in one cell),
    "spans" (a TRS editor <div> of <div>/<span> lines with font tags)."""
    title, body = lines[0], lines[1:]
    if layout == "article":
        content = "\n".join(f'<p style="text-indent:2em">{_escape(line)}</p>' for line in body)
    elif layout == "table":
        content = "<table width=\"100%\"><tr><td class=\"bt_content\">" + "<br>\n".join(
            f"&nbsp;&nbsp;&nbsp;&nbsp;{_escape(line)}" for line in body) + "</td></tr></table>"
    elif layout == "spans":
        content = '<div class="TRS_Editor">' + "\n".join(
            f'<div style="line-height:1.5"><span style="font-family:仿宋"><font size="3">{_escape(line)}</font></span></div>'
            for line in body) + "</div>"
    else:
        raise ValueError(layout)
    nav = "".join(f'<li><a href="/c{i}/">{label}</a></li>' for i, label in enumerate(
        ["首页", "机构概况", "政务公开", "政策文件", "政务服务", "互动交流", "专题专栏"]))
    related = "".join(f'<li><a href="/r{i}.html">关于做好第{_CN_DIGITS[i]}批科技项目申报工作的通知</a></li>'
                      for i in range(1, 6))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{_escape(title)}_政策文件_门户网站</title>
<script>var _hmt = _hmt || []; (function() {{ var hm = document.createElement("script"); }})();</script>
<style>body {{ font-family: SimSun; }} .nav li {{ display: inline; }}</style></head>
<body>
<div class="header"><div class="logo">人民政府门户网站</div>
<ul class="nav">{nav}</ul>
<form class="search"><input type="text" name="q" value="请输入关键词"><button>搜索</button></form></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zcwj/">政策文件</a> &gt; 正文</div>
<div class="main"><div class="article">
<h1>{_escape(title)}</h1>
<div class="info">发布时间：2021-10-08 来源：省人大常委会 浏览次数：1024 【字号：大 中 小】</div>
<div class="content" id="zoom">
{content}
</div>
<div class="tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
<div class="related"><h3>相关文件</h3><ul>{related}</ul></div></div>
<div class="footer"><p>主办单位：人民政府办公厅 版权所有</p><p>网站标识码：3300000000 ICP备05001234号</p>
<p>联系电话：0571-12345678</p></div>
</body></html>
"""
    return page.encode(charset)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
