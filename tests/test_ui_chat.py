"""The chat handlers without a browser: validation, one update per answer, errors as messages,
feedback, filters.

The service here is a stand-in; what is under test is the UI's handling, not retrieval.
"""

from __future__ import annotations

import warnings
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
    MAX_TURNS,
    ChatHandlers,
    Turn,
    build_filters,
    chat_messages,
    find_citation,
    question_problem,
    sources_html,
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
        return handlers.ask(question, turns, *filters)


def test_empty_and_overlong_questions_get_a_friendly_message():
    assert "请先输入一个问题" in question_problem("   ")
    assert "超过了 500 字" in question_problem("问" * (MAX_QUESTION_CHARS + 1))
    assert question_problem("问" * MAX_QUESTION_CHARS) is None


def test_rejected_question_changes_nothing(handlers):
    update = run(handlers, "")
    assert all(isinstance(u, type(gr.skip())) for u in update)
    assert handlers.qa.calls == []


def test_answer_comes_in_one_update_with_sources_and_exports(handlers):
    box, chat, turns, sources, markdown, plain = run(handlers, "  外籍人才年龄？ ")
    assert box == ""
    assert turns[-1].question == "外籍人才年龄？" and turns[-1].answer is not None
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert 'href="#source-1-1"' in chat[-1]["content"]
    assert 'id="source-1-1"' in sources
    assert TALENT.citation in markdown and TALENT.citation in plain


def test_pending_question_is_shown_first_when_answering_is_slow(handlers):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        updates = list(handlers.ask_showing_pending("外籍人才年龄？", (), (), (), (), True))
    assert len(updates) == 2
    assert "正在检索" in updates[0][1][-1]["content"] and "外籍人才年龄" in updates[0][1][0]["content"]
    assert updates[1][2][-1].answer is not None


def test_earlier_turns_are_not_rendered_again(handlers, monkeypatch):
    turns = run(handlers, "第一问？")[2]
    turns = run(handlers, "第二问？", turns)[2]
    rendered = []
    monkeypatch.setattr("ui.render.answer_message", lambda *args: rendered.append(args) or "(new)")
    monkeypatch.setattr("ui.render.turn_sources", lambda *args: rendered.append(args) or "(new)")
    _box, chat, turns, sources, *_ = run(handlers, "第三问？", turns)
    assert len(rendered) == 2  # the new answer and its sources, nothing of turns 1 and 2
    assert "第一问" in chat[0]["content"] and 'id="source-2-1"' in sources and len(turns) == 3
    assert chat_messages(turns)[1]["content"] == turns[0].reply_html
    assert sources_html(turns) == sources


def test_a_conversation_stops_growing_at_the_turn_limit(handlers):
    turns = tuple(Turn.of(i, f"问{i}", answer()) for i in range(1, MAX_TURNS + 1))
    update = run(handlers, "再问一个？", turns)
    assert all(isinstance(u, type(gr.skip())) for u in update)
    assert handlers.qa.calls == []


def test_follow_up_passes_earlier_resolved_questions_and_filters(handlers):
    first = run(handlers, "外籍人才年龄？")[2]
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
    chat, turns = run(handlers, "问题")[1:3]
    assert shown in chat[-1]["content"]
    assert "Traceback" not in chat[-1]["content"] and "line 42" not in chat[-1]["content"]
    assert turns[-1].answer is None


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
    turns = run(handlers, "外籍人才年龄？")[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handlers.record_feedback(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": False}))
        handlers.record_feedback(turns, gr.LikeData(None, {"index": 0, "value": "x", "liked": True}))  # a question
    records = handlers.feedback.read()
    assert [(r["question"], r["rating"]) for r in records] == [("外籍人才年龄？", "down")]


def test_open_source_shows_the_clause_in_the_viewer(handlers):
    turns = run(handlers, "外籍人才年龄？")[2]
    _, doc_id, html = handlers.open_source(turns, gr.EventData(None, {"turn": 1, "n": 1}))
    assert doc_id == NATIONAL.id and 'class="focus-clause"' in html
    assert isinstance(handlers.open_source(turns, gr.EventData(None, {"turn": 5, "n": 1}))[2], type(gr.skip()))


def test_filter_summary_counts_documents(handlers):
    assert "全部 2 份" in handlers.filter_summary([], [], [], True)
    assert "1 / 2" in handlers.filter_summary([], [], [], False)
    assert "没有文件" in handlers.filter_summary(["guofa"], [], ["四川"], True)
