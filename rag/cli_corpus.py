"""Corpus commands: `corpus` (the library's documents and what cleaning dropped), `clauses` (every
clause), `show`."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from rag.errors import UnknownReferenceError

if TYPE_CHECKING:
    from rag.clauses import Clause
    from rag.corpus import Corpus
    from rag.documents import Document
    from rag.settings import Settings

__all__ = ["clause_record", "document_record", "register"]

_PREVIEW = 40
_LABELS_SHOWN = 6


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    corpus = subparsers.add_parser(
        "corpus", parents=parents,
        help="list the library's documents (bundled and added), their metadata, clause counts and dropped junk",
    )
    corpus.add_argument("--json", action="store_true", help="print a JSON list of documents instead of a table")
    corpus.add_argument("--verbose", action="store_true", help="also print each dropped line's text")
    corpus.set_defaults(handler=_corpus)

    clauses = subparsers.add_parser("clauses", parents=parents, help="print every clause")
    clauses.add_argument("--jsonl", action="store_true", help="one JSON object per line (the only format for now)")
    clauses.set_defaults(handler=_clauses)

    show = subparsers.add_parser(
        "show",
        parents=parents,
        help="show one clause by id, or by document and label",
        description="Show one clause by id, or by document and label.",
        epilog="examples:\n  policy-rag show 国发〔2020〕7号 二、（五）\n  policy-rag show hebei-opinions:二.一.5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("ref", help="a clause id, or a document reference (id, 国发〔2020〕7号, 河北…)")
    show.add_argument("label", nargs="?", help="the clause label in that document, e.g. 二、（五） or 二(一)5")
    show.add_argument("--json", action="store_true", help="print the clause as JSON")
    show.set_defaults(handler=_show)


def _load(settings: Settings) -> Corpus:
    from rag.library_changes import open_corpus

    return open_corpus(settings)


def document_record(corpus: Corpus, document: Document) -> dict[str, Any]:
    counts = corpus.counts[document.id]
    return {
        "id": document.id,
        "title": document.title,
        "title_derived": document.title_derived,
        "doc_number": document.doc_number,
        "issuer": document.issuer,
        "date": document.date,
        "level": document.level.value if document.level else None,
        "region": document.region,
        "city": document.city,
        "genre": document.genre,
        "status": document.status.value,
        "origin": document.origin.value,
        "source_files": list(document.source_files),
        "evidence": {e.field: e.record() for e in document.evidence},
        "counts": {
            "sections": counts.sections,
            "articles": counts.articles,
            "items": counts.items,
            "clauses": counts.clauses,
        },
    }


def clause_record(clause: Clause) -> dict[str, Any]:
    return {
        "clause_id": clause.id,
        "doc_id": clause.doc_id,
        "label": clause.label,
        "path": list(clause.path),
        "text": clause.text,
        "normalized": clause.normalized,
        "source_files": list(clause.source_files),
        "span": list(clause.span),
        "responsible_units": list(clause.responsible_units),
        "lead_units": list(clause.lead_units),
        "participating_units": list(clause.participating_units),
        "citation": clause.citation,
        "kind": clause.kind.value,
    }


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


def _corpus(args: argparse.Namespace, settings: Settings) -> int:
    corpus = _load(settings)
    if args.json:
        print(json.dumps([document_record(corpus, d) for d in corpus.documents], ensure_ascii=False, indent=2))
        return 0
    _print_table(corpus, sys.stdout)
    print()
    _print_dropped(corpus, sys.stdout, verbose=args.verbose)
    return 0


def _clauses(args: argparse.Namespace, settings: Settings) -> int:
    corpus = _load(settings)
    for clause in corpus.clauses:
        print(_dumps(clause_record(clause)))
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    corpus = _load(settings)
    try:
        clause = corpus.lookup(args.ref, args.label)
    except UnknownReferenceError:
        if args.label is None:
            _need_label(corpus, args.ref)
        raise
    if args.json:
        print(json.dumps(clause_record(clause), ensure_ascii=False, indent=2))
        return 0
    print(clause.citation)
    print(" › ".join(clause.path))
    print()
    print(clause.text)
    print()
    print(f"id: {clause.id}")
    print(f"source: {', '.join(clause.source_files)} characters {clause.span[0]}–{clause.span[1]}")
    if clause.lead_units:
        print(f"lead units: {'、'.join(clause.lead_units)}")
    if clause.participating_units:
        print(f"participating units: {'、'.join(clause.participating_units)}")
    if clause.responsible_units and not clause.lead_units:
        print(f"responsible units: {'、'.join(clause.responsible_units)}")
    return 0


def _need_label(corpus: Corpus, ref: str) -> None:
    """When `ref` names a document rather than a clause: say that a label is needed, with examples."""
    try:
        document = corpus.resolve_document(ref)
    except UnknownReferenceError:
        return
    labels = [c.label for c in corpus.clauses_of(document.id) if c.label]
    shown = ", ".join(labels[:_LABELS_SHOWN]) + (f" … ({len(labels)} in all)" if len(labels) > _LABELS_SHOWN else "")
    example = labels[min(1, len(labels) - 1)] if labels else "一、（一）"
    raise UnknownReferenceError(
        f"{ref!r} names a document ({document.id}), not a clause; add the clause label, "
        f"e.g. `policy-rag show {ref} {example}`; its labels: {shown}"
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _print_table(corpus: Corpus, out: TextIO) -> None:
    header = ["id", "origin", "number", "date", "issuer", "region", "city", "level", "status", "sec", "art", "items",
              "clauses", "files"]
    rows = [header]
    for d in corpus.documents:
        c = corpus.counts[d.id]
        rows.append(
            [
                d.id,
                d.origin.value,
                d.doc_number or "—",
                d.date or "—",
                d.issuer or "—",
                d.region or "unknown",
                d.city or "—",
                d.level.value if d.level else "unknown",
                d.status.value,
                str(c.sections),
                str(c.articles),
                str(c.items),
                str(c.clauses),
                " ".join(_short(f) for f in d.source_files),
            ]
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)
    print(file=out)
    for d in corpus.documents:
        derived = " (derived: no file prints a title)" if d.title_derived else ""
        print(f"{_pad(d.id, widths[0])}  {d.title}{derived}", file=out)
        print(f"{_pad('', widths[0])}  files: {', '.join(d.source_files)}", file=out)


def _short(file: str) -> str:
    """A bundled seed's number prefix (000), or a file name cut to a few characters."""
    return file[:3] if file[:3].isdigit() else (file if len(file) <= 12 else file[:11] + "…")


def _print_dropped(corpus: Corpus, out: TextIO, verbose: bool = False) -> None:
    print("Dropped as not document text:", file=out)
    for report in corpus.reports:
        if not report.dropped:
            print(f"  {report.file}: nothing", file=out)
            continue
        kinds = Counter(d.reason for d in report.dropped)
        summary = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        print(f"  {report.file}: {len(report.dropped)} lines, {report.dropped_chars} characters ({summary})", file=out)
        if not verbose:
            continue
        for dropped in report.dropped:
            text = dropped.line.text
            preview = text if len(text) <= _PREVIEW else text[:_PREVIEW] + "…"
            print(f"    line {dropped.line.number:>4}  {dropped.reason}: {preview}", file=out)
    if not verbose and any(r.dropped for r in corpus.reports):
        print("  (the dropped lines' text: policy-rag corpus --verbose)", file=out)

