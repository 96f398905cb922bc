"""The `policy-rag` program: the policy layer's commands (rag/cli.py) plus `serve`, the chat."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rag.cli import COMMAND_MODULES
from rag.cli import main as rag_main

MODULES = (*COMMAND_MODULES, "ui.cli_serve")


def main(argv: Sequence[str] | None = None) -> int:
    return rag_main(argv, MODULES)


if __name__ == "__main__":
    sys.exit(main())
