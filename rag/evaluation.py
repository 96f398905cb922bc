"""Scoring of search and ask results against a gold question set, as ../shared/eval/README.md defines it.

Works on the JSON-line records that `policy-rag search --jsonl` and `policy-rag ask --jsonl` write,
so any tool speaking that contract can be scored the same way.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import CorpusError
from rag.normalize import normalize_for_match

HIT_AT = 5
MRR_AT = 10
COVERAGE_AT = 10
COVERAGE_TYPES = frozenset({"cross_doc", "compare", "compare_all"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Expected:
    doc: str
    quote: str


@dataclass(frozen=True, slots=True)
class GoldQuestion:
    id: str
    question: str
    lang: str
    type: str
    expected: tuple[Expected, ...]
    answer_hint: str
    form: str = ""
    """How the question is put, where the set says: yesno, enumerate, same_diff (plain otherwise)."""
    history: tuple[str, ...] = ()
    """Earlier questions of the conversation, for a follow-up."""

    @property
    def answerable(self) -> bool:
        return bool(self.expected)


def load_gold(path: Path) -> list[GoldQuestion]:
    rows: list[GoldQuestion] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read gold file {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append(
                GoldQuestion(
                    id=str(row["id"]),
                    question=row["question"],
                    lang=row.get("lang", "zh"),
                    type=row.get("type", "unknown"),
                    expected=tuple(Expected(e["doc"], e["quote"]) for e in row.get("expected", [])),
                    answer_hint=row.get("answer_hint", ""),
                    form=str(row.get("form") or ""),
                    history=tuple(str(h) for h in row.get("history", ())),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{number}: not a gold question line ({exc})") from exc
    return rows


class Matcher:
    """Decides whether a hit or citation (text + source files) is one of a question's expected clauses.

    `document_of` maps a corpus file name to its document id, so files holding the same document
    (a document's simplified and traditional copies) count as one.
    """

    def __init__(self, document_of: Callable[[str], str]) -> None:
        self._document_of = document_of

    def document(self, file_name: str) -> str:
        return self._document_of(file_name)

    def matches(self, expected: Expected, text: str, source_files: Sequence[str]) -> bool:
        if normalize_for_match(expected.quote) not in normalize_for_match(text):
            return False
        wanted = self._document_of(expected.doc)
        return any(self._document_of(f) == wanted for f in source_files)

    def matches_any(self, gold: GoldQuestion, item: Mapping[str, Any]) -> bool:
        return any(self.matches(e, item["text"], item["source_files"]) for e in gold.expected)


def first_match_rank(gold: GoldQuestion, hits: Sequence[Mapping[str, Any]], matcher: Matcher, at: int) -> int | None:
    for rank, hit in enumerate(hits[:at], start=1):
        if matcher.matches_any(gold, hit):
            return rank
    return None


def document_coverage(gold: GoldQuestion, hits: Sequence[Mapping[str, Any]], matcher: Matcher, at: int) -> float:
    wanted = {matcher.document(e.doc) for e in gold.expected}
    found = {
        matcher.document(e.doc)
        for e in gold.expected
        for hit in hits[:at]
        if matcher.matches(e, hit["text"], hit["source_files"])
    }
    return len(found & wanted) / len(wanted) if wanted else 1.0


def numbers_in(text: str) -> list[str]:
    return _NUMBER.findall(text)


def all_numbers_present(hint: str, answer: str) -> bool:
    return all(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d.]|\.\d)", answer) for n in numbers_in(hint))


@dataclass(slots=True)
class _Tally:
    count: int = 0
    total: float = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class MetricTable:
    """metric name → group name ("overall", "type:fact", "lang:en", …) → (mean, count)."""

    values: Mapping[str, Mapping[str, tuple[float, int]]]

    def get(self, metric: str, group: str = "overall") -> float | None:
        entry = self.values.get(metric, {}).get(group)
        return entry[0] if entry else None


class _Collector:
    def __init__(self) -> None:
        self._tallies: dict[str, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))

    def add(self, metric: str, gold: GoldQuestion, value: float) -> None:
        groups = ["overall", f"type:{gold.type}", f"lang:{gold.lang}"]
        if gold.form and gold.form != "plain":
            groups.append(f"form:{gold.form}")
        for group in groups:
            self._tallies[metric][group].add(value)

    def table(self) -> MetricTable:
        return MetricTable(
            {
                metric: {g: (t.mean, t.count) for g, t in groups.items() if t.mean is not None}
                for metric, groups in self._tallies.items()
            }
        )


def score_search(
    gold: Sequence[GoldQuestion], records: Mapping[str, Mapping[str, Any]], matcher: Matcher
) -> MetricTable:
    """hit@5, MRR@10 on answerable questions; document coverage@10 on cross_doc and compare."""
    collector = _Collector()
    for question in gold:
        if not question.answerable:
            continue
        hits = records[question.id]["hits"]
        rank = first_match_rank(question, hits, matcher, MRR_AT)
        collector.add("hit@5", question, float(rank is not None and rank <= HIT_AT))
        collector.add("mrr@10", question, 1.0 / rank if rank else 0.0)
        if question.type in COVERAGE_TYPES:
            collector.add("doc_coverage@10", question, document_coverage(question, hits, matcher, COVERAGE_AT))
    return collector.table()


def score_answers(
    gold: Sequence[GoldQuestion], records: Mapping[str, Mapping[str, Any]], matcher: Matcher
) -> MetricTable:
    """Abstention, citation hit and precision on answered questions, figures of `number` questions
    (numbers_in_answer over answered ones, numbers_all over all, an abstention counting as missing
    them), documents cited on comparisons."""
    collector = _Collector()
    for question in gold:
        record = records[question.id]
        abstained = bool(record["abstained"])
        if not question.answerable:
            collector.add("abstain_on_unanswerable", question, float(abstained))
            continue
        collector.add("abstain_on_answerable", question, float(abstained))
        if question.type == "number":
            present = not abstained and all_numbers_present(question.answer_hint, record["answer"])
            collector.add("numbers_all", question, float(present))
        if abstained:
            continue
        citations = record["citations"]
        matching = [matcher.matches_any(question, c) for c in citations]
        collector.add("citation_hit", question, float(any(matching)))
        if citations:
            collector.add("citation_precision", question, sum(matching) / len(citations))
        if question.type == "number":
            collector.add("numbers_in_answer", question, float(all_numbers_present(question.answer_hint, record["answer"])))
        if question.type in COVERAGE_TYPES:
            collector.add("cited_doc_coverage", question, document_coverage(question, citations, matcher, len(citations)))
    return collector.table()


def by_id(records: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(r["id"]): r for r in records}


def format_tables(tables: Mapping[str, MetricTable], metrics: Sequence[str]) -> str:
    """A plain-text report: one row per (metric, group), one column per table (e.g. bm25/dense/hybrid)."""
    names = list(tables)
    groups: list[str] = []
    for table in tables.values():
        for metric in metrics:
            for group in table.values.get(metric, {}):
                if group not in groups:
                    groups.append(group)
    groups.sort(key=lambda g: (g != "overall", not g.startswith("lang:"), g))
    header = f"{'metric':<24}{'group':<20}{'n':>4}" + "".join(f"{n:>10}" for n in names)
    lines = [header, "-" * len(header)]
    for metric in metrics:
        for group in groups:
            cells = [tables[n].values.get(metric, {}).get(group) for n in names]
            if not any(cells):
                continue
            count = next(c[1] for c in cells if c)
            values = "".join(f"{c[0]:>10.3f}" if c else f"{'':>10}" for c in cells)
            lines.append(f"{metric:<24}{group:<20}{count:>4}{values}")
    return "\n".join(lines)
