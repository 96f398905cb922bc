"""Resolving what people type to a document or clause: ids, document numbers, regions, labels.

Documents: by id (or the id/file name of a duplicate file), by document number, exact or loose
(国发〔2019〕12号, 国发12号, 12号文), by region or issuer (广东, 浙江省, 国务院), by part of the title.
Labels: tolerant of full/half-width parentheses, a missing 、 or full stop, a trailing 条, and of
leaving out the section where the rest is unique (（五） for 二、（五） of 国发〔2019〕12号).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.clauses import Clause, ClauseKind
from rag.documents import Document, Level
from rag.errors import UnknownReferenceError
from rag.normalize import normalize_for_match
from rag.numbering import label_keys

__all__ = ["find_clause_by_label", "resolve_document"]

_NUMBER = re.compile(r"^(?P<prefix>\D*?)[〔\[(【]?(?P<year>\d{4})?[〕\])】]?(?P<num>\d+)号(文|文件)?$")
_SPECIAL_LABELS = {
    ClauseKind.PREAMBLE: ("序言", "前言", "开头", "题注", "preamble"),
    ClauseKind.CLOSING: ("落款", "署名", "closing"),
}
_MIN_TITLE_FRAGMENT = 4


def _known(documents: Sequence[Document]) -> str:
    return "; ".join(f"{d.id} ({d.doc_number or d.region or d.title})" for d in documents)


def _number_parts(text: str) -> tuple[str, str | None, str] | None:
    m = _NUMBER.match(normalize_for_match(text))
    return (m.group("prefix"), m.group("year"), m.group("num")) if m else None


def _names(document: Document) -> set[str]:
    names = {document.region, document.city, document.issuer}
    if document.level is Level.PROVINCIAL and document.region:
        names.add(f"{document.region}省")
    return {normalize_for_match(n) for n in names if n}


def resolve_document(ref: str, documents: Sequence[Document], aliases: Mapping[str, str]) -> Document:
    """The one document `ref` names; UnknownReferenceError if none or several do."""
    key = normalize_for_match(ref)
    by_id = {d.id: d for d in documents}
    if key in by_id:
        return by_id[key]
    if key in aliases:
        return by_id[aliases[key]]
    wanted = _number_parts(ref)
    stages = [
        [d for d in documents if d.doc_number and normalize_for_match(d.doc_number) == key],
        [d for d in documents if wanted and _number_matches(wanted, d.doc_number)],
        [d for d in documents if key and key in _names(d)],
        [d for d in documents if len(key) >= _MIN_TITLE_FRAGMENT and key in normalize_for_match(d.title)],
    ]
    for candidates in stages:
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise UnknownReferenceError(
                f"{ref!r} matches several documents: {_known(candidates)}; use one of these ids"
            )
    raise UnknownReferenceError(
        f"no document matches {ref!r}; use an id, a document number such as 国发〔2019〕12号 or a region "
        f"such as 广东. Known documents: {_known(documents)}"
    )


def _number_matches(wanted: tuple[str, str | None, str], doc_number: str | None) -> bool:
    have = _number_parts(doc_number) if doc_number else None
    if have is None:
        return False
    prefix, year, num = wanted
    return num == have[2] and (year is None or year == have[1]) and have[0].startswith(prefix)


def find_clause_by_label(document: Document, clauses: Sequence[Clause], label: str) -> Clause:
    """The clause of `document` with `label`; UnknownReferenceError listing what exists otherwise."""
    folded = normalize_for_match(label)
    named = [c for c in clauses if normalize_for_match(c.label) == folded]
    if len(named) == 1:
        return named[0]  # a unit's own label (题注, 序言, 落款, 第三条)
    for kind, names in _SPECIAL_LABELS.items():
        if folded in names:
            found = [c for c in clauses if c.kind is kind]
            if found:
                return found[0]
            raise UnknownReferenceError(f"{document.id} has no {names[0]} ({kind.value}); it prints none")
    keys = label_keys(label)
    if keys is None:
        raise UnknownReferenceError(
            f"{label!r} is not a clause label; use one such as 二、（五）, 二、（一）5. or 第三条, or 序言 / 落款"
        )
    if len(keys) == 1 and (tiao := re.fullmatch(r"第(.+)条", keys[0])) and not any("条" in c.label for c in clauses):
        keys = (f"({tiao.group(1)})",)  # 第五条 where the document numbers its articles （五）
    numbered = [(c, label_keys(c.label) or ()) for c in clauses]
    exact = [c for c, k in numbered if k == keys]
    suffix = [c for c, k in numbered if len(k) > len(keys) and k[-len(keys) :] == keys]
    found = exact or suffix
    if len(found) == 1:
        return found[0]
    if found:
        raise UnknownReferenceError(
            f"{label!r} is ambiguous in {document.id}: {', '.join(c.label for c in found)}; give the full label"
        )
    children = [c for c, k in numbered if k[: len(keys)] == keys]
    if children:
        raise UnknownReferenceError(
            f"{label!r} in {document.id} has no text of its own; cite one of {', '.join(c.label for c in children)}"
        )
    labels = [c.label for c in clauses if c.kind not in (ClauseKind.PREAMBLE, ClauseKind.CLOSING)]
    span = f"{labels[0]} … {labels[-1]}" if labels else "none"
    raise UnknownReferenceError(f"no clause {label!r} in {document.id}; its clause labels run {span}")
