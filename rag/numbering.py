"""Numbering marks of Chinese policy documents: recognising them, their canonical label form, lookup keys.

Levels: a section (一、 or 第一章), an article (（一） or 第一条) and an item (1. / 1． / 1、 or （1）).
In documents written with 第X条, the （一） marks inside an article are its items.
Canonical labels use full-width parentheses and a half-width full stop: 二、（一）5.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Mark",
    "MarkKind",
    "cn_to_int",
    "int_to_cn",
    "label_keys",
    "match_mark",
]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二三四五六七八九十百"


class MarkKind(StrEnum):
    SECTION = "section"  # 一、
    CHAPTER = "chapter"  # 第一章
    CN_PAREN = "cn_paren"  # （一）
    TIAO = "tiao"  # 第一条
    ARABIC = "arabic"  # 1.
    ARABIC_PAREN = "arabic_paren"  # （1）


@dataclass(frozen=True, slots=True)
class Mark:
    """A numbering mark at the start of a line: its kind, value and how many characters it takes."""

    kind: MarkKind
    value: int
    length: int

    @property
    def numeral(self) -> str:
        """The number as printed in canonical form: 五 for Chinese marks, 5 for Arabic ones."""
        if self.kind in (MarkKind.ARABIC, MarkKind.ARABIC_PAREN):
            return str(self.value)
        return int_to_cn(self.value)

    @property
    def label(self) -> str:
        """Canonical label: 二、 / 第一章 / （五） / 第三条 / 5. / （1）."""
        n = self.numeral
        return {
            MarkKind.SECTION: f"{n}、",
            MarkKind.CHAPTER: f"第{n}章",
            MarkKind.CN_PAREN: f"（{n}）",
            MarkKind.TIAO: f"第{n}条",
            MarkKind.ARABIC: f"{n}.",
            MarkKind.ARABIC_PAREN: f"（{n}）",
        }[self.kind]

    @property
    def id_part(self) -> str:
        """The mark in a clause id: 二 / 第一章 / 五 / 第三条 / 5 / 1."""
        if self.kind in (MarkKind.CHAPTER, MarkKind.TIAO):
            return self.label
        return self.numeral


_PATTERNS = (
    (MarkKind.SECTION, re.compile(rf"^([{_CN}]+)、")),
    (MarkKind.CHAPTER, re.compile(rf"^第([{_CN}]+)章")),
    (MarkKind.TIAO, re.compile(rf"^第([{_CN}]+)条")),
    (MarkKind.CN_PAREN, re.compile(rf"^[（(]([{_CN}]+)[）)]")),
    (MarkKind.ARABIC_PAREN, re.compile(r"^[（(](\d{1,3})[）)]")),
    (MarkKind.ARABIC, re.compile(r"^(\d{1,3})[.．、](?![\d.．])")),
)


def match_mark(text: str) -> Mark | None:
    """The numbering mark `text` starts with, if any (full- and half-width forms alike)."""
    for kind, pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            raw = m.group(1)
            value = int(raw) if raw.isdigit() else cn_to_int(raw)
            if value is not None and value > 0:
                return Mark(kind, value, m.end())
    return None


def cn_to_int(numeral: str) -> int | None:
    """一 → 1, 十二 → 12, 二十一 → 21, 一百零五 → 105; None if it is not a Chinese numeral."""
    if not numeral or any(c not in _CN for c in numeral):
        return None
    total, current = 0, 0
    for char in numeral:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[char]
    return total + current


def int_to_cn(value: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一, 105 → 一百零五 (1 ≤ value < 1000)."""
    if not 0 < value < 1000:
        raise ValueError(f"Chinese numerals are supported from 1 to 999, got {value}")
    digits = "零一二三四五六七八九"
    hundreds, rest = divmod(value, 100)
    tens, ones = divmod(rest, 10)
    out = f"{digits[hundreds]}百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else digits[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    return out + (digits[ones] if ones else "")


_LABEL_TOKEN = re.compile(rf"第[{_CN}]+[章条]|[{_CN}]+、?|[（(][{_CN}]+[）)]|[（(]\d{{1,3}}[）)]|\d{{1,3}}[.．、]?")


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
