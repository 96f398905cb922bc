"""Web pages to plain lines: the page's main text (the article, without navigation, sidebars and
footer), one paragraph per line.

The main text is found by trafilatura, which kept the whole body of a Chinese government page in
every layout measured (docs/formats.md) where readability-lxml also let the page's date/source and
print/close lines through. Its plain-text output is not used: for a page laid out in a table with
<br> between lines it returns the whole document as one line. Instead its structured result is
written out here, paragraph by paragraph and line break by line break. The rest of the page junk
(source, visitor counters) is dropped later by rag/cleaning.py's general rules.

Bytes are decoded with the charset the page declares (GB2312 and GBK read as their superset
GB18030, as browsers do), else as rag/textio.decode_bytes decides.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from rag.errors import DecodeError, DocumentRejected
from rag.formats_base import Extraction
from rag.textio import decode_bytes

__all__ = ["declared_charset", "decode_page", "fragment_lines", "html_lines"]

_BLOCK = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody "
    "thead tfoot ul td th tr "
    # trafilatura's own vocabulary for the main text it returns
    "doc head item list quote row cell code".split()
)
_BREAK = frozenset({"br", "lb"})
_ROW = frozenset({"tr", "row"})
_CELL = frozenset({"td", "th", "cell"})
_SKIP = frozenset(
    "script style noscript template head title iframe object embed svg canvas button select option "
    "input textarea audio video map".split()
)
"""Elements whose content is never page text; `head` is skipped only in HTML (see _skip)."""
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SNIFF_BYTES = 4096
MAX_ELEMENTS_FOR_MAIN_TEXT = 8_000
"""Finding the main text costs trafilatura about half a millisecond per element (measured on 2 busy
cores), growing faster than the page; a page with more elements than this (a government article
page has one or two thousand) is written out whole in linear time instead, so that a huge page
cannot stall the caller."""
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def html_lines(data: bytes, name: str) -> Extraction:
    """The main text of a web page as lines: the page title's heading first, then the body."""
    import trafilatura

    page = decode_page(data, name)
    tree = _page_tree(page, name)
    if tree is None:
        return Extraction(())
    if sum(1 for _ in tree.iter()) > MAX_ELEMENTS_FOR_MAIN_TEXT:
        return Extraction(tuple(_element_lines(tree)), (
            "网页过大，未识别正文区域，保留全页文字 (page too large to find its main text: all page text kept)",))
    try:
        found = trafilatura.bare_extraction(
            tree, include_tables=True, include_comments=False, with_metadata=True, favor_recall=True
        )
    except Exception:  # noqa: BLE001 - the heuristics failing on an odd page is no reason to refuse it
        found = None
    if found is None or found.body is None:
        fallback = _page_tree(page, name)
        lines = () if fallback is None else tuple(_element_lines(fallback))
        return Extraction(lines, ("未识别正文区域，保留全页文字 (no main text found: all page text kept)",))
    lines = _element_lines(found.body)
    title = " ".join((found.title or "").split())
    if title and title not in (" ".join(line.split()) for line in lines[:3]):
        # trafilatura may place the page's own heading after a table body: the title leads instead
        lines = [title, *(line for line in lines if " ".join(line.split()) != title)]
    return Extraction(tuple(lines), ("网页导航、页脚等已去除 (page navigation and footer removed)",))


def _page_tree(page: str, name: str):
    import lxml.html

    parser = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True,
                                  remove_pis=True, no_network=True)
    try:
        return lxml.html.document_fromstring(page, parser=parser)
    except (etree.ParserError, ValueError):
        return None  # nothing parseable: no text, refused by the caller as such
    except etree.LxmlError as exc:
        raise DocumentRejected(f"{name}: the page cannot be read as HTML ({exc}); save it again from the browser") from None


def decode_page(data: bytes, name: str) -> str:
    """The page's text: its declared charset when the bytes decode with it, else decode_bytes."""
    charset = declared_charset(data)
    if charset and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _XML_DECLARATION.sub("", data.decode(charset))
        except UnicodeDecodeError:
            pass  # a page declaring one charset and written in another: decide from the bytes
    try:
        return _XML_DECLARATION.sub("", decode_bytes(data, name=name))
    except DecodeError as exc:
        raise DocumentRejected(str(exc)) from None


def declared_charset(data: bytes) -> str | None:
    """The Python codec of the charset a page declares in a <meta> tag near its start, if known."""
    match = _CHARSET.search(data[:_SNIFF_BYTES])
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _SUPERSETS.get(label, label)
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(codec, codec)


def fragment_lines(html: str) -> tuple[str, ...]:
    """The text of an HTML fragment or page as lines, breaking where a browser starts a new block."""
    if not html.strip():
        return ()
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    root = etree.fromstring(_XML_DECLARATION.sub("", html), parser)
    return () if root is None else tuple(_element_lines(root))


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.preformatted = 0  # depth of <pre> elements around the text being read

    def add(self, text: str | None) -> None:
        if not text:
            return
        if not self.preformatted:
            self.current.append(text)
            return
        first, *rest = text.split("\n")
        self.current.append(first)
        for piece in rest:
            self.end_line()
            self.current.append(piece)

    def end_line(self) -> None:
        line = " ".join("".join(self.current).split())
        if line:
            self.lines.append(line)
        self.current = []


def _element_lines(root: etree._Element) -> list[str]:
    """Walks the tree without recursion (deeply nested pages cannot overflow the stack)."""
    out = _Lines()
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if not tag or _skip(tag, element):
                walker.skip_subtree()  # its end event still comes, and adds its tail
                continue
            if tag in _BREAK:
                out.end_line()
            elif tag in _ROW and not _has_blocks(element):
                out.end_line()
                cells = (" ".join(cell.xpath("string()").split()) for cell in element if _tag(cell) in _CELL)
                out.add(" ".join(cell for cell in cells if cell))
                walker.skip_subtree()
                continue
            elif tag in _BLOCK:
                out.end_line()
            if tag == "pre":
                out.preformatted += 1
            out.add(element.text)
        else:
            if tag == "pre":
                out.preformatted -= 1
            if tag in _BLOCK:
                out.end_line()
            if element is not root:
                out.add(element.tail)
    out.end_line()
    return out.lines


def _skip(tag: str, element: etree._Element) -> bool:
    if tag == "head":
        parent = element.getparent()
        return parent is not None and _tag(parent) == "html"  # trafilatura's <head> is a heading
    return tag in _SKIP


def _tag(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _has_blocks(row: etree._Element) -> bool:
    return any(_tag(node) in _BLOCK or _tag(node) in _BREAK for cell in row for node in cell.iterdescendants())
