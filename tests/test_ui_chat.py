"""The chat handlers without a browser: validation, streaming, errors as messages, feedback, filters.

The service here is a stand-in; what is under test is the UI's handling, not retrieval.
"""

from __future__ import annotations

import warnings
from itertools import pairwise
from types import SimpleNamespace

import gradio as gr
import pytest
from ui_support import DRAFT, NATIONAL, NATIONAL_CLAUSES, NATIONAL_TEXT, TALENT, answer

from rag.documents import Level
from rag.errors import QuestionError
from rag.feedback import FeedbackLog
from rag.filters import Filters
from ui.chat import (
    FAILED,
    MAX_QUESTION_CHARS,
    ChatHandlers,
    Turn,
    build_filters,
    chat_messages,
    find_citation,
    question_problem,
    stream_prefixes,
)


class StandInService:
    """Answers every question with the same cited answer, or raises what it is told to."""

    def __init__(self, raises: Exception | None = None):
        self.raises = raises
        self.calls: list[tuple[str, list[str], Filters]] = []
        self.corpus = SimpleNamespace(
            documents=(NATIONAL, DRAFT),
            document=lambda doc_id: {d.id: d for d in (NATIONAL, DRAFT)}[doc_id],
            clause=lambda clause_id: {c.id: c for c in NATIONAL_CLAUSES}[clause_id],
            clauses_of=lambda doc_id: NATIONAL_CLAUSES,
        )

    def ask(self, question, history=(), filters=None):
        self.calls.append((question, list(history), filters or Filters()))
        if self.raises:
            raise self.raises
        return answer("工作许可年龄可放宽至65岁[1]。第二句。第三句。", question=question)

    def document_text(self, doc_id):
        return NATIONAL_TEXT


@pytest.fixture
def handlers(tmp_path):
    return ChatHandlers(StandInService(), FeedbackLog(tmp_path / "feedback.jsonl"))


def run(handlers, question, turns=(), filters=((), (), (), True)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(handlers.ask(question, turns, *filters))


def test_empty_and_overlong_questions_get_a_friendly_message():
    assert "请先输入一个问题" in question_problem("   ")
    assert "超过了 500 字" in question_problem("问" * (MAX_QUESTION_CHARS + 1))
    assert question_problem("问" * MAX_QUESTION_CHARS) is None


def test_rejected_question_changes_nothing(handlers):
    updates = run(handlers, "")
    assert len(updates) == 1 and all(isinstance(u, type(gr.skip())) for u in updates[0])
    assert handlers.qa.calls == []


def test_answer_streams_then_fills_sources_and_exports(handlers):
    updates = run(handlers, "  外籍人才年龄？ ")
    chats = [u[1] for u in updates]
    assert "正在检索" in chats[0][-1]["content"]
    streamed = [c[-1]["content"] for c in chats[1:]]
    assert len(streamed) >= 2 and all(a != b for a, b in pairwise(streamed))
    box, chat, turns, sources, markdown, plain = updates[-1]
    assert box == ""
    assert turns[-1].question == "外籍人才年龄？" and turns[-1].answer is not None
    assert 'href="#source-1-1"' in chat[-1]["content"]
    assert 'id="source-1-1"' in sources
    assert TALENT.citation in markdown and TALENT.citation in plain


def test_follow_up_passes_earlier_resolved_questions_and_filters(handlers):
    first = run(handlers, "外籍人才年龄？")[-1][2]
    run(handlers, "那四川呢？", first, (["guofa"], ["national"], ["全国"], False))
    question, history, filters = handlers.qa.calls[-1]
    assert question == "那四川呢？" and history == ["外籍人才年龄？"]
    assert filters == Filters(frozenset({"guofa"}), frozenset({Level.NATIONAL}), frozenset({"全国"}), False)


@pytest.mark.parametrize("error, shown", [
    (QuestionError("问题无法理解"), "问题无法理解"),
    (RuntimeError("secret internals at line 42"), FAILED),
])
def test_errors_become_chat_messages_not_tracebacks(tmp_path, error, shown):
    handlers = ChatHandlers(StandInService(raises=error), FeedbackLog(tmp_path / "f.jsonl"))
    chat, turns = run(handlers, "问题")[-1][1:3]
    assert shown in chat[-1]["content"]
    assert "Traceback" not in chat[-1]["content"] and "line 42" not in chat[-1]["content"]
    assert turns[-1].answer is None


def test_stream_prefixes_grow_to_the_full_text():
    text = "一。二。三。四。"
    prefixes = stream_prefixes(text, steps=3)
    assert prefixes[-1] == text and len(prefixes) <= 3
    assert all(b.startswith(a) for a, b in pairwise(prefixes))
    assert stream_prefixes("") == [""]


def test_chat_messages_escape_questions_and_number_turns():
    turns = (Turn("<b>问</b>", answer()), Turn("第二问", message="出错了"))
    messages = chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert "<b>" not in messages[0]["content"]
    assert 'href="#source-1-1"' in messages[1]["content"] and "出错了" in messages[3]["content"]


def test_find_citation_by_turn_and_number():
    turns = (Turn("失败", message="x"), Turn("问", answer()))
    assert find_citation(turns, 2, 1).clause == TALENT
    assert find_citation(turns, 1, 1) is None and find_citation(turns, 2, 9) is None


def test_build_filters_defaults_to_everything():
    assert build_filters(None, None, None, None) == Filters()


def test_feedback_is_stored_for_the_rated_answer(handlers):
    turns = run(handlers, "外籍人才年龄？")[-1][2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handlers.record_feedback(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": False}))
        handlers.record_feedback(turns, gr.LikeData(None, {"index": 0, "value": "x", "liked": True}))  # a question
    records = handlers.feedback.read()
    assert [(r["question"], r["rating"]) for r in records] == [("外籍人才年龄？", "down")]


def test_open_source_shows_the_clause_in_the_viewer(handlers):
    turns = run(handlers, "外籍人才年龄？")[-1][2]
    _, doc_id, html = handlers.open_source(turns, gr.EventData(None, {"turn": 1, "n": 1}))
    assert doc_id == NATIONAL.id and 'class="focus-clause"' in html
    assert isinstance(handlers.open_source(turns, gr.EventData(None, {"turn": 5, "n": 1}))[2], type(gr.skip()))


def test_filter_summary_counts_documents(handlers):
    assert "全部 2 份" in handlers.filter_summary([], [], [], True)
    assert "1 / 2" in handlers.filter_summary([], [], [], False)
    assert "没有文件" in handlers.filter_summary(["guofa"], [], ["四川"], True)
