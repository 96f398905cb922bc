"""Event handlers of the chat: asking (streamed), opening a source in the viewer, feedback, filters.

One `ChatHandlers` is shared by every browser session; it holds only the read-only service and the
feedback log. Each session's conversation lives in its own gr.State, a tuple of `Turn`s.
"""

from __future__ import annotations

import logging
import re
import time
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

STREAM_STEPS = 12
STREAM_DELAY_S = 0.03
THINKING = "正在检索相关条款……"
EMPTY_QUESTION = "请先输入一个问题，例如：“国家高新区可以获得哪些经济管理权限？”"
FAILED = "抱歉，系统处理这个问题时出错了，请稍后再试；如果一再出现，请联系管理员。"
_STREAM_CUT = re.compile(r"(?<=[。；！？\n])")


@dataclass(frozen=True, slots=True)
class Turn:
    """One question and either its answer or a message saying why there is none."""

    question: str
    answer: Answer | None = None
    message: str | None = None


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


def chat_messages(turns: Sequence[Turn], streaming: str | None = None) -> list[dict[str, str]]:
    """The chat as messages; the last answer shows only `streaming` (a prefix) while it streams."""
    messages = []
    for index, turn in enumerate(turns, start=1):
        messages.append({"role": "user", "content": render.user_message(turn.question)})
        if turn.answer is not None:
            last = index == len(turns)
            text = streaming if (last and streaming is not None) else None
            content = render.answer_message(turn.answer, index, text)
        else:
            content = render.notice(turn.message or THINKING, "info" if turn.message is None else "error")
        messages.append({"role": "assistant", "content": content})
    return messages


def stream_prefixes(text: str, steps: int = STREAM_STEPS) -> list[str]:
    """Growing prefixes of text, cut after sentence ends, at most `steps` of them, the last being text."""
    pieces = [p for p in _STREAM_CUT.split(text) if p]
    if not pieces:
        return [text]
    per_step = max(1, -(-len(pieces) // steps))
    prefixes = ["".join(pieces[: i + per_step]) for i in range(0, len(pieces), per_step)]
    prefixes[-1] = text
    return prefixes


def answered(turns: Sequence[Turn]) -> list[tuple[int, str, Answer]]:
    """(turn number, question, answer) of each answered turn; numbers count every turn from 1."""
    return [(i, t.question, t.answer) for i, t in enumerate(turns, start=1) if t.answer is not None]


def find_citation(turns: Sequence[Turn], turn_number: int, n: int) -> Citation | None:
    """Citation [n] of the answer in turn `turn_number` (1-based, as the chat and sources number it)."""
    if not 1 <= turn_number <= len(turns) or turns[turn_number - 1].answer is None:
        return None
    return next((c for c in turns[turn_number - 1].answer.citations if c.n == n), None)


class ChatHandlers:
    def __init__(self, qa, feedback: FeedbackLog) -> None:
        self.qa = qa
        self.feedback = feedback

    def ask(self, question: str, turns: tuple[Turn, ...], doc_ids, levels, regions, include_drafts) -> Iterator:
        """Streams (question box, chat, turns, sources, Markdown export, plain export)."""
        turns = tuple(turns or ())
        question = question or ""
        problem = question_problem(question)
        if problem:
            gr.Warning(problem)
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        question = question.strip()
        pending = (*turns, Turn(question))
        yield "", chat_messages(pending), gr.skip(), gr.skip(), gr.skip(), gr.skip()

        history = [t.answer.resolved_question for t in turns if t.answer is not None]
        filters = build_filters(doc_ids, levels, regions, include_drafts)
        try:
            answer = self.qa.ask(question, history=history, filters=filters)
        except USER_FACING_ERRORS as error:
            failed = (*turns, Turn(question, message=f"抱歉，这个问题没能回答：{error}"))
            yield "", chat_messages(failed), failed, gr.skip(), gr.skip(), gr.skip()
            return
        except Exception:
            log.exception("answering %r failed", question)
            failed = (*turns, Turn(question, message=FAILED))
            yield "", chat_messages(failed), failed, gr.skip(), gr.skip(), gr.skip()
            return

        done = (*turns, Turn(question, answer))
        for prefix in stream_prefixes(answer.text)[:-1]:
            yield "", chat_messages(done, streaming=prefix), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            time.sleep(STREAM_DELAY_S)
        yield (
            "",
            chat_messages(done),
            done,
            render.sources_panel(answered(done)),
            answer_to_markdown(answer),
            answer_to_plain(answer),
        )

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
        try:
            corpus = self.qa.corpus
            document = corpus.document(doc_id)
            focus = corpus.clause(clause_id) if clause_id else None
            return viewer.render_document(
                document, self.qa.document_text(doc_id), corpus.clauses_of(doc_id), focus, quotes
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
        documents = [d for d in self.qa.corpus.documents if filters.allows(d)]
        total = len(self.qa.corpus.documents)
        if not documents:
            return '<div class="filter-summary warn">当前筛选条件下没有文件，请放宽条件。</div>'
        if len(documents) == total:
            return f'<div class="filter-summary">检索范围：全部 {total} 份文件。</div>'
        names = "、".join(render.esc(d.region) + ("（征求意见稿）" if d.is_draft else "") for d in documents)
        return f'<div class="filter-summary">检索范围：{len(documents)} / {total} 份文件（{names}）。</div>'
