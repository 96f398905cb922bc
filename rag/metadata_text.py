"""Metadata read from a document's own text: title, number, issuer, dates, level and region, genre and
status, each with the line and characters it was read from.

Values are in simplified script whatever the script of the text (粤府〔2021〕5號 gives 粤府〔2021〕5号),
as the library stores and compares them; the evidence span points at the printed form, which
`Fact.printed(text)` returns. Dates are ISO (2020-09-30), their span the printed date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePath

from rag.dates import find_dates
from rag.gazetteer import Gazetteer, load_gazetteer
from rag.issuers import IssuerTable, Location, load_issuers
from rag.metadata_layout import Event, Layout, Span
from rag.normalize import normalize_for_match

__all__ = ["Evidence", "Fact", "TextMetadata", "read_metadata"]

_PARENTHETICAL_END = re.compile(r"\s*[（(][^（）()]{1,20}[）)]\s*$")
_QUOTED = re.compile(r"《[^《》]*》")
_EFFECTIVE_ON = re.compile(r"自\s*(?P<date>[^起，。；]{6,16}?)\s*起\s*(?:施行|生效|实施|执行)")
_EFFECTIVE_WITH = re.compile(r"自(?:公布|发布|印发|颁布)之日起\s*(?:施行|生效|实施|执行)")
_REPEALED_MARK = re.compile(r"[（(【\[]\s*(?P<w>{words})\s*[）)】\]]|(?:时效性|效力|状态)\s*[：:]\s*(?P<v>{words})")
_CLOSING_QUOTED = re.compile(r"现将《(?P<title>[^《》]{4,100})》(?:印发|发布|转发|予以公布|公布)")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a fact comes from: line (1-based) and the character span of the printed value or of the
    phrase it was worked out from; line 0 and an empty span when it is not from the text (a file name)."""

    line: int
    span: tuple[int, int]
    source: str
    """"text": printed as the value says; "derived": worked out (an issuer from a number's prefix, a
    region from the issuer, an organ's name without its sitting, a title from a file name)."""

    def __post_init__(self) -> None:
        if self.source not in ("text", "derived"):
            raise ValueError(f"evidence source {self.source!r} must be text or derived")


@dataclass(frozen=True, slots=True)
class Fact:
    value: str
    evidence: Evidence | None

    @property
    def derived(self) -> bool:
        return self.evidence is None or self.evidence.source == "derived"

    def printed(self, text: str) -> str | None:
        """The text the evidence points at, as printed (traditional script stays traditional)."""
        if self.evidence is None or self.evidence.span[0] == self.evidence.span[1]:
            return None
        return text[self.evidence.span[0] : self.evidence.span[1]]


@dataclass(frozen=True, slots=True)
class TextMetadata:
    title: Fact | None = None
    doc_number: Fact | None = None
    issuer: Fact | None = None
    date: Fact | None = None
    """The document's date: the closing signature's date, else the date of adoption, publication or
    approval, a bare date under the title, or the first amendment's (a text printing only that)."""
    adopted: Fact | None = None
    amended: tuple[Fact, ...] = ()
    effective: Fact | None = None
    level: Fact | None = None
    """national | provincial | city | county."""
    region: Fact | None = None
    """A province-level short name (广东), or 全国 for a national document."""
    city: Fact | None = None
    genre: Fact | None = None
    status: Fact | None = None
    """draft | trial | repealed; None when the text does not say (in force unless told otherwise)."""
    published: Fact | None = None
    script: str = "simplified"
    """simplified | traditional: the script the text is printed in."""


@dataclass(frozen=True, slots=True)
class _Words:
    genres: tuple[str, ...]
    status: tuple[tuple[str, str], ...]


@cache
def _words() -> _Words:
    folder = resources.files("rag") / "data"
    genres = [line.split("\t")[0].strip() for line in (folder / "genres.txt").read_text(encoding="utf-8").splitlines()]
    rows = [line.split("\t") for line in (folder / "status.tsv").read_text(encoding="utf-8").splitlines()]
    status = [(row[0].strip(), row[1].strip()) for row in rows[1:] if len(row) == 2 and not row[0].startswith("#")]
    status = [row for row in status if row[0] != "word"]
    return _Words(tuple(sorted((g for g in genres if g and not g.startswith("#")), key=len, reverse=True)),
                  tuple(sorted(status, key=lambda row: len(row[0]), reverse=True)))


def read_metadata(text: str, *, file_name: str = "", gazetteer: Gazetteer | None = None) -> TextMetadata:
    """What the text itself says about the document; a fact it does not give is None."""
    gazetteer = gazetteer or load_gazetteer()
    issuers = load_issuers(gazetteer)
    words = _words()
    layout = Layout(text, issuers, words.genres)
    reader = _Reader(layout, issuers)
    title = reader.title(file_name, words.genres)
    number = reader.fact(layout.number())
    closing_organ, closing_date = layout.closing()
    events = layout.events()
    issuer = (
        reader.signature(closing_organ)
        or reader.organ(events.get("adopted"))
        or reader.organ(events.get("published"))
        or reader.organ(events.get("amended"))
        or reader.organ(events.get("approved"))
        or reader.organ(events.get("dated"))
        or reader.issuer_from_number(number)
        or reader.issuer_from_title(title)
    )
    issuer = reader.complete_organ(issuer, title)
    dates = {kind: reader.date(event.date) for kind, event in events.items()}
    date = reader.date(closing_date) or next(
        (dates[kind] for kind in ("adopted", "published", "approved", "dated", "amended") if dates.get(kind)), None)
    effective = dates.get("effective") or reader.effective_in_body(dates.get("published") or reader.date(closing_date))
    level, region, city = reader.location(issuer, title, number, reader.organ(events.get("approved")))
    return TextMetadata(
        title=title, doc_number=number, issuer=issuer, date=date, adopted=dates.get("adopted"),
        amended=tuple(filter(None, (reader.date(span) for span in layout.amended()))), effective=effective,
        level=level, region=region, city=city, genre=reader.genre(title, words.genres),
        status=reader.status(title, words.status), published=dates.get("published"), script=layout.script,
    )


class _Reader:
    """Turns the spans the layout found into facts with evidence."""

    def __init__(self, layout: Layout, issuers: IssuerTable) -> None:
        self.layout = layout
        self.issuers = issuers

    def fact(self, span: Span | None, value: str | None = None, source: str | None = None) -> Fact | None:
        if span is None:
            return None
        start, end = span
        printed = self.layout.simple[start:end]
        value = value if value is not None else re.sub(r"\s+", "", printed)
        if not value:
            return None
        if source is None:
            source = "text" if normalize_for_match(value) in normalize_for_match(printed) else "derived"
        return Fact(value, Evidence(self.layout.line_of(start), (start, end), source))

    def date(self, span: Span | None) -> Fact | None:
        if span is None:
            return None
        found = find_dates(self.layout.simple, span[0], span[1])
        return Fact(found[0].iso, Evidence(self.layout.line_of(span[0]), span, "text")) if found else None

    def signature(self, span: Span | None) -> Fact | None:
        """The organ(s) signing: 广东省人民政府; 科学技术部 / 财政部 on two lines → 科学技术部、财政部."""
        if span is None:
            return None
        parts = self.layout.simple[span[0] : span[1]].split()
        return self.fact(span, "、".join(self.issuers.without_formal_prefix(part) for part in parts))

    def organ(self, event: Event | None) -> Fact | None:
        if event is None:
            return None
        span = event.phrase
        organs = [self.issuers.organ_of_phrase(self.layout.simple[a:b]) for a, b in event.parts or (span,)]
        organ = "、".join(organ for organ in organs if organ)
        if not organ or len(organ) > 60 or "《" in organ or not self.issuers.is_organ_name(organ):
            return None
        return self.fact(span, organ)

    def title(self, file_name: str, genres: tuple[str, ...]) -> Fact | None:
        span = self.layout.title()
        if span is not None:
            return self.fact(span)
        match = _CLOSING_QUOTED.search(self.layout.simple)
        if match:
            return self.fact(match.span("title"))
        stem = re.sub(r"\s*\(\d{4}-\d{2}-\d{2}\)$", "", PurePath(file_name).stem).strip()
        if re.search(r"[\u4e00-\u9fff]", stem) and _genre_of(stem, genres):
            return Fact(stem, Evidence(0, (0, 0), "derived"))
        return None

    def complete_organ(self, issuer: Fact | None, title: Fact | None) -> Fact | None:
        """An organ printed without its place (市人大常委会, 县人民代表大会) takes the place opening the title
        (宁波杭州湾新区条例 → 宁波市人大常委会)."""
        if issuer is None or title is None or title.derived or issuer.evidence is None:
            return issuer
        head = issuer.value[0]
        if head not in "省市县":
            return issuer
        mentions = self.issuers.gazetteer.find(title.value)
        place = None
        if mentions and mentions[0].start == 0 and mentions[0].division.name.endswith(head):
            place = mentions[0].division.name
        elif head == "县":
            match = re.match(r"[\u4e00-\u9fff]{1,10}?县", title.value)
            place = match.group() if match else None
        if place is None:
            return issuer
        return Fact(place + issuer.value[1:], Evidence(issuer.evidence.line, issuer.evidence.span, "derived"))

    def issuer_from_number(self, number: Fact | None) -> Fact | None:
        if number is None or number.evidence is None:
            return None
        prefix = re.split(r"\s*[〔\[［【(（]|第", number.value)[0]
        found = self.issuers.issuer_of_prefix(prefix)
        if found is None:
            if re.search(r"(?:令|公告|通告)$", prefix):
                organ = self.issuers.organ_of_phrase(prefix)
                if organ and self.issuers.is_organ_name(organ):
                    return Fact(organ, Evidence(number.evidence.line, number.evidence.span, "derived"))
            return None
        return Fact(found[0], Evidence(number.evidence.line, number.evidence.span, "derived"))

    def issuer_from_title(self, title: Fact | None) -> Fact | None:
        if title is None or title.derived or "关于" not in title.value:
            return None
        organ = title.value.split("关于", 1)[0]
        if not organ or not self.issuers.is_organ_name(organ):
            return None
        start = title.evidence.span[0]
        return Fact(organ, Evidence(title.evidence.line, (start, start + len(organ)), "derived"))

    def effective_in_body(self, date: Fact | None) -> Fact | None:
        simple = self.layout.simple
        start = self.layout.tail_start(30)
        for match in _EFFECTIVE_ON.finditer(simple, start):
            found = find_dates(simple, match.start("date"), match.end("date"))
            if found:
                return self.date((found[0].start, found[0].end))
        match = _EFFECTIVE_WITH.search(simple, start)
        if match and date is not None:
            return Fact(date.value, Evidence(self.layout.line_of(match.start()), match.span(), "derived"))
        return None

    def location(self, issuer: Fact | None, title: Fact | None, number: Fact | None,
                 approver: Fact | None) -> tuple[Fact | None, Fact | None, Fact | None]:
        """Level, region and city from the issuer, else from a place opening the title, else from a
        province's abbreviation opening the number. A county's organ named alone (景宁畲族自治县人民代表大会)
        takes its region from the province approving its regulation."""
        source: Fact | None = None
        where: Location | None = None
        if issuer is not None:
            where, source = self.issuers.locate(issuer.value), issuer
            if where is None and approver is not None and self.issuers.county_organ(issuer.value):
                above = self.issuers.locate(approver.value)
                if above is not None and above.level == "provincial":
                    where = Location("county", above.region)
        if where is None and title is not None and not title.derived:
            where, source = self._title_location(title.value), title
        if where is None and number is not None:
            where, source = self._number_location(number.value), number
        if where is None or source is None or source.evidence is None:
            return None, None, None
        evidence = Evidence(source.evidence.line, source.evidence.span, "derived")
        city = Fact(where.city, evidence) if where.city else None
        return Fact(where.level, evidence), Fact(where.region, evidence), city

    def _title_location(self, title: str) -> Location | None:
        where = self.issuers.locate(title, county=False)
        if where is None or (where.mention is not None and where.mention.start != 0):
            return None
        if where.mention is None and not title.startswith(self.issuers.national):
            return None
        return where

    def _number_location(self, number: str) -> Location | None:
        mentions = self.issuers.gazetteer.find(number)
        if mentions and mentions[0].start == 0 and mentions[0].division.kind == "province":
            division = mentions[0].division
            return Location("provincial", division.short, None, mentions[0])
        return None

    def genre(self, title: Fact | None, genres: tuple[str, ...]) -> Fact | None:
        if title is None:
            return None
        genre = _genre_of(title.value, genres)
        if genre is None:
            return None
        if title.derived or title.evidence is None:
            return Fact(genre, title.evidence)
        start, end = title.evidence.span
        position = self.layout.simple.rfind(genre, start, end)
        if position < 0:
            return Fact(genre, Evidence(title.evidence.line, (start, end), "derived"))
        return self.fact((position, position + len(genre)), genre)

    def status(self, title: Fact | None, words: tuple[tuple[str, str], ...]) -> Fact | None:
        repealed = "|".join(re.escape(word) for word, status in words if status == "repealed")
        marker = re.compile(_REPEALED_MARK.pattern.format(words=repealed))
        head_end = self.layout.head_end()
        match = marker.search(self.layout.simple, 0, head_end)
        if match:
            group = "w" if match["w"] else "v"
            return self.fact(match.span(group), "repealed", "derived")
        if title is None or title.derived or title.evidence is None:
            return None
        start, end = title.evidence.span
        masked = _QUOTED.sub(lambda m: "　" * len(m.group()), self.layout.simple[start:end])
        for word, status in words:
            if status in ("draft", "trial"):
                position = masked.find(word)
                if position >= 0:
                    return self.fact((start + position, start + position + len(word)), status, "derived")
        return None


def _genre_of(title: str, genres: tuple[str, ...]) -> str | None:
    stem = title.strip()
    while True:
        shorter = _PARENTHETICAL_END.sub("", stem)
        if shorter == stem or not shorter:
            break
        stem = shorter
    for genre in genres:
        if stem.endswith(genre) and len(stem) > len(genre):
            return genre
    return None
