"""What the library holds, under the names people use for it.

Built from the documents' metadata, the gazetteer of administrative divisions (rag/data/divisions.tsv)
and general naming vocabulary (rag/data/naming.toml). Question analysis, answers, follow-ups and the
UI ask it which places a text names, which documents a place or a document number stands for, which
named places the library does not cover, and how to name a document in Chinese or English. Nothing
here knows which documents exist: add one and it is known.

    registry = Registry.of(corpus.documents)
    registry.places_in("浙江和福建在科技成果转化上有什么不同？")   # (浙江, 福建)
    registry.short_name(document)                                 # 浙江条例
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from rag.documents import Document, Level
from rag.errors import CorpusError
from rag.gazetteer import Division, Gazetteer, load_gazetteer
from rag.normalize import normalize_for_match, to_simplified

__all__ = ["NATIONAL", "Naming", "Place", "PlaceMention", "Registry", "load_naming"]

NATIONAL = "全国"
"""The place key of national documents (their region)."""

PlaceKind = Literal["national", "province", "city"]
_CN_DIGITS = "〇零一二三四五六七八九十百"
_NUMBER_MENTION = re.compile(
    rf"(?P<prefix>[\u4e00-\u9fff]{{0,6}}?)[〔\[［【(（]?(?P<year>(?:19|20)\d\d)?[〕\]］】)）]?"
    rf"(?:第)?(?P<num>\d{{1,4}}|[{_CN_DIGITS}]{{1,4}})号(?P<wen>文件|文)?"
)
_NATIONAL_PAIRING = re.compile(r"国家(和|与|、|及|以及|跟|同)|(和|与|、|及|跟|同)国家")
_NATIONAL_NOT_A_PLACE = re.compile(r"国家(?=高新|级|实验室|重点|自主|战略|技术|科技|层|有关|规定|标准|政策)")


@dataclass(frozen=True, slots=True)
class Place:
    """Where documents come from: the national level, a province-level division or a city."""

    key: str
    """全国, a province's short name (广东) or a city's (深圳)."""
    kind: PlaceKind
    province: str
    """The province-level division's short name (a province's own; 全国 for the national level)."""
    english: str


@dataclass(frozen=True, slots=True)
class PlaceMention:
    place: Place
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Genre:
    name: str
    english: str


@dataclass(frozen=True, slots=True)
class Naming:
    """General vocabulary from rag/data/naming.toml and the genres of rag/data/genres.txt."""

    national_chinese: tuple[str, ...]
    national_english: tuple[str, ...]
    national_spoken: str
    national_spoken_english: str
    areas: tuple[str, ...]
    genres: tuple[Genre, ...]
    """Longest name first, so 实施意见 is read before 意见."""

    def genre_of_title(self, title: str) -> Genre | None:
        core = re.sub(r"[（(][^）)]*[）)]\s*$", "", to_simplified(title).strip())
        return next((g for g in self.genres if core.endswith(g.name)), None)

    def genre(self, name: str | None) -> Genre | None:
        return next((g for g in self.genres if g.name == name), None) if name else None


@cache
def load_naming() -> Naming:
    source = resources.files("rag") / "data" / "naming.toml"
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
        national = raw["national"]
        genres = tuple(_genres(resources.files("rag") / "data" / "genres.txt"))
        return Naming(
            national_chinese=tuple(national["chinese"]),
            national_english=tuple(national["english"]),
            national_spoken=str(national["spoken"]),
            national_spoken_english=str(national["spoken_english"]),
            areas=tuple(raw["areas"]["names"]),
            genres=tuple(sorted(genres, key=lambda g: len(g.name), reverse=True)),
        )
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read the naming data {source}: {exc}; reinstall policy-rag") from None


def _genres(source: Any) -> list[Genre]:
    """rag/data/genres.txt: a genre and its English name a line (the metadata reader shares it)."""
    genres = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, english = line.split("\t")
            genres.append(Genre(name.strip(), english.strip()))
    return genres


class Registry:
    """The library's documents by place, number and name."""

    def __init__(self, documents: Sequence[Document], gazetteer: Gazetteer, naming: Naming) -> None:
        self.documents = tuple(documents)
        self.gazetteer = gazetteer
        self.naming = naming
        self.national = Place(NATIONAL, "national", NATIONAL, naming.national_spoken_english)
        self._places: dict[str, Place] = {NATIONAL: self.national}
        for document in self.documents:
            for key in (document.region, document.city):
                if key and key not in self._places:
                    self._places[key] = self._place_of_name(key)
        self._national_english = re.compile(
            r"(?<![A-Za-z])(?:" + "|".join(re.escape(w) for w in naming.national_english) + r")(?![A-Za-z])",
            re.IGNORECASE,
        )

    @classmethod
    def of(cls, documents: Sequence[Document]) -> Registry:
        return cls(documents, load_gazetteer(), load_naming())

    # Places -----------------------------------------------------------------------------------

    def place(self, key: str) -> Place:
        """The place with this key (全国, a province or city short name) or any name of it."""
        if key in self._places:
            return self._places[key]
        return self._place_of_name(key)

    def _place_of_name(self, name: str) -> Place:
        if name == NATIONAL:
            return self.national
        division = self.gazetteer.by_name(name)
        if division is None:
            return Place(name, "province", name, name)  # a region the gazetteer lacks: named as given
        return _place(division)

    def places_in(self, text: str) -> tuple[PlaceMention, ...]:
        """The places a (normalised) text names, in order, each once: divisions by any name (full,
        short, abbreviation in clear contexts, English, a city), and the national level by its
        words (国务院, 中央, State Council; 国家 only where it is paired with a region, 国家和浙江).
        Multi-division areas (长三角) are topics, not places."""
        masked = self._mask_areas(text)
        mentions: list[PlaceMention] = []
        for m in self.gazetteer.find(masked):
            mentions.append(PlaceMention(_place(m.division), m.start, m.end))
        mentions.extend(self._national_mentions(masked))
        mentions.extend(self._numbered_mentions(masked))
        mentions.sort(key=lambda m: m.start)
        seen: dict[str, PlaceMention] = {}
        for mention in mentions:
            seen.setdefault(mention.place.key, mention)
        return tuple(seen.values())

    def _mask_areas(self, text: str) -> str:
        for area in self.naming.areas:
            text = text.replace(area, "□" * len(area))
        return text

    def _national_mentions(self, text: str) -> list[PlaceMention]:
        found = [
            PlaceMention(self.national, m.start(), m.end())
            for word in self.naming.national_chinese
            for m in re.finditer(re.escape(word), text)
        ]
        found += [PlaceMention(self.national, m.start(), m.end()) for m in self._national_english.finditer(text)]
        if not found:
            paired = _NATIONAL_PAIRING.search(text)
            if paired and not _NATIONAL_NOT_A_PLACE.match(text, text.find("国家", max(0, paired.start() - 2))):
                start = text.find("国家", max(0, paired.start() - 2))
                found.append(PlaceMention(self.national, start, start + 2))
        return found

    def _numbered_mentions(self, text: str) -> list[PlaceMention]:
        """A document named by its number names its place (国发12号文 → the national level)."""
        return [
            PlaceMention(self.place_of(document), m.start(), m.end())
            for m, documents in self._number_mentions(text)
            for document in documents
        ]

    def documents_for(self, keys: Iterable[str], among: Sequence[Document] | None = None) -> tuple[Document, ...]:
        """The documents the named places stand for: the national level's national documents; a
        province's own documents (not its cities'); a city's own documents, else its province's."""
        pool = self.documents if among is None else tuple(among)
        chosen: dict[str, Document] = {}
        for key in keys:
            for document in self._documents_of(self.place(key), pool):
                chosen.setdefault(document.id, document)
        return tuple(d for d in pool if d.id in chosen)

    def _documents_of(self, place: Place, pool: Sequence[Document]) -> list[Document]:
        if place.kind == "national":
            return [d for d in pool if d.level is Level.NATIONAL or d.region == NATIONAL]
        if place.kind == "city":
            own = [d for d in pool if d.city == place.key]
            return own or [d for d in pool if d.region == place.province and not d.city]
        return [d for d in pool if d.region == place.key and (not d.city or d.city == place.key)]

    def covers(self, key: str) -> bool:
        return bool(self._documents_of(self.place(key), self.documents))

    def uncovered(self, keys: Iterable[str]) -> tuple[str, ...]:
        return tuple(k for k in keys if not self.covers(k))

    def place_of(self, document: Document) -> Place:
        key = document.city or document.region or NATIONAL
        if document.level is Level.NATIONAL:
            return self.national
        return self.place(key)

    def place_name(self, key: str, english: bool = False) -> str:
        place = self.place(key)
        if english:
            return "the State Council" if place.kind == "national" else place.english
        return self.naming.national_spoken if place.kind == "national" else place.key

    # Documents by number ----------------------------------------------------------------------

    def documents_numbered(self, text: str) -> tuple[Document, ...]:
        """Documents a text names by number, whole or short (国发〔2019〕12号, 国发12号文, 12号文)."""
        found: dict[str, Document] = {}
        for _, documents in self._number_mentions(text):
            for document in documents:
                found.setdefault(document.id, document)
        return tuple(found.values())

    def _number_mentions(self, text: str) -> list[tuple[re.Match[str], tuple[Document, ...]]]:
        """Each document-number mention with the documents it fits: a prefix counts as far as it
        ends like the document's (那12号文 → 12号文); a bare number needs 文 or a year (not 3号楼)."""
        out = []
        for match in _NUMBER_MENTION.finditer(text):
            num = _number_value(match.group("num"))
            if num is None:
                continue
            prefix, year, named = match.group("prefix"), match.group("year"), bool(match.group("wen"))
            documents = []
            for document in self.documents:
                parts = _number_parts(document.doc_number)
                if parts is None or parts[2] != num or (year and parts[1] != year):
                    continue
                shared = _common_suffix(prefix, parts[0])
                if shared or year or named:
                    documents.append((len(shared), document))
            if documents:
                best = max(n for n, _ in documents)
                out.append((match, tuple(d for n, d in documents if n == best)))
        return out

    # Names ------------------------------------------------------------------------------------

    def genre(self, document: Document) -> Genre | None:
        return self.naming.genre(document.genre) or self.naming.genre_of_title(document.title)

    def short_name(self, document: Document, english: bool = False) -> str:
        """How an answer names a document in running text: 国务院若干意见（国发〔2019〕12号）, 广东条例,
        深圳若干措施 / State Council opinions, Guangdong regulation; a draft says so."""
        genre = self.genre(document)
        if english:
            name = f"{self._issuer_name(document, True)} {genre.english if genre else 'document'}"
            if document.doc_number:
                name += f" ({document.doc_number})"
            if document.is_draft:
                name += " (draft for comment, not in force)"
            return name
        name = f"{self._issuer_name(document, False)}{genre.name if genre else '文件'}"
        if document.doc_number:
            name += f"（{document.doc_number}）"
        if document.is_draft:
            name += "（征求意见稿）"
        return name

    def _issuer_name(self, document: Document, english: bool) -> str:
        place = self.place_of(document)
        if place.kind != "national":
            return place.english if english else place.key
        if english:
            return "State Council" if document.issuer in (None, "国务院") else (document.issuer or "national")
        return document.issuer or self.naming.national_spoken


def _place(division: Division) -> Place:
    kind: PlaceKind = "province" if division.kind == "province" else "city"
    return Place(division.short, kind, division.province, division.english)


def _number_value(text: str) -> int | None:
    from rag.numbering import cn_to_int

    return int(text) if text.isdigit() else cn_to_int(text.replace("〇", "零"))


_DOC_NUMBER = re.compile(r"^(?P<prefix>.*?)[〔\[［【(（]?(?P<year>(?:19|20)\d\d)[〕\]］】)）]?第?(?P<num>\d+)号$")


def _number_parts(doc_number: str | None) -> tuple[str, str, int] | None:
    """(prefix, year, number) of a document number: 粤府〔2021〕5号 → (粤府, 2021, 5)."""
    m = _DOC_NUMBER.match(normalize_for_match(doc_number)) if doc_number else None
    return (m.group("prefix"), m.group("year"), int(m.group("num"))) if m else None


def _common_suffix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return a[len(a) - n :] if n else ""
