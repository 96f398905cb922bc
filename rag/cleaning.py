"""Finding the document inside a file: the header, the body and the closing, and the web-page junk around.

Works on line spans of the raw text and never rewrites it, so every span stays an offset into the file.
The rules are general (where a government document starts and ends, what page furniture looks like),
not tuned to one page:

- the body starts at the addressee line (各…：) before the first top-level heading (一、 / 第一编 /
  第一章 / 第一条), or at that heading when there is none; short title-like lines right above it (title,
  document number, 征求意见稿, 附件), possibly with page junk between them, are the header;
- a law or regulation (first heading 第X编 / 第X章 / 第X条), or any document with adoption or amendment
  notes (2022年12月29日…会议通过) or an opening paragraph between its title and its first heading,
  keeps only its title lines as the header: the notes, a table of contents, the paragraph and a 序言
  are body, so the parser makes them a citable unit;
- the body ends with the closing: the last date line (2020年9月30日) after the first heading, the
  signature lines right above it and parenthesised notes right below it (（此件公开发布）);
- everything before the header and after the closing is dropped, and inside the body short lines that
  look like page furniture (breadcrumbs, source/author/date fields, font-size switches, contact details,
  visitor counters, print/close/share links, copyright lines) are dropped too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rag.normalize import normalize_for_match
from rag.numbering import match_mark

__all__ = ["Cleaned", "DroppedLine", "Line", "clean", "is_adoption_note", "split_lines"]


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


def split_lines(text: str) -> tuple[Line, ...]:
    """Every non-blank line of `text` with its exact span (indentation and trailing space excluded)."""
    lines: list[Line] = []
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if stripped:
            start = offset + (len(raw) - len(raw.lstrip()))
            lines.append(Line(number, start, start + len(stripped), stripped))
        offset += len(raw) + 1
    return tuple(lines)


_CN = "一二三四五六七八九十"
FIRST_HEADING = re.compile(r"^(一、|第一编|第一章|第一条)")
_FIRST_HEADING_UNFOLDED = re.compile(r"^(一、|第一[编編章条條])")
_TOP_HEADING = re.compile(rf"^([{_CN}]+、|第[{_CN}百零〇]+[章条])")
_LAW_HEADING = re.compile(rf"^第[{_CN}百千零〇]+(分编|编|章|节|条)")
_LAW_FIRST = re.compile(rf"^第[{_CN}百千零〇]+(编|章|条)(之[{_CN}]+)?(\s|$)")
"""A heading that opens a law whose numbering does not start at one (an excerpt, a 修正案 numbered on)."""
_ADOPTION_NOTE = re.compile(
    r"^[（(]?(\d{4}|[〇零○Ｏ一二三四五六七八九]{4})年[\d〇○一二三四五六七八九十]{1,3}月[\d〇○一二三四五六七八九十]{1,3}日(?![,，])"
)
"""An adoption, amendment or promulgation note under a title: 2022年12月29日 …会议通过 / （2001年…修正）;
not a sentence that starts with a date (2019年2月1日，某某举行婚礼)."""
_OUTLINE_WORDS = frozenset({"目录", "序言", "前言"})
_DATE = re.compile(
    r"^(\d{4}|[〇零○Ｏ一二三四五六七八九]{4})年[\d〇○一二三四五六七八九十]{1,3}月[\d〇○一二三四五六七八九十]{1,3}日$"
)
_DATE_FIRSTS = "0123456789〇零○Ｏ一二三四五六七八九"
_MAX_DATE_LINE = 40
_NOTE = re.compile(r"^[（(][^（）()]{1,30}[）)]$")
_ADDRESSEE_WORDS = re.compile(r"各|政府|部门|单位|机构|委员会")
_TITLE_WORDS = re.compile(
    r"关于|意见|通知|办法|规定|方案|决定|细则|条例|措施|规划|纲要|〔\d{4}〕|解释|规则|章程|准则|修正案|法$|法[（(]"
)
_NOT_HEADER_CHARS = re.compile(r"[。，；,;：:!！?？【】>|/@]|https?")
_MAX_HEADER_LINES = 8
_MAX_HEADER_LINE = 60
_MAX_TITLE_LINE = 150
"""The title of a judicial interpretation can run past a hundred characters on one line."""

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
    if len(line.text) > _MAX_JUNK_LINE or match_mark(line.text):
        return None  # a long paragraph, or a numbered one, is document text whatever it mentions
    folded = _fold(line.text)
    for name, pattern in JUNK_PATTERNS:
        if pattern.search(folded):
            return name
    return None


def clean(text: str) -> Cleaned:
    """Sort the lines of a file's text; see the module docstring for the rules."""
    lines = split_lines(text)
    first = _first_heading(lines)
    if first is None:
        # No numbering: a title over adoption notes is the header of a law too short to number.
        note = next((i for i, line in enumerate(lines[:_MAX_HEADER_LINES + 1]) if is_adoption_note(line)), None)
        header_start, start = (note is not None and _law_header(lines, True, note)) or (0, 0)
    else:
        start = _addressee(lines, first)
        law = bool(_LAW_HEADING.match(_folded(lines[first])))
        header_start, start = _law_header(lines, law, start) or (_header_start(lines, start), start)
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
    """Index of the document's 一、 / 第一编 / 第一章 / 第一条: the first one, except a 一、 directly
    followed by 二、 (a numbered menu in the page furniture) while a later 一、 is not; a law's 第一章
    followed by 第二章 is its table of contents, which belongs to the document."""
    firsts = [
        (i, m.group())
        for i, line in enumerate(lines)
        if _may_be_first_heading(line.text) and (m := FIRST_HEADING.match(_folded(line)))
    ]
    for i, mark in firsts:
        following = _folded(lines[i + 1]) if i + 1 < len(lines) else ""
        if mark != "一、" or not following.startswith("二、"):
            return i
    if firsts:
        return firsts[0][0]
    return next((i for i, line in enumerate(lines) if _LAW_FIRST.match(line.text)), None)


_fold = lru_cache(maxsize=8192)(normalize_for_match)
"""Folding is the slow step of cleaning; a line is folded by several rules in turn."""


def _folded(line: Line) -> str:
    return _fold(line.text)


def _may_be_first_heading(text: str) -> bool:
    """A cheap test before folding: 一、 / 第一章 (maybe spaced, in traditional script, or in full-width or
    compatibility forms that only folding reads)."""
    head = "".join(text[:12].split())
    if not unicodedata.is_normalized("NFKC", head):
        return True
    return bool(_FIRST_HEADING_UNFOLDED.match(head))


def _may_fold_to(text: str, firsts: str) -> bool:
    """Whether the folded text can start with one of `firsts`: its first character is one of them, or
    is one NFKC changes (full-width forms, compatibility ideographs). Skips folding long body lines."""
    first = text[:1]
    return first in firsts or not unicodedata.is_normalized("NFKC", first)


def _is_header_like(line: Line) -> bool:
    return len(line.text) <= _MAX_HEADER_LINE and not _NOT_HEADER_CHARS.search(line.text) and junk_reason(line) is None


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


def _law_header(lines: tuple[Line, ...], law: bool, start: int) -> tuple[int, int] | None:
    """(header_start, body_start) of a law, or of a document with notes or an opening paragraph between
    its title and its first heading; None for the others.

    Above the body start, the lines up to the nearest page junk are the document's opening: its title
    (the first title-like line naming a genre, or the file's first line when nothing precedes it) and
    the lines that continue it (document number) are the header; what follows them (notes, table of
    contents, an opening paragraph, 序言) is body."""
    top = start
    while top > 0 and junk_reason(lines[top - 1]) is None:
        top -= 1
    block = lines[top:start]
    if not law and not any(_ADOPTION_NOTE.match(_folded(line)) or not _is_header_like(line) for line in block):
        return None  # only title-like lines above the body: the header as the walk up finds it
    title = next(
        (i for i in range(top, start) if _is_title_line(lines[i]) and _TITLE_WORDS.search(_folded(lines[i]))), None
    )
    if title is None and top == 0 and start > 0 and _is_title_line(lines[0]):
        title = 0
    if title is None:
        return None
    end = title + 1
    while end < start and end - title < _MAX_HEADER_LINES and _is_title_line(lines[end], _MAX_HEADER_LINE):
        end += 1
    return title, end


def is_adoption_note(line: Line) -> bool:
    """Whether a line is an adoption, amendment or promulgation note (2022年12月29日 …会议通过)."""
    return bool(_ADOPTION_NOTE.match(_folded(line)))


def _is_title_line(line: Line, longest: int = _MAX_TITLE_LINE) -> bool:
    folded = _folded(line)
    return (
        len(line.text) <= longest
        and not _NOT_HEADER_CHARS.search(line.text)
        and junk_reason(line) is None
        and not _ADOPTION_NOTE.match(folded)
        and not _LAW_HEADING.match(folded)
        and not FIRST_HEADING.match(folded)
        and folded not in _OUTLINE_WORDS
    )


def _closing(lines: tuple[Line, ...], first: int) -> tuple[int, int]:
    """(end, closing_start): the body's lines end before `end`; the closing runs from closing_start."""
    date = next(
        (
            i
            for i in range(len(lines) - 1, first, -1)
            if len(lines[i].text) <= _MAX_DATE_LINE
            and _may_fold_to(lines[i].text, _DATE_FIRSTS)
            and _DATE.match(_folded(lines[i]))
        ),
        None,
    )
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
