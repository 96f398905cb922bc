"""What a question asks for: which documents it names, whether it compares, cites an article,
asks for a number or a responsible unit, and which facts (years, places) it presupposes.

Pure functions over the (normalised, simplified) question text; no retrieval here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rag.documents import Document, Level
from rag.numbering import int_to_cn


class Intent(StrEnum):
    FACT = "fact"
    NUMBER = "number"
    RESPONSIBLE = "responsible"
    COMPARE = "compare"
    ARTICLE = "article"


# Names people use for each region covered by the corpus, Chinese and English.
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "全国": (
        "国务院", "国家层面", "国家文件", "国家的", "国发", "7号文", "七号文", "中央", "state council", "national",
        "nationwide",
    ),
    # 冀 alone is also in 京津冀 (Beijing-Tianjin-Hebei, which every document mentions): see _ABBREVIATED.
    "河北": ("河北", "冀政", "hebei"),
    "江苏": ("江苏", "苏政", "jiangsu"),
    "四川": ("四川", "sichuan"),
}

# One-character names, counted only where they cannot be part of another word: run together or
# listed (冀、川两省, 苏川), or before 省 (川省).
_ABBREVIATIONS = {"冀": "河北", "苏": "江苏", "川": "四川"}
_ABBREVIATED = re.compile(r"[冀苏川](?:[、和与及跟]?[冀苏川])+|[冀苏川](?=(?:两|三)?省)")

REGION_ENGLISH: dict[str, str] = {"全国": "national", "河北": "Hebei", "江苏": "Jiangsu", "四川": "Sichuan"}

# Chinese provincial-level divisions; a question about one the corpus does not cover cannot be answered.
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)
PROVINCES_EN = {
    "beijing": "北京", "tianjin": "天津", "shanxi": "山西", "inner mongolia": "内蒙古", "liaoning": "辽宁",
    "jilin": "吉林", "heilongjiang": "黑龙江", "shanghai": "上海", "zhejiang": "浙江", "anhui": "安徽",
    "fujian": "福建", "jiangxi": "江西", "shandong": "山东", "henan": "河南", "hubei": "湖北", "hunan": "湖南",
    "guangdong": "广东", "guangxi": "广西", "hainan": "海南", "chongqing": "重庆", "guizhou": "贵州",
    "yunnan": "云南", "tibet": "西藏", "shaanxi": "陕西", "gansu": "甘肃", "qinghai": "青海",
    "ningxia": "宁夏", "xinjiang": "新疆",
}

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
_ALL_DOCUMENTS = re.compile(
    r"各省|各地|各(?:个|份)?文件|所有文件|全部文件|每份文件|[几两三四]个省|[几两三四]份文件|[几两三四]个文件"
    r"|都(提到|提及|涉及|规定了|有规定)"
)
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


def mentioned_regions(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    found = [region for region, aliases in REGION_ALIASES.items() if any(a in lowered for a in aliases)]
    for match in _ABBREVIATED.finditer(text):
        found += [_ABBREVIATIONS[c] for c in match.group() if c in _ABBREVIATIONS]
    found = list(dict.fromkeys(found))
    # "国家和河北、江苏" names the national document; "国家高新区" alone does not.
    if (
        "全国" not in found
        and re.search(r"国家(?!高新|级|实验室|重点|自主|战略|技术|科技|层)", text)
        and re.search(r"国家(和|与|、|及|以及|跟|同)|(和|与|、|及)国家", text)
    ):
        found.insert(0, "全国")
    return tuple(found)


def without_regions(text: str, regions: Sequence[str]) -> str:
    """The text with the names of these regions (and a following 省/的) taken out."""
    for region in regions:
        for alias in sorted(REGION_ALIASES[region], key=len, reverse=True):
            text = re.sub(re.escape(alias) + r"(省|的)?", "", text, flags=re.IGNORECASE)
    return text.strip(" ，,、和与及")


def uncovered_regions(text: str, covered: Iterable[str]) -> tuple[str, ...]:
    covered = set(covered)
    lowered = text.lower()
    names = [p for p in PROVINCES if p in text]
    names += [cn for en, cn in PROVINCES_EN.items() if re.search(rf"\b{en}\b", lowered)]
    return tuple(dict.fromkeys(n for n in names if n not in covered))


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


def classify(text: str, regions: Sequence[str], article: ArticleRef | None) -> Intent:
    if article is not None and article.article is not None and re.search(r"讲|说|内容|规定|what does|say", text.lower()):
        return Intent.ARTICLE
    if len(regions) >= 2 or _NATIONAL_VS_PROVINCES.search(text):
        return Intent.COMPARE
    if set(regions) <= {"全国"} and _ALL_DOCUMENTS.search(text):
        return Intent.COMPARE
    if not regions and _has_any(text, _COMPARE_CUES):
        return Intent.COMPARE
    if _RESPONSIBLE.search(text):
        return Intent.RESPONSIBLE
    if _has_any(text, _NUMBER_CUES):
        return Intent.NUMBER
    return Intent.FACT


def analyse(text: str, covered_regions: Iterable[str]) -> QuestionAnalysis:
    """`text` is the normalised (simplified) question; `covered_regions` the corpus documents' regions."""
    regions = mentioned_regions(text)
    article = article_reference(text)
    english = is_english(text)
    return QuestionAnalysis(
        text=text,
        intent=classify(text, regions, article),
        regions=regions,
        other_regions=uncovered_regions(text, covered_regions),
        article_ref=article,
        years=tuple(dict.fromkeys(_YEAR.findall(text))),
        is_english=english,
        asks_date=bool(_DATE_WORDS.search(text) and _ISSUE_WORDS.search(text)),
        asks_number=bool(_DOCUMENT_NUMBER.search(text)),
        asks_issuer=bool(_ISSUER.search(text)),
        phrases=literal_phrases(text, english),
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


def documents_for_regions(documents: Sequence[Document], regions: Sequence[str]) -> tuple[Document, ...]:
    wanted = set(regions)
    return tuple(
        d for d in documents if d.region in wanted or ("全国" in wanted and d.level is Level.NATIONAL)
    )
