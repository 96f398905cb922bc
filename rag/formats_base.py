"""What every format reader of rag/formats.py shares: the lines it returns, how a line is tidied,
and how sizes are written in refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_UPLOAD_SETTING", "Extraction", "human_size", "tidy_lines"]

MAX_UPLOAD_SETTING = "POLICYQA_MAX_UPLOAD_MB"
"""The setting that changes the size limit; refusals name it so the reader knows what to change."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """A reader's result: the document's lines in reading order and notes on what it removed or recovered."""

    lines: tuple[str, ...]
    notes: tuple[str, ...] = ()


_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
"""Soft hyphens, zero-width spaces and joiners and stray byte-order marks: invisible, and they break matching."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def tidy_lines(lines: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Each line trimmed with its runs of whitespace (tabs, U+3000, no-break spaces) made one space;
    line breaks inside a line split it; blank lines dropped."""
    out: list[str] = []
    for line in lines:
        line = _CONTROL.sub(" ", _INVISIBLE.sub("", line))
        for part in line.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            part = _SPACES.sub(" ", part).strip()
            if part:
                out.append(part)
    return tuple(out)


def human_size(size: int) -> str:
    """1536 → '1.5 KB', 25 * 2**20 → '25.0 MB'."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"
