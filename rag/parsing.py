"""Parsing a document's numbering tree into citable units with exact spans in the file's text.

Tree: section (一、) › article (（一）) › item (1. / （1）); in a document numbered 第X条, the deeper tree
of rag.outline: part › chapter › section › article › item (（一） / 1. under 第X条).
A unit is a leaf: an article without items is one unit; an article with items gives one unit per item,
plus one for the article's own lead text when it has text beyond its heading; a heading with text
directly under it (before its first article) gives a SECTION unit, and so does an annex (附件一).
The lines before the first heading are units of their own: 序言 (addressees and opening paragraphs),
or in a law 题注 (adoption and amendment notes, table of contents, an introduction) with a 序言 of its
own where a line says 序言; the closing (signature and date) is one too. A law too short to number
gives its 题注 and one 正文 unit. Header lines (title, document
number) are not units. A line whose mark does not continue the numbering (（三） after （一）) is
ordinary text of the unit it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.clauses import ClauseKind
from rag.cleaning import Cleaned, Line, clean, is_adoption_note
from rag.errors import CorpusError
from rag.numbering import Mark, MarkKind, match_mark
from rag.outline import Node, NodeKind, Outline, build_outline, is_article_heading

__all__ = ["ParsedText", "Unit", "heading_of", "parse_text"]

PREAMBLE_LABEL = "序言"
NOTES_LABEL = "题注"
BODY_LABEL = "正文"
_MAX_NOTE_LINE = 60
_SENTENCE_MARKS = re.compile(r"[。，；：,;:]")
CLOSING_LABEL = "落款"
_MAX_HEADING_PHRASE = 30
_PHRASE_END = re.compile(r"[。；;]")
_SPACED_KINDS = frozenset({MarkKind.PART, MarkKind.SUBPART, MarkKind.CHAPTER, MarkKind.JIE, MarkKind.TIAO})
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_IN_WORDS = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
"""第一章 总 则: spaces set between the characters of a short title for looks, not meaning."""


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
    rest = _SPACE_IN_WORDS.sub("", line_text[mark.length :].strip())
    end = _PHRASE_END.search(rest)
    phrase = rest[: end.start()] if end else rest
    has_more = bool(rest[end.end() :].strip()) if end else False
    if mark.kind is MarkKind.TIAO or phrase.endswith(("：", ":")):
        has_more = bool(phrase)  # 第X条 carry no title, and a lead-in ending in ： is text, not a heading
    if len(phrase) > _MAX_HEADING_PHRASE:
        phrase, has_more = phrase[:_MAX_HEADING_PHRASE] + "…", True
    sep = " " if mark.kind in _SPACED_KINDS and phrase else ""
    return f"{mark.label}{sep}{phrase}", has_more


def parse_text(text: str, *, name: str) -> ParsedText:
    """Parse one file's decoded text; CorpusError naming the file if it has no numbered headings."""
    cleaned = clean(text)
    builder = _TreeBuilder()
    for line in cleaned.body:
        builder.add(line, after_junk=line.number in cleaned.breaks)
    if any((m := match_mark(line.text)) and m.kind is MarkKind.TIAO and is_article_heading(line.text, m)
           for line in cleaned.body):
        outline = build_outline(cleaned.body, cleaned.breaks)
        # A document numbered 一、 that quotes an article or two keeps its own numbering, and one that
        # lists other laws' articles (a table of 刑法 articles and their crimes) is not numbered by them.
        if outline.articles and outline.articles >= len(builder.sections) and 2 * outline.articles >= outline.candidates:
            return _parsed_law(outline, cleaned)
    if not builder.sections and not builder.articles:
        body = _unnumbered(builder.preamble)
        if body is None:
            raise CorpusError(
                f"{name}: no numbered headings (一、, （一） or 第一条) found; "
                "is it a policy document? Remove it from the corpus or fix its numbering"
            )
        units = [*body, *_closing(cleaned.closing)]
        return ParsedText(tuple(units), 0, 0, 0, cleaned, tuple(builder.orphans))
    units = [*_preamble(builder.preamble, law=False), *_tree_units(builder.roots), *_closing(cleaned.closing)]
    return ParsedText(
        units=tuple(units),
        sections=sum(1 for node in builder.roots if _level(node.mark) == 0),
        articles=len(builder.articles),
        items=builder.item_count,
        cleaned=cleaned,
        orphans=tuple(builder.orphans),
    )


def _parsed_law(outline: Outline, cleaned: Cleaned) -> ParsedText:
    units = [*_preamble(list(outline.preamble), law=True), *_law_units(outline), *_closing(cleaned.closing)]
    return ParsedText(
        units=_unique_labels(units),
        sections=outline.sections,
        articles=outline.articles,
        items=outline.items,
        cleaned=cleaned,
        orphans=outline.orphans,
    )


_LEVELS = {MarkKind.SECTION: 0, MarkKind.CN_PAREN: 1, MarkKind.ARABIC: 2, MarkKind.ARABIC_PAREN: 2}


def _level(mark: Mark) -> int | None:
    """0 section, 1 article, 2 item, None for a mark that is not part of the 一、（一）1. scheme."""
    return _LEVELS.get(mark.kind)


class _TreeBuilder:
    """Reads body lines in order and hangs them on the numbering tree."""

    def __init__(self) -> None:
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
        level = _level(mark) if mark else None
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


def _preamble(lines: list[Line], *, law: bool) -> list[Unit]:
    """序言; or, in a law or under adoption notes, 题注 and a 序言 from a line saying 序言 on."""
    if not lines:
        return []
    if not law and not is_adoption_note(lines[0]):
        return [_preamble_unit(lines)]
    intro = next((i for i, line in enumerate(lines) if _SPACE_IN_WORDS.sub("", line.text) == PREAMBLE_LABEL), None)
    notes, rest = (lines[:intro], lines[intro:]) if intro is not None else (lines, [])
    units = [Unit(ClauseKind.PREAMBLE, NOTES_LABEL, ("notes",), (NOTES_LABEL,), _span(notes[0], notes[-1]))] if notes else []
    return units + ([_preamble_unit(rest)] if rest else [])


def _unnumbered(lines: list[Line]) -> list[Unit] | None:
    """题注 and 正文 of a law or judicial reply too short to number (a one-paragraph 修正案, a 批复): the
    adoption notes it opens with, and the text after them; None for text without such notes."""
    if not lines or not is_adoption_note(lines[0]):
        return None
    end = 1
    while end < len(lines) and (
        is_adoption_note(lines[end])
        or (len(lines[end].text) <= _MAX_NOTE_LINE and not _SENTENCE_MARKS.search(lines[end].text))
    ):
        end += 1  # a note wrapped onto the next line
    if end == len(lines):
        return None
    notes, body = lines[:end], lines[end:]
    return [
        Unit(ClauseKind.PREAMBLE, NOTES_LABEL, ("notes",), (NOTES_LABEL,), _span(notes[0], notes[-1])),
        Unit(ClauseKind.ARTICLE, BODY_LABEL, ("body",), (BODY_LABEL,), _span(body[0], body[-1])),
    ]


def _preamble_unit(lines: list[Line]) -> Unit:
    return Unit(ClauseKind.PREAMBLE, PREAMBLE_LABEL, ("preamble",), (PREAMBLE_LABEL,), _span(lines[0], lines[-1]))


def _closing(lines: tuple[Line, ...]) -> list[Unit]:
    if not lines:
        return []
    return [Unit(ClauseKind.CLOSING, CLOSING_LABEL, ("closing",), (CLOSING_LABEL,), _span(lines[0], lines[-1]))]


def _tree_units(roots: list[_Node]) -> list[Unit]:
    units: list[Unit] = []
    for root in roots:
        if _level(root.mark) == 0:
            units.extend(_section_units(root))
        else:
            units.extend(_article_units(root, (), ()))
    return units


def _section_units(section: _Node) -> list[Unit]:
    heading, has_more = heading_of(section.mark, section.heading.text)
    units: list[Unit] = []
    if has_more or section.lines or not section.children:  # 七、本决定自公布之日起施行。 is text
        units.append(
            Unit(
                ClauseKind.SECTION,
                section.mark.label,
                (section.mark.id_part,),
                (heading,),
                _span(section.heading, section.last),
            )
        )
    for article in section.children:
        units.extend(_article_units(article, (section.mark,), (heading,)))
    return units


def _law_units(outline: Outline) -> list[Unit]:
    units: list[Unit] = []
    for root in outline.roots:
        _law_node_units(root, _Trail(), outline.restarts, units)
    return units


@dataclass(frozen=True, slots=True)
class _Trail:
    """The headings above a node: their labels, id parts, marks and path entries."""

    labels: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    marks: tuple[Mark, ...] = ()
    path: tuple[str, ...] = ()


def _law_node_units(node: Node, trail: _Trail, restarts: bool, out: list[Unit]) -> None:
    """Units of one node of a law's tree. Articles are numbered through the whole law, so their labels
    leave the chapter out (第十条), unless some chapter starts again from 第一条 (第二章第一条)."""
    if node.kind is NodeKind.ARTICLE:
        out.extend(_article_units(node, trail.marks if restarts else (), trail.path))  # type: ignore[arg-type]
        return
    if node.mark is not None:
        heading, has_more = heading_of(node.mark, node.heading.text)
    else:
        heading, has_more = _SPACE_IN_WORDS.sub("", node.heading.text), False
    trail = _Trail(
        (*trail.labels, node.label),
        (*trail.ids, node.id_part),
        (*trail.marks, node.mark) if node.mark is not None else trail.marks,
        (*trail.path, heading),
    )
    if has_more or node.lines or not node.children:
        span = _span(node.heading, node.last)
        out.append(Unit(ClauseKind.SECTION, "".join(trail.labels), trail.ids, trail.path, span))
    for child in node.children:
        _law_node_units(child, trail, restarts, out)


def _unique_labels(units: list[Unit]) -> tuple[Unit, ...]:
    """A label printed twice (two annexes both called 附件) gets its order: 附件, 附件（2）."""
    seen: dict[str, int] = {}
    out: list[Unit] = []
    for unit in units:
        count = seen[unit.label] = seen.get(unit.label, 0) + 1
        if count > 1:
            unit = replace(unit, label=f"{unit.label}（{count}）", id_parts=(*unit.id_parts, str(count)))
        out.append(unit)
    return tuple(out)


def _article_units(article: _Node, prefix: tuple[Mark, ...], path: tuple[str, ...]) -> list[Unit]:
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
