"""First contact with the command line: every bad input is one line on stderr with a non-zero exit and
no traceback; questions without content are refused like empty ones; output a reader can use."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from ui_support import DRAFT, NATIONAL, TALENT, answer

from rag.cli import fix_command, main
from rag.errors import QuestionError
from rag.export import answer_to_markdown, answer_to_plain
from rag.question_check import MAX_QUESTION_CHARS, check_question
from rag.question_file import read_question_file
from rag.results import Citation, ComparisonRow
from rag.settings import PACKAGE_CORPUS_DIR, Settings
from ui import render

BAD_TIMEOUT_S = 120  # each bad input fails before any model loads; a run this long means it did not
INVALID_UTF8 = os.fsdecode(b"\xff\xfe\xfd")  # what Python makes of undecodable bytes in argv
GOOD = "高新区科技金融有哪些支持措施？"


def _jsonl(text: str) -> bytes:
    return text.encode("utf-8")


FILES: dict[str, bytes] = {
    "surrogate.jsonl": _jsonl('{"id": 1, "question": "\\udcff"}\n'),
    "not-json.jsonl": _jsonl("what is the talent policy?\n"),
    "no-question.jsonl": _jsonl('{"id": 1, "text": "外籍人才"}\n'),
    "number.jsonl": _jsonl('{"id": 1, "question": 42}\n'),
    "empty-question.jsonl": _jsonl('{"id": 1, "question": "  "}\n'),
    "symbols.jsonl": _jsonl('{"id": 1, "question": "★★★ ！！"}\n'),
    "too-long.jsonl": _jsonl(json.dumps({"question": "高" * (MAX_QUESTION_CHARS + 1)}) + "\n"),
    "list.jsonl": _jsonl("[1, 2]\n"),
    "empty-file.jsonl": b"",
    "binary.jsonl": bytes(range(256)) * 4,
    "gbk.jsonl": '{"question": "外籍人才工作许可年龄能放宽到多少岁？"}\n'.encode("gbk"),
    "utf16.jsonl": '{"question": "外籍人才"}\n'.encode("utf-16"),
    "undecodable-line.jsonl": b'{"question": "\xff\xfe"}\n',
}

# (id, arguments, what the message must say). {tmp} is the test's folder, holding FILES.
BAD_INPUTS = [
    ("empty-question", ["ask", ""], "empty"),
    ("whitespace", ["search", "  \t "], "empty"),
    ("punctuation-only", ["ask", "？？？！！"], "no words"),
    ("emoji-only", ["search", "😀😀👍"], "no words"),
    ("symbols-only", ["ask", "★ ※ → ℃"], "no words"),
    ("control-chars", ["ask", "\x01\x02\x1b\x7f"], "empty"),
    ("over-long", ["search", "高" * (MAX_QUESTION_CHARS + 1)], str(MAX_QUESTION_CHARS)),
    ("invalid-utf8-argv", ["ask", INVALID_UTF8], "not valid text"),
    ("invalid-utf8-in-text", ["search", f"科技{INVALID_UTF8}金融"], "not valid text"),
    ("jsonl-lone-surrogate", ["search", "--jsonl", "{tmp}/surrogate.jsonl"], "surrogate.jsonl:1: "),
    ("jsonl-not-json", ["ask", "--jsonl", "{tmp}/not-json.jsonl"], "not-json.jsonl:1: not valid JSON"),
    ("jsonl-no-question", ["search", "--jsonl", "{tmp}/no-question.jsonl"], 'no-question.jsonl:1: no "question"'),
    ("jsonl-question-is-number", ["ask", "--jsonl", "{tmp}/number.jsonl"], "must be text, got a number"),
    ("jsonl-empty-question", ["search", "--jsonl", "{tmp}/empty-question.jsonl"], "empty-question.jsonl:1: "),
    ("jsonl-symbols-only", ["ask", "--jsonl", "{tmp}/symbols.jsonl"], "no words"),
    ("jsonl-too-long", ["ask", "--jsonl", "{tmp}/too-long.jsonl"], "too-long.jsonl:1: "),
    ("jsonl-list", ["search", "--jsonl", "{tmp}/list.jsonl"], "this one is a list"),
    ("jsonl-undecodable-line", ["search", "--jsonl", "{tmp}/undecodable-line.jsonl"], "not UTF-8"),
    ("jsonl-empty-file", ["search", "--jsonl", "{tmp}/empty-file.jsonl"], "holds no questions"),
    ("jsonl-missing", ["search", "--jsonl", "{tmp}/absent.jsonl"], "absent.jsonl"),
    ("jsonl-directory", ["ask", "--jsonl", "{tmp}"], "is a folder"),
    ("jsonl-binary", ["ask", "--jsonl", "{tmp}/binary.jsonl"], "binary"),
    ("jsonl-gbk", ["search", "--jsonl", "{tmp}/gbk.jsonl"], "GB18030"),
    ("jsonl-utf16", ["search", "--jsonl", "{tmp}/utf16.jsonl"], "UTF-16"),
    ("k-zero", ["search", GOOD, "--k", "0"], "--k must be at least 1"),
    ("k-negative", ["search", GOOD, "--k", "-1"], "--k must be at least 1"),
    ("k-not-a-number", ["search", GOOD, "--k", "x"], "invalid int value"),
    ("mode-unknown", ["search", GOOD, "--mode", "fuzzy"], "invalid choice"),
    ("show-document-without-label", ["show", "国发〔2020〕7号"], "add the clause label"),
    ("show-unknown-label", ["show", "国发〔2020〕7号", "九十、（九十）"], "no clause"),
    ("show-unknown-document", ["show", "上海", "一、（一）"], "no document matches"),
    ("show-without-reference", ["show"], "required"),
    ("ask-without-question", ["ask"], "needs a question"),
    ("question-and-jsonl", ["search", GOOD, "--jsonl", "{tmp}/number.jsonl"], "not both"),
    ("unknown-corpus-dir", ["--corpus-dir", "{tmp}/no-corpus", "search", GOOD], "does not exist"),
    ("data-dir-is-a-file", ["--data-dir", "{tmp}/number.jsonl", "search", GOOD], "is a file, not a folder"),
    ("model-folder-missing", ["--model", "{tmp}/no-model", "search", GOOD], "does not exist"),
    ("dense-index-unknown", ["search", GOOD, "--dense-index", "annoy"], "invalid choice"),
    ("unknown-option", ["search", GOOD, "--bogus"], "unrecognized arguments: --bogus"),
    ("unknown-command", ["serch", GOOD], "invalid choice: 'serch'"),
    ("no-command", [], "choose a command"),
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-inputs")
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    return folder


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in re.split(r"[\r\n]+", result.stderr) if line.strip()]


def test_the_bad_input_table_is_large_enough():
    assert len(BAD_INPUTS) >= 25
    assert len({case_id for case_id, _, _ in BAD_INPUTS}) == len(BAD_INPUTS)


@pytest.mark.parametrize(("args", "says"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(run_cli, bad_files, tmp_path, args, says):
    argv = [a.replace("{tmp}", str(bad_files)) for a in args]
    result = run_cli(*argv, data_dir=tmp_path / "data", timeout=BAD_TIMEOUT_S)
    lines = stderr_lines(result)
    assert result.returncode != 0, result.stdout[-500:]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("policy-rag"), lines[0]
    assert says.replace("{tmp}", str(bad_files)) in lines[0], lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "data" / "models").exists(), "a bad input must fail before the model is built"


# --- questions without content --------------------------------------------------------------------

@pytest.mark.parametrize("question", ["？？？！！", "...", "😀👍🚀", "★※→", "\x01\x02", "\u200b\u200b", "——", "（）【】"])
def test_question_without_a_word_is_refused_like_an_empty_one(question):
    with pytest.raises(QuestionError):
        check_question(question)


@pytest.mark.parametrize("question", ["65岁", "What is R&D?", "🚀高新区有哪些人才政策？", "那四川呢？", "第五条", "2020"])
def test_question_with_a_word_or_a_number_is_accepted(question):
    assert check_question(question) == question.strip()


def test_lone_surrogate_is_refused_before_any_text_processing():
    with pytest.raises(QuestionError, match="not valid text"):
        check_question("科技\udcff金融")


# --- the questions file ---------------------------------------------------------------------------

def test_bad_lines_are_reported_by_number_and_the_others_kept(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes(
        _jsonl('{"id": "a", "question": "外籍人才"}\n{oops\n\n{"id": "c", "question": "？？"}\n')
        + b'{"question": "\xff"}\n'
        + _jsonl('{"id": "e", "question": "科技金融"}\n')
    )
    rows, problems = read_question_file(path)
    assert [(r.line, r.id, r.question) for r in rows] == [(1, "a", "外籍人才"), (6, "e", "科技金融")]
    assert [p.line for p in problems] == [2, 4, 5]
    assert str(problems[0]).startswith(f"{path}:2: not valid JSON")


# --- the exact command to fix an index --------------------------------------------------------------

def test_fix_command_names_the_options_that_differ_from_the_defaults(tmp_path):
    assert fix_command(Settings.from_env(env={}), "index") == "policy-rag index"
    corpus, data = tmp_path / "my corpus", tmp_path / "data"
    settings = Settings.from_env(env={}, corpus_dir=corpus, data_dir=data, dense_index="hnsw")
    assert fix_command(settings, "index --rebuild") == (
        f"policy-rag index --rebuild --corpus-dir '{corpus}' --data-dir {data} --dense-index hnsw"
    )
    assert fix_command(Settings.from_env(env={}, corpus_dir=PACKAGE_CORPUS_DIR), "index") == "policy-rag index"


# --- output a reader can use ----------------------------------------------------------------------

ENGLISH = "Can a national high-tech zone apply to expand its area?"
CHINESE_HEADINGS = ("问：", "来源", "原文", "对比", "可能相关", "文件", "地区", "内容", "未提及")


def test_english_question_gets_english_headings_in_plain_and_markdown():
    english = answer("According to the policy documents in the library: “…”[1]", question=ENGLISH)
    for text in (answer_to_plain(english), answer_to_markdown(english)):
        assert "Q:" in text and "Sources" in text
        assert not [h for h in CHINESE_HEADINGS if h in text.replace(TALENT.citation, "").replace(TALENT.text, "")]
    related = answer_to_plain(replace(english, abstained=True))
    assert "Possibly related clauses:" in related


def test_english_question_gets_english_headings_in_the_sources_panel():
    english = answer("“…”[1]", question=ENGLISH, citations=(Citation(1, TALENT, NATIONAL),))
    html = render.sources_panel([(1, ENGLISH, english)])
    assert "Clauses the answer cites" in html and "Open the full text" in html and "national" in html
    assert "答案引用的条款" not in html and "查看原文" not in html and "国家级" not in html


COMPARED = "各文件的相关规定：\n- 国务院意见（国发〔2020〕7号）：二、（二）“放宽至65岁”[1]\n- 四川实施意见（征求意见稿）：未见直接相关的表述"
ROWS = (
    ComparisonRow(NATIONAL, "二、（二）“放宽至65岁”[1]", (1,), True),
    ComparisonRow(DRAFT, "未见直接相关的表述", (), False),
)


def test_comparison_is_printed_once_in_plain_text():
    plain = answer_to_plain(answer(COMPARED, comparison=ROWS))
    assert plain.count("放宽至65岁”[1]") == 1 and plain.count("未见直接相关的表述") == 1
    assert "对比" not in plain


def test_comparison_is_a_table_once_in_markdown_and_in_the_chat():
    compared = answer(COMPARED, comparison=ROWS)
    markdown = answer_to_markdown(compared)
    assert markdown.count("放宽至65岁”[1]") == 1 and "| 文件 | 地区 | 内容 |" in markdown
    assert "各文件的相关规定" in markdown
    html = render.answer_message(compared, turn=1)
    assert html.count("放宽至65岁") == 1 and html.count("未见直接相关的表述") == 1 and "<table" in html


def test_comparison_not_in_the_text_still_gets_its_list():
    plain = answer_to_plain(answer("江苏和四川都支持人才。[1]", comparison=ROWS))
    assert "对比：" in plain and "放宽至65岁" in plain


def test_show_help_keeps_each_example_on_its_own_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["show", "--help"]) == 0
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert "policy-rag show 国发〔2019〕12号 二、（五）" in lines
    assert "policy-rag show 粤府〔2021〕5号 第三条" in lines


# --- through the real CLI and model -----------------------------------------------------------------

@pytest.mark.slow
def test_bad_jsonl_lines_are_reported_while_the_others_are_answered(run_cli, policyqa_data_dir, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        _jsonl('{"id": 1, "question": "外籍人才工作许可年龄能放宽到多少岁？"}\n{"id": 2, "question": "？？？！！"}\n'
               '{"id": 3, "question": "\\udcff"}\nnot json\n{"id": 5, "question": "四川优化土地资源配置由谁牵头？"}\n')
    )
    for command in ("search", "ask"):
        result = run_cli(command, "--jsonl", str(path), data_dir=policyqa_data_dir)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 5]
        lines = stderr_lines(result)
        assert [re.search(r"mixed\.jsonl:(\d+):", line).group(1) for line in lines] == ["2", "3", "4"]


@pytest.mark.slow
def test_stale_index_message_names_the_command_with_the_same_options(run_cli, policyqa_data_dir, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(PACKAGE_CORPUS_DIR, corpus)
    data = tmp_path / "data"
    shutil.copytree(policyqa_data_dir / "models", data / "models", copy_function=os.link)
    # Each corpus folder has its own index: the one of an unchanged copy, then the copy changes.
    shutil.copytree(Settings(data_dir=policyqa_data_dir).index_dir, Settings(corpus_dir=corpus, data_dir=data).index_dir)
    national = corpus / "002_aceb60dd589429a8.txt"
    national.write_text(national.read_text(encoding="utf-8") + "\n（此件公开发布）\n", encoding="utf-8")
    result = run_cli("search", GOOD, "--corpus-dir", str(corpus), data_dir=data)
    lines = stderr_lines(result)
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert f"`policy-rag index --corpus-dir {corpus} --data-dir {data}`" in lines[0]


@pytest.mark.slow
def test_search_shows_rank_and_similarity_not_fused_scores(run_cli, policyqa_data_dir):
    result = run_cli("search", "外籍人才工作许可年龄能放宽到多少岁？", "--k", "3", data_dir=policyqa_data_dir)
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stdout.splitlines() if re.match(r"\d+\. ", line)]
    assert [h.split(".")[0] for h in heads] == ["1", "2", "3"]
    assert all(re.search(r"\(similarity \d{1,3}%(, weak)?\)$", h) for h in heads), heads
    assert not re.search(r"\[0\.\d{4}\]", result.stdout)


@pytest.mark.slow
def test_english_answer_in_the_cli_has_no_chinese_headings(run_cli, policyqa_data_dir, tmp_path):
    result = run_cli("ask", ENGLISH, data_dir=policyqa_data_dir)
    assert result.returncode == 0, result.stderr
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": ENGLISH}) + "\n", encoding="utf-8")
    record = json.loads(run_cli("ask", "--jsonl", str(questions), data_dir=policyqa_data_dir).stdout)
    framing = result.stdout
    for citation in record["citations"]:  # the clauses themselves are Chinese by nature
        framing = framing.replace(citation["text"], "").replace(citation["citation"], "")
    framing = re.sub(r"“[^”]*”", "", framing)  # and so are the quotes from them
    assert framing.startswith(f"Q: {ENGLISH}") and "\nSources:\n" in framing
    assert "indexed" not in framing
    assert not [h for h in ("问：", "来源", "原文", "对比", "相关规定") if h in framing], framing


@pytest.mark.slow
def test_service_refuses_a_question_without_content(qa):
    for question in ("？？？！！", "😀😀", "\x01\x02"):
        with pytest.raises(QuestionError):
            qa.ask(question)
        with pytest.raises(QuestionError):
            qa.search(question)


# --- serving: feedback can be turned off ------------------------------------------------------------

def test_feedback_is_on_unless_turned_off_in_the_environment():
    assert Settings.from_env(env={}).feedback
    assert not Settings.from_env(env={"POLICYQA_FEEDBACK": "off"}).feedback


def _like_listeners(demo) -> int:
    return sum(1 for fn in demo.fns.values() for _, event in fn.targets if event == "like")


def test_chat_without_a_feedback_log_offers_no_thumbs(tmp_path):
    from types import SimpleNamespace

    from rag.corpus import load_corpus
    from rag.feedback import FeedbackLog
    from ui.app import build_app

    qa = SimpleNamespace(corpus=load_corpus(PACKAGE_CORPUS_DIR), settings=Settings.from_env(env={}))
    assert _like_listeners(build_app(qa, FeedbackLog(tmp_path / "feedback.jsonl"))) == 1
    assert _like_listeners(build_app(qa, None)) == 0
