"""Ten people asking at once: every one gets their own correct, cited answer, and no errors.

Each client is a separate gradio_client session on the shared `policy-rag serve` (real model and
index), calling the same /ask endpoint the question box uses.
"""

from __future__ import annotations

import html
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from ui_support import session_server

from rag.questions import is_english

pytestmark = pytest.mark.slow

# Different questions, each with a verbatim phrase of the clause that answers it.
QUESTIONS = [
    ("国家高新区可以申请设立综合保税区吗？", "综合保税区"),
    ("到2025年，河北省级以上高新区数量要达到多少家？", "省级以上高新区数量达到35家"),
    ("江苏省级以上高新区规上企业中高新技术企业占比要达到多少？", "不低于40%"),
    ("四川推动“一区多园”、整合托管产业园区，牵头单位是哪个？", "做实“一区多园”"),
    ("国务院意见提出到2035年国家高新区要实现什么目标？", "到2035年，建成一大批具有全球影响力的高科技园区"),
    ("河北高新技术产业增加值占规模以上工业增加值比重要达到多少？", "比重达到55%"),
    ("江苏支持高新区开发建设主体通过哪些方式融资？", "发行债券"),
    ("四川对高新区安全生产实行什么制度？", "一票否决"),
    ("Can national high-tech zones apply to expand their area?", "扩大区域范围和面积"),
    ("国家高新区在绿色生态园区建设上有什么要求？", "国家生态工业示范园区"),
]
NO_FILTERS = ([], [], [], True)  # documents, levels, regions, include drafts


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    return session_server(request, tmp_path_factory)


def ask(url: str, question: str):
    from gradio_client import Client

    client = Client(url, verbose=False)
    started = time.monotonic()
    _box, chat, sources, markdown, _plain = client.predict(question, *NO_FILTERS, api_name="/ask")
    return time.monotonic() - started, chat, sources, markdown


def message_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def test_ten_concurrent_clients_get_their_own_cited_answers(server):
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        futures = [pool.submit(ask, server.url, question) for question, _ in QUESTIONS]
        results = [future.result(timeout=300) for future in futures]

    for (question, quote), (seconds, chat, sources, markdown) in zip(QUESTIONS, results, strict=True):
        answer = message_text(chat[-1])
        assert "notice-error" not in answer, f"{question}: {answer}"
        assert 'class="cite-ref"' in answer, f"{question}: no [n] link in {answer[:300]}"
        english = is_english(question)  # headings follow the language of the question
        title = "Question 1: " if english else "第 1 问："
        assert f"{title}{html.escape(question[:39])}" in sources, f"{question}: another session's sources?"
        assert quote in html.unescape(re.sub(r"<[^>]+>", "", sources)), f"{question}: no source quotes {quote!r}"
        assert markdown.startswith(f"**{'Q:' if english else '问：'}** {question}") and "[1] 《" in markdown
    slowest = max(seconds for seconds, *_ in results)
    assert slowest < 120, f"the slowest of ten concurrent answers took {slowest:.1f} s"
