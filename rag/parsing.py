"""Parsing a document's numbering tree into citable units with exact spans in the file's text.

Tree: section (一、 / 第一章) › article (（一） / 第一条) › item (1. / （1）, or （一） under 第X条).
A unit is a leaf: an article without items is one unit; an article with items gives one unit per item,
plus one for the article's own lead text when it has text beyond its heading; a section with text
directly under it (before its first article) gives a SECTION unit. The preamble (addressees and
opening paragraphs) and the closing (signature and date) are units of their own; header lines (title,
document number) are not units. A line whose mark does not continue the numbering (（三） after （一）)
is ordinary text of the unit it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.clauses import ClauseKind
from rag.cleaning import Cleaned, Line, clean
from rag.errors import CorpusError
from rag.numbering import Mark, MarkKind, match_mark

__all__ = ["ParsedText", "Unit", "heading_of", "parse_text"]

PREAMBLE_LABEL = "序言"
CLOSING_LABEL = "落款"
_MAX_HEADING_PHRASE = 30
_PHRASE_END = re.compile(r"[。；;]")


@dataclass(frozen=True, slots=True)
class Unit:
    """A citable unit of one file, before it becomes a Clause of a document."""

    kind: ClauseKind
    label: str
    id_parts: tuple[str, ...]
    path: tuple[str, ...]
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ParsedText:
    units: tuple[Unit, ...]
    sections: int
    articles: int
    items: int
    cleaned: Cleaned
    orphans: tuple[Line, ...] = ()
    """Body lines cut off from their unit by dropped page junk (they cannot share its contiguous span)."""


@dataclass(slots=True)
class _Node:
    mark: Mark
    heading: Line
    lines: list[Line] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    closed: bool = False

    @property
    def last(self) -> Line:
        return self.lines[-1] if self.lines else self.heading


def heading_of(mark: Mark, line_text: str) -> tuple[str, bool]:
    """(heading, has_more): the canonical mark plus the title phrase up to the first 。, and whether the
    line holds text of its own beyond a title (any text after 第X条 does)."""
    rest = line_text[mark.length :].strip()
    end = _PHRASE_END.search(rest)
    phrase = rest[: end.start()] if end else rest
    has_more = bool(rest[end.end() :].strip()) if end else False
    if mark.kind is MarkKind.TIAO or phrase.endswith(("：", ":")):
        has_more = bool(phrase)  # 第X条 carry no title, and a lead-in ending in ： is text, not a heading
    if len(phrase) > _MAX_HEADING_PHRASE:
        phrase, has_more = phrase[:_MAX_HEADING_PHRASE] + "…", True
    sep = " " if mark.kind in (MarkKind.CHAPTER, MarkKind.TIAO) and phrase else ""
    return f"{mark.label}{sep}{phrase}", has_more


def parse_text(text: str, *, name: str) -> ParsedText:
    """Parse one file's decoded text; CorpusError naming the file if it has no numbered headings."""
    cleaned = clean(text)
    tiao = any((m := match_mark(line.text)) and m.kind is MarkKind.TIAO for line in cleaned.body)
    builder = _TreeBuilder(tiao)
    for line in cleaned.body:
        builder.add(line, after_junk=line.number in cleaned.breaks)
    if not builder.sections and not builder.articles:
        raise CorpusError(
            f"{name}: no numbered headings (一、, （一） or 第一条) found; "
            "is it a policy document? Remove it from the corpus or fix its numbering"
        )
    units = [*_preamble(builder.preamble), *_tree_units(builder.roots, tiao), *_closing(cleaned.closing)]
    return ParsedText(
        units=tuple(units),
        sections=sum(1 for node in builder.roots if _level(node.mark, tiao) == 0),
        articles=len(builder.articles),
        items=builder.item_count,
        cleaned=cleaned,
        orphans=tuple(builder.orphans),
    )


def _level(mark: Mark, tiao: bool) -> int | None:
    """0 section, 1 article, 2 item, None for a mark that is not part of this document's scheme."""
    if tiao:
        table = {
            MarkKind.CHAPTER: 0,
            MarkKind.TIAO: 1,
            MarkKind.CN_PAREN: 2,
            MarkKind.ARABIC: 2,
            MarkKind.ARABIC_PAREN: 2,
        }
    else:
        table = {MarkKind.SECTION: 0, MarkKind.CN_PAREN: 1, MarkKind.ARABIC: 2, MarkKind.ARABIC_PAREN: 2}
    return table.get(mark.kind)


class _TreeBuilder:
    """Reads body lines in order and hangs them on the numbering tree."""

    def __init__(self, tiao: bool) -> None:
        self.tiao = tiao
        self.preamble: list[Line] = []
        self.roots: list[_Node] = []  # sections, or articles of a document without sections
        self.sections: list[_Node] = []
        self.articles: list[_Node] = []
        self.item_count = 0
        self.orphans: list[Line] = []
        self._open: _Node | None = None
        self._article_in_section = False

    def add(self, line: Line, *, after_junk: bool) -> None:
        if after_junk and self._open is not None:
            self._open.closed = True
        mark = match_mark(line.text)
        level = _level(mark, self.tiao) if mark else None
        if mark is not None and level == 0 and mark.value == len(self.sections) + 1:
            node = _Node(mark, line)
            self.sections.append(node)
            self.roots.append(node)
            self._article_in_section = False
        elif mark is not None and level == 1 and self._continues_articles(mark):
            node = _Node(mark, line)
            (self.sections[-1].children if self.sections else self.roots).append(node)
            self.articles.append(node)
            self._article_in_section = True
        elif mark is not None and level == 2 and self._continues_items(mark):
            node = _Node(mark, line)
            self.articles[-1].children.append(node)
            self.item_count += 1
        else:
            self._continue(line)
            return
        self._open = node

    def _continues_articles(self, mark: Mark) -> bool:
        previous = self.articles[-1].mark.value if self.articles else 0
        return mark.value == previous + 1 or (mark.value == 1 and not self._article_in_section and bool(self.sections))

    def _continues_items(self, mark: Mark) -> bool:
        if not self.articles or not self._article_in_section:
            return False
        items = self.articles[-1].children
        if not items:
            return mark.value == 1
        return mark.kind is items[0].mark.kind and mark.value == items[-1].mark.value + 1

    def _continue(self, line: Line) -> None:
        if self._open is None:
            self.preamble.append(line)
        elif self._open.closed:
            self.orphans.append(line)
        else:
            self._open.lines.append(line)


def _span(first: Line, last: Line) -> tuple[int, int]:
    return (first.start, last.end)


def _preamble(lines: list[Line]) -> list[Unit]:
    if not lines:
        return []
    return [Unit(ClauseKind.PREAMBLE, PREAMBLE_LABEL, ("preamble",), (PREAMBLE_LABEL,), _span(lines[0], lines[-1]))]


def _closing(lines: tuple[Line, ...]) -> list[Unit]:
    if not lines:
        return []
    return [Unit(ClauseKind.CLOSING, CLOSING_LABEL, ("closing",), (CLOSING_LABEL,), _span(lines[0], lines[-1]))]


def _tree_units(roots: list[_Node], tiao: bool) -> list[Unit]:
    units: list[Unit] = []
    for root in roots:
        if _level(root.mark, tiao) == 0:
            units.extend(_section_units(root, tiao))
        else:
            units.extend(_article_units(root, (), (), tiao))
    return units


def _section_units(section: _Node, tiao: bool) -> list[Unit]:
    heading, has_more = heading_of(section.mark, section.heading.text)
    units: list[Unit] = []
    if has_more or section.lines:
        units.append(
            Unit(
                ClauseKind.SECTION,
                section.mark.label,
                (section.mark.id_part,),
                (heading,),
                _span(section.heading, section.last),
            )
        )
    # In 第X条 documents articles are numbered through the whole text, so labels leave the chapter out.
    prefix_label = () if tiao else (section.mark,)
    for article in section.children:
        units.extend(_article_units(article, prefix_label, (heading,), tiao))
    return units


def _article_units(article: _Node, prefix: tuple[Mark, ...], path: tuple[str, ...], tiao: bool) -> list[Unit]:
    heading, has_more = heading_of(article.mark, article.heading.text)
    marks = (*prefix, article.mark)
    path = (*path, heading)
    lead = Unit(
        ClauseKind.ARTICLE,
        "".join(m.label for m in marks),
        tuple(m.id_part for m in marks),
        path,
        _span(article.heading, article.last),
    )
    if not article.children:
        return [lead]
    units = [lead] if has_more or article.lines else []
    for item in article.children:
        item_heading, _ = heading_of(item.mark, item.heading.text)
        item_marks = (*marks, item.mark)
        units.append(
            Unit(
                ClauseKind.ITEM,
                "".join(m.label for m in item_marks),
                tuple(m.id_part for m in item_marks),
                (*path, item_heading),
                _span(item.heading, item.last),
            )
        )
    return units
