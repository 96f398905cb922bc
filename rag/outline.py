"""The heading tree of a law or regulation: a document whose articles are numbered 第X条.

Levels, outermost first: part (第一编, 第一分编), chapter (第一章), heading (一、 in judicial
interpretations), section (第一节), sub-heading (（一）动产质押 between articles), article (第一条,
第十条之一), item (（一） / 1. / （1） inside an article). Annexes (附件一, 附表) after the last article and a
bare 附则 heading close everything before them. Rules, all about the numbering rather than any document:

- an article heading continues the numbering: the next number, or the next 之X of the same number; a
  short forward jump (a number missing from the source) is accepted when the article after it
  continues from it or it is the last, and so is the first article of an excerpt that starts beyond
  第一条; 第十条规定… at a line start is a cross-reference, not a heading; articles a source ran into
  one line (…制定本规则。 第二条 …) are cut apart;
- a heading line is short and holds no sentence punctuation, and its number continues its siblings'
  under the same parent (or the document's, when a law numbers its chapters through its parts), or
  skips a little where the source lost a heading and the numbering goes on upwards after it;
- heading lines seen before the first article that start over at 第一… were a table of contents: they
  join the lines before the first article;
- a line that is none of these is text of the unit it is in.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rag.cleaning import Line
from rag.numbering import Mark, MarkKind, match_mark

__all__ = ["Node", "NodeKind", "Outline", "build_outline", "is_article_heading"]


class NodeKind(StrEnum):
    HEADING = "heading"  # 第一编, 第一章, 一、, 第一节, （一） between articles, 附则
    ANNEX = "annex"  # 附件一 / 附表 after the last article
    ARTICLE = "article"
    ITEM = "item"


@dataclass(slots=True)
class Node:
    kind: NodeKind
    rank: int
    heading: Line
    mark: Mark | None  # None for a named heading (附则, 附件)
    name: str = ""  # the label of a named heading
    lines: list[Line] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    closed: bool = False
    counters: dict[MarkKind, int] = field(default_factory=dict)
    """The last number of each heading kind among the children, to check the next one continues it."""

    @property
    def last(self) -> Line:
        return self.lines[-1] if self.lines else self.heading

    @property
    def label(self) -> str:
        return self.mark.label if self.mark else self.name

    @property
    def id_part(self) -> str:
        return self.mark.id_part if self.mark else self.name


@dataclass(frozen=True, slots=True)
class Outline:
    preamble: tuple[Line, ...]
    roots: tuple[Node, ...]
    sections: int
    articles: int
    items: int
    orphans: tuple[Line, ...]
    restarts: bool
    """Some chapter numbers its articles from 第一条 again, so article labels need their chapter."""
    candidates: int = 0
    """Lines that start like an article heading, whether or not they continue the numbering."""


_HEADING_RANK = {
    MarkKind.PART: 0,
    MarkKind.SUBPART: 1,
    MarkKind.CHAPTER: 2,
    MarkKind.SECTION: 3,
    MarkKind.JIE: 4,
    MarkKind.CN_PAREN: 5,
}
_CLOSING_RANK = 0  # 附则 without a number ends the last part
_ANNEX_RANK = -1
_ARTICLE_RANK = 6
_ITEM_KINDS = frozenset({MarkKind.CN_PAREN, MarkKind.ARABIC, MarkKind.ARABIC_PAREN})
_MAX_JUMP = 4
"""How far the numbering may jump where the source lost a heading (第十五条 after 第十三条; a lost
第三十五条 before the last article). Further jumps are quotations: a 修正案 that prints the articles it
adds (增加五条，分别作为第一百二十三条至第一百二十七条) keeps them inside its own article."""
_MAX_HEADING_TITLE = 40
_SENTENCE_PUNCTUATION = re.compile(r"[。；;，,：:！？!?]")
_CLAUSE_PUNCTUATION = re.compile(r"[。；;：:！？!?]")
_ORDINAL_HEADINGS = frozenset({MarkKind.PART, MarkKind.SUBPART, MarkKind.CHAPTER, MarkKind.JIE})
_REFERENCE_NEXT = frozenset("的规第、和或至中所款项及与到以之，,。；;")
"""Characters that follow 第十条 in a cross-reference (第十条规定的, 第十条第二款) and never in a heading."""
_SPACES = re.compile(r"\s+")
_ANNEX = re.compile(r"^附\s*(件|表|录)\s*([一二三四五六七八九十]+|\d{1,3})?(?=$|[\s：:（(])")
_MAX_ANNEX_LINE = 60


def is_article_heading(text: str, mark: Mark) -> bool:
    """Whether a line starting with 第X条 reads as an article heading rather than a cross-reference."""
    after = text[mark.length : mark.length + 1]
    return not after or after.isspace() or after not in _REFERENCE_NEXT


def build_outline(lines: Sequence[Line], breaks: frozenset[int]) -> Outline:
    """The heading tree of a 第X条 document's body lines (see the module docstring)."""
    return _Builder(lines, breaks).build()


def _follows(previous: tuple[int, int], current: tuple[int, int]) -> bool:
    """第十一条 follows 第十条, 第十条之一 follows 第十条, 第十条之二 follows 第十条之一."""
    return (current[1] == 0 and current[0] == previous[0] + 1) or (
        current[0] == previous[0] and current[1] == previous[1] + 1
    )


def _number(mark: Mark) -> tuple[int, int]:
    return (mark.value, mark.sub)


_RUN_ON = re.compile(r"(?<=[。；！？”])\s+(?=第[零〇一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?\s)")
"""Where a source ran several articles into one line: 制定本规则。 第二条 凡辖有航空器的单位…"""


def _split_run_on(line: Line) -> list[Line]:
    """The line cut before each article heading run into it (spans stay exact), or the line itself."""
    if "条" not in line.text or not _RUN_ON.search(line.text):
        return [line]
    pieces: list[Line] = []
    begin = 0
    for match in _RUN_ON.finditer(line.text):
        pieces.append(_piece(line, begin, match.start()))
        begin = match.end()
    pieces.append(_piece(line, begin, len(line.text)))
    return pieces


def _piece(line: Line, begin: int, end: int) -> Line:
    return Line(line.number, line.start + begin, line.start + end, line.text[begin:end])


def _is_heading_line(text: str, mark: Mark) -> bool:
    """A heading holds a short title and no sentence; a chapter title may hold a comma
    (第四章 乡、镇人民代表大会主席团，主席、副主席), a 一、 or （一） title may not."""
    title = text[mark.length :].strip()
    punctuation = _CLAUSE_PUNCTUATION if mark.kind in _ORDINAL_HEADINGS else _SENTENCE_PUNCTUATION
    return len(title) <= _MAX_HEADING_TITLE and not punctuation.search(title)


class _Builder:
    def __init__(self, lines: Sequence[Line], breaks: frozenset[int]) -> None:
        lines = [piece for line in lines for piece in _split_run_on(line)]
        self.lines = lines
        self.breaks = breaks
        self.marks: list[Mark | None] = []
        for line in lines:
            mark = match_mark(line.text)
            if mark is not None and mark.kind is MarkKind.TIAO and not is_article_heading(line.text, mark):
                mark = None
            self.marks.append(mark)
        # The number of the next article-like line after each line, for confirming jumps in the numbering.
        self.next_article: list[tuple[int, int] | None] = [None] * len(lines)
        following: tuple[int, int] | None = None
        for i in range(len(lines) - 1, -1, -1):
            self.next_article[i] = following
            mark = self.marks[i]
            if mark is not None and mark.kind is MarkKind.TIAO:
                following = _number(mark)
        # Where each heading kind's heading lines are, for confirming a heading missing from the source.
        self.heading_lines: dict[MarkKind, list[tuple[int, int]]] = {}
        for i, mark in enumerate(self.marks):
            if mark is not None and mark.kind in _ORDINAL_HEADINGS and _is_heading_line(lines[i].text, mark):
                self.heading_lines.setdefault(mark.kind, []).append((i, mark.value))
        self._reset()
        self.preamble: list[Line] = []
        self.orphans: list[Line] = []
        self.item_count = 0
        self.restarts = False

    def _reset(self) -> None:
        self.roots: list[Node] = []
        self.stack: list[Node] = []  # open headings, outermost first
        self.root_counters: dict[MarkKind, int] = {}
        self.document_counters: dict[MarkKind, int] = {}
        self.document_headings: dict[MarkKind, int] = {}  # how many of each kind
        self.articles: list[Node] = []
        self.article: Node | None = None  # the article items attach to
        self.open: Node | None = None  # the node text lines attach to
        self.annex = False
        self.fresh_heading = False  # a heading opened since the last article
        self.consumed: list[Line] = []  # every line in the tree, in order, for a table-of-contents reset

    def build(self) -> Outline:
        previous_number = 0
        for i, line in enumerate(self.lines):
            if line.number in self.breaks and line.number != previous_number and self.open is not None:
                self.open.closed = True
            previous_number = line.number
            if not self._structure(i, line):
                self._text(line)
        top = sum(1 for node in self.roots if node.kind is NodeKind.HEADING and node.mark is not None)
        return Outline(
            preamble=tuple(self.preamble),
            roots=tuple(self.roots),
            sections=self.document_headings.get(MarkKind.CHAPTER, 0) or top,
            articles=len(self.articles),
            items=self.item_count,
            orphans=tuple(self.orphans),
            restarts=self.restarts,
            candidates=sum(1 for mark in self.marks if mark is not None and mark.kind is MarkKind.TIAO),
        )

    def _structure(self, i: int, line: Line) -> bool:
        """Open the node this line starts, if it starts one; False for a text line."""
        mark = self.marks[i]
        if self.annex:
            return self._annex(line)
        if mark is not None:
            kind = mark.kind
            if kind is MarkKind.TIAO:
                verdict = self._article_verdict(i, mark)
                if verdict is None:
                    return False
                self.restarts = self.restarts or verdict == "restart"
                self._open_article(line, mark)
                return True
            if kind is MarkKind.CN_PAREN and self._subheading(i, line, mark):
                return True
            if kind in _ITEM_KINDS and self._item_continues(mark):
                self._open_item(line, mark)
                return True
            return kind in _HEADING_RANK and kind is not MarkKind.CN_PAREN and self._heading(i, line, mark)
        if self.articles and _SPACES.sub("", line.text) == "附则":
            self._open_heading(Node(NodeKind.HEADING, _CLOSING_RANK, line, None, "附则"))
            return True
        return bool(self.articles) and self._annex(line)

    # articles and items

    def _article_verdict(self, i: int, mark: Mark) -> str | None:
        """How line i's 第X条 continues the articles ("next", "jump", "restart"), or None if it does not."""
        current = _number(mark)
        following = self.next_article[i]
        confirmed = following is not None and _follows(current, following)
        if not self.articles:
            return "next" if current == (1, 0) or confirmed else None
        previous = _number(self.articles[-1].mark)  # type: ignore[arg-type]
        if _follows(previous, current):
            return "next"
        if previous < current and current[0] - previous[0] <= _MAX_JUMP and (confirmed or following is None):
            return "jump"  # a number missing from the source: the numbering goes on from here
        if current == (1, 0) and self.fresh_heading and confirmed:
            return "restart"  # this chapter numbers its articles from 第一条 again
        return None

    def _open_article(self, line: Line, mark: Mark) -> None:
        node = Node(NodeKind.ARTICLE, _ARTICLE_RANK, line, mark)
        self._attach(node)
        self.articles.append(node)
        self.article = node
        self.open = node
        self.fresh_heading = False

    def _item_continues(self, mark: Mark) -> bool:
        if self.article is None:
            return False
        items = self.article.children
        if not items:
            return mark.value == 1
        first, last = items[0].mark, items[-1].mark
        return mark.kind is first.kind and mark.value == last.value + 1  # type: ignore[union-attr]

    def _open_item(self, line: Line, mark: Mark) -> None:
        node = Node(NodeKind.ITEM, _ARTICLE_RANK + 1, line, mark)
        self.article.children.append(node)  # type: ignore[union-attr]
        self.item_count += 1
        self.open = node
        self.consumed.append(line)

    # headings

    def _heading(self, i: int, line: Line, mark: Mark) -> bool:
        if not _is_heading_line(line.text, mark):
            return False
        if mark.kind is MarkKind.SECTION and not self._leads_to_article(i + 1):
            return False  # 一、 heads a group of articles; elsewhere it is an old-style item
        if not self._continues_siblings(mark) and not self._skips_lost_heading(i, mark):
            if self.articles or mark.value != 1 or mark.kind not in self.document_counters:
                return False
            self._table_of_contents()
        self._open_heading(Node(NodeKind.HEADING, _HEADING_RANK[mark.kind], line, mark))
        return True

    def _skips_lost_heading(self, i: int, mark: Mark) -> bool:
        """第二章 with no 第一章 before it (or 第五章 after 第三章): the source lost a heading. Accepted when
        the numbering goes on upwards after it (or it is the last heading of its kind) and it skips little."""
        if mark.kind not in _ORDINAL_HEADINGS or not self.articles and mark.kind in self.document_counters:
            return False  # before the first article, a heading that does not continue may be a table of contents
        parent = self._parent(_HEADING_RANK[mark.kind])
        last = (parent.counters if parent else self.root_counters).get(mark.kind, 0)
        if not last < mark.value <= last + _MAX_JUMP:
            return False
        positions = self.heading_lines.get(mark.kind, [])
        k = bisect.bisect_right(positions, (i, mark.value))
        return k == len(positions) or positions[k][1] > mark.value

    def _subheading(self, i: int, line: Line, mark: Mark) -> bool:
        """（一）动产质押 between two articles: a heading, unless it continues the article's items."""
        if not self.articles or not _is_heading_line(line.text, mark) or not self._leads_to_article(i + 1):
            return False
        if mark.value > 1 and self._item_continues(mark):
            return False
        if not self._continues_siblings(mark):
            return False
        self._open_heading(Node(NodeKind.HEADING, _HEADING_RANK[mark.kind], line, mark))
        return True

    def _leads_to_article(self, j: int) -> bool:
        """Whether line j opens the next article, possibly after a （一） sub-heading."""
        if j >= len(self.lines):
            return False
        mark = self.marks[j]
        if mark is None:
            return False
        if mark.kind is MarkKind.TIAO:
            return self._article_verdict(j, mark) is not None
        return (
            mark.kind is MarkKind.CN_PAREN
            and mark.value == 1
            and _is_heading_line(self.lines[j].text, mark)
            and j + 1 < len(self.lines)
            and (following := self.marks[j + 1]) is not None
            and following.kind is MarkKind.TIAO
        )

    def _parent(self, rank: int) -> Node | None:
        for node in reversed(self.stack):
            if node.rank < rank:
                return node
        return None

    def _continues_siblings(self, mark: Mark) -> bool:
        parent = self._parent(_HEADING_RANK[mark.kind])
        counters = parent.counters if parent else self.root_counters
        last = counters.get(mark.kind, 0)
        if mark.value == last + 1:
            return True
        # chapters numbered through the whole law rather than from 第一章 in each part
        return last == 0 and mark.value == self.document_counters.get(mark.kind, 0) + 1

    def _open_heading(self, node: Node) -> None:
        while self.stack and self.stack[-1].rank >= node.rank:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if node.mark is not None:
            counters = parent.counters if parent else self.root_counters
            counters[node.mark.kind] = node.mark.value
            self.document_counters[node.mark.kind] = node.mark.value
            self.document_headings[node.mark.kind] = self.document_headings.get(node.mark.kind, 0) + 1
        (parent.children if parent else self.roots).append(node)
        self.stack.append(node)
        self.article = None
        self.open = node
        self.fresh_heading = True
        self.consumed.append(node.heading)

    def _table_of_contents(self) -> None:
        """Headings so far, with no article among them, were a table of contents: they join the preamble."""
        self.preamble.extend(self.consumed)
        self._reset()

    def _annex(self, line: Line) -> bool:
        if len(line.text) > _MAX_ANNEX_LINE or "。" in line.text:
            return False
        match = _ANNEX.match(line.text)
        if match is None:
            return False
        name = f"附{match.group(1)}{match.group(2) or ''}"
        node = Node(NodeKind.ANNEX, _ANNEX_RANK, line, None, name)
        self._attach(node)
        self.stack = [node]
        self.article = None
        self.open = node
        self.annex = True
        return True

    def _attach(self, node: Node) -> None:
        parent = self._parent(node.rank)
        if node.kind is NodeKind.ANNEX or parent is None:
            self.roots.append(node)
        else:
            parent.children.append(node)
        self.consumed.append(node.heading)

    def _text(self, line: Line) -> None:
        if self.open is None:
            self.preamble.append(line)
            return
        if self.open.closed:
            self.orphans.append(line)
            return
        self.open.lines.append(line)
        self.consumed.append(line)
