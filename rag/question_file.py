"""Reading questions from a JSON-lines file: each usable line becomes a QuestionLine, each unusable one a
LineProblem naming its line number, so one bad line does not stop the others.

A file that is not JSON-lines text at all (missing, a folder, binary, another encoding) is one
QuestionError for the whole file.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import QuestionError
from rag.question_check import check_question

__all__ = ["LineProblem", "QuestionLine", "read_question_file"]

_TYPE_NAMES = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number",
               bool: "true/false", type(None): "null"}
_ENCODING_HINT = "JSON lines must be UTF-8 text"


@dataclass(frozen=True, slots=True)
class QuestionLine:
    """A usable line: its number in the file, its "id" (or None) and its question as written."""

    line: int
    id: Any
    question: str


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line that cannot be used, and why, as one line for the reader: `FILE:LINE: reason`."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def read_question_file(path: Path) -> tuple[list[QuestionLine], list[LineProblem]]:
    """The usable questions of a JSON-lines file and the problems of the other lines (blank lines are
    skipped); QuestionError when the file as a whole cannot be read as UTF-8 JSON lines."""
    path = Path(path)
    if path.is_dir():
        raise QuestionError(f"{path} is a folder; give a file of JSON lines with \"question\" (and maybe \"id\")")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionError(f"cannot read questions from {path}: {exc.strerror or exc}") from exc
    lines = _decoded_lines(data, path)
    questions: list[QuestionLine] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, str) and not line.strip():
            continue
        try:
            questions.append(_question_line(number, line))
        except QuestionError as exc:
            problems.append(LineProblem(path, number, str(exc)))
    if not questions and not problems:
        raise QuestionError(f"{path} holds no questions; write one JSON object per line, e.g. {{\"question\": \"…\"}}")
    return questions, problems


def _decoded_lines(data: bytes, path: Path) -> list[str | UnicodeDecodeError]:
    """Each line decoded as UTF-8, or the error that stopped it; a file that is not UTF-8 text at all
    (a NUL byte, a UTF-16 byte-order mark, or most lines undecodable) is refused as a whole."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise QuestionError(f"{path} is UTF-16 text; {_ENCODING_HINT} (convert it with `iconv -f UTF-16 -t UTF-8`)")
    if b"\x00" in data:
        raise QuestionError(f"{path} is a binary file (NUL byte at offset {data.index(0)}), not JSON lines")
    data = data.removeprefix(codecs.BOM_UTF8)
    lines: list[str | UnicodeDecodeError] = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as exc:
            lines.append(exc)
    failed = sum(isinstance(line, UnicodeDecodeError) for line in lines)
    used = sum(not isinstance(line, str) or bool(line.strip()) for line in lines)
    if failed and 2 * failed >= used:
        raise QuestionError(f"{path} is not UTF-8 text{_guess_encoding(data)}; {_ENCODING_HINT}")
    return lines


def _guess_encoding(data: bytes) -> str:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return " (it looks like binary data)"
    return " (it looks like GBK/GB18030: convert it with `iconv -f GB18030 -t UTF-8`)"


def _question_line(number: int, line: str | UnicodeDecodeError) -> QuestionLine:
    if isinstance(line, UnicodeDecodeError):
        raise QuestionError(f"not UTF-8 text (byte 0x{line.object[line.start]:02x} at column {line.start + 1})")
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise QuestionError("not valid JSON (nested too deeply)") from None
    if not isinstance(row, dict):
        raise QuestionError(f"each line needs an object with a \"question\", this one is {_kind(row)}")
    if "question" not in row:
        keys = ", ".join(map(str, row)) or "none"
        raise QuestionError(f"no \"question\" in this line (its keys: {keys})")
    question = row["question"]
    if not isinstance(question, str):
        raise QuestionError(f"\"question\" must be text, got {_kind(question)}")
    check_question(question)
    return QuestionLine(number, row.get("id"), question)


def _kind(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)
