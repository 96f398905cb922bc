"""Event handlers of the chat: asking, opening a source in the viewer, feedback, filters.

One `ChatHandlers` is shared by every browser session; it holds only the read-only service and the
feedback log. Each session's conversation lives in its own gr.State, a tuple of `Turn`s, each
carrying its HTML rendered once, so an update of a long conversation re-renders nothing old.

An answer is sent in one update: a queue slot does work, never waits. The page reveals a new
answer progressively by itself (style.CSS, `answer-reveal`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import gradio as gr

from rag.documents import Level
from rag.errors import USER_FACING_ERRORS
from rag.export import answer_to_markdown, answer_to_plain
from rag.feedback import FeedbackLog, Rating
from rag.filters import Filters
from rag.results import Answer, Citation
from rag.service import MAX_QUESTION_CHARS
from ui import render, viewer

log = logging.getLogger(__name__)

MAX_TURNS = 50  # keeps one conversation's state and its updates small
THINKING = "正在检索相关条款……"
EMPTY_QUESTION = "请先输入一个问题，例如：“国家高新区可以获得哪些经济管理权限？”"
FAILED = "抱歉，系统处理这个问题时出错了，请稍后再试；如果一再出现，请联系管理员。"
TOO_MANY_TURNS = f"这次对话已有 {MAX_TURNS} 问，请点“新对话”开始新的对话再问。"


@dataclass(frozen=True, slots=True)
class Turn:
    """One question and either its answer or a message saying why there is none.

    `question_html`, `reply_html` and `sources_html` are its chat and sources HTML, filled once by
    `Turn.of`; a Turn made directly (a pending question) is rendered when shown.
    """

    question: str
    answer: Answer | None = None
    message: str | None = None
    question_html: str = ""
    reply_html: str = ""
    sources_html: str = ""

    @classmethod
    def of(cls, number: int, question: str, answer: Answer | None = None, message: str | None = None) -> Turn:
        """Turn `number` (1-based, as the chat and sources number it) with its HTML rendered."""
        turn = cls(question, answer, message)
        return cls(
            question,
            answer,
            message,
            render.user_message(question),
            reply_html(turn, number),
            render.turn_sources(question, answer, number) if answer is not None else "",
        )


def reply_html(turn: Turn, number: int) -> str:
    if turn.answer is not None:
        return render.answer_message(turn.answer, number)
    return render.notice(turn.message or THINKING, "info" if turn.message is None else "error")


def question_problem(question: str) -> str | None:
    """A friendly message when a question cannot be asked as typed, else None."""
    text = question.strip()
    if not text:
        return EMPTY_QUESTION
    if len(text) > MAX_QUESTION_CHARS:
        return f"问题有 {len(text)} 个字，超过了 {MAX_QUESTION_CHARS} 字的上限，请精简后再问。"
    return None


def build_filters(doc_ids: Sequence[str] | None, levels: Sequence[str] | None,
                  regions: Sequence[str] | None, include_drafts: bool | None) -> Filters:
    return Filters(
        doc_ids=frozenset(doc_ids or ()),
        levels=frozenset(Level(level) for level in levels or ()),
        regions=frozenset(regions or ()),
        include_drafts=True if include_drafts is None else bool(include_drafts),
    )


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The chat as messages, reusing each turn's HTML."""
    messages = []
    for number, turn in enumerate(turns, start=1):
        messages.append({"role": "user", "content": turn.question_html or render.user_message(turn.question)})
        messages.append({"role": "assistant", "content": turn.reply_html or reply_html(turn, number)})
    return messages


def sources_html(turns: Sequence[Turn]) -> str:
    """The sources panel of every answered turn, reusing each turn's HTML."""
    return render.sources_list([
        (number, turn.question, turn.sources_html or render.turn_sources(turn.question, turn.answer, number))
        for number, turn in enumerate(turns, start=1) if turn.answer is not None
    ])


def find_citation(turns: Sequence[Turn], turn_number: int, n: int) -> Citation | None:
    """Citation [n] of the answer in turn `turn_number` (1-based, as the chat and sources number it)."""
    if not 1 <= turn_number <= len(turns) or turns[turn_number - 1].answer is None:
        return None
    return next((c for c in turns[turn_number - 1].answer.citations if c.n == n), None)


class ChatHandlers:
    def __init__(self, qa, feedback: FeedbackLog) -> None:
        self.qa = qa
        self.feedback = feedback
        self.generation = 0
        """How many times the service was replaced (the library changed) since the app was built."""

    def use(self, qa) -> None:
        """Answer from now on with `qa` (a service reopened after the library changed). One assignment:
        a handler reads `self.qa` once per event, so it sees the old service or the new, never a mix."""
        self.qa = qa
        self.generation += 1

    def ask(self, question: str, turns: tuple[Turn, ...], doc_ids, levels, regions, include_drafts) -> tuple:
        """(question box, chat, turns, sources, Markdown export, plain export) after answering."""
        turns = tuple(turns or ())
        question = question or ""
        problem = question_problem(question) or (TOO_MANY_TURNS if len(turns) >= MAX_TURNS else None)
        if problem:
            gr.Warning(problem)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        question = question.strip()
        number = len(turns) + 1
        history = [t.answer.resolved_question for t in turns if t.answer is not None]
        filters = build_filters(doc_ids, levels, regions, include_drafts)
        try:
            answer = self.qa.ask(question, history=history, filters=filters)
        except USER_FACING_ERRORS as error:
            failed = (*turns, Turn.of(number, question, message=f"抱歉，这个问题没能回答：{error}"))
            return "", chat_messages(failed), failed, gr.skip(), gr.skip(), gr.skip()
        except Exception:
            log.exception("answering %r failed", question)
            failed = (*turns, Turn.of(number, question, message=FAILED))
            return "", chat_messages(failed), failed, gr.skip(), gr.skip(), gr.skip()
        done = (*turns, Turn.of(number, question, answer))
        return "", chat_messages(done), done, sources_html(done), answer_to_markdown(answer), answer_to_plain(answer)

    def ask_showing_pending(self, question: str, turns: tuple[Turn, ...], *filters) -> Iterator[tuple]:
        """`ask`, after first showing the question with a 正在检索 note: for when answering takes
        seconds (an LLM writes the answer); otherwise the extra update only costs time."""
        turns = tuple(turns or ())
        if not question_problem(question or "") and len(turns) < MAX_TURNS:
            pending = chat_messages((*turns, Turn(question.strip())))
            yield "", pending, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        yield self.ask(question, turns, *filters)

    def open_source(self, turns: tuple[Turn, ...], event: gr.EventData):
        """A click on 查看原文 in a source card: the viewer tab on that clause with its quotes marked."""
        data = getattr(event, "_data", None) or {}
        try:
            citation = find_citation(turns or (), int(data.get("turn", 0)), int(data.get("n", 0)))
        except (TypeError, ValueError):
            citation = None
        if citation is None:
            return gr.skip(), gr.skip(), gr.skip()
        html = self.document_html(citation.document.id, citation.clause.id, citation.quotes)
        return gr.Tabs(selected="viewer"), citation.document.id, html

    def show_document(self, doc_id: str | None) -> str:
        if not doc_id:
            return viewer.viewer_placeholder()
        return self.document_html(doc_id)

    def document_html(self, doc_id: str, clause_id: str | None = None, quotes: Sequence[str] = ()) -> str:
        qa = self.qa
        try:
            corpus = qa.corpus
            document = corpus.document(doc_id)
            focus = corpus.clause(clause_id) if clause_id else None
            return viewer.render_document(
                document, qa.document_text(doc_id), corpus.clauses_of(doc_id), focus, quotes
            )
        except USER_FACING_ERRORS as error:
            gr.Warning(f"无法打开原文：{error}")
        except Exception:
            log.exception("rendering document %r failed", doc_id)
            gr.Warning("无法打开原文，请稍后再试。")
        return viewer.viewer_placeholder()

    def record_feedback(self, turns: tuple[Turn, ...], like: gr.LikeData) -> None:
        index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
        turn_index = (int(index) - 1) // 2  # messages alternate: question, answer
        turns = tuple(turns or ())
        if not 0 <= turn_index < len(turns) or turns[turn_index].answer is None:
            return
        if like.liked is True:
            rating = Rating.UP
        elif like.liked is False:
            rating = Rating.DOWN
        else:
            return
        try:
            self.feedback.record(turns[turn_index].answer, rating)
        except OSError:
            log.exception("storing feedback failed")
            gr.Warning("反馈没能保存，请稍后再试。")
            return
        gr.Info("感谢反馈！" if rating is Rating.UP else "已记录，我们会改进这类回答。")

    def filter_summary(self, doc_ids, levels, regions, include_drafts) -> str:
        filters = build_filters(doc_ids, levels, regions, include_drafts)
        corpus = self.qa.corpus
        documents = [d for d in corpus.documents if filters.allows(d)]
        total = len(corpus.documents)
        if not documents:
            return '<div class="filter-summary warn">当前筛选条件下没有文件，请放宽条件。</div>'
        if len(documents) == total:
            return f'<div class="filter-summary">检索范围：全部 {total} 份文件。</div>'
        names = "、".join(render.esc(d.region) + ("（征求意见稿）" if d.is_draft else "") for d in documents)
        return f'<div class="filter-summary">检索范围：{len(documents)} / {total} 份文件（{names}）。</div>'
