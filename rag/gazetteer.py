"""China's province- and prefecture-level divisions (rag/data/divisions.tsv): lookup by any name and
the divisions a text names."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Literal

from rag.errors import CorpusError
from rag.normalize import to_simplified

__all__ = ["Division", "Gazetteer", "Mention", "load_gazetteer", "simplified_same_length"]

DATA_FILE = "divisions.tsv"
Kind = Literal["province", "city"]
MUNICIPALITY = "直辖市"
AUTONOMOUS_PREFECTURE = "自治州"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A one-character abbreviation opening a document number: 粤府〔2021〕5号, 苏科高[2021]3号.
_NUMBER_AFTER = re.compile(r"[\u4e00-\u9fff]{1,4}\s*[〔\[［【(（]\s*(?:19|20)\d\d\s*[〕\]］】)）]")
# Characters that may stand right before such a number without being part of its prefix (根据粤府…).
_BEFORE_NUMBER = frozenset("据照按及和与见的了《》以经")
# Characters that may follow the last item of a list of abbreviations (粤、闽、浙等地, 沪、苏、浙三地).
_AFTER_LIST = frozenset("等两三四五六七八九十地省市的")
_LIST_MARK = "、"
# An apostrophe inside a name (Xi'an) joins it; a possessive (Zhejiang's, Fujian’s) does not.
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z'’])[A-Za-z]+(?:['’](?![sS]\b)[A-Za-z]+)?")


@dataclass(frozen=True, slots=True)
class Division:
    """A province-level (省, 自治区, 直辖市, 特别行政区) or prefecture-level (地级市, 地区, 自治州, 盟) division."""

    code: str
    """GB/T 2260 code, six digits (440300)."""
    name: str
    """Full name: 广东省, 深圳市, 延边朝鲜族自治州."""
    short: str
    """Short name: 广东, 深圳, 延边."""
    abbreviation: str
    """One-character abbreviation of a province (粤); "" for a city."""
    english: str
    kind: Kind
    province: str
    """Short name of the province-level division it belongs to; a province's own short name."""
    category: str = ""
    """省, 自治区, 直辖市, 特别行政区, 地级市, 地区, 自治州 or 盟."""
    other_abbreviations: tuple[str, ...] = ()
    """Other one-character forms in use, e.g. in document-number prefixes (川府发 beside 蜀)."""
    other_english: tuple[str, ...] = ()
    common_words: tuple[str, ...] = ()
    """Forms of the name that are also ordinary words or common characters (长治, 新): see mentions()."""

    def __post_init__(self) -> None:
        if not (len(self.code) == 6 and self.code.isdigit()):
            raise ValueError(f"division {self.name!r}: code {self.code!r} must be six digits")
        if self.kind not in ("province", "city"):
            raise ValueError(f"division {self.name!r}: kind {self.kind!r} must be province or city")
        for abbreviation in (self.abbreviation, *self.other_abbreviations):
            if abbreviation and len(abbreviation) != 1:
                raise ValueError(f"division {self.name!r}: abbreviation {abbreviation!r} must be one character")

    @property
    def is_municipality(self) -> bool:
        """北京, 上海, 天津, 重庆: province-level, and also the city itself."""
        return self.category == MUNICIPALITY

    @property
    def abbreviations(self) -> tuple[str, ...]:
        return (self.abbreviation, *self.other_abbreviations) if self.abbreviation else self.other_abbreviations


@dataclass(frozen=True, slots=True)
class Mention:
    """Where a text names a division: text[start:end] is the name as printed."""

    division: Division
    start: int
    end: int


class Gazetteer:
    """The divisions with lookups by name; built once from the data file by load_gazetteer()."""

    def __init__(self, divisions: tuple[Division, ...]) -> None:
        self.divisions = divisions
        self._by_code = {d.code: d for d in divisions}
        provinces = {d.short: d for d in divisions if d.kind == "province"}
        self._provinces = provinces
        self._by_name: dict[str, Division] = {}
        # Provinces first: 吉林 and 海南 name a province before a city or prefecture of the same name.
        ordered = sorted(divisions, key=lambda d: d.kind != "province")
        for division in ordered:
            for form in (division.name, division.short, *division.abbreviations, division.english,
                         *division.other_english):
                if form:
                    self._by_name.setdefault(_fold(form), division)
        self._surfaces: dict[str, Division] = {}
        for division in ordered:
            for form in _chinese_surfaces(division):
                self._surfaces.setdefault(form, division)
        self._surfaces_by_first: dict[str, list[tuple[str, Division]]] = {}
        for form, division in sorted(self._surfaces.items(), key=lambda item: -len(item[0])):
            self._surfaces_by_first.setdefault(form[0], []).append((form, division))
        self._abbreviations: dict[str, Division] = {}
        self._common_abbreviations: set[str] = set()
        for division in divisions:
            for abbreviation in division.abbreviations:
                self._abbreviations.setdefault(abbreviation, division)
                if abbreviation in division.common_words:
                    self._common_abbreviations.add(abbreviation)
        self._english: dict[str, Division] = {}
        for division in ordered:
            for form in (division.english, *division.other_english):
                if form:
                    self._english.setdefault(form.casefold(), division)
        self._english_words = max(len(form.split()) for form in self._english)

    def __len__(self) -> int:
        return len(self.divisions)

    def by_code(self, code: str) -> Division | None:
        return self._by_code.get(code.strip())

    def by_name(self, name: str) -> Division | None:
        """A division by its full or short name, abbreviation or English name (any case, either script)."""
        return self._by_name.get(_fold(name))

    def province_of(self, division: Division) -> Division:
        """The province-level division a division belongs to (a province: itself)."""
        return self._provinces[division.province]

    def provinces(self) -> tuple[Division, ...]:
        return tuple(self._provinces.values())

    def mentions(self, text: str) -> tuple[Division, ...]:
        """The divisions a text names, in order of first appearance, each once (see find())."""
        seen: dict[str, Division] = {}
        for mention in self.find(text):
            seen.setdefault(mention.division.code, mention.division)
        return tuple(seen.values())

    def find(self, text: str) -> tuple[Mention, ...]:
        """Every place a text names a division, in text order, without overlaps.

        Chinese names match longest first (延边朝鲜族自治州 before 延边, 吉林省 before 吉林); a short name
        that is also an ordinary word (长治久安) counts only in its full form. One-character
        abbreviations count only where they are clearly names: opening a document number (粤府〔2021〕)
        or in a run or list of abbreviations (粤港澳, 川渝, 粤、闽、浙). English names match on word
        boundaries in any case (Guangdong, Inner Mongolia). Traditional script is read as simplified.
        """
        simplified = simplified_same_length(text)
        found: list[Mention] = []
        covered = bytearray(len(text))
        position, size = 0, len(simplified)
        while position < size:
            for form, division in self._surfaces_by_first.get(simplified[position], ()):
                if simplified.startswith(form, position):
                    end = position + len(form)
                    found.append(Mention(division, position, end))
                    covered[position:end] = b"\x01" * len(form)
                    position = end
                    break
            else:
                position += 1
        found.extend(self._english_mentions(text))
        found.extend(self._abbreviation_mentions(simplified, covered))
        return tuple(sorted(found, key=lambda m: m.start))

    def _english_mentions(self, text: str) -> list[Mention]:
        """English names as whole words, longest first (Inner Mongolia, Da Hinggan Ling, Xi'an)."""
        words = [(m.start(), m.end()) for m in _ENGLISH_WORD.finditer(text)]
        mentions: list[Mention] = []
        index = 0
        while index < len(words):
            for count in range(min(self._english_words, len(words) - index), 0, -1):
                group = words[index : index + count]
                if any(text[a_end:b_start] != " " for (_, a_end), (b_start, _) in pairwise(group)):
                    continue
                start, end = group[0][0], group[-1][1]
                division = self._english.get(text[start:end].casefold())
                if division is not None:
                    mentions.append(Mention(division, start, end))
                    index += count
                    break
            else:
                index += 1
        return mentions

    def _abbreviation_mentions(self, text: str, covered: bytearray) -> list[Mention]:
        mentions: list[Mention] = []
        position = 0
        while position < len(text):
            if covered[position] or text[position] not in self._abbreviations:
                position += 1
                continue
            items, end = self._abbreviation_run(text, covered, position)
            named = self._named_items(text, items)
            if not named and len(items) == 1 and self._opens_number(text, position):
                named = items
            mentions.extend(Mention(self._abbreviations[text[i]], i, i + 1) for i in named)
            position = end
        return mentions

    def _abbreviation_run(self, text: str, covered: bytearray, start: int) -> tuple[list[int], int]:
        """Positions of consecutive abbreviations from start, directly adjacent or separated by 、."""
        items = [start]
        position = start + 1
        while position < len(text):
            nxt = position + 1 if text[position] == _LIST_MARK else position
            if nxt < len(text) and not covered[nxt] and text[nxt] in self._abbreviations:
                items.append(nxt)
                position = nxt + 1
            else:
                break
        return items, position

    def _named_items(self, text: str, items: list[int]) -> list[int]:
        """The items of a run of abbreviations that name divisions: all of a list (粤、闽、浙) standing
        apart from the words around it; of an unbroken run (粤港澳, 川渝), those left once common
        characters that run into the next or previous word are dropped (港澳台青年 → 港澳), if at least
        three are left or one is not a common character (新台阶, 藏青 name nothing)."""
        if len(items) < 2:
            return []
        start, end = items[0], items[-1] + 1
        if _LIST_MARK in text[start:end]:
            return items if _stands_apart(text, start, end) else []
        common = self._common_abbreviations
        kept = list(items)
        while kept and text[kept[-1]] in common and not _ends_name(text, kept[-1] + 1):
            kept.pop()
        while kept and text[kept[0]] in common and kept[0] and _CJK.match(text[kept[0] - 1]):
            kept.pop(0)
        if len(kept) >= 3 or (len(kept) == 2 and any(text[i] not in common for i in kept)):
            return kept
        return []

    def _opens_number(self, text: str, position: int) -> bool:
        before = text[position - 1] if position else ""
        if _CJK.match(before) and before not in _BEFORE_NUMBER:
            return False
        return bool(_NUMBER_AFTER.match(text, position + 1))


def _stands_apart(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    return not _CJK.match(before) and _ends_name(text, end)


def _ends_name(text: str, end: int) -> bool:
    after = text[end] if end < len(text) else ""
    return not _CJK.match(after) or after in _AFTER_LIST


def _chinese_surfaces(division: Division) -> list[str]:
    forms = [division.name]
    if division.short not in division.common_words:
        forms.append(division.short)
    if division.category == AUTONOMOUS_PREFECTURE:
        forms.append(division.short + "州")  # 延边州, 大理州
    return [form for form in forms if len(form) >= 2]


def _fold(name: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", name)).strip().casefold()


def simplified_same_length(text: str) -> str:
    """Simplified script with every character at its place (whole-text conversion may merge phrases)."""
    converted = to_simplified(text)
    if len(converted) == len(text):
        return converted
    return "".join(to_simplified(char) if len(to_simplified(char)) == 1 else char for char in text)


@cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer from the package data, read once."""
    source = resources.files("rag") / "data" / DATA_FILE
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"cannot read the gazetteer {source}: {exc}; reinstall policy-rag") from None
    rows = csv.DictReader((line for line in lines if not line.startswith("#")), delimiter="\t")
    divisions = []
    for number, row in enumerate(rows, start=2):
        try:
            divisions.append(_division(row))
        except (KeyError, ValueError, TypeError) as exc:
            raise CorpusError(f"{source}, row {number}: {exc}; regenerate it with scripts/build_gazetteer.py") from None
    return Gazetteer(tuple(divisions))


def _division(row: dict[str, str]) -> Division:
    def split(key: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in (row.get(key) or "").split(",") if part.strip())

    return Division(
        code=row["code"], name=row["name"], short=row["short"], abbreviation=row["abbreviation"] or "",
        english=row["english"], kind=row["kind"], province=row["province"], category=row["category"] or "",
        other_abbreviations=split("other_abbreviations"), other_english=split("other_english"),
        common_words=split("common_words"),
    )
