"""Optional answers written by an LLM through an OpenAI-compatible endpoint, checked before use.

The model sees only the clauses the extractive answer cites, numbered as that answer numbers them,
so its [n] means the same source. rag.llm_check verifies every marker, quote and figure; a failed
check, or any trouble with the endpoint, gives back the extractive answer, never an exception.
Standard library HTTP only: an intranet deployment should not need another client package.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from rag.llm_check import verify
from rag.questions import is_english
from rag.results import Answer, Citation
from rag.settings import LLMSettings

__all__ = ["SYSTEM_PROMPT", "build_messages", "generate"]

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = """你是高新区政策问答助手，只能依据用户消息中列出的编号来源（政策条款原文）回答，不得使用来源以外的任何知识。
规则：
1. 每一处陈述后都用方括号标出所依据的来源编号，例如[1]或[1][2]；只能使用给出的编号。
2. 引用政策原文时必须逐字照抄，放在中文引号“…”内，不得改写、增删或拼接引号内的文字；引号外可以概括。
3. 不要写出来源中没有的数字、金额、比例、年龄、年份或日期，也不要自行添加编号列表。
4. 如果这些来源不能回答问题，就直接说明这些文件没有涉及，不要猜测。
5. 用提问所用的语言回答：中文问题用中文回答；英文问题用英文叙述，但引用的政策原文保持中文原文。
6. 回答简洁、准确，适合直接写入工作报告。"""

_ENGLISH_NOTE = "请用英文回答；引号内的政策原文保持中文原文，不要翻译。"
_MAX_RESPONSE_BYTES = 2_000_000
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)  # reasoning models put this first
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class _Rejected(Exception):
    """Why the generated answer cannot be used; the message is the short reason shown."""


def generate(settings: LLMSettings, extractive: Answer) -> Answer:
    """The LLM's answer when the endpoint gives one that passes the check, else `extractive`.

    Nothing is sent when generation is off, or the extractive answer abstained or cites nothing:
    without sources the model could only answer from memory. Returns within about
    settings.timeout_s whatever the endpoint does.
    """
    if not settings.enabled or extractive.abstained or not extractive.citations:
        return extractive
    try:
        text = _complete(settings, build_messages(extractive))
        verdict = verify(text, extractive.citations)
        if not verdict.passed:
            more = f" (+{len(verdict.problems) - 1} more)" if len(verdict.problems) > 1 else ""
            raise _Rejected(verdict.problems[0] + more)
    except _Rejected as rejected:
        logger.warning("LLM answer rejected, using the extractive answer: %s", rejected)
        return replace(extractive, generated_by=f"extractive (LLM answer rejected: {rejected})")
    # The comparison table keeps its own [n] links, so the sources it refers to stay as well.
    keep = set(verdict.cited) | {n for row in extractive.comparison for n in row.citation_ns}
    citations = tuple(
        replace(c, quotes=verdict.quotes.get(c.n, ())) if c.n in verdict.cited else c
        for c in extractive.citations
        if c.n in keep
    )
    return replace(extractive, text=text, generated_by=f"llm:{settings.model}", citations=citations)


def build_messages(answer: Answer) -> list[dict[str, str]]:
    """The chat messages: the rules, then the (resolved) question and the answer's citations as
    numbered sources, each with its citation line and its verbatim clause text."""
    question = answer.resolved_question or answer.question
    lines = [f"问题：{question}", ""]
    if is_english(answer.question):
        lines += [_ENGLISH_NOTE, ""]
    lines.append("来源：")
    lines += [_source(c) for c in answer.citations]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(lines).rstrip()},
    ]


def _source(citation: Citation) -> str:
    return f"[{citation.n}] {citation.clause.citation}\n{citation.clause.text.strip()}\n"


def _complete(settings: LLMSettings, messages: Sequence[dict[str, str]]) -> str:
    """The content of the first choice, or _Rejected with a short reason."""
    url = f"{(settings.base_url or '').rstrip('/')}/chat/completions"
    payload = {"model": settings.model, "messages": list(messages), "temperature": 0}
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "policyqa"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    raw = _post_with_deadline(url, json.dumps(payload, ensure_ascii=False).encode(), headers, settings.timeout_s)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Rejected("the endpoint's response is not JSON") from None
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Rejected("the response has no choices[0].message.content") from None
    if choice.get("finish_reason") == "length":
        raise _Rejected("the answer was cut off at the token limit")
    text = _THINKING.sub("", content).strip() if isinstance(content, str) else ""
    if not text:
        raise _Rejected("empty answer")
    return text


def _post_with_deadline(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> bytes:
    """POST in a worker thread joined with timeout_s: the socket timeout bounds each read, not the
    whole exchange (DNS, a slowly dripping response), and the caller must not wait longer."""
    outcome: list[bytes | Exception] = []

    def work() -> None:
        try:
            outcome.append(_post(url, body, headers, timeout_s))
        except urllib.error.HTTPError as error:
            error.close()  # it holds the open response
            outcome.append(error)
        except Exception as error:  # noqa: BLE001 - any failure is reported from the caller's thread
            outcome.append(error)

    worker = threading.Thread(target=work, name="policyqa-llm", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        raise _Rejected(f"no response within {timeout_s:g} s")
    result = outcome[0]
    if isinstance(result, bytes):
        return result
    if isinstance(result, urllib.error.HTTPError):
        raise _Rejected(f"HTTP {result.code} from the endpoint")
    if isinstance(result, TimeoutError) or isinstance(getattr(result, "reason", None), TimeoutError):
        raise _Rejected(f"no response within {timeout_s:g} s")
    if isinstance(result, urllib.error.URLError):
        raise _Rejected(f"endpoint unreachable ({result.reason})")
    logger.debug("LLM request failed", exc_info=result)
    raise _Rejected(f"request failed ({type(result).__name__}: {result})")


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # A server on this machine (llama.cpp, Ollama, vLLM) is never reached through a proxy.
    handlers = [urllib.request.ProxyHandler({})] if urlsplit(url).hostname in _LOOPBACK else []
    with urllib.request.build_opener(*handlers).open(request, timeout=timeout_s) as response:
        data = response.read(_MAX_RESPONSE_BYTES + 1)
    if len(data) > _MAX_RESPONSE_BYTES:
        raise ValueError(f"response larger than {_MAX_RESPONSE_BYTES} bytes")
    return data
