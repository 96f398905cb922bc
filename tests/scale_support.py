"""Counting the articles of the real laws and regulations of ../shared/scale/laws-md.tar.xz without
the parser, to check the parser's counts against (tests/test_parsing_scale.py)."""

from __future__ import annotations

import re

_ARTICLE_HEADING = re.compile(
    r"^第([零〇一二三四五六七八九十百千]+)条(?:之([一二三四五六七八九十]+))?[ \u3000]"
)


def independent_article_count(markdown: str) -> int:
    """The number of genuine 第X条 article headings of a scale file, counted without the parser.

    Genuine: a line of the Markdown after the `<!-- INFO END -->` marker (so not the adoption and
    amendment notes above it) that starts with 第X条 or 第X条之Y followed by a space, as every article
    heading of this collection is printed (a cross-reference at a line start, 第十条规定的…, has no
    space), and whose number is higher than that of the last heading counted (the numbering goes on:
    a quoted article with a lower number, or a second table of contents, is not counted). Articles run
    into one line after a 。 are not seen: this count only looks at line starts."""
    lines = markdown.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if "INFO END" in line), 0)
    last, count = (0, -1), 0
    for line in lines[start:]:
        match = _ARTICLE_HEADING.match(line)
        if match is None:
            continue
        number = (_numeral(match.group(1)), _numeral(match.group(2) or ""))
        if number > last:
            count, last = count + 1, number
    return count


_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def _numeral(text: str) -> int:
    """一千二百零五 → 1205 (its own arithmetic, so the count does not lean on rag.numbering)."""
    total, digit = 0, 0
    for char in text:
        if char in _UNITS:
            total += (digit or 1) * _UNITS[char]
            digit = 0
        else:
            digit = _DIGITS[char]
    return total + digit
