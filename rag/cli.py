"""The `policy-rag` command line: global options, one subcommand per handler, clean one-line errors.

Subcommands live in their own modules (rag/cli_*.py), each with `register(subparsers, parents)` that
adds its parsers and sets `handler(args, settings) -> int`. Add a module to COMMAND_MODULES to add
commands. Keep imports here and in register() light: `policy-rag --help` must answer instantly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import sys
import warnings
from collections.abc import Sequence

from rag.errors import USER_FACING_ERRORS, PolicyQAError
from rag.settings import (
    DEFAULT_MODEL,
    DENSE_INDEX_KINDS,
    EMBED_PRECISIONS,
    PACKAGE_CORPUS_DIR,
    Settings,
)

__all__ = ["COMMAND_MODULES", "build_parser", "fix_command", "main"]

PROG = "policy-rag"
COMMAND_MODULES: tuple[str, ...] = ("rag.cli_corpus", "rag.cli_library", "rag.cli_search")
"""The commands of the policy layer; ui/cli.py adds `serve` on top (rag/ never imports ui/)."""
DEBUG_ENV = "POLICYQA_DEBUG"
"""Set to 1 to see the traceback of an unexpected error instead of its one-line summary."""

_COMMAND_IN_MESSAGE = re.compile(r"`policy-rag ([^`]*)`")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors in one line (the usage itself is one `--help` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help` for usage\n")


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
        choices=list(DENSE_INDEX_KINDS),
        help="vector search: auto (exact, then IVF past 200,000 passages; the default), flat (exact), ivf or "
        "hnsw (env POLICYQA_DENSE_INDEX)",
    )
    group.add_argument(
        "--embed-precision",
        default=default,
        choices=list(EMBED_PRECISIONS),
        help="run the embedding model in fp32 (the default) or int8 (faster, slightly different vectors) "
        "(env POLICYQA_EMBED_PRECISION)",
    )
    group.add_argument(
        "--milvus-uri",
        default=default,
        metavar="URI",
        help="keep the index in Milvus: FILE.db for Milvus Lite, http://host:19530 for a server (env POLICYQA_MILVUS_URI)",
    )
    return parser


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = _Parser(
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
    settings = Settings.from_env(
        corpus_dir=args.corpus_dir, data_dir=args.data_dir, model=args.model, dense_index=args.dense_index,
        milvus_uri=args.milvus_uri,
        embed_precision=args.embed_precision,
    )
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise PolicyQAError(
            f"the data folder {settings.data_dir} is a file, not a folder; "
            "give a folder with --data-dir or POLICYQA_DATA_DIR"
        )
    return settings


def fix_command(settings: Settings, command: str) -> str:
    """`policy-rag COMMAND` with the options that make it act on the same corpus, data, model and
    index kind as `settings` (the ones that differ from the defaults), ready to copy and run."""
    defaults = Settings.from_env(env={})
    options = []
    if settings.corpus_dir.resolve() != PACKAGE_CORPUS_DIR:
        options += ["--corpus-dir", str(settings.corpus_dir)]
    if settings.data_dir != defaults.data_dir:
        options += ["--data-dir", str(settings.data_dir)]
    if settings.model != DEFAULT_MODEL:
        options += ["--model", settings.model]
    if settings.dense_index != defaults.dense_index:
        options += ["--dense-index", settings.dense_index]
    if settings.embed_precision != defaults.embed_precision:
        options += ["--embed-precision", settings.embed_precision]
    if settings.milvus_uri:
        options += ["--milvus-uri", settings.milvus_uri]
    return " ".join([PROG, command, *map(shlex.quote, options)])


def _with_options(message: str, settings: Settings | None) -> str:
    """The message with every `policy-rag …` it suggests completed by the options in effect."""
    if settings is None:
        return message
    return _COMMAND_IN_MESSAGE.sub(lambda m: f"`{fix_command(settings, m.group(1).strip())}`", message)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None, modules: Sequence[str] = COMMAND_MODULES) -> int:
    # jieba imports pkg_resources, which newer setuptools warns about in two lines on stderr; the
    # reader of a one-line error or of a clean run has no use for them.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    parser = build_parser(modules)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "handler", None) is None:
        print(f"{PROG}: error: choose a command; see `{PROG} --help` for usage", file=sys.stderr)
        return 2
    settings = None
    try:
        settings = settings_from_args(args)
        return args.handler(args, settings)
    except USER_FACING_ERRORS as exc:
        print(f"{PROG}: error: {_one_line(_with_options(str(exc), settings))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a folder or file the settings name cannot be used
        where = f" {exc.filename}" if exc.filename else ""
        print(f"{PROG}: error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"{PROG}: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
              f"(a bug; set {DEBUG_ENV}=1 to see where it happened)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
