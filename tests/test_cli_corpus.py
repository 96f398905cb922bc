"""The command line: corpus, clauses and show, clean one-line errors and exit codes, a fast --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.settings import PACKAGE_CORPUS_DIR

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "onnxruntime", "faiss", "sentence_transformers", "transformers", "gradio", "opencc", "jieba", "numpy")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--corpus-dir", str(PACKAGE_CORPUS_DIR), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_json_lists_documents_with_metadata_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "corpus", "--json")
    assert code == 0
    documents = {d["id"]: d for d in json.loads(out)}
    hebei = documents["hebei-opinions"]
    assert set(hebei) == {
        "id",
        "title",
        "title_derived",
        "doc_number",
        "issuer",
        "date",
        "level",
        "region",
        "city",
        "genre",
        "status",
        "origin",
        "source_files",
        "evidence",
        "counts",
    }
    assert hebei["doc_number"] == "冀政字〔2020〕52号" and hebei["title_derived"] is False
    assert hebei["origin"] == "bundled" and hebei["city"] is None
    assert hebei["evidence"]["doc_number"]["source"] == "override" and hebei["evidence"]["doc_number"]["line"] > 0
    assert hebei["source_files"] == ["000_d1e2f62dd4ac9d56.txt", "001_f2cc480d52bcecb0.txt"]
    assert hebei["counts"] == {"sections": 3, "articles": 13, "items": 21, "clauses": 30}
    assert documents["sichuan-opinions-draft"]["status"] == "draft"
    assert documents["jiangsu-opinions"]["doc_number"] is None


def test_corpus_table_reports_junk_dropped_from_the_scraped_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "corpus")
    assert code == 0
    assert "国发〔2020〕7号" in out and "sichuan-opinions-draft" in out
    assert "001_f2cc480d52bcecb0.txt: 14 lines" in out and "visitor counter" in out
    assert "您是本站第112934位來訪者" not in out  # the text only with --verbose
    code, out, _ = _run(capsys, "corpus", "--verbose")
    assert code == 0 and "您是本站第112934位來訪者" in out


def test_clauses_jsonl_prints_every_clause_with_its_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "clauses", "--jsonl")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 30 + 23 + 25 + 29
    record = next(r for r in records if r["clause_id"] == "guofa-2020-7:二.五")
    assert set(record) == {
        "clause_id",
        "doc_id",
        "label",
        "path",
        "text",
        "normalized",
        "source_files",
        "span",
        "responsible_units",
        "lead_units",
        "participating_units",
        "citation",
        "kind",
    }
    text = (PACKAGE_CORPUS_DIR / record["source_files"][0]).read_text(encoding="utf-8")
    assert text[record["span"][0] : record["span"][1]] == record["text"]
    assert record["path"] == ["二、着力提升自主创新能力", "（五）吸引培育一流创新人才"]
    assert record["kind"] == "article"


def test_show_by_document_and_label(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "show", "国发〔2020〕7号", "二、（五）")
    assert code == 0
    assert (
        out.splitlines()[0]
        == "《国务院关于促进国家高新技术产业开发区高质量发展的若干意见》（国发〔2020〕7号）二、（五）"
    )
    assert "申请工作许可的年龄可放宽至65岁" in out


def test_show_by_clause_id_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "show", "sichuan-opinions-draft:二.三", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["lead_units"] == ["科技厅", "各市（州）人民政府"] and "征求意见稿" in record["citation"]


def test_unknown_reference_is_one_clean_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "show", "上海", "一、（一）")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("policy-rag: error: no document matches '上海'")
    assert "Traceback" not in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show"]) == 2
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_missing_corpus_folder_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--corpus-dir", str(tmp_path / "none")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_console_script_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from rag.cli import build_parser; build_parser().format_help(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_corpus_modules_import_nothing_heavy() -> None:
    modules = ["rag.corpus", "rag.cli_corpus", "rag.normalize", "rag.parsing", "rag.cleaning", "rag.textio"]
    code = (
        f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_installed_command_exits_non_zero_on_unknown_clause(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("policy-rag")
    if not exe.exists():
        pytest.skip("policy-rag is not installed in this environment (pip install -e .)")
    env = {**os.environ, "POLICYQA_CORPUS_DIR": str(PACKAGE_CORPUS_DIR), "POLICYQA_DATA_DIR": str(tmp_path)}
    result = subprocess.run([str(exe), "show", "no-such-clause"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("policy-rag: error: no clause with id 'no-such-clause'")
