"""How a question is put, read from its grammar: asking yes or no, asking for a list, asking what
is common and what differs, or plainly. The answer's shape follows: 是/否 first, 共N处 with one
entry each, or a line on what the documents share and where they part.

These are readings of question grammar (吗, A不A, 是否; 哪些…分别; 异同), not words of any topic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

Terms = Callable[[str], Sequence[str]]
"""The distinctive words of a text (the retriever's, by how rare they are in the library)."""
COMMON_SHOWN = 4
DISTINCT_SHOWN = 3

__all__ = ["Form", "Terms", "common_and_different", "question_form", "yes_or_no"]


class Form(StrEnum):
    PLAIN = "plain"
    YESNO = "yesno"
    ENUMERATE = "enumerate"
    SAME_DIFF = "same_diff"


# 吗/么 closing a question; A不A and A没A (能不能, 是不是, 有没有, 可不可以); 是否, 能否, 可否.
_YESNO_ZH = re.compile(r"[吗么嘛][\s?？!！。]*$|([\u4e00-\u9fff])[不没]\1|(?:是|能|可|会|要)否")
_AUXILIARY_EN = re.compile(
    r"^\s*(?:is|are|was|were|does|do|did|can|could|will|would|should|shall|has|have|had|may|must)\b", re.IGNORECASE
)
_ENUMERATE = re.compile(
    r"分别|哪(?:几|些)|各(?:是|有|自)?(?:什么|哪些|啥)|都有(?:哪些|什么|啥)|列举|列出|一一|"
    r"几(?:处|条|项|点|个方面|个地方|种)"
    r"|\b(?:list|enumerate|each of|which (?:\w+ )?(?:ones|cities|prefectures|regions|measures|areas|fields|industries|sectors|zones|documents))\b",
    re.IGNORECASE,
)
_SAME_DIFF = re.compile(
    r"异同|相同(?:点|之处)|不同(?:点|之处)|共同(?:点|之处)|有何不同|有什么不同|有啥不同|区别|差异|差别|一样吗"
    r"|\b(?:in common|differ|difference|differences|similarities)\b",
    re.IGNORECASE,
)


def question_form(text: str) -> Form:
    """The form of a (normalised) question; a question asking both (有哪些…分别…吗) is read by
    what it asks for first: a comparison of sameness, then a list, then yes or no."""
    if _SAME_DIFF.search(text):
        return Form.SAME_DIFF
    if _ENUMERATE.search(text):
        return Form.ENUMERATE
    core = text.strip()
    if _YESNO_ZH.search(core) or _AUXILIARY_EN.match(core):
        return Form.YESNO
    return Form.PLAIN


# What turns a provision into a "no": it rules the thing out or waives it. Plain 不 is too common
# in provisions (不断, 不低于) to count.
_RULES_OUT = re.compile(r"不再|不得|不予|无需|不需|不用|不必|免征|免收|免于|免除|豁免|禁止|严禁|不允许|不能|不可|不属于")
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")


def yes_or_no(question: str, sentence: str, english: bool) -> str:
    """是 or 否 for a yes/no question answered by `sentence`: 否 when exactly one of the two rules
    the thing out (还要补交地价吗？ — 不再增收土地价款), else 是."""
    asked_negatively = bool(_RULES_OUT.search(_A_NOT_A.sub(r"\1", question)))
    ruled_out = bool(_RULES_OUT.search(sentence))
    no = asked_negatively != ruled_out
    if english:
        return "No, according to the provision below." if no else "Yes, according to the provision below."
    return "否，依据下面这一条规定。" if no else "是，依据下面这一条规定。"


def common_and_different(said: Mapping[str, Sequence[str]], terms: Terms, english: bool) -> list[str]:
    """One line on what the compared documents' quotes share and where each parts, from their
    distinctive words: a word in two or more documents' quotes is shared, one in a single
    document's quotes is its own. Nothing is said that the quotes do not hold."""
    if len(said) < 2:
        return []
    words = {name: list(dict.fromkeys(w for s in sentences for w in terms(s))) for name, sentences in said.items()}
    counts = Counter(w for ws in words.values() for w in ws)
    common = [w for w, n in counts.most_common() if n >= 2][:COMMON_SHOWN]
    own = {name: [w for w in ws if counts[w] == 1][:DISTINCT_SHOWN] for name, ws in words.items()}
    own = {name: ws for name, ws in own.items() if ws}
    if not common and not own:
        return []
    if english:
        shared = f"In common: {'、'.join(common)}" if common else "No key term in common"
        parts = "; ".join(f"{name} also: {'、'.join(ws)}" for name, ws in own.items())
        return [f"{shared}. Differences: {parts}." if parts else f"{shared}."]
    shared = f"共同点：都提到{'、'.join(common)}" if common else "共同点：所引条款没有共同的关键表述"
    parts = "；".join(f"{name}另提{'、'.join(ws)}" for name, ws in own.items())
    return [f"{shared}。不同点：{parts}。" if parts else f"{shared}。"]
