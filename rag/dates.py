"""Dates as Chinese documents print them (2020年7月13日, 二〇二〇年七月十三日), read into ISO form."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = ["PrintedDate", "find_dates", "parse_date"]

_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_NUMERAL = "〇○零Ｏ一二三四五六七八九"
_DATE = re.compile(
    r"(?P<y>[12１２]\d{3}|[" + _NUMERAL + r"]{4})\s*年\s*"
    r"(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*日"
)


@dataclass(frozen=True, slots=True)
class PrintedDate:
    """A date in a text: text[start:end] is the printed form, iso its YYYY-MM-DD value."""

    start: int
    end: int
    iso: str


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, units = token.partition("十")
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    return int("".join(str(_DIGITS[char]) for char in token))


def _iso(match: re.Match[str]) -> str | None:
    try:
        return datetime.date(_number(match["y"]), _number(match["m"]), _number(match["d"])).isoformat()
    except (ValueError, KeyError):
        return None


def find_dates(text: str, start: int = 0, end: int | None = None) -> list[PrintedDate]:
    """Every valid date printed in text[start:end], in order (2020年2月30日 is not a date)."""
    found = []
    for match in _DATE.finditer(text, start, len(text) if end is None else end):
        iso = _iso(match)
        if iso:
            found.append(PrintedDate(match.start(), match.end(), iso))
    return found


def parse_date(printed: str) -> str | None:
    """The ISO form of a printed date that is the whole string (spaces around allowed), else None."""
    match = _DATE.fullmatch(printed.strip())
    return _iso(match) if match else None
