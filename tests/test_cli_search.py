"""`policy-rag search / ask / eval` as other programs use them: fresh processes on the session's data
folder, JSON-line contracts of DESIGN.md, clean one-line errors, and a light `--help`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HEBEI_FILES = {"000_d1e2f62dd4ac9d56.txt", "001_f2cc480d52bcecb0.txt"}
SICHUAN_FILE = "004_29b2e8ee0b403d2c.txt"
JIANGSU_FILE = "003_23e8893c0c99abef.txt"
QUESTIONS = [
    {"id": "q-talent", "question": "外籍人才工作许可年龄能放宽到多少岁？"},
    {"id": 7, "question": "河北对企业研发准备金制度有什么规定？"},
    {"question": "What does Jiangsu do to support new R&D institutions?"},
    {"id": "q-lead", "question": "四川优化高新区土地资源配置这项措施由谁牵头？"},
    {"id": "q-none", "question": "浙江省对高新区企业研发投入有什么奖励？"},
]
K = 3
HIT_KEYS = {"clause_id", "source_files", "citation", "text", "score"}
CITATION_KEYS = {"n", "clause_id", "source_files", "citation", "text"}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def clauses(run_cli, policyqa_data_dir) -> dict[str, dict]:
    """Every clause, by id, as `policy-rag clauses --jsonl` prints it."""
    return {row["clause_id"]: row for row in json_lines(run_cli("clauses", "--jsonl", data_dir=policyqa_data_dir))}


@pytest.fixture(scope="module")
def questions_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("cli") / "questions.jsonl", QUESTIONS)


@pytest.fixture(scope="module")
def searched(run_cli, policyqa_data_dir, questions_file) -> list[dict]:
    return json_lines(run_cli("search", "--jsonl", str(questions_file), "--k", str(K), data_dir=policyqa_data_dir))


@pytest.fixture(scope="module")
def asked(run_cli, policyqa_data_dir, questions_file) -> list[dict]:
    return json_lines(run_cli("ask", "--jsonl", str(questions_file), data_dir=policyqa_data_dir))


def check_hit(hit: dict, clauses: dict[str, dict]) -> None:
    assert HIT_KEYS <= hit.keys()
    clause = clauses[hit["clause_id"]]
    assert hit["text"] == clause["text"], "hit text is the clause as printed"
    assert hit["source_files"] == clause["source_files"]
    assert hit["citation"] == clause["citation"]
    assert isinstance(hit["score"], float)


# --- search --jsonl ------------------------------------------------------------------------------

def test_search_writes_one_line_per_question_with_its_id_and_question(searched):
    assert len(searched) == len(QUESTIONS)
    for row, question in zip(searched, QUESTIONS):
        assert row["id"] == question.get("id")
        assert row["question"] == question["question"]


def test_search_writes_at_most_k_verbatim_hits_per_question(searched, clauses):
    for row in searched:
        assert 1 <= len(row["hits"]) <= K
        assert len({h["clause_id"] for h in row["hits"]}) == len(row["hits"])
        scores = [h["score"] for h in row["hits"]]
        assert scores == sorted(scores, reverse=True)
        for hit in row["hits"]:
            check_hit(hit, clauses)


def test_search_hits_of_the_hebei_document_name_both_hebei_files(searched):
    hebei = searched[1]["hits"]
    assert set(hebei[0]["source_files"]) == HEBEI_FILES
    assert all(set(h["source_files"]) <= HEBEI_FILES for h in hebei)


def test_search_answers_the_talent_question_from_the_national_document(searched):
    assert "放宽至65岁" in searched[0]["hits"][0]["text"]


@pytest.mark.parametrize(
    ("options", "allowed_files"),
    [
        (["--region", "河北"], HEBEI_FILES),
        (["--no-drafts", "--doc", "四川", "--doc", "江苏"], {JIANGSU_FILE}),
    ],
)
def test_search_filters_keep_only_the_chosen_documents(run_cli, policyqa_data_dir, tmp_path, options, allowed_files):
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": 1, "question": "高新区科技金融有哪些支持措施？"}])
    rows = json_lines(run_cli("search", "--jsonl", str(path), "--k", "8", *options, data_dir=policyqa_data_dir))
    hits = rows[0]["hits"]
    assert hits
    assert all(set(h["source_files"]) <= allowed_files for h in hits)


def test_search_with_an_unknown_document_fails_in_one_line(run_cli, policyqa_data_dir):
    message = one_line_error(run_cli("search", "科技金融", "--doc", "浙江", data_dir=policyqa_data_dir))
    assert "浙江" in message


# --- ask --jsonl ---------------------------------------------------------------------------------

def test_ask_writes_answer_citations_and_hits_per_question(asked, clauses):
    assert len(asked) == len(QUESTIONS)
    for row, question in zip(asked, QUESTIONS):
        assert row["id"] == question.get("id") and row["question"] == question["question"]
        assert isinstance(row["answer"], str) and row["answer"]
        assert isinstance(row["abstained"], bool)
        assert [c["n"] for c in row["citations"]] == list(range(1, len(row["citations"]) + 1))
        for citation in row["citations"]:
            assert CITATION_KEYS <= citation.keys()
            clause = clauses[citation["clause_id"]]
            assert citation["text"] == clause["text"]
            assert citation["source_files"] == clause["source_files"]
            assert citation["citation"] == clause["citation"]
        for hit in row["hits"]:
            check_hit(hit, clauses)


def test_ask_answers_and_abstains_as_the_library_does(asked):
    by_id = {row["id"]: row for row in asked}
    assert not by_id["q-talent"]["abstained"] and "65岁" in by_id["q-talent"]["answer"]
    assert not by_id["q-lead"]["abstained"] and "自然资源厅" in by_id["q-lead"]["answer"]
    assert by_id["q-none"]["abstained"] and "没有找到" in by_id["q-none"]["answer"]


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize(
    ("second_line", "says"),
    [("{not json", "not valid JSON"), ('{"id": 2, "text": "no question key"}', "question"), ("[1, 2]", "question")],
)
def test_malformed_jsonl_line_is_one_clean_error_naming_the_line_and_the_others_go_on(
        run_cli, policyqa_data_dir, tmp_path, command, second_line, says):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "question": "科技金融"}\n' + second_line + "\n", encoding="utf-8")
    result = run_cli(command, "--jsonl", str(path), data_dir=policyqa_data_dir)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(lines) == 1 and f"{path}:2" in lines[0] and says in lines[0], result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]


def test_missing_questions_file_is_one_clean_error(run_cli, policyqa_data_dir, tmp_path):
    message = one_line_error(run_cli("search", "--jsonl", str(tmp_path / "absent.jsonl"), data_dir=policyqa_data_dir))
    assert "absent.jsonl" in message


def test_question_and_jsonl_together_are_refused(run_cli, policyqa_data_dir, questions_file):
    one_line_error(run_cli("search", "科技金融", "--jsonl", str(questions_file), data_dir=policyqa_data_dir))


# --- eval and --help -----------------------------------------------------------------------------

def test_eval_prints_bm25_dense_and_hybrid_columns(run_cli, policyqa_data_dir, dev_gold_path):
    result = run_cli("eval", "--gold", str(dev_gold_path), data_dir=policyqa_data_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    header = next(line for line in result.stdout.splitlines() if line.startswith("metric"))
    assert header.split()[-3:] == ["bm25", "dense", "hybrid"]
    for metric in ("hit@5", "mrr@10", "doc_coverage@10", "abstain_on_unanswerable", "citation_hit"):
        assert metric in result.stdout


def test_help_answers_without_importing_torch(tmp_path):
    snippet = (
        "import contextlib, io, sys\n"
        "from rag.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['--help'])\n"
        "heavy = ('torch', 'sentence_transformers', 'faiss', 'transformers', 'gradio', 'onnxruntime')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(code, heavy, 'search' in out.getvalue() and 'ask' in out.getvalue())\n"
    )
    result = subprocess.run([sys.executable, "-c", snippet], check=False, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "0 [] True"
