"""Follow-up questions (那江苏呢？, 牵头单位是谁？, what about Sichuan?) resolved against earlier turns."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.questions import mentioned_regions, without_regions

_FOLLOWUP_OPENERS = re.compile(
    r"^(那么?|那个|还有|另外|再问|同样|而|and\b|what about\b|how about\b|and what about\b)", re.IGNORECASE
)
_FOLLOWUP_ENDINGS = re.compile(r"(呢|的呢|怎么样|如何)[?？。!！]*$")
_ANAPHORA = re.compile(r"^(这|该|它|其|此|上述|这条|这项|这个|那条|那项)|\b(it|this|that|they)\b", re.IGNORECASE)
_SHORT = 14
_SPOKEN_NAME = {"全国": "国务院"}


def is_followup(question: str) -> bool:
    core = question.strip()
    if _FOLLOWUP_OPENERS.search(core) or _FOLLOWUP_ENDINGS.search(core) or _ANAPHORA.search(core):
        return True
    content = without_regions(core, mentioned_regions(core))
    return len(re.sub(r"[\s?？。!！,，]", "", content)) < _SHORT // 2


def resolve_followup(question: str, history: Sequence[str]) -> str:
    """The question made self-contained using the most recent earlier (already resolved) question.

    A follow-up naming a region swaps the earlier question's regions for it; one naming none
    (牵头单位是谁？) is asked about the earlier question's subject.
    """
    if not history or not is_followup(question):
        return question
    previous = history[-1]
    new_regions = mentioned_regions(question)
    if new_regions:
        remainder = without_regions(question, new_regions)
        remainder = _FOLLOWUP_ENDINGS.sub("", _FOLLOWUP_OPENERS.sub("", remainder)).strip(" ，,？?")
        subject = without_regions(previous, mentioned_regions(previous))
        prefix = "和".join(_SPOKEN_NAME.get(r, r) for r in new_regions)
        return f"{prefix}{subject}" + (f" {remainder}" if len(remainder) > 1 else "")
    return f"{previous.rstrip('？?。')}，{question.strip()}"
