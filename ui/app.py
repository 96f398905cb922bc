"""The Gradio app: layout and wiring. Handlers live in ui/chat.py and ui/library_tab.py, HTML in
ui/render.py, ui/viewer.py and ui/library_render.py."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import gradio as gr

from rag.citations import DERIVED_TITLE_MARK
from rag.documents import Level
from rag.feedback import FeedbackLog
from ui import render, style, viewer
from ui.chat import MAX_QUESTION_CHARS, ChatHandlers
from ui.library_tab import LibraryHandlers, build_library_tab

TITLE = "高新区政策问答"
SUBTITLE = "就国家和各省促进高新区高质量发展的政策提问，答案逐条引用原文，注明文件和条款。"

EXAMPLES_FILE = "examples.toml"


def load_examples(corpus_dir: Path) -> tuple[tuple[str, str], ...]:
    """(kind, question) pairs the chat offers, from the library folder's examples.toml (none if it
    has none or it is unreadable: examples are a courtesy, not a reason to fail)."""
    try:
        raw = tomllib.loads((Path(corpus_dir) / EXAMPLES_FILE).read_text(encoding="utf-8"))
        return tuple((str(e["kind"]), str(e["question"])) for e in raw.get("examples", []))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return ()


# The queue (docs/performance.md has the measurements behind these numbers). Answering is CPU-bound
# and short (tens of ms), so a few answers at a time keep both cores busy; more only contend.
ANSWER_CONCURRENCY = 2
ANSWERING = "answer"  # one concurrency group for every way of asking (box, button, examples)
MAX_QUEUE = 300  # waiting questions beyond this are refused with 系统繁忙 instead of waiting too long
STATUS_UPDATE_S = 1.0  # queue positions are sent once a second, not to every waiting person on every start
# Gradio keeps each session's state in memory, an hour after its page closes, up to this many
# sessions, the least recently used dropped first (its person's next question starts a new
# conversation). Measured: about 0.36 MB per session of 10 questions, so the server stops growing
# about 180 MB above its start; Gradio's default of 10,000 would let it grow by 3.6 GB.
SESSION_CAPACITY = 500


def build_app(qa: Any, feedback: FeedbackLog | None) -> gr.Blocks:
    """The chat over an opened PolicyQA service (shared; replaced whole when the 文件库 tab changes the
    library) and a feedback log (None: no thumbs up/down, nothing stored)."""
    handlers = ChatHandlers(qa, feedback)
    library = LibraryHandlers(handlers)
    # An LLM takes seconds to write an answer: show the question at once. Extractive answers take
    # milliseconds, and one update per answer is cheaper for the server than two.
    answer_fn = handlers.ask_showing_pending if qa.settings.llm.enabled else handlers.ask
    documents, doc_choices, level_choices, region_choices = _choices(qa)

    with gr.Blocks(title=f"{TITLE} · PolicyQA", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State(())
        header = gr.HTML(_header(documents), elem_id="header")
        with gr.Tabs(elem_id="main-tabs") as tabs:
            with gr.Tab("问答", id="chat", elem_id="tab-chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        show_label=False,
                        height=470,
                        buttons=[],
                        latex_delimiters=[],
                        placeholder="<b>您好！</b>请在下方输入问题，或点一个示例问题。答案中的 [n] 可点开对应条款原文。",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            elem_id="question",
                            show_label=False,
                            placeholder=f"输入问题（{MAX_QUESTION_CHARS} 字以内），按回车提问",
                            lines=1,
                            max_lines=4,
                            scale=8,
                        )
                        ask = gr.Button("提问", elem_id="ask", variant="primary", scale=1, min_width=80)
                        clear = gr.Button("新对话", elem_id="new-chat", scale=1, min_width=80)
                    with gr.Row(elem_classes="example-row"):
                        gr.HTML('<span class="examples-label">试试：</span>', elem_id="examples-label", min_width=0)
                        example_buttons = [
                            (gr.Button(text, size="sm", elem_classes="example-question",
                                       elem_id=f"example-{i}"), text)
                            for i, (_, text) in enumerate(load_examples(qa.settings.corpus_dir))
                        ]
                    with gr.Accordion("筛选检索范围", open=False, elem_id="filters"):
                        doc_filter = gr.CheckboxGroup(doc_choices, label="文件（不选即全部）", elem_id="filter-docs")
                        with gr.Row():
                            level_filter = gr.CheckboxGroup(level_choices, label="层级", elem_id="filter-levels")
                            region_filter = gr.CheckboxGroup(region_choices, label="地区", elem_id="filter-regions")
                        drafts_filter = gr.Checkbox(True, label="包含征求意见稿", elem_id="filter-drafts")
                        filter_note = gr.HTML(handlers.filter_summary([], [], [], True), elem_id="filter-summary")
                    with gr.Accordion("复制到报告", open=False, elem_id="export"), gr.Tabs():
                        with gr.Tab("Markdown"):
                            export_md = gr.Textbox(label="Markdown", lines=8, max_lines=20,
                                                   interactive=False, buttons=["copy"], elem_id="export-md")
                        with gr.Tab("纯文本"):
                            export_plain = gr.Textbox(label="纯文本", lines=8, max_lines=20,
                                                      interactive=False, buttons=["copy"],
                                                      elem_id="export-plain")
                with gr.Column(scale=2, min_width=360):
                    sources = gr.HTML(
                        render.sources_panel([]),
                        elem_id="sources",
                        js_on_load=style.SOURCES_JS,
                        max_height=760,
                        container=True,
                        padding=True,
                    )
            with gr.Tab("原文阅读", id="viewer", elem_id="tab-viewer"):
                with gr.Row():
                    viewer_doc = gr.Dropdown(doc_choices, value=None, label="选择文件", elem_id="viewer-doc", scale=4)
                    back = gr.Button("‹ 返回问答", elem_id="viewer-back", scale=1, min_width=100)
                document_view = gr.HTML(viewer.viewer_placeholder(), elem_id="viewer", js_on_load=viewer.VIEWER_JS)
            library_tab = build_library_tab(library)

        filters = [doc_filter, level_filter, region_filter, drafts_filter]
        ask_outputs = [question, chatbot, turns, sources, export_md, export_plain]
        ask_inputs = [question, turns, *filters]
        answering = {"concurrency_id": ANSWERING, "concurrency_limit": "default",
                     "show_progress": "minimal", "show_progress_on": chatbot}
        question.submit(answer_fn, ask_inputs, ask_outputs, api_name="ask", **answering)
        ask.click(answer_fn, ask_inputs, ask_outputs, api_visibility="private", **answering)
        for button, text in example_buttons:
            button.click(_returns(text), None, question, queue=False, api_visibility="private").then(
                answer_fn, ask_inputs, ask_outputs, api_visibility="private", **answering
            )
        clear.click(
            lambda: ("", [], (), render.sources_panel([]), "", ""),
            None,
            ask_outputs,
            queue=False,
            api_visibility="private",
        )
        for component in filters:
            component.change(handlers.filter_summary, filters, filter_note, queue=False, api_visibility="private")
        chatbot.clear(lambda: ((), render.sources_panel([]), "", ""), None, [turns, sources, export_md, export_plain],
                      queue=False, api_visibility="private")
        if feedback is not None:
            chatbot.like(handlers.record_feedback, [turns], None, api_visibility="private")
        sources.click(handlers.open_source, [turns], [tabs, viewer_doc, document_view], api_visibility="private")
        viewer_doc.input(handlers.show_document, viewer_doc, document_view, api_visibility="private")
        back.click(lambda: gr.Tabs(selected="chat"), None, tabs, queue=False, api_visibility="private")

        # After the library changed, the lists of documents follow: at once in the session that changed
        # it, and on the next page load in every other (the page was built with the old lists).
        views = [header, doc_filter, level_filter, region_filter, viewer_doc]
        kept = [doc_filter, level_filter, region_filter, viewer_doc]
        for change in library_tab.changes:
            change.success(lambda *kept: _views(handlers.qa, *kept), kept, views, queue=False,
                           api_visibility="private")
        built = handlers.generation
        on_load = [*views, library_tab.listing] + ([library_tab.removable] if library_tab.removable else [])

        def refresh(*kept):
            if handlers.generation == built:
                return tuple(gr.skip() for _ in on_load)
            extra = (library.listing(),) + ((gr.Dropdown(choices=library.removable()),) if library_tab.removable else ())
            return (*_views(handlers.qa, *kept), *extra)

        demo.load(refresh, kept, on_load, queue=False, api_visibility="private")
    return demo


def _choices(qa) -> tuple[list, list, list, list]:
    """The documents (national first) and the choices of the document, level and region filters."""
    documents = sorted(qa.corpus.documents, key=lambda d: d.level is not Level.NATIONAL)
    doc_choices = [(_doc_choice_label(d), d.id) for d in documents]
    level_choices = [(render.LEVEL_LABELS[level], level.value) for level in Level
                     if any(d.level is level for d in documents)]
    region_choices = list(dict.fromkeys(d.region for d in documents if d.region))
    return documents, doc_choices, level_choices, region_choices


def _header(documents) -> str:
    return (f'<div class="app-header"><h1>{render.esc(TITLE)}</h1>'
            f'<p class="subtitle">{render.esc(SUBTITLE)}</p>{render.corpus_line(documents)}</div>')


def _views(qa, doc_ids, levels, regions, viewer_doc) -> tuple:
    """The header and the document lists of the chat and the viewer, for the service's library now; the
    documents a person chose stay chosen if they are still there."""
    documents, doc_choices, level_choices, region_choices = _choices(qa)
    ids = {d.id for d in documents}
    return (
        _header(documents),
        gr.CheckboxGroup(choices=doc_choices, value=[i for i in doc_ids or () if i in ids]),
        gr.CheckboxGroup(choices=level_choices, value=[v for v in levels or () if v in dict(level_choices).values()]),
        gr.CheckboxGroup(choices=region_choices, value=[r for r in regions or () if r in region_choices]),
        gr.Dropdown(choices=doc_choices, value=viewer_doc if viewer_doc in ids else None),
    )


def queue_options(concurrency: int | None = None, max_queue: int | None = None) -> dict[str, Any]:
    """Blocks.queue() settings: how many answers run at once (and so each other event), and how
    many questions may wait before people are told the system is busy."""
    return {
        "default_concurrency_limit": ANSWER_CONCURRENCY if concurrency is None else concurrency,
        "max_size": MAX_QUEUE if max_queue is None else max_queue,
        "status_update_rate": STATUS_UPDATE_S,
    }


def launch_options(max_file_size: int | None = None) -> dict[str, Any]:
    """launch() settings: the look, the page script, nothing that phones home, and the largest upload
    (bytes; the library's limit, settings.max_upload_bytes) the server accepts."""
    return {
        "max_file_size": max_file_size,
        "theme": style.theme(),
        "css": style.CSS,
        "js": style.PAGE_JS,
        "footer_links": [],
        "show_error": False,
        "enable_monitoring": False,
        "run_history": False,
        "mcp_server": False,
        "ssr_mode": False,
        "pwa": False,
        "quiet": True,  # `policy-rag serve` prints the address itself, and names --share rather than share=True
        "state_session_capacity": SESSION_CAPACITY,
    }


def _returns(value: str):
    return lambda: value


def _doc_choice_label(document) -> str:
    label = f"{document.region or '地区未知'}｜{document.title}"
    if document.doc_number:
        label += f"（{document.doc_number}）"
    if document.title_derived:
        label += DERIVED_TITLE_MARK
    return label
