"""The `policy-rag` command line: global options, one subcommand per handler, clean one-line errors.

Subcommands live in their own modules (rag/cli_*.py), each with `register(subparsers, parents)` that
adds its parsers and sets `handler(args, settings) -> int`. Add a module to COMMAND_MODULES to add
commands. Keep imports here and in register() light: `policy-rag --help` must answer instantly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rag.errors import USER_FACING_ERRORS
from rag.settings import Settings

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

PROG = "policy-rag"
COMMAND_MODULES: tuple[str, ...] = ("rag.cli_corpus", "rag.cli_search")
"""The commands of the policy layer; ui/cli.py adds `serve` on top (rag/ never imports ui/)."""


def _global_options(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (after it, they default to 'not given')."""
    default = argparse.SUPPRESS if suppress else None
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--corpus-dir",
        default=default,
        metavar="DIR",
        help="folder with the policy files and metadata.toml (env POLICYQA_CORPUS_DIR)",
    )
    group.add_argument(
        "--data-dir",
        default=default,
        metavar="DIR",
        help="folder for the index, models and feedback (env POLICYQA_DATA_DIR)",
    )
    group.add_argument(
        "--model",
        default=default,
        metavar="NAME",
        help="embedding model: 'default', a local folder, or a cached hub id (env POLICYQA_MODEL)",
    )
    group.add_argument(
        "--dense-index",
        default=default,
        choices=["flat", "hnsw"],
        help="exact (flat, the default) or approximate (hnsw) vector search (env POLICYQA_DENSE_INDEX)",
    )
    group.add_argument(
        "--milvus-uri",
        default=default,
        metavar="URI",
        help="keep the index in Milvus: FILE.db for Milvus Lite, http://host:19530 for a server (env POLICYQA_MILVUS_URI)",
    )
    return parser


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Offline question answering with exact citations over high-tech zone (高新区) policy documents.",
        parents=[_global_options(suppress=False)],
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [_global_options(suppress=True)]
    for module in modules:
        importlib.import_module(module).register(subparsers, parents)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=args.corpus_dir, data_dir=args.data_dir, model=args.model, dense_index=args.dense_index,
        milvus_uri=args.milvus_uri,
    )


def main(argv: Sequence[str] | None = None, modules: Sequence[str] = COMMAND_MODULES) -> int:
    parser = build_parser(modules)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "handler", None) is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: choose a command; see `{PROG} --help`", file=sys.stderr)
        return 2
    try:
        return args.handler(args, settings_from_args(args))
    except USER_FACING_ERRORS as exc:
        message = " ".join(str(exc).split("\n"))
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
