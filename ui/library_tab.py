"""The 文件库 tab: the library's documents, and, with the admin password (POLICYQA_ADMIN_PASSWORD), adding
one (what was read from it shown first, to correct) and removing an added one.

Changes go through rag/library_changes.py as `policy-rag add` and `remove` do: the same checks, size
limit and overrides (a corrected field is the same override as `--title` etc.). After a change the
chat's service is reopened on the new library and index and swapped in whole (ChatHandlers.use): a
question being answered meanwhile finishes on the old service, the next one uses the new.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import USER_FACING_ERRORS
from rag.library_changes import (
    OVERRIDE_OPTIONS,
    ChangeReport,
    Verdict,
    add_documents,
    parse_overrides,
    remove_documents,
)
from rag.library_checks import Prepared, read_candidate
from rag.library_files import Candidate, supported_suffixes
from rag.library_report import detected_fields
from ui import library_render
from ui.chat import ChatHandlers
from ui.render import LEVEL_LABELS, UNKNOWN_LABEL

log = logging.getLogger(__name__)

CHANGING = "library"  # the concurrency group of reading and changing the library: one at a time
READ_ONLY = ("文件库当前为只读：服务器未设置管理员密码（环境变量 POLICYQA_ADMIN_PASSWORD），"
             "只能查看文件，不能上传或移除。")
WRONG_PASSWORD = "管理员密码不正确，文件库未做任何改动。"
NO_FILE = "请先上传一个文件。"
NO_DOCUMENT = "请先选择要移除的文件。"
FAILED = "操作没有完成，文件库未做改动；如果一再出现，请查看服务器日志或联系管理员。"
LEVEL_CHOICES = [(UNKNOWN_LABEL, ""), *((label, level.value) for level, label in LEVEL_LABELS.items())]
STATUS_CHOICES = [(label, status.value) for status, label in library_render.STATUS_SHORT.items()]
REFUSALS = {
    Verdict.DUPLICATE: "文件库中已有这份文件，未重复加入：",
    Verdict.NEEDS_REPLACE: "文件库中已有这份文件的另一版本；如要以此版本替换，请勾选“替换旧版本”后再加入：",
    Verdict.REFUSED: "无法加入：",
    Verdict.SKIPPED: "不支持这种文件：",
}


class LibraryHandlers:
    """Reading and changing the library for every browser session; the service is the chat's."""

    def __init__(self, chat: ChatHandlers) -> None:
        self.chat = chat
        self._changing = threading.Lock()

    @property
    def settings(self):
        return self.chat.qa.settings

    @property
    def editable(self) -> bool:
        return bool(self.settings.admin_password)

    def listing(self) -> str:
        return library_render.library_list(self.chat.qa.corpus)

    def removable(self) -> list[tuple[str, str]]:
        """(label, id) of the documents that can be removed: the added ones."""
        return [(f"《{d.title}》（{d.id}）", d.id) for d in self.chat.qa.corpus.documents if d.is_added]

    def read(self, path: str | None) -> tuple:
        """On upload: (what was read, the detected values, each field's value, the form shown)."""
        if not path:
            return "", {}, *(gr.skip() for _ in OVERRIDE_OPTIONS), gr.Group(visible=False)
        result = read_candidate(Candidate(Path(path), Path(path).name), self.settings.max_upload_bytes, {})
        if not isinstance(result, Prepared):
            raise _error(REFUSALS[result.verdict] + result.message)
        fields = detected_fields(result)
        values = {f.option: f.value or "" for f in fields}
        preview = library_render.detected(result, fields)
        return preview, values, *(values[o] for o in OVERRIDE_OPTIONS), gr.Group(visible=True)

    def add(self, password: str, path: str | None, detected: dict[str, str], replace: bool, *values: str) -> tuple:
        """(list, removable documents, upload, preview, form) after adding the uploaded file with the
        fields the person corrected as overrides."""
        self._check(password)
        if not path:
            raise _error(NO_FILE)
        options = {option: (value or "").strip() for option, value in zip(OVERRIDE_OPTIONS, values, strict=True)
                   if (value or "").strip() != (detected or {}).get(option, "")}
        name = Path(path).name
        report = self._change(lambda embedder: add_documents(
            self.settings, [path], overrides=parse_overrides(options), replace_versions=bool(replace),
            embedder=embedder,
        ), name)
        outcome = report.outcomes[0] if report.outcomes else None
        if not report.added:
            verdict = outcome.verdict if outcome else Verdict.REFUSED
            message = (outcome.message if outcome else name).replace(path, name)
            raise _error(REFUSALS[verdict] + message)
        facts = report.added[0].facts
        replaced = "".join(f"，替换了《{d.title}》" for d in report.removed)
        gr.Info(f"已加入《{facts.title}》（{facts.id}）{replaced}；索引已更新，现在可以就它提问。", title="文件库")
        return (self.listing(), gr.Dropdown(choices=self.removable(), value=None), None, "",
                gr.Group(visible=False), {})

    def remove(self, password: str, doc_id: str | None) -> tuple:
        """(list, removable documents) after taking an added document out."""
        self._check(password)
        if not doc_id:
            raise _error(NO_DOCUMENT)
        report = self._change(lambda embedder: remove_documents(self.settings, [doc_id], embedder=embedder), doc_id)
        titles = "、".join(f"《{d.title}》" for d in report.removed)
        gr.Info(f"已移除{titles}；索引已更新。", title="文件库")
        return self.listing(), gr.Dropdown(choices=self.removable(), value=None)

    def _check(self, password: str | None) -> None:
        admin = self.settings.admin_password
        if not admin:
            raise _error(READ_ONLY)
        if not hmac.compare_digest((password or "").encode("utf-8"), admin.encode("utf-8")):
            raise _error(WRONG_PASSWORD, title="管理员密码不正确")

    def _change(self, change, shown: str) -> ChangeReport:
        """Run one change of the library, then swap the chat onto a service of the new library."""
        with self._changing:
            qa = self.chat.qa
            try:
                report = change(qa.embedder)
            except USER_FACING_ERRORS as error:
                raise _error(f"{shown}：{error}") from None
            except Exception:
                log.exception("changing the library (%s) failed", shown)
                raise _error(FAILED) from None
            if report.changed:
                try:
                    self.chat.use(qa.reopened())
                except Exception:
                    log.exception("reopening the service after a library change failed")
                    raise _error("文件库已更新，但问答服务未能重新载入，请重启服务（policy-rag serve）。") from None
            return report


def _error(message: str, title: str = "文件库") -> gr.Error:
    """One line for the person, without a traceback in the server's log: these are refusals, not bugs."""
    return gr.Error(message, title=title, print_exception=False)


@dataclass
class LibraryTab:
    """The tab's components the app refreshes, and the events after which the chat's views change."""

    listing: gr.HTML
    removable: gr.Dropdown | None = None
    changes: list[Any] = field(default_factory=list)


def build_library_tab(handlers: LibraryHandlers) -> LibraryTab:
    """The tab (inside the app's gr.Tabs): the list, and the upload and removal for the admin."""
    with gr.Tab("文件库", id="library", elem_id="tab-library"):
        listing = gr.HTML(handlers.listing(), elem_id="library-list")
        if not handlers.editable:
            gr.HTML(f'<div class="library-readonly">{READ_ONLY}</div>', elem_id="library-readonly")
            return LibraryTab(listing)
        settings = handlers.settings
        password = gr.Textbox(label="管理员密码", type="password", max_lines=1, elem_id="library-password")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                upload = gr.File(
                    label=f"上传文件加入文件库（{' '.join(sorted(supported_suffixes()))}，"
                          f"不超过 {settings.max_upload_mb:g} MB）",
                    file_types=sorted(supported_suffixes()), file_count="single", type="filepath",
                    elem_id="library-upload", height=120,
                )
                preview = gr.HTML("", elem_id="library-detected")
                detected = gr.State({})
                with gr.Group(visible=False, elem_id="library-form") as form:
                    fields = _field_inputs()
                    replace = gr.Checkbox(False, label="替换文件库中同文号或同标题的旧版本", elem_id="library-replace")
                    add = gr.Button("加入文件库", variant="primary", elem_id="library-add")
            with gr.Column(scale=2):
                removable = gr.Dropdown(handlers.removable(), value=None, label="移除新增的文件（内置文件不能移除）",
                                        elem_id="library-remove-doc")
                remove = gr.Button("移除", variant="stop", elem_id="library-remove")
        changing = {"concurrency_id": CHANGING, "concurrency_limit": 1, "api_visibility": "private"}
        upload.upload(handlers.read, upload, [preview, detected, *fields, form], **changing)
        upload.clear(lambda: ("", {}, gr.Group(visible=False)), None, [preview, detected, form], queue=False,
                     api_visibility="private")
        added = add.click(handlers.add, [password, upload, detected, replace, *fields],
                          [listing, removable, upload, preview, form, detected], **changing)
        removed = remove.click(handlers.remove, [password, removable], [listing, removable], **changing)
    return LibraryTab(listing, removable, [added, removed])


def _field_inputs() -> Sequence[gr.components.Component]:
    """One input per override option, in OVERRIDE_OPTIONS order: what was read, to correct."""
    labels = library_render.FIELD_LABELS
    inputs: list[gr.components.Component] = []
    with gr.Row():
        for option in OVERRIDE_OPTIONS:
            if option == "level":
                inputs.append(gr.Dropdown(LEVEL_CHOICES, value="", label=labels[option], min_width=120,
                                          elem_id=f"library-field-{option}"))
            elif option == "status":
                inputs.append(gr.Dropdown(STATUS_CHOICES, value="in_force", label=labels[option], min_width=120,
                                          elem_id=f"library-field-{option}"))
            else:
                inputs.append(gr.Textbox(label=labels[option], max_lines=1, min_width=160 if option != "title" else 320,
                                         placeholder="未知" if option != "title" else "",
                                         elem_id=f"library-field-{option}"))
    return inputs
