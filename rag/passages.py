"""Sentence-sized passages cut from clauses: what gets embedded and ranked, mapped back to clauses.

Whole clauses of 300–600 characters embed poorly; sentences retrieve much better and also tell
the answer composer which sentence of a clause answers. Each passage is a verbatim span of its
clause's text, so a quote taken from it is always a substring of the clause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.clauses import Clause
from rag.normalize import normalize

MAX_PASSAGE_CHARS = 160
_SENTENCE_END = re.compile(r"[。；;！!？?]+[”’」』）)]*|\n+")
_SOFT_BREAK = re.compile(r"[，,：:、]")


@dataclass(frozen=True, slots=True)
class Passage:
    """A span [start, end) of a clause's verbatim text; `id` is "<clause id>#<n>"."""

    id: str
    clause_id: str
    start: int
    end: int


def sentence_spans(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[tuple[int, int]]:
    """Spans of the sentences of `text` (end punctuation kept), long ones cut at a soft break.

    Punctuation inside parentheses does not end a sentence, so a note such as
    （牵头单位：科技厅；参与单位：…） stays whole.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for end in _sentence_ends(text):
        spans.extend(_cut_long(text, start, end, max_chars))
        start = end
    if start < len(text):
        spans.extend(_cut_long(text, start, len(text), max_chars))
    return [(s, e) for s, e in (_trim(text, s, e) for s, e in spans) if e > s]


def _sentence_ends(text: str) -> list[int]:
    depth_at = [0] * (len(text) + 1)
    depth = 0
    for i, ch in enumerate(text):
        depth_at[i] = depth
        if ch in "（(":
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
    return [m.end() for m in _SENTENCE_END.finditer(text) if depth_at[m.start()] == 0]


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        breaks = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() >= max_chars // 2]
        cut = start + (breaks[-1] if breaks else max_chars)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def passages_of(clause: Clause) -> list[Passage]:
    """One passage per sentence, and one for the whole clause when it has several sentences
    (a question that spans sentences then still meets one passage holding all it asks)."""
    spans = sentence_spans(clause.text)
    passages = [Passage(id=f"{clause.id}#{n}", clause_id=clause.id, start=s, end=e) for n, (s, e) in enumerate(spans)]
    if len(spans) > 1:
        passages.append(Passage(id=f"{clause.id}#all", clause_id=clause.id, start=0, end=len(clause.text)))
    return passages


def passage_text(passage: Passage, clause: Clause) -> str:
    """What is embedded: the sentence alone, normalised like queries are. (Measured on the dev set,
    prefixing the heading helps BM25 but blurs the embedding, most of all for English questions.)"""
    return normalize(clause.text[passage.start : passage.end])


def keyword_text(passage: Passage, clause: Clause) -> str:
    """What BM25 indexes: the article heading the sentence stands under, and the sentence.
    (Documents are chosen by filters and by the regions a question names, not by BM25.)"""
    heading = _short_heading(clause.path[-1]) if clause.path else ""
    sentence = clause.text[passage.start : passage.end]
    return normalize(f"{heading}：{sentence}" if heading and not sentence.startswith(heading) else sentence)


def _short_heading(heading: str) -> str:
    return heading.split("。", 1)[0][:40]


def build_passages(clauses: Iterable[Clause]) -> list[Passage]:
    return [p for clause in clauses for p in passages_of(clause)]
