"""Checks an LLM-written answer against the clauses it was given, before anyone sees it.

Every [n] must name a source, every quoted span must be verbatim in a clause its sentence cites,
and every figure must come from a cited clause. A wrong citation is worse than no answer, so the
checks are strict where an error could mislead and lenient only where text differs in form
(full/half-width, whitespace, quote marks, traditional script). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rag.normalize import to_simplified
from rag.results import Citation

__all__ = ["MIN_QUOTE_CHARS", "Verdict", "check_generated", "verify"]

MIN_QUOTE_CHARS = 4
"""Shorter quotes are terms (“一站式”), not claims about the wording; they are not checked."""

_BRACKETS = str.maketrans({"【": "[", "】": "]"})
_OPEN, _CLOSE = "“「『", "”」』"
_QUOTE_MARKS = frozenset("“”‘’「」『』\"'")
_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,、\-–~]\s*\d+)*)\s*\]")
_MARKER_AFTER = re.compile(r"\s*" + _MARKER.pattern)
_HALF_WIDTH_QUOTE = re.compile(r'"([^"\n]*)"')
_ELLIPSIS = re.compile(r"\.{2,}")  # … and …… after NFKC
_ENUMERATOR = re.compile(r"^[ \t]*(?:\d{1,2}[.、)]|\(\d{1,2}\))", re.MULTILINE)
_NUMBER = re.compile(r"(?<!\d)(?<!\d\.)\d+(?:\.\d+)?")
_UNITS = (
    "个百分点", "平方公里", "平方米", "周岁", "万元", "亿元", "%", "‰", "岁", "年", "月", "日", "天",
    "个", "家", "项", "亿", "万", "元", "倍", "人", "名", "次", "号", "条", "所", "户", "亩", "级", "批",
)
_MAX_RANGE = 50


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a check: `problems` (empty when it passes), the source numbers the text cites
    in order of first use, and per source the verbatim clause substrings the text quotes."""

    problems: tuple[str, ...]
    cited: tuple[int, ...]
    quotes: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class _Sentence:
    markers: tuple[int, ...]
    quotes: tuple[str, ...]


def check_generated(text: str, citations: Sequence[Citation]) -> list[str]:
    """The problems with `text` as an answer citing `citations` by their n; empty when it passes."""
    return list(verify(text, citations).problems)


def verify(text: str, citations: Sequence[Citation]) -> Verdict:
    """Check markers, quotes and figures of `text` against the clauses of `citations` (see module)."""
    text = unicodedata.normalize("NFKC", text or "").translate(_BRACKETS)
    if not text.strip():
        return Verdict(("the answer is empty",), ())
    by_n = {c.n: c for c in citations}
    problems: list[str] = []
    marked = _markers(text)
    if not marked:
        problems.append("no [n] source marker")
    unknown = [n for n in marked if n not in by_n]
    if unknown:
        known = ", ".join(f"[{n}]" for n in sorted(by_n)) or "none"
        problems.append(f"{', '.join(f'[{n}]' for n in unknown)} names no source (sources: {known})")
    cited = tuple(n for n in marked if n in by_n)
    sentences, balanced = _sentences(text)
    if not balanced:
        problems.append("unbalanced quotation marks")
    folded = {c.n: _fold_with_map(c.clause.text) for c in citations}
    quotes: dict[int, list[str]] = {}
    fallback = list(cited) or list(by_n)
    for sentence in sentences:
        own = [n for n in sentence.markers if n in by_n] or fallback
        for raw in sentence.quotes:
            problem = _check_quote(raw, own, folded, by_n, quotes)
            if problem:
                problems.append(problem)
    problems += _check_figures(text, [by_n[n] for n in cited or by_n])
    return Verdict(
        tuple(dict.fromkeys(problems)), cited, {n: tuple(dict.fromkeys(q)) for n, q in quotes.items()}
    )


def _markers(text: str) -> list[int]:
    """Source numbers in order of first use, from [1], [1][2], [1, 2], [1、2] and [1-3]."""
    found: list[int] = []
    for match in _MARKER.finditer(text):
        found += _marker_numbers(match.group(1))
    return list(dict.fromkeys(found))


def _marker_numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,、]\s*", body):
        ends = [int(x) for x in re.split(r"\s*[\-–~]\s*", part)]
        first, last = ends[0], ends[-1]
        numbers += list(range(first, last + 1)) if 0 <= last - first <= _MAX_RANGE else ends
    return numbers


def _sentences(text: str) -> tuple[list[_Sentence], bool]:
    """Sentences with their markers and outermost quotes; a quote never ends a sentence, and the
    markers right after a sentence's full stop belong to it (…65岁。[1])."""
    sentences: list[_Sentence] = []
    balanced = True
    for line in text.split("\n"):
        line = _HALF_WIDTH_QUOTE.sub(r"“\1”", line)
        balanced &= '"' not in line
        start, depth, quote_start, quotes, i = 0, 0, 0, [], 0
        while i < len(line):
            ch = line[i]
            if ch in _OPEN:
                quote_start = i + 1 if depth == 0 else quote_start
                depth += 1
            elif ch in _CLOSE:
                if depth == 0:
                    balanced = False
                else:
                    depth -= 1
                    if depth == 0:
                        quotes.append(line[quote_start:i])
            elif depth == 0 and _ends_sentence(line, i):
                end = i + 1
                while match := _MARKER_AFTER.match(line, end):
                    end = match.end()
                sentences.append(_Sentence(tuple(_markers(line[start:end])), tuple(quotes)))
                start, quotes, i = end, [], end
                continue
            i += 1
        balanced &= depth == 0
        if line[start:].strip():
            sentences.append(_Sentence(tuple(_markers(line[start:])), tuple(quotes)))
    return sentences, balanced


def _ends_sentence(line: str, i: int) -> bool:
    ch = line[i]
    if ch in "。!?;":
        return True
    # An English full stop, not a decimal point or an item number such as 5.
    return ch == "." and (i + 1 == len(line) or line[i + 1].isspace()) and not (i and line[i - 1].isdigit())


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Text in matching form (NFKC, no whitespace or quote marks, simplified script) and, for each
    folded character, the index of the original character it came from."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).translate(_BRACKETS):
            if not c.isspace() and c not in _QUOTE_MARKS:
                chars.append(c)
                where.append(i)
    folded = "".join(chars)
    simplified = to_simplified(folded)
    # Keep the index map valid: only take the conversion when it is character for character.
    return (simplified if len(simplified) == len(folded) else folded), where


def _check_quote(
    raw: str,
    own: Sequence[int],
    folded: Mapping[int, tuple[str, list[int]]],
    by_n: Mapping[int, Citation],
    quotes: dict[int, list[str]],
) -> str | None:
    """None when the quote is verbatim in one of the `own` sources (recording the clause's own
    wording of it in `quotes`), otherwise the problem. An elided quote (…) must have all its
    pieces in one clause."""
    text, _ = _fold_with_map(_MARKER.sub("", raw))
    pieces = [p for p in _ELLIPSIS.split(text) if len(p) >= MIN_QUOTE_CHARS]
    if not pieces:
        return None
    for n in own:
        spans = _find_all(pieces, folded[n])
        if spans is not None:
            clause_text = by_n[n].clause.text
            quotes.setdefault(n, []).extend(clause_text[a:b] for a, b in spans)
            return None
    short = raw if len(raw) <= 20 else raw[:20] + "…"
    elsewhere = [n for n in by_n if n not in own and _find_all(pieces, folded[n]) is not None]
    if elsewhere:
        return f"quote “{short}” is from [{elsewhere[0]}], not from {''.join(f'[{n}]' for n in own)}"
    return f"quote “{short}” is in no source"


def _find_all(pieces: Sequence[str], clause: tuple[str, list[int]]) -> list[tuple[int, int]] | None:
    """The original-text spans of every piece in the clause, or None if one is missing."""
    text, where = clause
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        at = text.find(piece)
        if at < 0:
            return None
        spans.append((where[at], where[at + len(piece) - 1] + 1))
    return spans


def _check_figures(text: str, cited: Sequence[Citation]) -> list[str]:
    """Every figure (digits, with its unit when it has one) must be in a cited clause or its
    citation, which is all the model was shown about that source."""
    allowed = "\n".join(unicodedata.normalize("NFKC", f"{c.clause.text}\n{c.clause.citation}") for c in cited)
    body = _ENUMERATOR.sub(" ", _MARKER.sub(" ", text))
    problems: list[str] = []
    for match in _NUMBER.finditer(body):
        number = match.group()
        unit = next((u for u in _UNITS if body.startswith(u, match.end())), "")
        found = re.search(rf"(?<!\d)(?<!\d\.){re.escape(number)}(?!\.?\d)\s*{re.escape(unit)}", allowed)
        if not found:
            problems.append(f"figure {number}{unit} is in no cited source")
    return problems
