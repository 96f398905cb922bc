"""Where a document's metadata stands in its text: the title block, the header lines under it (adoption,
amendment, publication dates), the number line, and the closing signature. Spans only; the values are
worked out by rag/metadata_text.py."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from rag.dates import find_dates
from rag.gazetteer import simplified_same_length
from rag.issuers import IssuerTable

__all__ = ["Event", "Layout", "Span"]

Span = tuple[int, int]

_HEADING = re.compile(r"^\s{0,3}#\s+(?P<title>\S.*?)\s*#*\s*$")
_BODY_START = re.compile(
    r"^(?:#+\s*)?(?:第[一二三四五六七八九十百零〇\d]+[编章节条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]"
    r"|<!--\s*INFO END\s*-->)"
)
_FIRST_ARTICLE = re.compile(r"^(?:#+\s*)?(?:第[一1][编章节条]|<!--\s*INFO END\s*-->)")
_SALUTATION = re.compile(r".{4,}[：:]\s*$")
_NUMBER = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{1,16})\s*[〔\[［【(（]\s*(?:19|20)\d\d\s*[〕\]］】)）]\s*第?\s*\d{1,5}\s*号"
)
_ORDER = re.compile(r"(?P<prefix>[\u4e00-\u9fff、]{2,40}?(?:令|公告|通告))\s*第\s*(?:\d+|[一二三四五六七八九十百零〇]+)\s*号")
_STANDALONE = re.compile(r"[（(]?\s*(?P<n>.+?)\s*[）)]?")
_TITLE_END_PUNCTUATION = "。；，、：:;,!?！？…"
_NOT_TITLE = re.compile(r"[：:>|/<]|^附件\s*\d*$|文件$|^\d|https?")
_STATUS_LINE = re.compile(r"[（(][^（）()]{1,12}[）)]")
_EVENTS = (
    ("amended", re.compile(r"修正|修订|修改")),
    ("adopted", re.compile(r"通过")),
    ("approved", re.compile(r"批准")),
    ("published", re.compile(r"公布|发布|公告|令第|号令")),
    ("effective", re.compile(r"施行|生效|执行")),
)
_CLOSING_LINES = 12


@dataclass(frozen=True, slots=True)
class Event:
    """A dated line of the header: 2022年12月29日 深圳市第七届人民代表大会常务委员会第十四次会议通过."""

    kind: str
    date: Span
    phrase: Span
    """What follows the date, up to the next date or the end of the line."""
    parts: tuple[Span, ...] = ()
    """For a text adopted by several organs on several dates (最高人民法院审判委员会第1832次会议、
    2021年2月26日最高人民检察院…通过), each organ's phrase; else just the phrase."""


class Layout:
    def __init__(self, text: str, issuers: IssuerTable, genres: tuple[str, ...]) -> None:
        self.text = text
        self.simple = simplified_same_length(text)
        self.issuers = issuers
        self._genres = genres
        changed = sum(a != b for a, b in zip(text, self.simple, strict=True))
        cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
        self.script = "traditional" if changed >= 5 and changed >= 0.03 * cjk else "simplified"
        self._starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self._lines = [(start, self._line_end(start)) for start in self._starts]
        self.body_start = next((i for i, _ in enumerate(self._lines) if self._opens_body(i)), len(self._lines))
        self._articles_start = next(
            (i for i in range(self.body_start, len(self._lines)) if _FIRST_ARTICLE.match(self._line(i).strip())),
            self.body_start,
        )
        self._title = self._find_title()

    # --- lines ------------------------------------------------------------------------------------

    def _line_end(self, start: int) -> int:
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        return end - 1 if end > start and self.text[end - 1] == "\r" else end

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset)

    def _line(self, index: int) -> str:
        start, end = self._lines[index]
        return self.simple[start:end]

    def _stripped_span(self, index: int) -> Span:
        start, end = self._lines[index]
        line = self.simple[start:end]
        left = len(line) - len(line.lstrip())
        return start + left, start + len(line.rstrip())

    def _nonblank(self, indexes: range) -> list[int]:
        return [i for i in indexes if self._line(i).strip()]

    def _opens_body(self, index: int) -> bool:
        line = self._line(index).strip()
        return bool(_BODY_START.match(line) or _SALUTATION.match(line))

    def tail_start(self, count: int) -> int:
        lines = self._nonblank(range(len(self._lines)))[-count:]
        return self._lines[lines[0]][0] if lines else 0

    def head_end(self) -> int:
        last = self._title[1] if self._title else -1
        index = min(max(last + 8, 8), len(self._lines) - 1, max(self.body_start, last + 1))
        return self._lines[max(index, 0)][1] if self._lines else 0

    # --- title ------------------------------------------------------------------------------------

    def title(self) -> Span | None:
        if self._title is None:
            return None
        first, last = self._title
        start = self._stripped_span(first)[0]
        end = self._stripped_span(last)[1]
        if _HEADING.match(self._line(first)):
            match = _HEADING.match(self._line(first))
            start = self._lines[first][0] + match.start("title")
        return start, end

    def _find_title(self) -> tuple[int, int] | None:
        limit = min(self.body_start + 1, len(self._lines), 80)
        for index in range(limit):
            if _HEADING.match(self._line(index)):
                return index, index
        for index in range(min(self.body_start, 80)):
            if self._is_title_line(self._line(index).strip()):
                first = self._extend_up(index)
                return first, self._extend_down(index)
        return None

    def _is_title_line(self, line: str) -> bool:
        if not (4 <= len(line) <= 100) or line[-1] in _TITLE_END_PUNCTUATION or _NOT_TITLE.search(line):
            return False
        stem = line
        while (shorter := re.sub(r"\s*[（(][^（）()]{1,20}[）)]\s*$", "", stem)) != stem and shorter:
            stem = shorter
        return any(stem.endswith(genre) and len(stem) >= len(genre) + 3 for genre in self._genres)

    def _is_fragment(self, line: str) -> bool:
        return (2 <= len(line) <= 40 and line[-1] not in _TITLE_END_PUNCTUATION and not _NOT_TITLE.search(line)
                and not _NUMBER.search(line) and not find_dates(line) and bool(re.search(r"[\u4e00-\u9fff]", line)))

    def _extend_up(self, index: int) -> int:
        first = index
        for _ in range(2):
            previous = self._nonblank(range(max(first - 3, 0), first))
            if not previous or not self._is_fragment(self._line(previous[-1]).strip()):
                break
            first = previous[-1]
        return first

    def _extend_down(self, index: int) -> int:
        following = self._nonblank(range(index + 1, min(index + 4, len(self._lines))))
        if following and _STATUS_LINE.fullmatch(self._line(following[0]).strip()):
            return following[0]
        return index

    # --- number -----------------------------------------------------------------------------------

    def number(self) -> Span | None:
        head = range(min(self.body_start, len(self._lines)))
        for index in self._nonblank(head):
            span = self._standalone_number(index)
            if span:
                return span
        numbers = []
        for event in self.events_list():
            start, end = event.phrase
            start += len(self.simple[start:end]) - len(self.simple[start:end].lstrip())
            match = _ORDER.match(self.simple, start, end) or _NUMBER.match(self.simple, start, end)
            if match:
                numbers.append((event.kind != "published", match.span()))
        if numbers:
            return min(numbers)[1]
        for index in self._nonblank(range(len(self._lines)))[-8:]:
            if index >= self.body_start:
                span = self._standalone_number(index)
                if span:
                    return span
        return None

    def _standalone_number(self, index: int) -> Span | None:
        start, end = self._stripped_span(index)
        match = _STANDALONE.fullmatch(self.simple, start, end)
        if not match:
            return None
        inner = match.span("n")
        number = _NUMBER.fullmatch(self.simple, *inner) or _ORDER.fullmatch(self.simple, *inner)
        return number.span() if number else None

    # --- header events ----------------------------------------------------------------------------

    def _header_lines(self) -> list[int]:
        """The lines under the title before the body, and the dated lines (1995年5月1日 施行) between an
        issuing notice and the rules it issues."""
        first = self._title[1] + 1 if self._title else 0
        lines = self._nonblank(range(first, min(self.body_start, len(self._lines), first + 40)))
        for index in self._nonblank(range(max(first, self.body_start), min(self._articles_start, first + 80))):
            line = self._line(index).strip()
            dates = find_dates(line)
            if dates and dates[0].start == 0 and any(p.search(line[dates[0].end :]) for _, p in _EVENTS):
                lines.append(index)
        return lines

    def events_list(self) -> list[Event]:
        events: list[Event] = []
        for index in self._header_lines():
            start, end = self._lines[index]
            dates = find_dates(self.simple, start, end)
            pending: list[tuple[Span, Span]] = []
            for number, date in enumerate(dates):
                phrase_end = dates[number + 1].start if number + 1 < len(dates) else end
                phrase = (date.end, phrase_end)
                text = self.simple[phrase[0] : phrase[1]]
                kinds = [kind for kind, pattern in _EVENTS if pattern.search(text)]
                if not kinds and text.rstrip().endswith("、"):
                    pending.append(((date.start, date.end), phrase))
                    continue
                kinds = kinds or ["dated"]
                kind = "amended" if "amended" in kinds else kinds[0]
                first_date, first_phrase = pending[0] if pending else ((date.start, date.end), phrase)
                parts = (*(part for _, part in pending), phrase)
                events.append(Event(kind, first_date, (first_phrase[0], phrase[1]), parts))
                if kind == "published" and "effective" in kinds:
                    events.append(Event("effective", (date.start, date.end), phrase, (phrase,)))
                pending = []
        return events

    def events(self) -> dict[str, Event]:
        """The first event of each kind (the original adoption, not a later amendment's)."""
        found: dict[str, Event] = {}
        for event in self.events_list():
            found.setdefault(event.kind, event)
        return found

    def amended(self) -> list[Span]:
        return [event.date for event in self.events_list() if event.kind == "amended"]

    # --- closing ----------------------------------------------------------------------------------

    def closing(self) -> tuple[Span | None, Span | None]:
        """The signature's organ and date (国务院 / 2020年7月13日): the last standalone date under an
        organ's name anywhere after the title (a notice printed before the rules it issues signs there),
        or a standalone date among the last lines."""
        event_lines = {self.line_of(event.date[0]) - 1 for event in self.events_list()}
        nonblank = self._nonblank(range(len(self._lines)))
        tail = set(nonblank[-_CLOSING_LINES:])
        title_last = self._title[1] if self._title else -1
        for position in range(len(nonblank) - 1, -1, -1):
            index = nonblank[position]
            if index <= title_last:
                break
            line = self._line(index)
            if index in event_lines or "年" not in line or "日" not in line:
                continue
            start, end = self._stripped_span(index)
            dates = find_dates(self.simple, start, end)
            if len(dates) != 1:
                continue
            date = dates[0]
            before = self.simple[start : date.start].strip(" 　\t（(")
            after_text = self.simple[date.end : end].strip(" 　\t）)")
            if after_text or (before and not self.issuers.is_organ_name(before)):
                continue
            if before:
                organ_start = start + self.simple[start:date.start].find(before)
                return (organ_start, organ_start + len(before)), (date.start, date.end)
            organ = self._organ_lines_above([i for i in nonblank[:position] if i > title_last])
            if organ or index in tail:
                return organ, (date.start, date.end)
        return None, None

    def _organ_lines_above(self, lines: list[int]) -> Span | None:
        block: list[int] = []
        for index in reversed(lines[-3:]):
            if not self.issuers.is_organ_name(self._line(index)):
                break
            block.insert(0, index)
        if not block:
            return None
        return self._stripped_span(block[0])[0], self._stripped_span(block[-1])[1]
