"""Follow-up questions (那浙江呢？, 牵头单位是谁？, what about Fujian?) resolved against earlier turns."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.questions import (
    is_english,
    mentioned_places,
    mentioned_regions,
    without_regions,
)
from rag.registry import Registry

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
_ELLIPSIS_OF_ONE_CHARACTER = re.compile(r"^(?:那么?|还有|而)?\s*([\u4e00-\u9fff])\s*(?:的)?呢[?？。!！]*$")
"""那豫呢？, 京呢？: the whole follow-up is one character in the slot of the place it switches to; there a
province's one-character abbreviation can only be that province (elsewhere 京 or 沪 may be part of a word)."""
_MIN_SUBJECT_CHARS = 4
"""A question with fewer characters than this once asking words are taken out has no subject of its own."""
_CONNECTOR = re.compile(r"\s*(?:和|与|及|、|,|，|and)?\s*", re.IGNORECASE)


def is_followup(question: str, registry: Registry) -> bool:
    core = question.strip()
    if _FOLLOWUP_OPENERS.search(core) or _FOLLOWUP_ENDINGS.search(core) or _ANAPHORA.search(core):
        return True
    content = without_regions(core, registry)
    content = _ASKING_WORDS.sub("", re.sub(r"[\s?？。!！,，]", "", content))
    return len(content) < _MIN_SUBJECT_CHARS


def resolve_followup(question: str, history: Sequence[str], registry: Registry) -> str:
    """The question made self-contained using the most recent earlier (already resolved) question.

    A follow-up naming a region puts it in place of the earlier question's regions (or in front
    when that named none); one naming none (牵头单位是谁？) is asked about the earlier subject.
    """
    if not history or not is_followup(question, registry):
        return question
    previous = history[-1]
    new_regions = mentioned_regions(question, registry) or _abbreviated_region(question, registry)
    if not new_regions:
        return f"{previous.rstrip('？?。. ')}，{question.strip()}"
    english = is_english(previous)
    names = [_spoken_name(registry, r, english) for r in new_regions]
    joined = " and ".join(names) if english else "和".join(names)
    if mentioned_regions(previous, registry):
        resolved = _replace_regions(previous, registry, joined)
    else:
        resolved = f"{joined} {previous}" if english else f"{joined}{previous}"
    remainder = without_regions(question, registry, new_regions)
    remainder = _FOLLOWUP_ENDINGS.sub("", _FOLLOWUP_OPENERS.sub("", remainder)).strip(" ，,？?")
    remainder = _GENERIC_DOCUMENT_WORDS.sub("", remainder).strip(" ，,的呢")
    return resolved + (f" {remainder}" if len(remainder) > 1 else "")


def _abbreviated_region(question: str, registry: Registry) -> tuple[str, ...]:
    match = _ELLIPSIS_OF_ONE_CHARACTER.match(question.strip())
    division = registry.gazetteer.by_name(match.group(1)) if match else None
    if division is None or division.kind != "province":
        return ()
    return (registry.place(division.short).key,)


def _spoken_name(registry: Registry, region: str, english: bool) -> str:
    place = registry.place(region)
    if place.kind == "national":
        return "the State Council" if english else "国务院"
    return place.english if english else place.key


def _replace_regions(text: str, registry: Registry, replacement: str) -> str:
    """The first run of place names (广东和浙江, Guangdong and Zhejiang) becomes `replacement`; later
    mentions are dropped with the connector before them."""
    mentions = mentioned_places(text, registry)
    first = mentions[0]
    end = first.end
    rest = list(mentions[1:])
    while rest and _CONNECTOR.fullmatch(text[end : rest[0].start]):
        end = rest.pop(0).end
    tail, last = [], end
    for mention in rest:
        gap = text[last : mention.start]
        connector = re.search(r"\s*(?:和|与|及|、|and)\s*$", gap, re.IGNORECASE)
        tail.append(gap[: connector.start()] if connector else gap)
        last = mention.end
    tail.append(text[last:])
    return f"{text[: first.start]}{replacement}{''.join(tail)}"
