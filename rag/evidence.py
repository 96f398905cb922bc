"""Does retrieved text hold what the question asks for? Quantities (money, age, duration, share,
count, a date), years and responsible units, detected in questions and in clause sentences alike.

These are general readings of Chinese (and English) measure words, not rules for particular
questions: a question that asks "how much money" is answered only by a sentence that states an
amount of money.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十][{_CN_DIGITS}]*)"


class Quantity(StrEnum):
    MONEY = "money"
    AGE = "age"
    DURATION = "duration"
    SHARE = "share"
    COUNT = "count"
    DATE = "date"
    ANY = "any"


# Interrogatives of a date: which day or year, until or since when. (A bare English "when" is as often
# a conjunction, "when they apply", and asks for none.)
_ASKS_DATE = (
    r"哪天|哪一天|哪日|哪年|哪一年|几月|几号|何日|何时|截止到?什么时候|什么时候(?:起|开始|截止|之前|前|印发|发布|施行|实施)"
    r"|(?i:\bwhen (?:did|does|do|is|was|were|will|are)\b|\b(?:what|which) (?:date|day|year)\b|\bdeadline\b)"
)

# What a question asks for, by the words it uses.
_ASKS: dict[Quantity, re.Pattern[str]] = {
    Quantity.MONEY: re.compile(
        r"多少钱|多少(万|亿)?元|补(助|贴)?多少|奖励多少|资助多少|费用|金额|额度|几(万|亿)|"
        r"\b(yuan|rmb|how much money|amount of money|subsidy amount|fee|fees|cost)\b",
        re.IGNORECASE,
    ),
    Quantity.AGE: re.compile(r"多少岁|几岁|年龄.*(多少|多大|几)|\bhow old\b|\bage\b", re.IGNORECASE),
    Quantity.DURATION: re.compile(
        r"多长时间|多久|几年|多少年|几个月|多少天|期限.*(多少|多长)|有效期|停留.*(多少|多长|几)|"
        r"\bhow long\b|\bhow many (years|months|days)\b",
        re.IGNORECASE,
    ),
    Quantity.SHARE: re.compile(r"比例|百分之|多少%|占.*多少|\bpercent(age)?\b|\bshare\b|\bproportion\b", re.IGNORECASE),
    Quantity.COUNT: re.compile(
        r"(?<!哪)几(个|家|项|类)|多少个|多少家|几\+几|\bhow many\b(?!\s+(?:years?|months?|days?|times?)\b)", re.IGNORECASE
    ),
    Quantity.DATE: re.compile(_ASKS_DATE),
}
# A number is asked for only by an interrogative of amount: a measure word alone (额度, 费用, 比例) in
# a yes/no question (用能的额度能拿来交易吗？) asks for none. 哪几类/哪几个 (which ones) asks for a list.
_ASKS_ANY_NUMBER = re.compile(
    _ASKS_DATE + r"|多少|(?<!哪)几|多大|多长|多久|多高|上限|下限|\bhow (many|much|long|old)\b|\bwhat number\b"
    r"|\bwhat(?:'s| is| are)? (?:the )?(?:minimum|maximum|lowest|highest|upper limit|lower limit)\b"
    r"|\bwhat(?:'s| is| are)? (?:the )?(?:\w+ ){0,3}(?:percentage|share|proportion|ratio|rate|age|amount|sum|age limit)\b",
    re.IGNORECASE,
)

# What a sentence states, by the units it uses.
_STATES: dict[Quantity, re.Pattern[str]] = {
    Quantity.MONEY: re.compile(rf"{_NUM}\s*(?:多)?(?:万|亿|千)?(?:元|美元)"),
    Quantity.AGE: re.compile(rf"{_NUM}\s*(?:周)?岁"),
    # A calendar year (到2025年) is a date, not a duration.
    Quantity.DURATION: re.compile(rf"(?<!\d)(?!(?:19|20)\d{{2}}\s*年){_NUM}\s*(?:多)?(?:年|个月|月|日|天|小时|个工作日)(?!代)"),
    Quantity.SHARE: re.compile(rf"{_NUM}\s*%|百分之{_NUM}|{_NUM}\s*成"),
    # 一批 (a batch of) names no number.
    Quantity.COUNT: re.compile(rf"{_NUM}\s*(?:多)?(?:个|家|项|类|所|条|名)|\d+\s*(?:批)|\d+\s*\+\s*\d+"),
    # A year, a month and day, or a period's end (年底, 月底), in digits or Chinese numerals.
    Quantity.DATE: re.compile(
        r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|[〇零一二三四五六七八九]{4}年|[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
        r"|年底|年末|月底|季度末"
    ),
    Quantity.ANY: re.compile(r"\d+|[一二两三四五六七八九十百千万]+(?:个|家|项|类|年|岁|日|%)"),
}

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\s*年|\b)")
_YEAR_LIKE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True, slots=True)
class Asked:
    """The quantities a question asks for (empty when it asks for no number)."""

    quantities: frozenset[Quantity]

    @property
    def wants_number(self) -> bool:
        return bool(self.quantities)


def asked_quantities(question: str) -> Asked:
    """The quantities asked for: none without an interrogative of amount (多少, 几, how many, what
    percentage…); with one, those its measure words name (比例 → a share), else any figure."""
    question = _without_indefinite_numbers(question)
    if not _ASKS_ANY_NUMBER.search(question):
        return Asked(frozenset())
    found = {q for q, pattern in _ASKS.items() if pattern.search(question)}
    return Asked(frozenset(found or {Quantity.ANY}))


_SUBCLAUSE = re.compile(r"[^，,；;。？?！!]+[，,；;。？?！!]?")
_INDEFINITE_JI = re.compile(r"(?<!哪)几(?=[个家项类位年])")
_NARRATIVE = re.compile(r"了|把|被|如果|要是|假如|假设")


def _without_indefinite_numbers(question: str) -> str:
    """几个 asks "how many" in a question, and means "a few" in a story told before it: in
    把旁边几个小园区接过来统一管了，收入怎么分？ it asks no number, in 浙江有几个高新区，分别在哪？ it
    does. A story is a sub-clause before the last, not ending with a question mark, that tells of an
    event or a supposition (了, 把, 被, 如果, 要是…); its 几 becomes 若干 (several)."""
    parts = _SUBCLAUSE.findall(question)
    kept = [
        _INDEFINITE_JI.sub("若干", part)
        if i < len(parts) - 1 and not part.endswith(("？", "?")) and _NARRATIVE.search(part)
        else part
        for i, part in enumerate(parts)
    ]
    return "".join(kept)


def states(sentence: str, quantity: Quantity) -> bool:
    if quantity is Quantity.ANY:
        # Any figure: also one of the measures in Chinese numerals (百分之三十, 五百万元, 三年).
        return any(pattern.search(sentence) for pattern in _STATES.values())
    return bool(_STATES[quantity].search(sentence))


def states_any_number(sentence: str) -> bool:
    return bool(re.search(r"\d", sentence)) or states(sentence, Quantity.ANY)


def missing_quantities(asked: Asked, sentences: list[str]) -> frozenset[Quantity]:
    """The asked quantities that none of the sentences states."""
    missing = set()
    for quantity in asked.quantities:
        if not any(states(s, quantity) for s in sentences):
            missing.add(quantity)
    return frozenset(missing)


def years_in(text: str) -> tuple[str, ...]:
    """The years a question asks about: 19xx or 20xx followed by 年 or standing alone (so 2000万 is
    not one)."""
    return tuple(dict.fromkeys(_YEAR.findall(text)))


@dataclass(frozen=True, slots=True)
class CorpusYears:
    """The years a corpus speaks of: as years (2025年), and as any 19xx/20xx number (科技创新2030)."""

    dated: frozenset[str]
    numbers: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str]) -> CorpusYears:
        texts = list(texts)
        return cls(
            frozenset(y for text in texts for y in years_in(text)),
            frozenset(y for text in texts for y in year_like_numbers(text)),
        )

    def unknown_in(self, question: str) -> list[str]:
        """The years the question asks about that the corpus never mentions. A year written as one
        (2030年) must be one in the corpus; a bare number (Innovation 2030) may be any mention."""
        return [
            y for y in years_in(question)
            if y not in (self.dated if re.search(rf"{y}\s*年", question) else self.numbers)
        ]


def year_like_numbers(text: str) -> tuple[str, ...]:
    """Every 19xx or 20xx number in a clause, names included (科技创新2030重大项目): whatever a
    clause could be read as saying about a year."""
    return tuple(dict.fromkeys(_YEAR_LIKE.findall(text)))
