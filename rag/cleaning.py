"""Finding the document inside a file: the header, the body and the closing, and the web-page junk around.

Works on line spans of the raw text and never rewrites it, so every span stays an offset into the file.
The rules are general (where a government document starts and ends, what page furniture looks like),
not tuned to one page:

- the body starts at the addressee line (各…：) before the first top-level heading (一、 / 第一章 /
  第一条), or at that heading when there is none; short title-like lines right above it (title, document
  number, 征求意见稿, 附件), possibly with page junk between them, are the header;
- the body ends with the closing: the last date line (2020年9月30日) after the first heading, the
  signature lines right above it and parenthesised notes right below it (（此件公开发布）);
- everything before the header and after the closing is dropped, and inside the body short lines that
  look like page furniture (breadcrumbs, source/author/date fields, font-size switches, contact details,
  visitor counters, print/close/share links, copyright lines) are dropped too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.normalize import normalize_for_match

__all__ = ["Cleaned", "DroppedLine", "Line", "clean", "split_lines"]


@dataclass(frozen=True, slots=True)
class Line:
    """A non-blank line: `start`/`end` bound its text without indentation or trailing whitespace."""

    number: int  # 1-based line number in the file
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class DroppedLine:
    line: Line
    reason: str


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The lines of one file sorted into header, body (preamble and numbered text) and closing."""

    header: tuple[Line, ...]
    body: tuple[Line, ...]
    closing: tuple[Line, ...]
    dropped: tuple[DroppedLine, ...]
    breaks: frozenset[int] = frozenset()
    """Line numbers of body lines that follow a dropped junk line: text must not run across them."""


_LINE = re.compile(r"[^\n]*\n?")


def split_lines(text: str) -> tuple[Line, ...]:
    """Every non-blank line of `text` with its exact span (indentation and trailing space excluded)."""
    lines: list[Line] = []
    for number, match in enumerate(_LINE.finditer(text), start=1):
        raw = match.group()
        if not raw:
            break
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            lines.append(Line(number, start, start + len(stripped), stripped))
    return tuple(lines)


_CN = "一二三四五六七八九十"
FIRST_HEADING = re.compile(r"^(一、|第一章|第一条)")
_TOP_HEADING = re.compile(rf"^([{_CN}]+、|第[{_CN}百零〇]+[章条])")
_DATE = re.compile(
    r"^(\d{4}|[〇零○Ｏ一二三四五六七八九]{4})年[\d〇○一二三四五六七八九十]{1,3}月[\d〇○一二三四五六七八九十]{1,3}日$"
)
_NOTE = re.compile(r"^[（(][^（）()]{1,30}[）)]$")
_ADDRESSEE_WORDS = re.compile(r"各|政府|部门|单位|机构|委员会")
_TITLE_WORDS = re.compile(r"关于|意见|通知|办法|规定|方案|决定|细则|条例|措施|规划|纲要|〔\d{4}〕")
_NOT_HEADER_CHARS = re.compile(r"[。，；,;：:!！?？【】>|/@]|https?")
_MAX_HEADER_LINES = 8

JUNK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("breadcrumb", re.compile(r"^(首页|网站首页|主页)[>›»/＞]|^(当前位置|您的位置|您现在的位置)[:：]")),
    (
        "page field",
        re.compile(r"^(来源|信息来源|作者|日期|发布日期|发布时间|时间|编辑|责任编辑|浏览次数|点击数|阅读次数)[:：]"),
    ),
    ("font size switch", re.compile(r"^【?(字号|字体)|【[大中小]】")),
    ("contact line", re.compile(r"^(联系人|联系电话|电话|手机|传真|邮箱|电子邮箱|e-?mail|地址|邮编|qq)[:：]", re.IGNORECASE)),
    ("visitor counter", re.compile(r"您是本站第\d+位|(访问|来访|访客)(者|量|人次)|浏览量")),
    ("page link", re.compile(r"打印本页|关闭窗口|【打印】|【关闭】|分享到|扫一扫|更多>>|返回顶部")),
    ("copyright line", re.compile(r"版权所有|ICP备|技术支持[:：]|主办单位[:：]|承办单位[:：]", re.IGNORECASE)),
)
_MAX_JUNK_LINE = 80
"""Only short lines are judged by the patterns: a long paragraph is document text whatever it mentions."""


def junk_reason(line: Line) -> str | None:
    """Why a line is page furniture (a pattern name), or None if it does not look like any."""
    if len(line.text) > _MAX_JUNK_LINE:
        return None
    folded = normalize_for_match(line.text)
    for name, pattern in JUNK_PATTERNS:
        if pattern.search(folded):
            return name
    return None


def clean(text: str) -> Cleaned:
    """Sort the lines of a file's text; see the module docstring for the rules."""
    lines = split_lines(text)
    first = _first_heading(lines)
    if first is None:
        start, header_start = 0, 0
    else:
        start = _addressee(lines, first)
        header_start = _header_start(lines, start)
    end, closing_start = _closing(lines, first if first is not None else 0)

    dropped: list[DroppedLine] = []
    for line in lines[:header_start]:
        dropped.append(DroppedLine(line, f"before the document ({junk_reason(line) or 'not document text'})"))
    header: list[Line] = []
    for line in lines[header_start:start]:
        reason = junk_reason(line)
        if reason:
            dropped.append(DroppedLine(line, reason))
        else:
            header.append(line)
    body: list[Line] = []
    breaks: set[int] = set()
    after_junk = False
    for line in lines[start:closing_start]:
        reason = junk_reason(line)
        if reason:
            dropped.append(DroppedLine(line, reason))
            after_junk = True
            continue
        if after_junk:
            breaks.add(line.number)
            after_junk = False
        body.append(line)
    for line in lines[end:]:
        dropped.append(DroppedLine(line, f"after the document ({junk_reason(line) or 'not document text'})"))
    dropped.sort(key=lambda d: d.line.start)
    return Cleaned(
        header=tuple(header),
        body=tuple(body),
        closing=lines[closing_start:end],
        dropped=tuple(dropped),
        breaks=frozenset(breaks),
    )


def _first_heading(lines: tuple[Line, ...]) -> int | None:
    """Index of the document's 一、 / 第一章 / 第一条: the first one not directly followed by its own
    二、 / 第二章 / 第二条 (that is a numbered menu in the page furniture), else the first one."""
    firsts = [(i, m.group()) for i, line in enumerate(lines) if (m := FIRST_HEADING.match(_folded(line)))]
    for i, mark in firsts:
        following = _folded(lines[i + 1]) if i + 1 < len(lines) else ""
        if not following.startswith(mark.replace("一", "二")):
            return i
    return firsts[0][0] if firsts else None


def _folded(line: Line) -> str:
    return normalize_for_match(line.text)


def _is_header_like(line: Line) -> bool:
    return len(line.text) <= 60 and not _NOT_HEADER_CHARS.search(line.text) and junk_reason(line) is None


def _addressee(lines: tuple[Line, ...], first: int) -> int:
    """Index where the body starts: the last addressee line before the first heading, else the heading."""
    for i in range(first - 1, -1, -1):
        text = _folded(lines[i])
        if len(text) <= 100 and text.endswith(":") and "。" not in text and _ADDRESSEE_WORDS.search(text):
            return i
    return first


def _header_start(lines: tuple[Line, ...], start: int) -> int:
    """Walk up over title-like lines (and page junk between them) right above the body; they are the
    header if one of them names a title or a document number."""
    top, titles, junk = start, 0, 0
    while top > 0:
        line = lines[top - 1]
        if junk_reason(line):
            junk += 1
        elif _is_header_like(line):
            titles += 1
        else:
            break
        if titles > _MAX_HEADER_LINES or junk > _MAX_HEADER_LINES:
            break
        top -= 1
    while top < start and junk_reason(lines[top]):
        top += 1  # junk above the topmost title line is before the document, not inside the header
    if any(_TITLE_WORDS.search(_folded(line)) for line in lines[top:start] if not junk_reason(line)):
        return top
    return start


def _closing(lines: tuple[Line, ...], first: int) -> tuple[int, int]:
    """(end, closing_start): the body's lines end before `end`; the closing runs from closing_start."""
    date = next((i for i in range(len(lines) - 1, first, -1) if _DATE.match(_folded(lines[i]))), None)
    if date is None:
        end = len(lines)
        while end > first + 1 and junk_reason(lines[end - 1]):
            end -= 1
        return end, end
    closing_start = date
    while closing_start - 1 > first and date - closing_start < 3 and _is_signature(lines[closing_start - 1]):
        closing_start -= 1
    end = date + 1
    while end < len(lines) and _NOTE.match(lines[end].text):
        end += 1
    return end, closing_start


def _is_signature(line: Line) -> bool:
    return _is_header_like(line) and not _TOP_HEADING.match(_folded(line)) and len(line.text) <= 30
