"""Search commands: `model build`, `index`, `search`, `ask` and `eval` (the JSON-line contracts of
DESIGN.md for programs, readable text for people)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rag.calibration import Calibration
    from rag.filters import Filters
    from rag.question_file import QuestionLine
    from rag.results import Answer, ClauseHit
    from rag.service import PolicyQA
    from rag.settings import Settings

__all__ = ["answer_record", "hit_record", "register"]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    model = subparsers.add_parser("model", parents=parents, help="manage the embedding model")
    model_commands = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    build = model_commands.add_parser("build", parents=parents, help="assemble the offline default model now")
    build.add_argument("--rebuild", action="store_true", help="assemble it again even if it looks complete")
    build.set_defaults(handler=_model_build)

    index = subparsers.add_parser("index", parents=parents, help="build or refresh the search index")
    index.add_argument("--rebuild", action="store_true", help="rebuild from scratch, re-embedding everything")
    index.add_argument("--ray", metavar="auto|ADDRESS",
                       help="embed on Ray Data workers: 'auto' (this machine's Ray, or a local one) or a cluster address")
    index.set_defaults(handler=_index)

    filters = argparse.ArgumentParser(add_help=False)
    group = filters.add_argument_group("filters")
    group.add_argument("--doc", action="append", default=[], metavar="REF",
                       help="only this document (id, number or region); repeatable")
    group.add_argument("--level", action="append", default=[], choices=["national", "provincial", "city", "county"])
    group.add_argument("--region", action="append", default=[], metavar="NAME", help="e.g. 广东; repeatable")
    group.add_argument("--no-drafts", action="store_true", help="leave out drafts (征求意见稿)")

    search = subparsers.add_parser("search", parents=[*parents, filters], help="find the clauses for a question")
    _question_or_jsonl(search)
    search.add_argument("--k", type=int, default=10, help="number of clauses (default 10)")
    search.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    search.set_defaults(handler=_search)

    ask = subparsers.add_parser("ask", parents=[*parents, filters], help="answer a question with citations")
    _question_or_jsonl(ask)
    ask.set_defaults(handler=_ask)

    evaluate = subparsers.add_parser("eval", parents=parents, help="score retrieval and answers on a gold set")
    evaluate.add_argument("--gold", required=True, type=Path, help="gold questions (JSON lines)")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(handler=_eval)


def _question_or_jsonl(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="?", help="the question")
    parser.add_argument("--jsonl", type=Path, metavar="FILE",
                        help="read JSON lines with \"question\" (and maybe \"id\"); write one JSON line each. "
                             "A line that cannot be used is reported on stderr by its number, the others are "
                             "answered, and the exit status is 1")


def _progress() -> Any:
    from tqdm import tqdm

    return lambda iterable=None, **kwargs: tqdm(iterable, file=sys.stderr, leave=False, **kwargs)


def _open(settings: Settings, repair: bool = False, rebuild: bool = False, ray: str | None = None) -> PolicyQA:
    from rag.cli import PROG, fix_command
    from rag.service import PolicyQA

    qa = PolicyQA.open(settings, progress=_progress(), repair=repair, rebuild=rebuild, ray=ray)
    if qa.keyword_only:
        print(f"{PROG}: note: the semantic index is still being built, so this searches by keywords only; "
              f"`{fix_command(settings, 'index')}` finishes it", file=sys.stderr)
    return qa


def _filters(args: argparse.Namespace, qa: PolicyQA) -> Filters:
    from rag.documents import Level
    from rag.filters import Filters

    return Filters(
        doc_ids=frozenset(qa.corpus.resolve_document(ref).id for ref in args.doc),
        levels=frozenset(Level(level) for level in args.level),
        regions=frozenset(args.region),
        include_drafts=not args.no_drafts,
    )


def _model_build(args: argparse.Namespace, settings: Settings) -> int:
    from rag.embedding import build_model, engine_note

    started = time.perf_counter()
    spec = build_model(settings, progress=_progress(), rebuild=args.rebuild)
    print(f"model {spec.model_id} ready at {spec.path} ({time.perf_counter() - started:.1f} s); {engine_note(spec)}")
    return 0


def _index(args: argparse.Namespace, settings: Settings) -> int:
    from rag.embedding import model_id
    from rag.indexing import index_inputs, index_is_current, remove_index_leftovers
    from rag.library_changes import open_corpus

    started = time.perf_counter()
    where = f"Milvus {settings.milvus_uri}" if settings.milvus_uri else settings.index_dir
    if not args.rebuild:
        corpus = open_corpus(settings)
        inputs = index_inputs(corpus, settings.corpus_dir)
        current_model = model_id(settings, progress=_progress())
        if index_is_current(inputs, settings.index_dir, current_model, settings.dense_index, settings.milvus_uri):
            remove_index_leftovers(settings.index_dir, settings.milvus_uri)
            print(f"index at {where} is up to date: {len(corpus.clauses)} clauses, "
                  f"{len(inputs.items)} passages, model {current_model} ({time.perf_counter() - started:.1f} s)")
            return 0
    qa = _open(settings, repair=True, rebuild=args.rebuild, ray=args.ray)
    passages = len(qa.retriever.index)
    print(f"index ready at {where}: {len(qa.corpus.clauses)} clauses, {passages} passages "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


def hit_record(hit: ClauseHit) -> dict[str, Any]:
    return {
        "clause_id": hit.clause.id,
        "doc_id": hit.document.id,
        "label": hit.clause.label,
        "source_files": list(hit.clause.source_files),
        "citation": hit.clause.citation,
        "text": hit.clause.text,
        "score": round(hit.score, 6),
    }


def answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "clause_id": c.clause.id,
                "source_files": list(c.clause.source_files),
                "citation": c.clause.citation,
                "text": c.clause.text,
                "quotes": list(c.quotes),
            }
            for c in answer.citations
        ],
        "hits": [hit_record(h) for h in answer.hits],
        "resolved_question": answer.resolved_question,
    }


def _read_jsonl(path: Path) -> tuple[list[QuestionLine], bool]:
    """The usable questions of the file, and whether some lines were not (each reported on stderr)."""
    from rag.cli import PROG
    from rag.question_file import read_question_file

    rows, problems = read_question_file(path)
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    return rows, bool(problems)


def _write(record: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _need_question(args: argparse.Namespace) -> None:
    """Exactly one of a question and --jsonl FILE; a question is checked before anything loads."""
    from rag.errors import QuestionError
    from rag.question_check import check_question

    if args.question is None and args.jsonl is None:
        raise QuestionError(
            f"{args.command} needs a question: `policy-rag {args.command} \"你的问题\"`, "
            f"or questions in a file: `policy-rag {args.command} --jsonl FILE`"
        )
    if args.question is not None and args.jsonl is not None:
        raise QuestionError("give either a question or --jsonl FILE, not both")
    if args.question is not None:
        check_question(args.question)


def _search(args: argparse.Namespace, settings: Settings) -> int:
    _need_question(args)
    if args.k < 1:
        from rag.errors import QuestionError

        raise QuestionError(f"--k must be at least 1, got {args.k}")
    if args.jsonl:
        rows, failed = _read_jsonl(args.jsonl)
        if not rows:
            return 1
        qa = _open(settings)
        results = qa.search_many([r.question for r in rows], args.k, _filters(args, qa), args.mode)
        for row, hits in zip(rows, results):
            _write({"id": row.id, "question": row.question, "hits": [hit_record(h) for h in hits]}, sys.stdout)
        return 1 if failed else 0
    qa = _open(settings)
    hits = qa.search(args.question, args.k, _filters(args, qa), args.mode)
    if not hits:
        print("No clause matches the question in the chosen documents.")
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank}. {hit.clause.citation}  ({_relevance(hit, args.question, qa.calibration)})")
        print(textwrap.indent(hit.clause.text.strip(), "   "))
        print()
    return 0


def _relevance(hit: ClauseHit, question: str, calibration: Calibration) -> str:
    """What a reader can make of a hit: the question named it, or how close its best sentence is in
    meaning (cosine similarity), marked weak below the calibrated level an answer needs."""
    from rag.questions import is_english

    if hit.exact:
        return "named in the question"
    if hit.similarity <= 0:
        return "keyword match"
    similarity = f"similarity {hit.similarity:.0%}"
    covered = calibration.covers(hit.similarity, "en" if is_english(question) else "zh")
    return similarity if covered else f"{similarity}, weak"


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    _need_question(args)
    if args.jsonl:
        rows, failed = _read_jsonl(args.jsonl)
        if not rows:
            return 1
        qa = _open(settings)
        answers = qa.ask_many([r.question for r in rows], _filters(args, qa))
        for row, answer in zip(rows, answers):
            _write({"id": row.id, "question": row.question, **answer_record(answer)}, sys.stdout)
        return 1 if failed else 0
    from rag.export import answer_to_plain

    qa = _open(settings)
    print(answer_to_plain(qa.ask(args.question, filters=_filters(args, qa))))
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluation import (
        Matcher,
        by_id,
        format_tables,
        load_gold,
        score_answers,
        score_search,
    )
    from rag.retrieval import MODES

    gold = load_gold(args.gold)
    qa = _open(settings)
    matcher = Matcher(qa.corpus.document_of_file)
    questions = [qa.resolve(g.question, g.history) for g in gold]
    search_tables = {}
    for mode in MODES:
        results = qa.search_many(questions, 10, mode=mode)
        records = by_id({"id": g.id, "hits": [hit_record(h) for h in hits]} for g, hits in zip(gold, results))
        search_tables["bm25" if mode == "sparse" else mode] = score_search(gold, records, matcher)
    answers = [qa.ask(g.question, g.history) for g in gold] if any(g.history for g in gold) else qa.ask_many(questions)
    answer_table = score_answers(gold, by_id({"id": g.id, **answer_record(a)} for g, a in zip(gold, answers)), matcher)
    if args.json:
        print(json.dumps({"search": {k: t.values for k, t in search_tables.items()}, "answers": answer_table.values},
                         ensure_ascii=False, indent=1))
        return 0
    order = ["bm25", "dense", "hybrid"]
    print("Retrieval")
    print(format_tables({m: search_tables[m] for m in order}, ["hit@5", "mrr@10", "doc_coverage@10"]))
    print("\nAnswers (hybrid, extractive)")
    print(format_tables({"answers": answer_table},
                        ["abstain_on_unanswerable", "abstain_on_answerable", "citation_hit", "citation_precision",
                         "numbers_in_answer", "numbers_all", "cited_doc_coverage"]))
    return 0
