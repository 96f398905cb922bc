"""Whether a question can be asked: text, not empty, some words, not too long, valid Unicode.

Light on purpose (no model, no index): the CLI checks a question with it before loading anything.
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import QuestionError

__all__ = ["MAX_QUESTION_CHARS", "check_question", "has_content"]

MAX_QUESTION_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_question(question: object) -> str:
    """The question, stripped, or QuestionError saying what is wrong with it.

    A question needs at least one letter or digit: punctuation, symbols, emoji and control characters
    alone are treated like an empty question. Lone surrogates (undecodable bytes on the command line,
    "\\udcff" in JSON) are refused here, before any text processing meets them.
    """
    if not isinstance(question, str):
        raise QuestionError(f"a question must be text, got {type(question).__name__}")
    bad = _SURROGATE.search(question)
    if bad:
        raise QuestionError(
            "问题含有无法识别的字符，请用 UTF-8 编码重新输入。"
            f" (The question is not valid text: character {bad.start() + 1} is {bad.group()!a},"
            " an undecodable byte or a lone surrogate; give the question as UTF-8 text.)"
        )
    text = _CONTROL.sub(" ", question).strip()
    if not text:
        raise QuestionError("问题是空的，请输入要查询的内容。 (The question is empty.)")
    if not has_content(text):
        raise QuestionError(
            "问题里没有文字，只有标点、符号或表情，请输入要查询的内容。"
            " (The question has no words, only punctuation, symbols or emoji.)"
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"问题太长（{len(text)} 字），请精简到 {MAX_QUESTION_CHARS} 字以内。"
            f" (The question has {len(text)} characters; the limit is {MAX_QUESTION_CHARS}.)"
        )
    return text


def has_content(text: str) -> bool:
    """Whether the text holds a letter or a digit of any script (not only punctuation, symbols, emoji)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)
