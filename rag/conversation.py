"""Follow-up questions (那江苏呢？, 牵头单位是谁？, what about Sichuan?) resolved against earlier turns."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.questions import (
    REGION_ALIASES,
    REGION_ENGLISH,
    is_english,
    mentioned_regions,
    without_regions,
)

_FOLLOWUP_OPENERS = re.compile(
    r"^(那么?|那个|还有|另外|再问|同样|而|and\b|what about\b|how about\b|and what about\b)", re.IGNORECASE
)
_FOLLOWUP_ENDINGS = re.compile(r"(呢|的呢|怎么样|如何)[?？。!！]*$")
_ANAPHORA = re.compile(r"^(这|该|它|其|此|上述|这条|这项|这个|那条|那项)|\b(it|this|that|they)\b", re.IGNORECASE)
_GENERIC_DOCUMENT_WORDS = re.compile(r"(实施意见|文件|意见|规定|政策|document|opinions)", re.IGNORECASE)
_ASKING_WORDS = re.compile(
    r"牵头单位|参与单位|责任单位|哪个部门|哪些部门|什么部门|由谁|谁来|是谁|负责|牵头|哪个|哪些|什么|多少|怎么|如何|"
    r"是|有|的|吗|呢|呀|啊|请问|具体"
)
_MIN_SUBJECT_CHARS = 4
"""A question with fewer characters than this once asking words are taken out has no subject of its own."""
_SPOKEN_NAME = {"全国": "国务院"}


def is_followup(question: str) -> bool:
    core = question.strip()
    if _FOLLOWUP_OPENERS.search(core) or _FOLLOWUP_ENDINGS.search(core) or _ANAPHORA.search(core):
        return True
    content = without_regions(core, mentioned_regions(core))
    content = _ASKING_WORDS.sub("", re.sub(r"[\s?？。!！,，]", "", content))
    return len(content) < _MIN_SUBJECT_CHARS


def resolve_followup(question: str, history: Sequence[str]) -> str:
    """The question made self-contained using the most recent earlier (already resolved) question.

    A follow-up naming a region puts it in place of the earlier question's regions (or in front
    when that named none); one naming none (牵头单位是谁？) is asked about the earlier subject.
    """
    if not history or not is_followup(question):
        return question
    previous = history[-1]
    new_regions = mentioned_regions(question)
    if not new_regions:
        return f"{previous.rstrip('？?。. ')}，{question.strip()}"
    english = is_english(previous)
    names = [_spoken_name(r, english) for r in new_regions]
    joined = " and ".join(names) if english else "和".join(names)
    old_regions = mentioned_regions(previous)
    if old_regions:
        resolved = _replace_regions(previous, old_regions, joined)
    else:
        resolved = f"{joined} {previous}" if english else f"{joined}{previous}"
    remainder = without_regions(question, new_regions)
    remainder = _FOLLOWUP_ENDINGS.sub("", _FOLLOWUP_OPENERS.sub("", remainder)).strip(" ，,？?")
    remainder = _GENERIC_DOCUMENT_WORDS.sub("", remainder).strip(" ，,的呢")
    return resolved + (f" {remainder}" if len(remainder) > 1 else "")


def _spoken_name(region: str, english: bool) -> str:
    if english:
        return REGION_ENGLISH[region] if region != "全国" else "the State Council"
    return _SPOKEN_NAME.get(region, region)


def _replace_regions(text: str, regions: Sequence[str], replacement: str) -> str:
    """The first run of region names (河北和江苏, Hebei and Jiangsu) becomes `replacement`; later
    mentions are dropped."""
    aliases = sorted((a for r in regions for a in REGION_ALIASES[r]), key=len, reverse=True)
    name = "|".join(re.escape(a) for a in aliases)
    run = re.compile(rf"(?:{name})(?:\s*(?:和|与|及|、|,|，|and)\s*(?:{name}))*", re.IGNORECASE)
    first = run.search(text)
    if first is None:
        return f"{replacement}{text}"
    tail = re.sub(rf"\s*(?:和|与|及|、|and)?\s*(?:{name})", "", text[first.end():], flags=re.IGNORECASE)
    return f"{text[: first.start()]}{replacement}{tail}"
