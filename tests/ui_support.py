"""Helpers for the UI, export and feedback tests: small hand-made documents and answers, and a
running `policy-rag serve` shared by the browser and concurrency tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rag.clauses import Clause, ClauseKind
from rag.documents import Document, Level, Status
from rag.results import Answer, Citation, ComparisonRow

NATIONAL = Document(
    id="guofa", title="国务院关于促进高新区发展的意见", title_derived=False, issuer="国务院",
    doc_number="国发〔2020〕7号", date="2020年7月13日", level=Level.NATIONAL, region="全国",
    status=Status.IN_FORCE, script="simplified", source_files=("002.txt",),
)
DRAFT = Document(
    id="sichuan", title="关于促进高新区发展的实施意见（征求意见稿）", title_derived=False, issuer=None,
    doc_number=None, date=None, level=Level.PROVINCIAL, region="四川", status=Status.DRAFT,
    script="simplified", source_files=("004.txt",),
)
DERIVED = Document(
    id="jiangsu", title="江苏省关于促进高新区发展的实施意见", title_derived=True, issuer=None,
    doc_number=None, date=None, level=Level.PROVINCIAL, region="江苏", status=Status.IN_FORCE,
    script="simplified", source_files=("003.txt",),
)

NATIONAL_TEXT = (
    "国务院关于促进高新区发展的意见\n"
    "一、总体要求\n"
    "（一）指导思想。坚持创新驱动。\n"
    "二、重点任务\n"
    "（二）吸引人才。支持招才引智。工作许可年龄可放宽至65岁。\n"
)


def clause_in(document: Document, text: str, snippet: str, label: str, path: tuple[str, ...],
              kind: ClauseKind = ClauseKind.ARTICLE, **units) -> Clause:
    """A clause whose verbatim text is `snippet`, located in the document text `text`."""
    start = text.index(snippet)
    return Clause(
        id=f"{document.id}:{label}", doc_id=document.id, kind=kind, label=label, path=path, text=snippet,
        normalized=snippet, span=(start, start + len(snippet)), source_files=document.source_files,
        citation=f"《{document.title}》" + (f"（{document.doc_number}）" if document.doc_number else "") + label,
        **units,
    )


NATIONAL_CLAUSES = (
    clause_in(NATIONAL, NATIONAL_TEXT, "（一）指导思想。坚持创新驱动。", "一、（一）", ("一、总体要求", "（一）指导思想")),
    clause_in(NATIONAL, NATIONAL_TEXT, "（二）吸引人才。支持招才引智。工作许可年龄可放宽至65岁。", "二、（二）",
              ("二、重点任务", "（二）吸引人才")),
)
TALENT = NATIONAL_CLAUSES[1]

DRAFT_TEXT = "（五）加强金融服务。鼓励设立科技支行。（牵头单位：科技厅；参与单位：财政厅）"
DRAFT_CLAUSE = clause_in(
    DRAFT, DRAFT_TEXT, DRAFT_TEXT, "三、（五）", ("三、优化环境", "（五）加强金融服务"),
    lead_units=("科技厅",), participating_units=("财政厅",),
)


def answer(text: str = "工作许可年龄可放宽至65岁[1]。", *, citations: tuple[Citation, ...] | None = None,
           question: str = "外籍人才工作许可年龄能放宽到多少岁？", abstained: bool = False,
           comparison: tuple[ComparisonRow, ...] = ()) -> Answer:
    if citations is None:
        citations = (Citation(1, TALENT, NATIONAL, ("工作许可年龄可放宽至65岁。",)),)
    return Answer(question=question, resolved_question=question, text=text, abstained=abstained,
                  citations=citations, hits=(), comparison=comparison)


# --- a real server, started once per test session --------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = float(os.environ.get("POLICYQA_SERVE_TIMEOUT", "900"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def policy_rag_command() -> list[str]:
    script = Path(sys.executable).with_name("policy-rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


@dataclass
class Server:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, log_dir: Path, args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Server:
    """`policy-rag serve --port <free> [args]` in a subprocess (with `env` added to the environment),
    returned once the page answers."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1",
               # the code under test, even where the installed `policy-rag` points at another checkout
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])), **(env or {}))
    log_path = Path(log_dir) / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*policy_rag_command(), "serve", "--port", str(port), *args],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", Path(data_dir), log_path, process)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"policy-rag serve exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/config", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(1)
    server.stop()
    raise RuntimeError(f"policy-rag serve did not answer within {READY_TIMEOUT_S:.0f} s:\n{server.log()[-3000:]}")


_shared: dict[str, Server] = {}


def shared_server(data_dir: Path, log_dir: Path) -> Server:
    """One server for every UI test module in this pytest run (stopped at exit by `stop_shared`)."""
    server = _shared.get("server")
    if server is None or server.process.poll() is not None:
        server = _shared["server"] = start_server(data_dir, log_dir)
    return server


def stop_shared() -> None:
    server = _shared.pop("server", None)
    if server is not None:
        server.stop()


def session_server(request, tmp_path_factory) -> Server:
    """The shared server for a module-scoped fixture; it stops when pytest ends.

    Its data folder (model and index) is, in order: a session fixture `policyqa_data_dir` if a
    conftest defines one (to share the build with other tests), $POLICYQA_TEST_DATA_DIR (to reuse a
    build across runs), or one folder in this session's tmp directory.
    """
    base = tmp_path_factory.getbasetemp()
    try:
        data_dir = Path(request.getfixturevalue("policyqa_data_dir"))
    except pytest.FixtureLookupError:
        data_dir = Path(os.environ.get("POLICYQA_TEST_DATA_DIR") or base / "policyqa-data")
    data_dir.mkdir(parents=True, exist_ok=True)
    if "server" not in _shared:
        request.config.add_cleanup(stop_shared)
    return shared_server(data_dir, base)


def screenshot_dir(tmp_path_factory) -> Path:
    """Where browser tests save screenshots for review: $POLICYQA_SCREENSHOT_DIR, else a tmp folder."""
    folder = os.environ.get("POLICYQA_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- Debian's Chromium through Playwright --------------------------------------------------------

CHROMIUM = os.environ.get("POLICYQA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ANSWER_TIMEOUT_MS = 60_000


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Playwright's Browser) for a module of browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium (bash scripts/setup.sh --test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser tab on the app, recording dialogs and any request that leaves the server."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 950})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else self.outside.append(r.url))
        self.page.goto(url)
        self.page.wait_for_selector("#question textarea")

    def ask(self, question: str) -> None:
        turns = self.page.locator("#sources .turn-sources").count()
        self.page.fill("#question textarea", question)
        self.page.press("#question textarea", "Enter")
        self.wait_for_turn(turns + 1)

    def wait_for_turn(self, number: int) -> None:
        self.page.wait_for_selector(f'#sources .turn-sources[data-turn="{number}"]', timeout=ANSWER_TIMEOUT_MS)

    def latest_cards(self):
        return self.page.locator("#sources .turn-sources.latest .source-card")

    def close(self) -> None:
        self.context.close()
