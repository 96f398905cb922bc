"""Issuing organs (rag/data/issuers.tsv): the organ a document-number prefix stands for, the name of an
organ as a signature gives it, and where an organ sits (national, provincial, city or county level)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from rag.errors import CorpusError
from rag.gazetteer import Gazetteer, Mention

__all__ = ["IssuerTable", "Location", "load_issuers"]

DATA_FILE = "issuers.tsv"
NATIONAL = "全国"
_KINDS = ("prefix", "national", "national-suffix", "organ-suffix", "meeting-body", "meeting", "formal-prefix",
          "county-unit", "not-county")
_PREFIX_TAIL = 3  # 国科发火, 粤科高: characters a prefix may carry past a listed one
_CJK_RUN = r"[\u4e00-\u9fff]"
# 第十三届, 第1820次会议, 第四会议 (sic), 第117次常务会议: the sitting, not the organ.
_ORDINAL = r"第[\d一二三四五六七八九十百零〇○]+"
_TERM = re.compile("第?" + _ORDINAL.removeprefix("第") + "届")
_MEETING = re.compile("第?" + _ORDINAL.removeprefix("第") + r"(?:次" + _CJK_RUN + r"{0,4}?会议|次|" + _CJK_RUN + r"{0,4}?会议).*$")
_ANNOUNCEMENT = re.compile(r"(?:(?:令|公告|通告)(?:" + _ORDINAL + r"号)?|" + _ORDINAL + r"号令).*$")
_YEAR_TAIL = re.compile(r"\d{4}年$")
_CLOSING_MARKS = " 　\t）)，,。；;、"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an organ sits: level national|provincial|city|county, region a province-level short name
    (or 全国), city a prefecture-level short name; mention is the name it was read from, if any."""

    level: str
    region: str
    city: str | None = None
    mention: Mention | None = None


@dataclass(frozen=True, slots=True)
class _Prefix:
    pattern: re.Pattern[str]
    issuer: str
    regional: bool


class IssuerTable:
    """The facts of rag/data/issuers.tsv, with the gazetteer that gives provinces their abbreviations."""

    def __init__(self, rows: list[tuple[str, str, str]], gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        values: dict[str, list[str]] = {kind: [] for kind in _KINDS}
        prefixes: list[_Prefix] = []
        abbreviations = "".join(sorted({a for d in gazetteer.provinces() for a in d.abbreviations}))
        for kind, value, issuer in rows:
            if kind == "prefix":
                regional = "{a}" in value
                literal = re.escape(value).replace(re.escape("{a}"), f"(?P<a>[{abbreviations}])")
                prefixes.append(_Prefix(re.compile(f"{literal}(?P<tail>{_CJK_RUN}{{0,{_PREFIX_TAIL}}})"), issuer,
                                        regional))
            else:
                values[kind].append(value)
        self._prefixes = prefixes
        self.national = tuple(values["national"])
        self.national_suffixes = tuple(values["national-suffix"])
        self.organ_suffixes = tuple(sorted(values["organ-suffix"], key=len, reverse=True))
        self.meeting_bodies = tuple(values["meeting-body"])
        meetings = sorted(values["meeting"], key=len, reverse=True)
        self._meeting_words = re.compile("(?:" + "|".join(map(re.escape, meetings)) + ").*$") if meetings else None
        self.formal_prefixes = tuple(values["formal-prefix"])
        self.county_units = tuple(sorted(values["county-unit"], key=len, reverse=True))
        self.not_county = tuple(sorted(values["not-county"], key=len, reverse=True))

    def issuer_of_prefix(self, prefix: str) -> tuple[str, int] | None:
        """The organ a document-number prefix stands for, and where in the prefix its code starts
        (印发粤府 → 广东省人民政府, 2); None when the table does not know it."""
        for start in range(len(prefix)):
            best: tuple[int, _Prefix, re.Match[str]] | None = None
            for entry in self._prefixes:
                match = entry.pattern.fullmatch(prefix, start)
                if match and (best is None or len(match["tail"]) < best[0]):
                    best = (len(match["tail"]), entry, match)
            if best is not None:
                _, entry, match = best
                if not entry.regional:
                    return entry.issuer, start
                province = self.gazetteer.by_name(match["a"])
                return entry.issuer.replace("{p}", province.name), start
        return None

    def is_organ_name(self, line: str) -> bool:
        """A line that can be a signature naming an organ: short, no sentence punctuation, ending with
        an organ word (广东省人民政府, 国务院, 科学技术部 国家发展和改革委员会)."""
        stripped = line.strip()
        if not (2 <= len(stripped) <= 60) or re.search(r"[，。；：,;:！？!?“”\"《》\d]", stripped):
            return False
        return all(part.endswith(self.organ_suffixes) for part in re.split(r"[\s、]+", stripped) if part)

    def organ_of_phrase(self, phrase: str) -> str:
        """The organ a line names, without its sitting or announcement: 深圳市第七届人民代表大会常务委员会
        第十四次会议通过 → 深圳市人民代表大会常务委员会; 中华人民共和国国务院令第517号公布 → 国务院;
        最高人民法院审判委员会第1820次会议 → 最高人民法院."""
        organ = phrase.strip().lstrip("由经在").rstrip(_CLOSING_MARKS)
        organ = _MEETING.sub("", organ)
        if self._meeting_words is not None:
            organ = self._meeting_words.sub("", organ)
        organ = _ANNOUNCEMENT.sub("", organ)
        organ = _TERM.sub("", organ)
        organ = re.sub(r"(?:审议)?(?:修订)?(?:通过|批准|发布|公布|施行)$", "", organ)
        organ = _YEAR_TAIL.sub("", organ).strip()
        for body in self.meeting_bodies:
            if organ.endswith(body) and len(organ) > len(body):
                organ = organ[: -len(body)]
        parts = [self.without_formal_prefix(part) for part in re.split(r"、", organ) if part]
        return "、".join(parts)

    def without_formal_prefix(self, organ: str) -> str:
        for prefix in self.formal_prefixes:
            if organ.startswith(prefix) and len(organ) > len(prefix) + 1:
                return organ[len(prefix):]
        return organ

    def locate(self, organ: str, *, county: bool = True) -> Location | None:
        """Where an organ (or, with county=False, a title that starts with a place) sits; None when
        neither a division name nor a national organ shows it."""
        mentions = self.gazetteer.find(organ)
        if mentions:
            return self._locate_division(organ, mentions, county)
        if organ.startswith(self.national) or (organ.endswith(self.national_suffixes) and len(organ) > 2):
            return Location("national", NATIONAL)
        parts = [part for part in organ.split("、") if part]
        if len(parts) > 1 and all(p.startswith(self.national) or p.endswith(self.national_suffixes) for p in parts):
            return Location("national", NATIONAL)
        return None

    def _locate_division(self, organ: str, mentions: tuple[Mention, ...], county: bool) -> Location:
        # The most specific name of the leading run: 广东省深圳市 → 深圳; a name further on (a park's or a
        # river's) does not move the organ.
        lead = [mentions[0]]
        for mention in mentions[1:]:
            if mention.start != lead[-1].end:
                break
            lead.append(mention)
        cities = [m for m in lead if m.division.kind == "city"]
        mention = cities[-1] if cities else lead[-1]
        division = mention.division
        if county and self._county_unit(organ[mention.end :]):
            city = division.short if division.kind == "city" else None
            return Location("county", division.province, city, mention)
        if division.kind == "city":
            return Location("city", division.province, division.short, mention)
        return Location("provincial", division.short, None, mention)

    def county_organ(self, organ: str) -> bool:
        """An organ of a county named without its city or province: 景宁畲族自治县人民代表大会."""
        unit = self._county_unit(organ)
        return unit is not None and len(unit) >= 2 and re.match("人民|政府|人大|委员会", organ[len(unit):]) is not None

    def _county_unit(self, rest: str) -> str | None:
        """南山区人民政府 → 南山区; 人民代表大会常务委员会, 经济特区, 高新区管委会 → None."""
        match = re.match(_CJK_RUN + r"{1,10}?(?:" + "|".join(map(re.escape, self.county_units)) + ")", rest)
        if not match or match.group().endswith(self.not_county):
            return None
        unit = match.group()
        if re.search("人民|代表|委员|政府", unit):
            return None
        return unit


@cache
def load_issuers(gazetteer: Gazetteer) -> IssuerTable:
    """The issuer table from the package data, read once per gazetteer."""
    source = resources.files("rag") / "data" / DATA_FILE
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"cannot read the issuer table {source}: {exc}; reinstall policy-rag") from None
    rows: list[tuple[str, str, str]] = []
    reader = csv.reader((line for line in lines if line.strip() and not line.startswith("#")), delimiter="\t")
    for number, row in enumerate(reader, start=1):
        if number == 1:
            continue  # the header
        kind, value, issuer = (row + ["", ""])[:3]
        if kind not in _KINDS or not value or (kind == "prefix" and not issuer):
            raise CorpusError(f"{source}: bad row {row!r}; kinds are {', '.join(_KINDS)} (prefix needs an issuer)")
        rows.append((kind, value, issuer))
    return IssuerTable(rows, gazetteer)
