"""Numbering marks of Chinese policy documents: recognising them, their canonical label form, lookup keys.

Levels: a section (一、 or 第一章), an article (（一） or 第一条) and an item (1. / 1． / 1、 or （1）).
Laws and regulations add parts (第一编, 第一分编) above chapters, sections (第一节) inside chapters and
inserted articles (第十条之一) after the article they follow; in documents written with 第X条, the （一）
marks inside an article are its items.
Canonical labels use full-width parentheses and a half-width full stop: 二、（一）5.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "Mark",
    "MarkKind",
    "cn_to_int",
    "int_to_cn",
    "label_keys",
    "match_mark",
]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二三四五六七八九十百千"


class MarkKind(StrEnum):
    SECTION = "section"  # 一、
    PART = "part"  # 第一编
    SUBPART = "subpart"  # 第一分编
    CHAPTER = "chapter"  # 第一章
    JIE = "jie"  # 第一节 (a section inside a chapter)
    CN_PAREN = "cn_paren"  # （一）
    TIAO = "tiao"  # 第一条
    ARABIC = "arabic"  # 1.
    ARABIC_PAREN = "arabic_paren"  # （1）


@dataclass(frozen=True, slots=True)
class Mark:
    """A numbering mark at the start of a line: its kind, value and how many characters it takes.

    `sub` numbers an inserted article: 第十条之一 has value 10 and sub 1.
    """

    kind: MarkKind
    value: int
    length: int
    sub: int = 0

    @property
    def numeral(self) -> str:
        """The number as printed in canonical form: 五 for Chinese marks, 5 for Arabic ones."""
        if self.kind in (MarkKind.ARABIC, MarkKind.ARABIC_PAREN):
            return str(self.value)
        return int_to_cn(self.value)

    @property
    def label(self) -> str:
        """Canonical label: 二、 / 第一编 / 第一分编 / 第一章 / 第一节 / （五） / 第三条 / 第三条之一 / 5. / （1）."""
        return _label(self.kind, self.value, self.sub)

    @property
    def id_part(self) -> str:
        """The mark in a clause id: 二 / 第一章 / 五 / 第三条 / 5 / 1."""
        if self.kind in _ORDINAL_KINDS:
            return self.label
        return self.numeral


_LABEL_FORMS = {
    MarkKind.SECTION: "{}、",
    MarkKind.PART: "第{}编",
    MarkKind.SUBPART: "第{}分编",
    MarkKind.CHAPTER: "第{}章",
    MarkKind.JIE: "第{}节",
    MarkKind.CN_PAREN: "（{}）",
    MarkKind.TIAO: "第{}条",
    MarkKind.ARABIC: "{}.",
    MarkKind.ARABIC_PAREN: "（{}）",
}


@lru_cache(maxsize=4096)
def _label(kind: MarkKind, value: int, sub: int) -> str:
    numeral = str(value) if kind in (MarkKind.ARABIC, MarkKind.ARABIC_PAREN) else int_to_cn(value)
    label = _LABEL_FORMS[kind].format(numeral)
    return f"{label}之{int_to_cn(sub)}" if sub else label


_ORDINAL_KINDS = frozenset({MarkKind.PART, MarkKind.SUBPART, MarkKind.CHAPTER, MarkKind.JIE, MarkKind.TIAO})
_ORDINAL_SUFFIX = {
    "编": MarkKind.PART,
    "分编": MarkKind.SUBPART,
    "章": MarkKind.CHAPTER,
    "节": MarkKind.JIE,
    "条": MarkKind.TIAO,
}
_ORDINAL = re.compile(rf"^第([{_CN}]+)(分编|编|章|节|条)(?:之([{_CN}]+))?")
_SECTION = re.compile(rf"^([{_CN}]+)、")
_CN_PAREN = re.compile(rf"^[（(]([{_CN}]+)[）)]")
_ARABIC_PAREN = re.compile(r"^[（(](\d{1,3})[）)]")
_ARABIC = re.compile(r"^(\d{1,3})[.．、](?![\d.．])")
_CN_SET = frozenset(_CN)


def match_mark(text: str) -> Mark | None:
    """The numbering mark `text` starts with, if any (full- and half-width forms alike)."""
    if not text:
        return None
    first = text[0]
    if first == "第":
        m = _ORDINAL.match(text)
        if m is None:
            return None
        value = cn_to_int(m.group(1))
        if not value:
            return None
        kind = _ORDINAL_SUFFIX[m.group(2)]
        if kind is MarkKind.TIAO and m.group(3):
            sub = cn_to_int(m.group(3))
            if sub:
                return Mark(kind, value, m.end(), sub)
        return Mark(kind, value, m.end(2))
    if first in _CN_SET:
        return _numbered(MarkKind.SECTION, _SECTION.match(text))
    if first in "（(":
        return _numbered(MarkKind.CN_PAREN, _CN_PAREN.match(text)) or _numbered(
            MarkKind.ARABIC_PAREN, _ARABIC_PAREN.match(text)
        )
    if first.isdigit():
        return _numbered(MarkKind.ARABIC, _ARABIC.match(text))
    return None


def _numbered(kind: MarkKind, m: re.Match[str] | None) -> Mark | None:
    if m is None:
        return None
    raw = m.group(1)
    value = int(raw) if raw.isdigit() else cn_to_int(raw)
    return Mark(kind, value, m.end()) if value else None


@lru_cache(maxsize=4096)
def cn_to_int(numeral: str) -> int | None:
    """一 → 1, 十二 → 12, 二十一 → 21, 一百零五 → 105, 一千零二 → 1002; None if it is not a Chinese numeral."""
    if not numeral or any(c not in _CN_SET for c in numeral):
        return None
    total, current = 0, 0
    for char in numeral:
        if char == "千":
            total += (current or 1) * 1000
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[char]
    return total + current


@lru_cache(maxsize=4096)
def int_to_cn(value: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一, 105 → 一百零五, 1002 → 一千零二 (1 ≤ value < 10000)."""
    if not 0 < value < 10000:
        raise ValueError(f"Chinese numerals are supported from 1 to 9999, got {value}")
    digits = "零一二三四五六七八九"
    out, zero = "", False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, value = divmod(value, unit_value)
        if digit:
            if zero:
                out += "零"
            # 十二, not 一十二, when the number starts with its tens; 一百一十二 keeps the 一
            out += ("" if digit == 1 and unit == "十" and not out else digits[digit]) + unit
            zero = False
        elif out:
            zero = value > 0
    return out


_LABEL_TOKEN = re.compile(
    rf"第[{_CN}]+(?:分编|编|章|节|条)(?:之[{_CN}]+)?|[{_CN}]+、?|[（(][{_CN}]+[）)]|[（(]\d{{1,3}}[）)]|\d{{1,3}}[.．、]?"
)


def label_keys(label: str) -> tuple[str, ...] | None:
    """Lookup keys of a label's marks, tolerant of width, 、, a trailing 条 and spacing.

    "二、（一）5." and "二(一)5" both give ("二", "(一)", "5"); "第三条" gives ("第三条",); "（五）条"
    gives ("(五)",). None if the label is not made of numbering marks.
    """
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", label))
    if not text:
        return None
    if text.endswith("条") and not re.fullmatch(rf".*第[{_CN}]+条", text):
        text = text[:-1]
    keys: list[str] = []
    pos = 0
    while pos < len(text):
        m = _LABEL_TOKEN.match(text, pos)
        if not m:
            return None
        token = m.group().rstrip("、.．")
        if not token:
            return None
        keys.append(token.replace("（", "(").replace("）", ")"))
        pos = m.end()
    return tuple(keys)
