"""Library commands: `add` (documents into the library, with what was read from each) and `remove`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rag.library_changes import ChangeReport, Prepared
    from rag.settings import Settings

__all__ = ["register"]

PROG = "policy-rag"
_LABELS = {
    "title": "title",
    "doc_number": "number",
    "issuer": "issuer",
    "date": "date",
    "level": "level",
    "region": "region",
    "city": "city",
    "genre": "genre",
    "status": "status",
}
_LINE_PREVIEW = 50


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    add = subparsers.add_parser(
        "add",
        parents=parents,
        help="add policy documents (files or folders) to the library and update the index",
        description="Add documents to the library in the data folder. Their metadata is read from the text; "
        "the options below override it (for one file at a time).",
    )
    add.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder (read recursively)")
    meta = add.add_argument_group("metadata (overrides what the text gives; \"\" for unknown)")
    meta.add_argument("--title")
    meta.add_argument("--number", help="document number, e.g. 粤府〔2021〕5号")
    meta.add_argument("--issuer")
    meta.add_argument("--date", help="e.g. 2020-07-13 or 2020年7月13日")
    meta.add_argument("--level", help="national, provincial, city or county")
    meta.add_argument("--region", help="province-level region, e.g. 河南, or 全国")
    meta.add_argument("--city")
    meta.add_argument("--genre", help="e.g. 条例, 办法, 实施意见")
    meta.add_argument("--status", help="in_force, draft, trial or repealed")
    add.add_argument("--replace", action="store_true",
                     help="replace a document of the library with the same number or title by this version")
    add.add_argument("--no-index", action="store_true", help="leave the index for `policy-rag index` to update")
    add.set_defaults(handler=_add)

    remove = subparsers.add_parser("remove", parents=parents, help="take added documents out of the library")
    remove.add_argument("docs", nargs="+", metavar="DOC", help="a document id, number or title")
    remove.add_argument("--no-index", action="store_true", help="leave the index for `policy-rag index` to update")
    remove.set_defaults(handler=_remove)


def _progress() -> Any:
    from tqdm import tqdm

    return lambda iterable=None, **kwargs: tqdm(iterable, file=sys.stderr, leave=False, **kwargs)


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from rag.library_changes import (
        OVERRIDE_OPTIONS,
        Verdict,
        add_documents,
        parse_overrides,
    )

    overrides = parse_overrides({name: getattr(args, name) for name in OVERRIDE_OPTIONS})
    report = add_documents(
        settings, args.paths, overrides=overrides, replace_versions=args.replace, build_index=not args.no_index,
        progress=_progress(),
    )
    for outcome in report.outcomes:
        if outcome.verdict is Verdict.ADDED and outcome.prepared:
            _print_added(outcome.prepared, sys.stdout)
        elif outcome.verdict is Verdict.DUPLICATE:
            print(outcome.message)
        elif outcome.verdict is Verdict.SKIPPED:
            print(f"skipped {outcome.shown}: {outcome.message}", file=sys.stderr)
        else:
            print(f"{PROG}: refused: {outcome.message}", file=sys.stderr)
    for document in report.removed:
        print(f"replaced {document.id} 《{document.title}》: its clauses are out of the library")
    _print_index(report, settings)
    if not report.added and not any(o.verdict is Verdict.DUPLICATE for o in report.outcomes):
        if not report.failed:
            print(f"{PROG}: nothing to add: no file with a supported suffix", file=sys.stderr)
        return 1
    return 1 if report.failed else 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    from rag.library_changes import remove_documents

    report = remove_documents(settings, args.docs, build_index=not args.no_index, progress=_progress())
    for document in report.removed:
        print(f"removed {document.id} 《{document.title}》")
    _print_index(report, settings)
    return 0


def _print_index(report: ChangeReport, settings: Settings) -> None:
    if not report.changed:
        return
    if report.index is None:
        from rag.cli import fix_command

        print(f"the index is not updated yet; run `{fix_command(settings, 'index')}`")
    elif report.index.keyword_only:
        from rag.cli import fix_command

        index = report.index
        print(f"keyword search is ready: {index.clauses} clauses, {index.passages} passages ({index.seconds:.1f} s); "
              f"run `{fix_command(settings, 'index')}` to embed them for semantic search (it shows its progress, "
              "and continues where it stopped if interrupted)")
    else:
        index = report.index
        print(f"index updated: {index.clauses} clauses, {index.passages} passages ({index.seconds:.1f} s)")


def _print_added(prepared: Prepared, out: TextIO) -> None:
    from rag.library_report import detected_fields

    facts = prepared.facts
    print(f"added {prepared.shown} as {facts.id}", file=out)
    for field in detected_fields(prepared):
        label = _LABELS[field.field]
        if field.value is None:
            print(f"  {label:<8} unknown", file=out)
            continue
        where = field.where
        if field.line is not None:
            line = field.line_text
            preview = line if len(line) <= _LINE_PREVIEW else line[:_LINE_PREVIEW] + "…"
            where = f"line {field.line}: {preview}  [{where}]"
        print(f"  {label:<8} {field.value}    {where}".rstrip(), file=out)
    if facts.title_derived:
        print("  (no title is printed: the title above is derived and cited with （拟题）)", file=out)
    c = prepared.counts
    print(f"  counts   {c.sections} sections, {c.articles} articles, {c.items} items, {c.clauses} clauses", file=out)
    for note in prepared.notes:
        print(f"  note     {note}", file=out)
