"""Word's automatic numbering: the number a reader sees before a paragraph (一、 （一） 1. 第一条)
when it lives in the numbering definitions (numbering.xml) rather than in the paragraph's text.

A paragraph is numbered by its own numPr (numId, ilvl) or by its style's (following basedOn). numId
leads to a w:num, which names an abstractNum and may override start values; the abstractNum's level
gives the start, the format (numFmt: decimal, chineseCounting, ideographTraditional…), the text
pattern (lvlText: 第%1条, %1、, （%2）…) and what follows the number (suff). Counters run per
abstractNum, as Word continues a list across w:num instances that share one unless a startOverride
restarts it; numbering a level restarts the levels below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.numbering import int_to_cn

__all__ = ["NumberingState", "format_number"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PLACEHOLDER = re.compile(r"%([1-9])")
_MAX_LEVELS = 9
_TIGHT_END = tuple("、，）)．.：:")
"""A number ending in one of these needs no space before the text when Word separates them by a tab."""

_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_EARTHLY_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_LEGAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IDEOGRAPH_DIGITS = "〇一二三四五六七八九"
_CIRCLED = [chr(0x2460 + i) for i in range(20)]  # ①…⑳
_PARENTHESISED = [chr(0x2474 + i) for i in range(20)]  # ⑴…⒇
_FULL_STOP = [chr(0x2488 + i) for i in range(20)]  # ⒈…⒛


@dataclass(frozen=True, slots=True)
class _Level:
    start: int
    fmt: str
    text: str
    suffix: str
    legal: bool


def format_number(value: int, fmt: str) -> str:
    """One counter value in a Word numFmt: 3 → 三 (chineseCounting), 丙 (ideographTraditional), iii."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "taiwaneseCountingThousand", "koreanCounting"):
        return int_to_cn(value) if 0 < value < 1000 else str(value)
    if fmt == "ideographTraditional":
        return _HEAVENLY_STEMS[(value - 1) % 10]
    if fmt == "ideographZodiac":
        return _EARTHLY_BRANCHES[(value - 1) % 12]
    if fmt in ("ideographDigital", "japaneseDigitalTenThousand", "taiwaneseDigital"):
        return "".join(_IDEOGRAPH_DIGITS[int(d)] for d in str(value))
    if fmt == "chineseLegalSimplified":
        return _legal(value)
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{value:02d}"
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return str(value).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    for table, name in ((_CIRCLED, "decimalEnclosedCircle"), (_CIRCLED, "decimalEnclosedCircleChinese"),
                        (_PARENTHESISED, "decimalEnclosedParen"), (_FULL_STOP, "decimalEnclosedFullstop")):
        if fmt == name and 0 < value <= len(table):
            return table[value - 1]
    if fmt == "none":
        return ""
    return str(value)  # decimal, decimalHalfWidth, and formats a policy document does not use


def _legal(value: int) -> str:
    if not 0 < value < 100:
        return str(value)
    tens, ones = divmod(value, 10)
    out = (_LEGAL_DIGITS[tens] if tens > 1 else "") + ("拾" if tens else "")
    return out + (_LEGAL_DIGITS[ones] if ones else "")


def _roman(value: int) -> str:
    if not 0 < value < 4000:
        return str(value)
    out = ""
    for number, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                            (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= number:
            out += letters
            value -= number
    return out


def _val(element, tag: str) -> str | None:
    child = element.find(W + tag) if element is not None else None
    return None if child is None else child.get(W + "val")


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


class NumberingState:
    """Reads the numbering and style definitions once, then labels paragraphs in document order."""

    def __init__(self, numbering_xml, styles_xml) -> None:
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._num_abstract: dict[str, str] = {}
        self._num_starts: dict[str, dict[int, int]] = {}
        self._style_numbering: dict[str, tuple[str | None, int | None]] = {}
        self._style_parent: dict[str, str] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._started_nums: set[str] = set()
        self.recovered = 0
        if styles_xml is not None:
            self._read_styles(styles_xml)
        if numbering_xml is not None:
            self._read_numbering(numbering_xml)

    def _read_styles(self, styles) -> None:
        for style in styles.iter(W + "style"):
            style_id = style.get(W + "styleId")
            if not style_id:
                continue
            based_on = _val(style, "basedOn")
            if based_on:
                self._style_parent[style_id] = based_on
            num_pr = style.find(f"{W}pPr/{W}numPr")
            if num_pr is not None:
                ilvl = _val(num_pr, "ilvl")
                self._style_numbering[style_id] = (_val(num_pr, "numId"), None if ilvl is None else _int(ilvl, 0))

    def _read_numbering(self, numbering) -> None:
        links: dict[str, str] = {}
        for abstract in numbering.iter(W + "abstractNum"):
            abstract_id = abstract.get(W + "abstractNumId")
            if abstract_id is None:
                continue
            self._abstract[abstract_id] = {
                _int(lvl.get(W + "ilvl"), 0): self._level(lvl) for lvl in abstract.iter(W + "lvl")
            }
            link = _val(abstract, "numStyleLink")
            if link:
                links[abstract_id] = link
        for num in numbering.iter(W + "num"):
            num_id = num.get(W + "numId")
            abstract_id = _val(num, "abstractNumId")
            if num_id is None or abstract_id is None:
                continue
            self._num_abstract[num_id] = abstract_id
            starts: dict[int, int] = {}
            for override in num.iter(W + "lvlOverride"):
                ilvl = _int(override.get(W + "ilvl"), 0)
                start = _val(override, "startOverride")
                if start is not None:
                    starts[ilvl] = _int(start, 1)
            if starts:
                self._num_starts[num_id] = starts
        for abstract_id, style_id in links.items():  # an abstractNum that only points at a numbering style
            target_num, _ = self._style_numbering.get(style_id, (None, None))
            target = self._num_abstract.get(target_num or "")
            if target and self._abstract.get(target):
                self._abstract[abstract_id] = self._abstract[target]

    @staticmethod
    def _level(lvl) -> _Level:
        return _Level(
            start=_int(_val(lvl, "start"), 0),
            fmt=_val(lvl, "numFmt") or "decimal",
            text=_val(lvl, "lvlText") or "",
            suffix=_val(lvl, "suff") or "tab",
            legal=lvl.find(W + "isLgl") is not None and _val(lvl, "isLgl") not in ("0", "false"),
        )

    def _paragraph_numbering(self, paragraph) -> tuple[str | None, int]:
        num_pr = paragraph.find(f"{W}pPr/{W}numPr")
        num_id = _val(num_pr, "numId") if num_pr is not None else None
        ilvl_text = _val(num_pr, "ilvl") if num_pr is not None else None
        style_id = _val(paragraph.find(W + "pPr"), "pStyle")
        seen: set[str] = set()
        while (num_id is None or ilvl_text is None) and style_id and style_id not in seen:
            seen.add(style_id)
            style_num, style_ilvl = self._style_numbering.get(style_id, (None, None))
            if num_id is None and style_num is not None:
                num_id = style_num
            if ilvl_text is None and style_ilvl is not None:
                ilvl_text = str(style_ilvl)
            style_id = self._style_parent.get(style_id)
        return num_id, _int(ilvl_text, 0)

    def label(self, paragraph) -> str:
        """The number shown before `paragraph` with what separates it from the text ("" if none);
        advances the counters, so call it once per paragraph in document order."""
        num_id, ilvl = self._paragraph_numbering(paragraph)
        if not num_id or num_id == "0" or not 0 <= ilvl < _MAX_LEVELS:
            return ""
        abstract_id = self._num_abstract.get(num_id)
        levels = self._abstract.get(abstract_id or "")
        if not levels or ilvl not in levels:
            return ""
        counters = self._counters.setdefault(abstract_id, [None] * _MAX_LEVELS)
        if num_id not in self._started_nums:
            self._started_nums.add(num_id)
            for level, start in self._num_starts.get(num_id, {}).items():
                if 0 <= level < _MAX_LEVELS:
                    counters[level] = start - 1
        level = levels[ilvl]
        counters[ilvl] = level.start if counters[ilvl] is None else counters[ilvl] + 1
        for deeper in range(ilvl + 1, _MAX_LEVELS):
            counters[deeper] = None
        if level.fmt == "bullet":
            return ""
        number = _PLACEHOLDER.sub(lambda m: self._rendered(levels, counters, int(m.group(1)) - 1, level.legal),
                                  level.text)
        if not number.strip():
            return ""
        self.recovered += 1
        if level.suffix == "nothing" or (level.suffix == "tab" and number.endswith(_TIGHT_END)):
            return number
        return number + " "

    @staticmethod
    def _rendered(levels: dict[int, _Level], counters: list[int | None], index: int, legal: bool) -> str:
        level = levels.get(index)
        if level is None:
            return ""
        value = counters[index] if counters[index] is not None else level.start
        return format_number(value, "decimal" if legal else level.fmt)
