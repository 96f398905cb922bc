"""What a question asks for: which documents it names, whether it compares, cites an article,
asks for a number or a responsible unit, and which facts (years, places) it presupposes.

Pure functions over the (normalised, simplified) question text; no retrieval here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from rag.documents import Document
from rag.forms import Form, question_form
from rag.numbering import int_to_cn
from rag.registry import NATIONAL, PlaceMention, Registry


class Intent(StrEnum):
    FACT = "fact"
    NUMBER = "number"
    RESPONSIBLE = "responsible"
    COMPARE = "compare"
    ARTICLE = "article"


_COMPARE_CUES = (
    # Besides _ALL_DOCUMENTS (各省, 三个省, 各文件…), which applies to these questions too.
    "分别", "对比", "比较", "区别", "不同", "差异", "一样吗", "相同吗", "各份",
    "哪些文件", "都提", "都鼓励", "都要求", "各自", "异同",
    "compare", "difference", "differ", "each province", "both", "all the documents",
)
_NATIONAL_VS_PROVINCES = re.compile(
    r"(国家|国务院|中央)(的?文件)?(和|与|及|以及|跟|同)(各|[几两三]个|地方|省)|各省|地方(和|与)国家"
)
# Questions over every document at once: "三个省都…", "四份文件是否都提到…".
_COUNT = "几两三四五六七八九十"
_ALL_DOCUMENTS = re.compile(
    rf"各省|各地|各(?:个|份)?文件|所有文件|全部文件|每份文件|这几份|[{_COUNT}\d]+(?:个省|个地方|地|份文件|个文件|份)"
    r"|都(提到|提及|涉及|规定了|有规定)|\b(every|all (the )?(documents|regions|provinces))\b",
    re.IGNORECASE,
)
# Two places joined as the subject of one action (广东和澳门共建…) are not compared.
_JOINED = re.compile(r"\s*(?:和|与|同|跟|及|、|and)\s*", re.IGNORECASE)
_JOINT_ACTION = re.compile(r"\s*(?:共建|共同|合作|联合|协同|携手|一起|一块|对接|jointly|together)", re.IGNORECASE)
_DATE_WORDS = re.compile(r"哪一天|哪天|什么时候|何时|哪年|日期|时间|\bwhen\b|\bwhat date\b|\bdate\b", re.IGNORECASE)
_DOCUMENT_NUMBER = re.compile(r"文号|发文字号|\bdocument number\b", re.IGNORECASE)
_ISSUER = re.compile(
    r"(哪个|哪些|什么)(部门|单位|机关|机构)(印发|发布|出台|下发|发的)|发文(机关|单位)|谁(印发|发布|发的)"
    r"|\bwho issued\b|\bissued by whom\b",
    re.IGNORECASE,
)
_ISSUE_WORDS = re.compile(r"发布|印发|出台|成文|落款|签发|下发|发的|\bissued\b|\bpublished\b|\bdated\b|\bsigned\b", re.IGNORECASE)

# 负责人 (the person in charge) and 负责同志 ask about people, not the unit responsible.
_RESPONSIBLE = re.compile(
    r"牵头单位|参与单位|哪个部门|哪些部门|什么部门|负责(?!人|同志)|牵头|谁来|由谁|责任单位|主管"
    r"|lead unit|which department|who is responsible|who leads|responsible",
    re.IGNORECASE,
)
_NUMBER_CUES = (
    "多少", "几年", "几个", "几家", "几岁", "多大", "多长", "比例", "多久", "最长", "最高", "最多", "上限",
    "百分之", "how many", "how much", "how long", "how old", "what percentage", "maximum", "minimum",
)

_CN_NUM = "一二三四五六七八九十百零〇"
_ARTICLE_REF = re.compile(
    rf"第?\s*[（(]\s*([{_CN_NUM}]+)\s*[)）]\s*条?"
    rf"|第\s*([{_CN_NUM}]+|\d+)\s*条"
    rf"|\barticle\s+(\d+)\b",
    re.IGNORECASE,
)
_SECTION_REF = re.compile(rf"(?<![{_CN_NUM}])([{_CN_NUM}]+)、")
_ITEM_REF = re.compile(r"(?<![\d.])(\d{1,2})[.．](?!\d)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年?")


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """A reference to a numbered unit, e.g. 二、（三）1. → section 二, article 三, item 1 (each optional)."""

    section: str | None
    article: str | None
    item: str | None


@dataclass(frozen=True, slots=True)
class QuestionAnalysis:
    text: str
    intent: Intent
    regions: tuple[str, ...]
    other_regions: tuple[str, ...]
    article_ref: ArticleRef | None
    years: tuple[str, ...]
    is_english: bool
    asks_date: bool = False
    asks_number: bool = False  # the document's number (文号)
    asks_issuer: bool = False  # who issued the document
    phrases: tuple[str, ...] = ()  # quoted word for word (see literal_phrases)
    all_documents: bool = False  # compares every document (各省, 国家和各省, 所有文件)
    form: Form = Form.PLAIN  # yes/no, a list, what is common and what differs (rag/forms.py)

    @property
    def asks_about_document(self) -> bool:
        """A question about the document itself, answered by its closing and its metadata."""
        return self.asks_date or self.asks_number or self.asks_issuer

    @property
    def names_uncovered_region_only(self) -> bool:
        """Asks about a province the corpus lacks, and about no covered one."""
        return bool(self.other_regions) and not self.regions


def is_english(text: str) -> bool:
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return latin > 3 * cjk and latin >= 8


_ABBREVIATION_BEFORE_PROVINCE = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])(?=(?:两|三)?省)")


def mentioned_places(text: str, registry: Registry) -> tuple[PlaceMention, ...]:
    """The places the (normalised) question names, covered by the library or not: the registry's
    reading, plus a one-character abbreviation right before 省 (豫省, 川省)."""
    mentions = list(registry.places_in(text))
    taken = {m.place.key for m in mentions}
    for match in _ABBREVIATION_BEFORE_PROVINCE.finditer(text):
        division = registry.gazetteer.by_name(match.group(1))
        if division is None or division.kind != "province" or division.short in taken:
            continue
        if any(m.start <= match.start() < m.end for m in mentions):
            continue
        mentions.append(PlaceMention(registry.place(division.short), match.start(), match.end()))
        taken.add(division.short)
    return tuple(sorted(mentions, key=lambda m: m.start))


def mentioned_regions(text: str, registry: Registry) -> tuple[str, ...]:
    """Keys of the places the question names (全国, 广东, 深圳), in order."""
    return tuple(m.place.key for m in mentioned_places(text, registry))


def without_regions(text: str, registry: Registry, regions: Sequence[str] | None = None) -> str:
    """The text with the names of these places (all it names if None), and a 省/市/的 after one,
    taken out; with them a genre that follows (国务院意见, 某省的实施意见, 某市条例): the question
    naming its document, which would otherwise match the preface that names it (提出如下意见)."""
    wanted = None if regions is None else set(regions)
    out, last = [], 0
    for mention in mentioned_places(text, registry):
        if wanted is not None and mention.place.key not in wanted:
            continue
        out.append(text[last : mention.start])
        last = mention.end
        if last < len(text) and text[last] in "省市的":
            last += 1
        genre = next((g.name for g in registry.naming.genres if text.startswith(g.name, last)), None)
        if genre:
            last += len(genre)
    out.append(text[last:])
    return "".join(out).strip(" ，,、和与及")


def article_reference(text: str) -> ArticleRef | None:
    match = _ARTICLE_REF.search(text)
    section_match = _SECTION_REF.search(text)
    if not match and not section_match:
        return None
    article = None
    if match:
        article = match.group(1) or match.group(2) or match.group(3)
        if article.isdigit():
            article = int_to_cn(int(article))  # 第20条, article 20 → （二十）
    item_match = _ITEM_REF.search(text[match.end():]) if match else None
    return ArticleRef(
        section=section_match.group(1) if section_match else None,
        article=article,
        item=item_match.group(1) if item_match else None,
    )


def _has_any(text: str, cues: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in cues)


def acting_jointly(text: str, places: Sequence[PlaceMention]) -> bool:
    """Whether two places named together are the subject of one action (广东和澳门共建横琴合作区)."""
    return any(
        _JOINED.fullmatch(text[a.end : b.start]) and _JOINT_ACTION.match(text, b.end)
        for a, b in pairwise(places)
    )


def classify(text: str, regions: Sequence[str], article: ArticleRef | None, joint: bool = False) -> Intent:
    """`regions` are every place the question names, covered by the library or not; `joint`
    whether two of them act together (then they are not compared)."""
    if article is not None and article.article is not None and re.search(r"讲|说|内容|规定|what does|say", text.lower()):
        return Intent.ARTICLE
    if (len(regions) >= 2 and not joint) or _NATIONAL_VS_PROVINCES.search(text):
        return Intent.COMPARE
    if set(regions) <= {NATIONAL} and _ALL_DOCUMENTS.search(text):
        return Intent.COMPARE
    if not regions and _has_any(text, _COMPARE_CUES):
        return Intent.COMPARE
    if _RESPONSIBLE.search(text):
        return Intent.RESPONSIBLE
    if _has_any(text, _NUMBER_CUES):
        return Intent.NUMBER
    return Intent.FACT


def analyse(text: str, registry: Registry) -> QuestionAnalysis:
    """`text` is the normalised (simplified) question; `registry` what the library holds."""
    places = mentioned_places(text, registry)
    named = tuple(m.place.key for m in places)
    uncovered = registry.uncovered(named)
    article = article_reference(text)
    english = is_english(text)
    return QuestionAnalysis(
        text=text,
        intent=classify(text, named, article, acting_jointly(text, places)),
        regions=tuple(r for r in named if r not in uncovered),
        other_regions=uncovered,
        article_ref=article,
        years=tuple(dict.fromkeys(_YEAR.findall(text))),
        is_english=english,
        asks_date=bool(_DATE_WORDS.search(text) and _ISSUE_WORDS.search(text)),
        asks_number=bool(_DOCUMENT_NUMBER.search(text)),
        asks_issuer=bool(_ISSUER.search(text)),
        phrases=literal_phrases(text, english),
        all_documents=over_all_documents(text, named),
        form=question_form(text),
    )


def over_all_documents(text: str, named: Sequence[str]) -> bool:
    """Whether the question is about every document (各省都…, 国家和各省, 所有文件) rather than the
    ones it names; naming two regions (浙江和福建都提到…) keeps it to those."""
    return bool(_NATIONAL_VS_PROVINCES.search(text)) or (
        set(named) <= {NATIONAL} and bool(_ALL_DOCUMENTS.search(text))
    )


_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,40})[”\"」』]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def literal_phrases(text: str, english: bool) -> tuple[str, ...]:
    """What the question quotes word for word: text in quotation marks (“万企转型”), and in an
    English question every run of Chinese characters (the 万企转型 initiative)."""
    phrases = _QUOTED.findall(text)
    if english:
        phrases += _CJK_RUN.findall(text)
    return tuple(dict.fromkeys(p.strip() for p in phrases if p.strip()))


def documents_for_regions(
    registry: Registry, documents: Sequence[Document], regions: Sequence[str]
) -> tuple[Document, ...]:
    """The documents among `documents` that the named places stand for (see Registry.documents_for)."""
    return registry.documents_for(regions, among=documents) if regions else ()


# --- what the question says about the documents themselves -------------------------------------

_STATUS_WORDS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (re.compile(r"现行有效|现行的|仍然有效|依然有效|还有效的|\b(?:currently |still )?in force\b", re.IGNORECASE),
     frozenset({"in_force", "trial"})),
    (re.compile(r"草案|征求意见稿|送审稿|\bdrafts?\b", re.IGNORECASE), frozenset({"draft"})),
    (re.compile(r"试行|暂行|\btrial\b|\binterim\b", re.IGNORECASE), frozenset({"trial"})),
    (re.compile(r"已废止|废止了|失效的|\brepealed\b", re.IGNORECASE), frozenset({"repealed"})),
)
_ISSUED = r"(?:出台|发布|印发|制定|颁布|通过|施行|生效|发的|实施)"
_AFTER = re.compile(rf"((?:19|20)\d\d)\s*年(?:以后|之后|以来|后|起)(?:的|才)?{_ISSUED}|{_ISSUED}于?((?:19|20)\d\d)\s*年(?:以后|之后|以来|后)"
                    r"|\b(?:issued|adopted|published|passed|enacted) (?:since|after) ((?:19|20)\d\d)\b", re.IGNORECASE)
_BEFORE = re.compile(rf"((?:19|20)\d\d)\s*年(?:以前|之前|前)(?:的)?{_ISSUED}|{_ISSUED}于?((?:19|20)\d\d)\s*年(?:以前|之前|前)"
                     r"|\b(?:issued|adopted|published|passed|enacted) before ((?:19|20)\d\d)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DocumentConstraint:
    """What a question asks of the documents themselves: their status (现行有效的, 草案里) and when
    they were issued (2021年以后出台的); None where it asks nothing."""

    statuses: frozenset[str] | None = None
    issued_from: int | None = None
    issued_before: int | None = None

    @property
    def is_empty(self) -> bool:
        return self.statuses is None and self.issued_from is None and self.issued_before is None

    def allows(self, document: Document) -> bool:
        if self.statuses is not None and document.status.value not in self.statuses:
            return False
        if self.issued_from is None and self.issued_before is None:
            return True
        year = _year_of(document.date)
        if year is None:
            return False  # asked for documents of a time, a document without a date cannot be shown to be one
        return (self.issued_from is None or year >= self.issued_from) and (
            self.issued_before is None or year < self.issued_before
        )


def document_constraint(text: str) -> DocumentConstraint:
    statuses = None
    for pattern, allowed in _STATUS_WORDS:
        if pattern.search(text):
            statuses = allowed if statuses is None else statuses & allowed
    after = _AFTER.search(text)
    before = _BEFORE.search(text)
    return DocumentConstraint(
        statuses=statuses,
        issued_from=int(next(g for g in after.groups() if g)) if after else None,
        issued_before=int(next(g for g in before.groups() if g)) if before else None,
    )


def _year_of(date: str | None) -> int | None:
    found = re.search(r"(?:19|20)\d\d", date or "")
    return int(found.group()) if found else None
