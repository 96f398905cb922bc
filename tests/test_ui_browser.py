"""End to end: `policy-rag serve` driven through Debian's Chromium, as a person would use it.

One server (real corpus, model and index) and one browser serve every test here; screenshots go to
$POLICYQA_SCREENSHOT_DIR (or a tmp folder) for review.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from ui_support import Visit, chromium, screenshot_dir, session_server, start_server

from rag.corpus import load_corpus
from rag.feedback import read_feedback
from rag.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# A question typed in Chinese, and the clause that answers it (found in the corpus by this quote).
TYPED_QUESTION = "国家高新区能不能申请设立综合保税区？"
TYPED_QUOTE = "申请设立综合保税区"


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    return session_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(Settings.from_env().corpus_dir)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def visit(browser, server):
    visit = Visit(browser, server.url)
    yield visit
    visit.close()
    assert visit.dialogs == [], f"a dialog fired: {visit.dialogs}"
    assert visit.outside == [], f"the page reached outside the server: {visit.outside}"


def clause_with(corpus, quote: str):
    return next(c for c in corpus.clauses if quote in c.text)


def test_first_screen_is_chinese_with_covered_documents_and_examples(visit, corpus, shots):
    page = visit.page
    page.screenshot(path=str(shots / "01-first-screen.png"))
    assert "高新区政策问答" in page.inner_text("#header")
    line = page.inner_text("#header .corpus-line")
    assert f"收录 {len(corpus.documents)} 份文件" in line
    for document in corpus.documents:
        assert document.region in line
    assert "征求意见稿" in line
    examples = page.locator(".example-question")
    assert examples.count() == 5
    assert any(re.search(r"[A-Za-z]{4,}", text) for text in examples.all_inner_texts())


def test_example_question_gets_a_cited_answer_with_linked_sources(visit, shots):
    page = visit.page
    page.locator("#example-0").click()
    visit.wait_for_turn(1)
    page.screenshot(path=str(shots / "02-example-answer.png"))
    markers = page.locator("#chat a.cite-ref")
    assert markers.count() >= 1
    assert visit.latest_cards().count() >= 1
    target = markers.first.get_attribute("href").lstrip("#")
    markers.first.click()
    card = page.locator(f"#{target}")
    card.wait_for()
    page.wait_for_function("id => document.getElementById(id).classList.contains('flash')", arg=target)
    assert card.is_visible()


def test_typed_question_cites_the_right_clause_and_opens_it_highlighted(visit, corpus, shots):
    expected = clause_with(corpus, TYPED_QUOTE)
    document = corpus.document(expected.doc_id)
    page = visit.page
    visit.ask(TYPED_QUESTION)
    assert re.search(r"\[\d+\]", page.inner_text("#chat"))
    cards = visit.latest_cards().filter(has_text=document.title).filter(has_text=expected.label)
    assert cards.count() >= 1, page.inner_text("#sources")
    card = cards.first
    assert card.locator("mark.quote").count() >= 1
    page.screenshot(path=str(shots / "03-typed-answer.png"))

    card.locator("button.open-doc").click()
    focus = page.locator("#viewer mark.focus-clause")
    focus.wait_for(timeout=15_000)
    assert TYPED_QUOTE in focus.inner_text()
    assert page.locator("#viewer .viewer-head").inner_text().count(document.title) >= 1
    page.wait_for_function(
        """() => { const m = document.querySelector('#viewer mark.focus-clause');
                   const box = document.querySelector('#viewer .viewer-text').getBoundingClientRect();
                   const r = m.getBoundingClientRect();
                   return r.top >= box.top - 1 && r.top < box.bottom && r.top >= 0 && r.top < innerHeight; }""",
        timeout=10_000,
    )
    page.screenshot(path=str(shots / "04-viewer.png"))

    outline = page.locator("#viewer .viewer-outline a")
    assert outline.count() >= 5
    first_section = outline.first
    anchor = first_section.get_attribute("data-target")
    first_section.click()
    page.wait_for_function(
        """id => { const a = document.getElementById(id).getBoundingClientRect();
                   const box = document.querySelector('#viewer .viewer-text').getBoundingClientRect();
                   return a.top >= box.top - 20 && a.top < box.top + 120; }""",
        arg=anchor,
        timeout=10_000,
    )


def test_region_filter_and_drafts_filter_change_the_sources(visit, shots):
    page = visit.page
    question = "高新区在金融服务方面有哪些支持措施？"
    visit.ask(question)
    regions_before = set(visit.latest_cards().locator(".badge-region").all_inner_texts())
    page.locator("#filters").click()
    page.locator("#filter-regions").get_by_label("江苏").check()
    page.wait_for_function("() => document.querySelector('#filter-summary').innerText.includes('1 /')")
    visit.ask(question)
    regions_after = set(visit.latest_cards().locator(".badge-region").all_inner_texts())
    page.screenshot(path=str(shots / "05-filtered.png"))
    assert regions_after == {"江苏"}, regions_after
    assert regions_before != regions_after

    page.locator("#filter-regions").get_by_label("江苏").uncheck()
    page.locator("#filter-drafts input").uncheck()
    visit.ask("高新区的金融服务措施有哪些？")
    assert visit.latest_cards().count() >= 1
    assert visit.latest_cards().locator(".badge-draft").count() == 0
    # Sichuan's only document is a draft: with drafts excluded the answer says so instead of
    # answering from other provinces.
    visit.ask("四川高新区的金融服务措施有哪些？")
    assert "筛选" in page.locator("#chat [data-testid=bot]").last.inner_text()
    assert visit.latest_cards().locator(".badge-draft").count() == 0


def test_script_in_a_question_is_shown_as_text(visit, shots):
    page = visit.page
    visit.ask("<script>alert(1)</script>")
    page.screenshot(path=str(shots / "06-script-question.png"))
    assert "<script>alert(1)</script>" in page.locator("#chat [data-testid=user]").last.inner_text()
    assert page.locator("#chat script").count() == 0
    # the visit fixture asserts that no dialog fired


def test_empty_and_overlong_questions_get_friendly_messages(visit):
    page = visit.page
    page.locator("#ask").click()
    page.locator(".toast-body").filter(has_text="请先输入一个问题").wait_for()
    page.fill("#question textarea", "问" * 501)
    page.locator("#ask").click()
    page.locator(".toast-body").filter(has_text="超过了 500 字").wait_for()
    assert page.locator("#chat [data-testid=user]").count() == 0


def test_comparison_answer_is_a_table_and_answer_copies_for_reports(visit, shots):
    page = visit.page
    page.locator("#example-2").click()
    visit.wait_for_turn(1)
    table = page.locator("#chat table.comparison-table").last
    table.wait_for()
    assert table.locator("tbody tr").count() >= 2
    page.screenshot(path=str(shots / "07-comparison.png"))
    page.locator("#export").click()
    markdown = page.locator("#export-md textarea").input_value()
    assert markdown.startswith("**问：**") and "[1] 《" in markdown and "\n> " in markdown


def test_thumbs_up_is_stored_as_feedback(visit, server):
    before = len(read_feedback(server.data_dir / "feedback.jsonl"))
    visit.ask(TYPED_QUESTION)
    visit.page.locator('#chat button[aria-label="赞"]').last.click()
    visit.page.locator(".toast-body").filter(has_text="感谢反馈").wait_for()
    records = read_feedback(server.data_dir / "feedback.jsonl")
    assert len(records) == before + 1
    assert records[-1]["rating"] == "up" and records[-1]["question"] == TYPED_QUESTION
    assert records[-1]["citations"] and records[-1]["citations"][0]["citation"].startswith("《")


def test_a_new_answer_is_revealed_progressively_and_older_ones_stay_still(visit):
    visit.ask(TYPED_QUESTION)
    visit.ask("高新区在金融服务方面有哪些支持措施？")
    names = visit.page.evaluate("""() => [...document.querySelectorAll('#chat [data-testid=bot]')].map(
        (bot) => getComputedStyle(bot.querySelector('.message-content .md > *')).animationName)""")
    assert names == ["none", "answer-reveal"], names


def test_waiting_people_see_their_place_in_the_queue_in_chinese(visit, server, shots):
    """Forty other sessions ask at once; the browser's question waits behind theirs."""
    from gradio_client import Client

    crowd = [Client(server.url, verbose=False, ssl_verify=False) for _ in range(40)]
    asked = threading.Event()

    def ask_all(client: Client) -> None:
        asked.wait()
        for question in ("国家高新区可以获得哪些经济管理权限？", "江苏支持高新区开发建设主体通过哪些方式融资？",
                         "四川对高新区安全生产实行什么制度？"):
            client.predict(question, [], [], [], True, api_name="/ask")

    threads = [threading.Thread(target=ask_all, args=(client,)) for client in crowd]
    for thread in threads:
        thread.start()
    try:
        asked.set()
        page = visit.page
        page.wait_for_timeout(300)
        page.fill("#question textarea", TYPED_QUESTION)
        page.press("#question textarea", "Enter")
        place = page.locator("#chat [data-testid=status-tracker]").filter(has_text=re.compile(r"正在排队…第 \d+ 位"))
        place.first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "08-queue-position.png"))
        assert "queue:" not in page.inner_text("#chat")
        visit.wait_for_turn(1)
    finally:
        for thread in threads:
            thread.join(timeout=120)
        for client in crowd:
            client.close()


@pytest.fixture(scope="module")
def full_server(server, tmp_path_factory):
    """A second server whose queue takes nobody: every question is refused as busy."""
    busy = start_server(server.data_dir, tmp_path_factory.getbasetemp(), ("--max-queue", "0"))
    yield busy
    busy.stop()


def test_a_full_queue_says_busy_in_chinese_and_keeps_the_question(browser, full_server, shots):
    visit = Visit(browser, full_server.url)
    try:
        page = visit.page
        page.fill("#question textarea", TYPED_QUESTION)
        page.press("#question textarea", "Enter")
        page.locator(".toast-body").filter(has_text="系统繁忙，请稍后再试").wait_for(timeout=15_000)
        page.screenshot(path=str(shots / "09-busy.png"))
        assert "currently busy" not in page.inner_text("body")
        assert page.locator(".toast-title").first.inner_text().strip() == "系统繁忙"
        assert page.input_value("#question textarea") == TYPED_QUESTION  # to ask again in a moment
        assert visit.dialogs == [] and visit.outside == []
    finally:
        visit.close()
