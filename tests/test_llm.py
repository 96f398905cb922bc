"""Optional LLM answers: the check against the clauses, and generation through a real local stub
of an OpenAI-compatible endpoint that answers well-cited, mis-cited and invented text.

The extractive answers here are built by hand from real corpus clauses: the extractive composer is
not the subject, the checking of generated text against real clause wording is.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rag.corpus import Corpus, load_corpus
from rag.llm import generate
from rag.llm_check import check_generated, verify
from rag.results import Answer, Citation
from rag.settings import LLMSettings

QUESTION = "外籍人才工作许可年龄能放宽到多少岁？"
GUOFA_65 = "在国家高新区内企业工作的境外高端人才，经市级以上人民政府科技行政部门（外国人来华工作管理部门）批准，申请工作许可的年龄可放宽至65岁。"
JIANGSU_65 = "在高新区内企业工作的境外高端人才和急需紧缺人才，经市级以上科技行政部门批准，申请工作许可的年龄可放宽至65岁"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(Path(__file__).parents[1] / "corpus")


@pytest.fixture(scope="module")
def citations(corpus: Corpus) -> tuple[Citation, ...]:
    """[1] the State Council clause and [2] the Jiangsu clause that both say 65岁."""
    guofa, jiangsu = corpus.clause("guofa-2020-7:二.五"), corpus.clause("jiangsu-opinions:四.十二")
    assert GUOFA_65 in guofa.text and JIANGSU_65 in jiangsu.text
    return (
        Citation(1, guofa, corpus.document(guofa.doc_id), (GUOFA_65,)),
        Citation(2, jiangsu, corpus.document(jiangsu.doc_id), (JIANGSU_65,)),
    )


@pytest.fixture(scope="module")
def extractive(citations: tuple[Citation, ...]) -> Answer:
    text = f"国务院文件（国发〔2020〕7号） 二、（五）：“{GUOFA_65}”[1]\n江苏实施意见 四、（十二）：“{JIANGSU_65}”[2]"
    return Answer(QUESTION, QUESTION, text, False, citations, ())


# --- the check -------------------------------------------------------------------------------


def test_verbatim_quote_with_its_marker_passes(citations: tuple[Citation, ...]) -> None:
    assert check_generated(f"国务院文件规定：“{GUOFA_65}”[1]", citations) == []


def test_half_width_quotes_and_punctuation_match_full_width_clause(citations: tuple[Citation, ...]) -> None:
    text = 'The State Council allows "经市级以上人民政府科技行政部门(外国人来华工作管理部门)批准" [1].'
    assert check_generated(text, citations) == []


def test_full_width_and_grouped_markers_are_read(citations: tuple[Citation, ...]) -> None:
    assert verify("两份文件都规定可放宽至65岁［1］［2］。", citations).cited == (1, 2)
    assert verify("两份文件都规定可放宽至65岁[1, 2]。", citations).cited == (1, 2)
    assert verify("两份文件都规定可放宽至65岁【2】。", citations).cited == (2,)


def test_text_without_markers_fails(citations: tuple[Citation, ...]) -> None:
    assert check_generated("申请工作许可的年龄可放宽至65岁。", citations) == ["no [n] source marker"]


def test_marker_beyond_the_sources_fails(citations: tuple[Citation, ...]) -> None:
    problems = check_generated("可放宽至65岁［3］。", citations)
    assert problems and "[3] names no source" in problems[0]


def test_quote_cited_to_the_wrong_source_fails(citations: tuple[Citation, ...]) -> None:
    problems = check_generated("江苏规定“境外高端人才和急需紧缺人才”[1]。", citations)
    assert problems == ["quote “境外高端人才和急需紧缺人才” is from [2], not from [1]"]


def test_quote_stitched_from_two_clauses_fails(citations: tuple[Citation, ...]) -> None:
    text = "“支持国家高新区面向全球招才引智，通盘布局招商引资和招才引智工作”[1][2]"
    (problem,) = check_generated(text, citations)
    assert problem.startswith("quote “支持国家高新区面向全球招才引智") and problem.endswith("is in no source")


def test_markers_after_the_full_stop_belong_to_that_sentence(citations: tuple[Citation, ...]) -> None:
    text = "国务院规定“申请工作许可的年龄可放宽至65岁”。[1] 江苏另有“急需紧缺人才”的表述。[2]"
    assert check_generated(text, citations) == []


def test_quote_in_unmarked_sentence_may_come_from_any_cited_source(citations: tuple[Citation, ...]) -> None:
    assert check_generated("可放宽至65岁[1]。江苏也写明“境外高端人才和急需紧缺人才”。[2]", citations) == []


def test_short_quotes_are_not_checked(citations: tuple[Citation, ...]) -> None:
    assert check_generated("这是一项“好政策”[1]。", citations) == []


def test_elided_quote_needs_every_piece_in_one_clause(citations: tuple[Citation, ...]) -> None:
    assert check_generated("“支持国家高新区面向全球招才引智……培养高端人才”[1]", citations) == []
    assert check_generated("“支持国家高新区面向全球招才引智……直接获得永久居留”[1]", citations)


def test_markers_inside_a_quote_are_ignored_for_matching(citations: tuple[Citation, ...]) -> None:
    assert check_generated("“申请工作许可的年龄可放宽至65岁[1]”", citations) == []


def test_unclosed_quote_fails(citations: tuple[Citation, ...]) -> None:
    assert "unbalanced quotation marks" in check_generated("“申请工作许可的年龄可放宽至65岁[1]", citations)


def test_invented_figure_fails_and_real_figures_pass(citations: tuple[Citation, ...]) -> None:
    assert check_generated("年龄可放宽至70岁[1]。", citations) == ["figure 70岁 is in no cited source"]
    assert check_generated("年龄可放宽至65%[1]。", citations) == ["figure 65% is in no cited source"]
    assert check_generated("The age limit can be raised to 65 [1], residence permits up to 5 years [1].", citations) == []
    # 国发〔2020〕7号 is in the citation line the model was shown.
    assert check_generated("国发〔2020〕7号规定可放宽至65岁[1]。", citations) == []


def test_figure_must_be_in_a_cited_clause_not_just_any_source(citations: tuple[Citation, ...]) -> None:
    # 180日 is only in the Jiangsu clause [2].
    assert check_generated("每次停留最长180日[1]。", citations) == ["figure 180日 is in no cited source"]
    assert check_generated("每次停留最长180日[2]。", citations) == []


def test_verdict_maps_quotes_to_the_clause_wording(citations: tuple[Citation, ...]) -> None:
    verdict = verify('"经市级以上人民政府科技行政部门(外国人来华工作管理部门)批准" [1]', citations)
    assert verdict.quotes[1] == ("经市级以上人民政府科技行政部门（外国人来华工作管理部门）批准",)


def test_empty_text_fails(citations: tuple[Citation, ...]) -> None:
    assert check_generated("  \n", citations) == ["the answer is empty"]


# --- generation through a local stub endpoint -------------------------------------------------


@dataclass
class Stub:
    """What the stub answers next, and every request it received."""

    url: str
    reply: Any = None  # a content string, ("status", code), ("raw", bytes) or ("hang", None)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture(scope="module")
def server() -> Iterator[Stub]:
    stub = Stub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            stub.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            reply = stub.reply
            if self.path != "/v1/chat/completions":
                reply = ("status", 404)
            if isinstance(reply, tuple) and reply[0] == "hang":
                stub.release.wait(10)
                return
            if isinstance(reply, tuple) and reply[0] == "status":
                self.send_error(reply[1])
                return
            data = reply[1] if isinstance(reply, tuple) else json.dumps(
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    stub.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield stub
    stub.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def stub(server: Stub) -> Iterator[Stub]:
    server.reply, server.requests[:] = None, []
    server.release.clear()
    yield server
    server.release.set()


def settings_for(stub: Stub, **kw: Any) -> LLMSettings:
    return LLMSettings(base_url=stub.url, model="stub-model", **kw)


def test_well_cited_answer_is_accepted(stub: Stub, extractive: Answer) -> None:
    stub.reply = f"国务院文件规定：“{GUOFA_65}”[1]"
    answer = generate(settings_for(stub), extractive)
    assert answer.generated_by == "llm:stub-model"
    assert answer.text == stub.reply
    assert [c.n for c in answer.citations] == [1]  # [2] is not cited by the generated text
    assert answer.citations[0].quotes == (GUOFA_65,)


def test_numbering_is_kept_when_only_the_second_source_is_cited(stub: Stub, extractive: Answer) -> None:
    stub.reply = "According to the Jiangsu opinions, “申请工作许可的年龄可放宽至65岁” [2]."
    answer = generate(settings_for(stub), extractive)
    assert answer.generated_by.startswith("llm:")
    assert [c.n for c in answer.citations] == [2]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("申请工作许可的年龄可放宽至65岁[3]。", "[3] names no source"),
        ("国务院规定“外籍人才可直接申请永久居留身份证”[1]。", "is in no source"),
        ("国务院规定申请工作许可的年龄可放宽至70岁[1]。", "figure 70岁"),
        ("年龄可以放宽。", "no [n] source marker"),
    ],
    ids=["mis-cited", "invented-quote", "invented-number", "no-marker"],
)
def test_failing_answer_falls_back_to_extractive(stub: Stub, extractive: Answer, reply: str, reason: str) -> None:
    stub.reply = reply
    answer = generate(settings_for(stub), extractive)
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert answer.generated_by.startswith("extractive (LLM answer rejected: ")
    assert reason in answer.generated_by


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (("status", 500), "HTTP 500"),
        (("raw", b"<html>not json"), "not JSON"),
        (("raw", b'{"error": "overloaded"}'), "no choices"),
        ("   ", "empty answer"),
    ],
    ids=["http-500", "garbage", "no-choices", "empty"],
)
def test_endpoint_trouble_falls_back_to_extractive(stub: Stub, extractive: Answer, reply: Any, reason: str) -> None:
    stub.reply = reply
    answer = generate(settings_for(stub), extractive)
    assert answer.text == extractive.text
    assert reason in answer.generated_by and answer.generated_by.startswith("extractive")


def test_slow_endpoint_falls_back_within_the_timeout(stub: Stub, extractive: Answer) -> None:
    stub.reply = ("hang", None)
    started = time.monotonic()
    answer = generate(settings_for(stub, timeout_s=0.5), extractive)
    assert time.monotonic() - started < 1.5
    assert answer.text == extractive.text and "no response within 0.5 s" in answer.generated_by


def test_unreachable_endpoint_falls_back(extractive: Answer) -> None:
    answer = generate(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2), extractive)
    assert answer.text == extractive.text and answer.generated_by.startswith("extractive (LLM answer rejected")


def test_nothing_is_sent_when_generation_is_off_or_there_is_nothing_to_cite(stub: Stub, extractive: Answer) -> None:
    stub.reply = f"“{GUOFA_65}”[1]"
    assert generate(LLMSettings(), extractive) is extractive
    assert generate(LLMSettings(base_url=stub.url), extractive) is extractive  # no model named
    abstained = Answer(QUESTION, QUESTION, "这些文件没有涉及。", True, extractive.citations, ())
    assert generate(settings_for(stub), abstained) is abstained
    uncited = Answer(QUESTION, QUESTION, "……", False, (), ())
    assert generate(settings_for(stub), uncited) is uncited
    assert stub.requests == []


def test_request_carries_question_sources_and_key(stub: Stub, extractive: Answer, citations: tuple[Citation, ...]) -> None:
    stub.reply = f"“{GUOFA_65}”[1]"
    generate(settings_for(stub, api_key="sk-test"), extractive)
    generate(settings_for(stub), extractive)
    (with_key, without_key) = stub.requests
    assert with_key["path"] == "/v1/chat/completions"
    assert with_key["headers"]["Authorization"] == "Bearer sk-test"
    assert "Authorization" not in without_key["headers"]
    body = with_key["json"]
    assert body["model"] == "stub-model" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and "[n]" not in system["content"] and "逐字" in system["content"]
    assert user["role"] == "user" and QUESTION in user["content"]
    for c in citations:
        assert f"[{c.n}] {c.clause.citation}" in user["content"]
        assert c.clause.text.strip() in user["content"]


def test_english_question_asks_for_english_framing(stub: Stub, extractive: Answer) -> None:
    question = "How far can the age limit for foreign talent work permits be relaxed?"
    stub.reply = f"Up to 65: “{GUOFA_65}” [1]"
    english = Answer(question, question, extractive.text, False, extractive.citations, ())
    assert generate(settings_for(stub), english).generated_by == "llm:stub-model"
    assert "请用英文回答" in stub.requests[0]["json"]["messages"][1]["content"]


def test_reasoning_block_before_the_answer_is_dropped(stub: Stub, extractive: Answer) -> None:
    stub.reply = f"<think>问题问的是年龄，70岁？不对。</think>\n“{GUOFA_65}”[1]"
    answer = generate(settings_for(stub), extractive)
    assert answer.generated_by.startswith("llm:") and answer.text == f"“{GUOFA_65}”[1]"
