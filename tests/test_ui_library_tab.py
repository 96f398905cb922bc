"""The 文件库 tab without a browser: read-only without an admin password, the password checked before
any change, and the list's origins, places, statuses and counts. (tests/test_ui_library.py drives the
tab in Chromium with the real model.)"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest
from ui_support import DERIVED, DRAFT, NATIONAL

from rag.corpus import DocumentCounts
from rag.settings import Settings
from ui import library_tab
from ui.app import build_app
from ui.chat import ChatHandlers
from ui.library_render import library_list
from ui.library_tab import READ_ONLY, WRONG_PASSWORD, LibraryHandlers

CONTROLS = ("library-password", "library-upload", "library-add", "library-remove", "library-remove-doc")


def service(tmp_path, password: str | None = None) -> SimpleNamespace:
    documents = (NATIONAL, DRAFT, DERIVED)
    corpus = SimpleNamespace(documents=documents, counts={NATIONAL.id: DocumentCounts(3, 21, 0, 23)})
    settings = Settings(corpus_dir=tmp_path, data_dir=tmp_path / "data", admin_password=password)
    return SimpleNamespace(settings=settings, corpus=corpus)


def elem_ids(demo: gr.Blocks) -> set[str]:
    return {block.elem_id for block in demo.blocks.values() if getattr(block, "elem_id", None)}


def test_without_an_admin_password_the_tab_lists_documents_and_has_no_controls(tmp_path):
    ids = elem_ids(build_app(service(tmp_path), None))
    assert {"tab-library", "library-list", "library-readonly"} <= ids
    assert ids.isdisjoint(CONTROLS)


def test_with_an_admin_password_the_tab_has_upload_and_removal(tmp_path):
    ids = elem_ids(build_app(service(tmp_path, "s3cret"), None))
    assert set(CONTROLS) <= ids and "library-readonly" not in ids


@pytest.mark.parametrize("given", ["", "wrong", "s3cret ", "S3CRET"])
def test_a_wrong_password_is_refused_before_the_library_is_touched(tmp_path, monkeypatch, given):
    touched = []
    monkeypatch.setattr(library_tab, "add_documents", lambda *a, **k: touched.append("add"))
    monkeypatch.setattr(library_tab, "remove_documents", lambda *a, **k: touched.append("remove"))
    handlers = LibraryHandlers(ChatHandlers(service(tmp_path, "s3cret"), None))
    upload = tmp_path / "x.md"
    upload.write_text("条例", encoding="utf-8")
    with pytest.raises(gr.Error, match=WRONG_PASSWORD):
        handlers.add(given, str(upload), {}, False, *([""] * 9))
    with pytest.raises(gr.Error, match=WRONG_PASSWORD):
        handlers.remove(given, "some-id")
    assert touched == [] and not (tmp_path / "data").exists()


def test_without_an_admin_password_changes_are_refused_even_if_asked_for(tmp_path):
    handlers = LibraryHandlers(ChatHandlers(service(tmp_path), None))
    with pytest.raises(gr.Error, match=READ_ONLY[:10]):
        handlers.remove("anything", "some-id")


def test_the_list_shows_origin_place_status_and_counts(tmp_path):
    html = library_list(service(tmp_path).corpus)
    assert "共 3 份文件：内置 3 份，新增 0 份" in html
    national = html[html.index(f'data-doc-id="{NATIONAL.id}"'):].split("</tr>")[0]
    for text in ("内置", "国家级", "全国", "2020年7月13日", "现行", ">21<", ">23<"):
        assert text in national, text
    draft = html[html.index(f'data-doc-id="{DRAFT.id}"'):].split("</tr>")[0]
    assert "草案" in draft and "badge-draft" in draft and "四川" in draft and draft.count("—") == 3
