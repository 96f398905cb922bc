"""The 文件库 tab in Debian's Chromium: read-only without an admin password; with one, a wrong password
changes nothing, and a real regulation (read at test time from ../shared/scale/laws-md.tar.xz) is
uploaded, a detected field corrected, added, asked about with a cited answer, and removed.

The admin server runs on a data folder of its own: the session's model (hard links) and a copy of the
session's index of the bundled corpus, so adding embeds only the new document.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from ui_support import Visit, chromium, screenshot_dir, session_server, start_server

from rag.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "库管-2026"
UPLOAD_LIMIT_MB = 1  # the admin server's POLICYQA_MAX_UPLOAD_MB: small, to test it without a big file
# A city regulation of Zhejiang, a province the bundled corpus does not cover.
DAXIE = "DLC/浙江地方法规/地方性法规/浙江/宁波大榭开发区条例(2013-06-14).md"
TITLE = "宁波大榭开发区条例"
READ_DATE = "1994年6月30日"  # the first date its text prints: when it was first adopted
CORRECTED_DATE = "2013年5月29日"  # the last amendment's approval, which the person enters instead
QUESTION = "大榭开发区内不得举办哪些企业？"
ANSWERING_ARTICLE = "第十一条"
CHANGE_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """The session's shared `policy-rag serve`, started without an admin password."""
    return session_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def admin_server(policyqa_data_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("library-admin")
    data = base / "data"
    session = Settings.from_env(data_dir=policyqa_data_dir)
    shutil.copytree(session.models_dir, data / "models", copy_function=_link_or_copy)
    shutil.copytree(session.index_dir, Settings.from_env(data_dir=data).index_dir)
    if session.jieba_dir.is_dir():
        shutil.copytree(session.jieba_dir, data / "jieba")
    admin = start_server(data, base, env={"POLICYQA_ADMIN_PASSWORD": PASSWORD,
                                          "POLICYQA_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)})
    yield admin
    admin.stop()


@pytest.fixture(scope="module")
def daxie(laws) -> Path:
    return laws(DAXIE)[0]


def _link_or_copy(source: str, target: str) -> None:
    try:
        Path(target).hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)


def snapshot(data_dir: Path) -> dict[str, str]:
    """Every file of the library and the index, by path, with the hash of its bytes."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in (data_dir / "library", data_dir / "index") if folder.is_dir()
        for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"
    }


def open_library(visit: Visit):
    page = visit.page
    page.get_by_role("tab", name="文件库").click()
    page.locator("#library-list table").wait_for()
    return page


def upload(page, path: Path) -> None:
    page.locator("#library-upload input[type=file]").set_input_files(str(path))
    page.locator("#library-detected table").wait_for(timeout=30_000)


def toast(page, text: str):
    found = page.locator(".toast-body").filter(has_text=text)
    found.first.wait_for(timeout=CHANGE_TIMEOUT_MS)
    return found


def test_without_an_admin_password_the_library_is_listed_read_only(browser, server, shots):
    visit = Visit(browser, server.url)
    try:
        page = open_library(visit)
        rows = page.locator("#library-list tr[data-doc-id]")
        assert rows.count() == 4
        assert page.locator('#library-list tr[data-origin="bundled"]').count() == 4
        text = page.inner_text("#library-list")
        assert "共 4 份文件：内置 4 份，新增 0 份" in text
        assert "国家级" in text and "征求意见稿" not in text and "草案" in text  # Sichuan's draft
        assert "只读" in page.inner_text("#library-readonly")
        assert "POLICYQA_ADMIN_PASSWORD" in page.inner_text("#library-readonly")
        for control in ("#library-upload", "#library-password", "#library-add", "#library-remove"):
            assert page.locator(control).count() == 0, control
        page.screenshot(path=str(shots / "20-library-read-only.png"))
    finally:
        visit.close()


def test_a_wrong_password_is_refused_and_changes_nothing(browser, admin_server, daxie, shots):
    before = snapshot(admin_server.data_dir)
    visit = Visit(browser, admin_server.url)
    try:
        page = open_library(visit)
        upload(page, daxie)
        page.fill("#library-password input", "not-the-password")
        page.locator("#library-add").click()
        toast(page, "管理员密码不正确，文件库未做任何改动")
        page.screenshot(path=str(shots / "21-library-wrong-password.png"))
        assert page.locator('#library-list tr[data-origin="added"]').count() == 0
    finally:
        visit.close()
    assert snapshot(admin_server.data_dir) == before


def test_admin_adds_a_regulation_with_a_corrected_date_asks_about_it_and_removes_it(
    browser, admin_server, daxie, shots
):
    visit = Visit(browser, admin_server.url)
    try:
        page = open_library(visit)
        upload(page, daxie)
        detected = page.locator("#library-detected")
        assert TITLE in detected.inner_text()
        date_row = detected.locator('tr[data-field="date"]').inner_text()
        assert re.search(rf"{READ_DATE}\s+第 \d+ 行：{READ_DATE} 宁波市第十届人民代表大会常务委员会", date_row), date_row
        assert "宁波" in detected.locator('tr[data-field="city"]').inner_text()
        assert page.input_value("#library-field-date input") == READ_DATE
        page.fill("#library-field-date input", CORRECTED_DATE)
        page.fill("#library-password input", PASSWORD)
        page.screenshot(path=str(shots / "22-library-detected.png"))
        page.locator("#library-add").click()
        toast(page, f"已加入《{TITLE}》")

        row = page.locator('#library-list tr[data-origin="added"]')
        row.wait_for()
        cells = row.inner_text()
        for expected in (TITLE, "新增", "市级", "浙江", "宁波", CORRECTED_DATE, "29"):
            assert expected in cells, (expected, cells)
        page.screenshot(path=str(shots / "23-library-added.png"))
        (folder,) = (admin_server.data_dir / "library" / "docs").iterdir()
        record = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        assert record["fields"]["date"]["value"] == CORRECTED_DATE
        assert record["fields"]["date"]["source"] == "override"
        assert record["fields"]["city"]["value"] == "宁波" and record["fields"]["title"]["value"] == TITLE

        page.get_by_role("tab", name="问答").click()
        assert "收录 5 份文件" in page.inner_text("#header .corpus-line")
        visit.ask(QUESTION)
        cards = visit.latest_cards().filter(has_text=TITLE).filter(has_text=ANSWERING_ARTICLE)
        assert cards.count() >= 1, page.inner_text("#sources")
        page.screenshot(path=str(shots / "24-library-answer.png"))

        page.get_by_role("tab", name="文件库").click()
        page.locator("#library-remove-doc input").click()
        page.get_by_role("option", name=TITLE, exact=False).click()
        page.locator("#library-remove").click()
        toast(page, f"已移除《{TITLE}》")
        page.wait_for_function("() => !document.querySelector('#library-list tr[data-origin=\"added\"]')")
        assert "共 4 份文件" in page.inner_text("#library-list")
    finally:
        visit.close()
    listed = json.loads((admin_server.data_dir / "library" / "LIBRARY.json").read_text(encoding="utf-8"))
    assert listed["documents"] == []


def test_the_server_refuses_an_upload_over_the_size_limit(admin_server):
    """Gradio's own limit (launch max_file_size) is the library's: the file never reaches the disk."""
    boundary = "policyqa-boundary"
    size = int(UPLOAD_LIMIT_MB * 1024 * 1024) + 1024
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + "条".encode() * (size // 3) + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{admin_server.url}/gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
