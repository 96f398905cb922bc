"""Responsible-unit notes in clause text: （省科技厅负责）, （…按职责分工负责）, （牵头单位：…；参与单位：…）.

Notes are found by balanced parenthesis matching, so names such as 各市（州）人民政府 stay whole.
`responsible` lists every unit a note names (for 牵头/参与 notes: lead units, then participating ones);
`lead` and `participating` are filled only where the text itself says 牵头单位 / 参与单位.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["UnitNote", "find_unit_notes", "split_units"]

_OPEN, _CLOSE = "（(", "）)"
_LEAD = re.compile(r"牵头单位[:：]")
_PARTICIPATING = re.compile(r"(参与|配合|参加)单位[:：]")
_RESPONSIBLE = re.compile(r"^(?P<units>.+?)(按职责分工|按职能分工|分别|共同|牵头)?负责")
_UNIT_SUFFIX = re.compile(r"(厅|委|局|办|府|会|院|部|室|中心|组|行|所|单位|协|署|处|团|社|公司|馆)$")
_TRAILING = re.compile(r"(等|等单位|等部门)$")


@dataclass(frozen=True, slots=True)
class UnitNote:
    """`span` is where the note stands in the text, parentheses included."""

    responsible: tuple[str, ...]
    lead: tuple[str, ...] = ()
    participating: tuple[str, ...] = ()
    span: tuple[int, int] = (0, 0)


def _groups(text: str) -> list[tuple[int, int, str]]:
    """The outermost balanced parenthesised groups of `text`, in order: (start, end, contents),
    with [start, end) covering the parentheses."""
    groups: list[tuple[int, int, str]] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        if char in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif char in _CLOSE and depth:
            depth -= 1
            if depth == 0:
                groups.append((start, i + 1, text[start + 1 : i]))
    return groups


def _split_top(text: str, separators: str) -> list[str]:
    """Split on `separators` outside parentheses."""
    parts: list[str] = []
    depth, current = 0, []
    for char in text:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE and depth:
            depth -= 1
        if char in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def split_units(text: str) -> tuple[str, ...]:
    """ "省科技厅，各市、县政府，雄安新区管委会" → ("省科技厅", "各市、县政府", "雄安新区管委会").

    Commas always separate units; an enumeration comma 、 separates them only when every part ends like
    a unit name (厅, 委, 局, 政府…), which keeps 各市、县政府 whole.
    """
    units: list[str] = []
    for chunk in _split_top(text, "，,；;"):
        chunk = _TRAILING.sub("", chunk).strip()
        parts = [_TRAILING.sub("", p).strip() for p in _split_top(chunk, "、")]
        if len(parts) > 1 and all(_UNIT_SUFFIX.search(p) for p in parts):
            units.extend(parts)
        elif chunk:
            units.append(chunk)
    return tuple(dict.fromkeys(units))


def find_unit_notes(text: str) -> tuple[UnitNote, ...]:
    """Every responsible-unit note in a clause's text, in order."""
    notes: list[UnitNote] = []
    for start, end, group in _groups(text):
        lead_match = _LEAD.search(group)
        if lead_match:
            part_match = _PARTICIPATING.search(group, lead_match.end())
            lead_text = group[lead_match.end() : part_match.start() if part_match else len(group)]
            lead = split_units(lead_text)
            participating = split_units(group[part_match.end() :]) if part_match else ()
            notes.append(UnitNote(tuple(dict.fromkeys((*lead, *participating))), lead, participating, (start, end)))
            continue
        responsible = _RESPONSIBLE.match(group)
        if responsible and "。" not in responsible.group("units"):
            notes.append(UnitNote(split_units(responsible.group("units")), span=(start, end)))
    return tuple(notes)
