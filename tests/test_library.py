"""The open library through `policy-rag`: adding real regulations (read at test time from
../shared/scale/laws-md.tar.xz), what is read from them, duplicates, versions, removal, refusals that
change nothing, and add/remove surviving SIGKILL at any moment.

The fast tests add with --no-index. The slow ones share one data folder per module whose index
covers the seeds (copied from the session's index, so only the added documents are embedded) and
three added regulations; each test that changes it works on a hard-linked copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.settings import PACKAGE_CORPUS_DIR, Settings

HENAN = "DLC/河南地方法规/地方性法规/河南/河南省促进高新技术产业发展条例(2011-06-13).md"
SHANTOU = "DLC/广东地方法规/地方性法规/广东/汕头经济特区科技创新条例(2022-05-30).md"
BEIJING = "DLC/北京地方法规/地方性法规/北京/北京国际科技创新中心建设条例(2024-01-25).md"
SHANGHAI_2020 = "DLC/上海地方法规/地方性法规/上海/上海市优化营商环境条例(2020-04-10).md"
SHANGHAI_2024 = "DLC/上海地方法规/地方性法规/上海/上海市优化营商环境条例(2024-09-27).md"
SMALL = (
    "DLC/上海地方法规/地方性法规/上海/上海市促进大型科学仪器设施共享规定.md",
    "DLC/上海地方法规/地方性法规/上海/上海市促进浦东新区运用区块链赋能电子单证应用若干规定(2024-12-31).md",
    "DLC/上海地方法规/地方性法规/上海/上海市经济技术开发区条例.md",
)
TITLES = {
    HENAN: "河南省促进高新技术产业发展条例",
    SHANTOU: "汕头经济特区科技创新条例",
    BEIJING: "北京国际科技创新中心建设条例",
}
TAX_QUESTION = "技术转让所得不超过五百万元的部分如何征税？"
"""Answered by the Henan regulation's 第十六条. (It does not name the province: a region the metadata
does not know yet is taken as not covered.)"""
INCUBATOR_QUESTION = "河南对科技企业孵化器有什么规定？"
"""Answered by the Henan regulation's 第二十七条 (the document's own words: 科技企业孵化器)."""
FIRST_SIXTEEN = {f"第{n}条" for n in "一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六".split()}
FACTS = {  # read by hand from the files
    HENAN: {"issuer": "河南省人民代表大会常务委员会", "date": "2011年6月10日", "level": "provincial", "region": "河南",
            "city": None, "genre": "条例", "status": "in_force", "doc_number": None},
    SHANTOU: {"issuer": "汕头市人民代表大会常务委员会", "date": "2022年5月30日", "level": "city", "region": "广东",
              "city": "汕头", "genre": "条例", "status": "in_force", "doc_number": None},
    BEIJING: {"issuer": "北京市人民代表大会", "date": "2024年1月25日", "level": "provincial", "region": "北京",
              "city": None, "genre": "条例", "status": "in_force", "doc_number": None},
}
SEED_IDS = {"guofa-2020-7", "hebei-opinions", "jiangsu-opinions", "sichuan-opinions-draft"}
ARTICLE_HEADING = re.compile(r"(?m)^第[一二三四五六七八九十百零〇]+条")
# Questions in our own words, each with the article that answers it and a phrase that article holds.
QUESTIONS = [
    (HENAN, "河南规定技术转让所得不超过五百万元的部分如何征税？", "第十六条", "五百万元"),
    (SHANTOU, "汕头的科技人才大数据平台由哪一级政府设立？", "第二十七条", "科技人才大数据平台"),
    (BEIJING, "北京市自然科学基金按照什么原则确定资助项目？", "第二十九条", "同行评审"),
]


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, f"expected a clean failure, got exit {result.returncode}:\n{result.stderr[-1500:]}"
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def documents(run_cli, data_dir: Path) -> dict[str, dict]:
    return {d["id"]: d for d in json.loads(ok(run_cli("corpus", "--json", data_dir=data_dir)).stdout)}


def by_title(docs: dict[str, dict], title: str) -> dict:
    found = [d for d in docs.values() if d["title"] == title]
    assert len(found) == 1, [d["title"] for d in docs.values()]
    return found[0]


def headings(path: Path) -> int:
    return len(ARTICLE_HEADING.findall(path.read_text(encoding="utf-8")))


def folder_of(tmp_path: Path, paths: list[Path], name: str = "docs") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for path in paths:
        shutil.copy2(path, folder / path.name)
    return folder


def snapshot(data_dir: Path) -> dict[str, str]:
    """sha256 of every file of the library and the index (the model and caches aside)."""
    files = {}
    for top in ("library", "index"):
        for path in sorted((data_dir / top).rglob("*")):
            if path.is_file():
                files[path.relative_to(data_dir).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def copy_data(source: Path, target: Path) -> Path:
    """A copy of a data folder; files are hard links (every file there is replaced, never rewritten)."""
    shutil.copytree(source, target, copy_function=link_or_copy, symlinks=True)
    return target


# --- fast: the library without an index ----------------------------------------------------------


def test_add_reads_each_document_and_prints_its_metadata_and_counts(run_cli, laws, tmp_path: Path) -> None:
    paths = laws(HENAN, SHANTOU, BEIJING)
    folder = folder_of(tmp_path, paths)
    data = tmp_path / "data"
    result = ok(run_cli("add", str(folder), "--no-index", data_dir=data))
    for path in paths:
        title = TITLES[next(k for k in TITLES if k.endswith(path.name))]
        assert re.search(rf"(?m)^  title +{re.escape(title)} +line 1: ", result.stdout), result.stdout
        assert f"{headings(path)} articles" in result.stdout
    assert f"policy-rag index --data-dir {data}" in result.stdout  # the deferred index, with this data folder
    docs = documents(run_cli, data)
    assert SEED_IDS <= set(docs)
    for path in paths:
        added = by_title(docs, TITLES[next(k for k in TITLES if k.endswith(path.name))])
        assert added["origin"] == "added" and added["source_files"] == [path.name]
        assert added["counts"]["articles"] == headings(path)
        title = added["evidence"]["title"]
        assert (title["source"], title["line"], title["span"][1] - title["span"][0]) == ("text", 1, len(added["title"]))
        expected = FACTS[next(k for k in TITLES if k.endswith(path.name))]
        assert {key: added[key] for key in expected} == expected, added
        assert added["evidence"]["date"]["line"] == 2 and added["evidence"]["region"]["source"] == "derived"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", added["id"])
    assert all(docs[i]["origin"] == "bundled" for i in SEED_IDS)
    table = ok(run_cli("corpus", data_dir=data)).stdout
    assert re.search(r"(?m)^\S+ +added ", table) and re.search(r"(?m)^guofa-2020-7 +bundled ", table)


def test_added_document_keeps_its_bytes_its_text_and_a_metadata_record(run_cli, laws, tmp_path: Path) -> None:
    (henan,) = laws(HENAN)
    data = tmp_path / "data"
    ok(run_cli("add", str(henan), "--no-index", data_dir=data))
    listing = json.loads((data / "library" / "LIBRARY.json").read_text(encoding="utf-8"))
    (entry,) = listing["documents"]
    folder = data / "library" / "docs" / entry["folder"]
    assert (folder / "original.md").read_bytes() == henan.read_bytes()
    text = (folder / "text.txt").read_text(encoding="utf-8")
    record = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert record["origin"] == "added" and record["file"] == record["original_name"] == henan.name
    assert record["sha256"] == hashlib.sha256(henan.read_bytes()).hexdigest()
    assert record["fields"]["title"]["value"] == TITLES[HENAN]
    assert set(record["fields"]) == {"title", "doc_number", "issuer", "date", "level", "region", "city", "genre",
                                     "status"}
    clauses = [json.loads(line) for line in ok(run_cli("clauses", "--jsonl", data_dir=data)).stdout.splitlines()]
    mine = [c for c in clauses if c["doc_id"] == entry["id"]]
    assert len(mine) == record["counts"]["clauses"] and mine
    for clause in mine:
        assert text[clause["span"][0] : clause["span"][1]] == clause["text"]
        assert clause["citation"].startswith(f"《{TITLES[HENAN]}》") and clause["source_files"] == [henan.name]


def test_adding_a_document_again_in_either_script_is_reported_not_duplicated(run_cli, laws, tmp_path: Path) -> None:
    import opencc

    (henan,) = laws(HENAN)
    data = tmp_path / "data"
    ok(run_cli("add", str(henan), "--no-index", data_dir=data))
    before = snapshot(data)
    traditional = tmp_path / "繁體.md"
    traditional.write_text(opencc.OpenCC("s2t").convert(henan.read_text(encoding="utf-8")), encoding="utf-8")
    for path in (henan, traditional):
        result = ok(run_cli("add", str(path), "--no-index", data_dir=data))
        assert "already in the library as" in result.stdout and TITLES[HENAN] in result.stdout
    assert snapshot(data) == before


def test_a_newer_version_replaces_the_old_one_only_with_replace(run_cli, laws, tmp_path: Path) -> None:
    old, new = laws(SHANGHAI_2020, SHANGHAI_2024)
    data = tmp_path / "data"
    ok(run_cli("add", str(old), "--no-index", data_dir=data))
    before = snapshot(data)
    message = one_line_error(run_cli("add", str(new), "--no-index", data_dir=data))
    assert "--replace" in message and "上海市优化营商环境条例" in message
    assert snapshot(data) == before
    result = ok(run_cli("add", str(new), "--replace", "--no-index", data_dir=data))
    assert "replaced" in result.stdout
    docs = documents(run_cli, data)
    current = by_title(docs, "上海市优化营商环境条例")
    assert current["source_files"] == [new.name] and current["counts"]["articles"] == headings(new)
    assert len(json.loads((data / "library" / "LIBRARY.json").read_text(encoding="utf-8"))["documents"]) == 1
    assert len(list((data / "library" / "docs").iterdir())) == 1  # the old version's folder is gone


def test_metadata_options_override_what_the_text_gives(run_cli, laws, tmp_path: Path) -> None:
    (henan,) = laws(HENAN)
    data = tmp_path / "data"
    result = ok(run_cli("add", str(henan), "--no-index", "--date", "2011-06-10", "--level", "provincial",
                        "--region", "河南", "--genre", "条例", data_dir=data))
    assert re.search(r"(?m)^  date +2011年6月10日 +line 2: .*\[override \(--date\)\]", result.stdout), result.stdout
    added = by_title(documents(run_cli, data), TITLES[HENAN])
    assert (added["date"], added["level"], added["region"], added["genre"]) == ("2011年6月10日", "provincial", "河南",
                                                                                 "条例")
    (entry,) = json.loads((data / "library" / "LIBRARY.json").read_text(encoding="utf-8"))["documents"]
    text = (data / "library" / "docs" / entry["folder"] / "text.txt").read_text(encoding="utf-8")
    start = text.index("2011年6月10日")
    assert added["evidence"]["date"] == {"source": "override", "line": text.count("\n", 0, start) + 1,
                                         "span": [start, start + 10], "note": "--date"}
    assert (added["evidence"]["region"]["source"], added["evidence"]["region"]["note"]) == ("override", "--region")


def test_metadata_options_with_several_files_are_refused(run_cli, laws, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, laws(HENAN, SHANTOU))
    message = one_line_error(run_cli("add", str(folder), "--title", "某条例", "--no-index", data_dir=tmp_path / "d"))
    assert "one document" in message
    assert not (tmp_path / "d" / "library").exists()


def test_remove_takes_an_added_document_out_and_refuses_a_bundled_one(run_cli, laws, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run_cli("add", str(folder_of(tmp_path, laws(HENAN, SHANTOU))), "--no-index", data_dir=data))
    before = snapshot(data)
    message = one_line_error(run_cli("remove", "国发〔2020〕7号", "--no-index", data_dir=data))
    assert "bundled" in message and "guofa-2020-7" in message
    assert snapshot(data) == before
    result = ok(run_cli("remove", TITLES[SHANTOU], "--no-index", data_dir=data))
    assert "removed" in result.stdout and TITLES[SHANTOU] in result.stdout
    docs = documents(run_cli, data)
    assert TITLES[SHANTOU] not in {d["title"] for d in docs.values()} and TITLES[HENAN] in {
        d["title"] for d in docs.values()}
    assert len(list((data / "library" / "docs").iterdir())) == 1


def test_each_corpus_folder_has_its_own_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    default = Settings(data_dir=data)
    other = Settings(corpus_dir=tmp_path / "other", data_dir=data)
    assert default.index_dir != other.index_dir and default.index_dir.parent == other.index_dir.parent == data / "index"
    assert Settings(corpus_dir=PACKAGE_CORPUS_DIR, data_dir=data).index_dir == default.index_dir


# --- slow: a library with an index -------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory, run_cli, laws, qa) -> Path:
    """A data folder: the session's model (hard links), its index of the seeds (copied: the same corpus
    folder, so only the added documents are embedded), and HENAN, SHANTOU and BEIJING added."""
    base = tmp_path_factory.mktemp("library-built")
    data = base / "data"
    source = qa.settings
    shutil.copytree(source.models_dir, data / "models", copy_function=link_or_copy)
    target = Settings(corpus_dir=source.corpus_dir, data_dir=data).index_dir
    shutil.copytree(source.index_dir, target)
    folder = folder_of(base, laws(HENAN, SHANTOU, BEIJING))
    result = ok(run_cli("add", str(folder), data_dir=data))
    assert "index updated" in result.stdout
    return data


@pytest.mark.slow
def test_search_finds_the_added_articles_with_their_citations(built: Path, run_cli, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps({"id": key, "question": q}, ensure_ascii=False) + "\n"
                                 for key, q, _, _ in [*QUESTIONS, (HENAN, INCUBATOR_QUESTION, "", "")]),
                         encoding="utf-8")
    *rows, incubator = [json.loads(line) for line in
                        ok(run_cli("search", "--jsonl", str(questions), "--k", "5", data_dir=built)).stdout.splitlines()]
    assert f"《{TITLES[HENAN]}》第二十七条" in [h["citation"] for h in incubator["hits"]]
    for (key, _, article, phrase), row in zip(QUESTIONS, rows, strict=True):
        citations = [h["citation"] for h in row["hits"]]
        assert f"《{TITLES[key]}》{article}" in citations, (row["question"], citations)
        hit = next(h for h in row["hits"] if h["citation"] == f"《{TITLES[key]}》{article}")
        assert phrase in hit["text"] and hit["source_files"] == [Path(key).name]


@pytest.mark.slow
def test_ask_answers_from_an_added_document_and_still_from_the_seeds(built: Path, run_cli, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "henan", "question": TAX_QUESTION}, {"id": "seed", "question": "外籍人才工作许可年龄能放宽到多少岁？"}]
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    henan, seed = [json.loads(line) for line in
                   ok(run_cli("ask", "--jsonl", str(questions), data_dir=built)).stdout.splitlines()]
    assert not henan["abstained"] and "五百万元" in henan["answer"]
    assert f"《{TITLES[HENAN]}》第十六条" in [c["citation"] for c in henan["citations"]]
    assert not seed["abstained"] and any("国发〔2020〕7号" in c["citation"] for c in seed["citations"])


def _refusal_cases(tmp_path: Path, laws) -> dict[str, tuple[list[str], dict[str, str]]]:
    (outside,) = laws(SHANGHAI_2020)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 8)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    english = tmp_path / "english.txt"
    english.write_text("Minutes of the meeting.\nNothing here is a policy document.\n", encoding="utf-8")
    big = tmp_path / "big" / outside.name
    big.parent.mkdir()
    shutil.copy2(outside, big)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "outside.md").symlink_to(outside)
    (tmp_path / "sub").mkdir()
    return {
        "binary data": ([str(binary)], {}),
        "an empty file": ([str(empty)], {}),
        "no recognisable text": ([str(english)], {}),
        "a file over the size limit": ([str(big)], {"POLICYQA_MAX_UPLOAD_MB": "0.005"}),
        "a path with ..": ([f"{tmp_path / 'sub'}/../big/{outside.name}"], {}),
        "a symlink leaving the folder": ([str(linked)], {}),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", ["binary data", "an empty file", "no recognisable text", "a file over the size limit",
                                  "a path with ..", "a symlink leaving the folder"])
def test_each_refusal_is_one_line_and_changes_nothing(built: Path, run_cli, laws, tmp_path: Path, case: str) -> None:
    paths, env = _refusal_cases(tmp_path, laws)[case]
    before = snapshot(built)
    one_line_error(run_cli("add", *paths, data_dir=built, env=env))
    assert snapshot(built) == before


@pytest.mark.slow
def test_replacing_and_removing_take_the_old_clauses_out_of_answers(built: Path, run_cli, laws, tmp_path: Path) -> None:
    data = copy_data(built, tmp_path / "data")
    (henan,) = laws(HENAN)
    text = henan.read_text(encoding="utf-8")
    cut = text.index("第十七条")
    shorter = tmp_path / "v2" / henan.name
    shorter.parent.mkdir()
    shorter.write_text(text[:cut], encoding="utf-8")  # a "newer version": the same title, articles 1-16 only
    one_line_error(run_cli("add", str(shorter), data_dir=data))
    result = ok(run_cli("add", str(shorter), "--replace", data_dir=data))
    assert "replaced" in result.stdout and "index updated" in result.stdout
    assert "Embedding 0 texts" in result.stderr or "Embedding" not in result.stderr  # its sentences were indexed
    ok(run_cli("remove", TITLES[SHANTOU], data_dir=data))
    asked = [*(q for _, q, _, _ in QUESTIONS), INCUBATOR_QUESTION]
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in asked),
                         encoding="utf-8")
    rows = [json.loads(line) for line in
            ok(run_cli("search", "--jsonl", str(questions), "--k", "10", data_dir=data)).stdout.splitlines()]
    cited = [h["citation"] for row in rows for h in row["hits"]]
    assert not any(c.startswith(f"《{TITLES[SHANTOU]}》") for c in cited)
    henan_cited = {c.removeprefix(f"《{TITLES[HENAN]}》") for c in cited if c.startswith(f"《{TITLES[HENAN]}》")}
    assert "第十六条" in henan_cited and henan_cited <= FIRST_SIXTEEN | {"题注", "序言"}, henan_cited
    assert f"《{TITLES[BEIJING]}》第二十九条" in cited
    docs = documents(run_cli, data)
    assert by_title(docs, TITLES[HENAN])["counts"]["articles"] == 16


# --- SIGKILL during add -------------------------------------------------------------------------

KILLER = '''
import os, signal, sys

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def kill_on(owner, name, nth, after):
    original = getattr(owner, name)
    calls = []
    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) >= nth and not after:
            die()
        result = original(*args, **kwargs)
        if len(calls) >= nth and after:
            die()
        return result
    setattr(owner, name, wrapper)

point = sys.argv[1]
if point == "during extraction":
    import rag.library_checks
    kill_on(rag.library_checks, "extract", 2, after=False)
elif point == "after writing a document folder":
    from rag.library import Library
    kill_on(Library, "write_document", 2, after=True)
elif point == "after recording the pending change":
    from rag.library import Library
    kill_on(Library, "begin", 1, after=True)
elif point == "right after the index switch":
    import index.store
    kill_on(index.store, "_switch_pointer", 1, after=True)
from rag.cli import main
sys.exit(main(sys.argv[2:]))
'''
KILL_POINTS = {
    "during extraction": "old",
    "after writing a document folder": "old",
    "after recording the pending change": "old",
    "during embedding": "old",
    "right after the index switch": "new",
}


def _killed_add(data: Path, folder: Path, point: str, script: Path) -> subprocess.CompletedProcess | None:
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data), PYTHONIOENCODING="utf-8",
               PYTHONPATH=str(root))
    if point != "during embedding":
        return subprocess.run([sys.executable, str(script), point, "add", str(folder)], cwd=root, env=env,
                              capture_output=True, text=True, encoding="utf-8", timeout=900, check=False)
    log = data.parent / f"{data.name}.stderr"
    with open(log, "wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "add", str(folder)], cwd=root, env=env,
                                   stdout=subprocess.DEVNULL, stderr=handle)
        deadline = time.monotonic() + 900
        while b"Embedding" not in log.read_bytes() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the add finished before it could be killed while embedding"
        process.send_signal(signal.SIGKILL)
        process.wait()
    return None


@pytest.mark.slow
def test_sigkill_during_add_leaves_the_old_or_the_new_library_answering(built: Path, run_cli, laws,
                                                                          tmp_path: Path) -> None:
    folder = folder_of(tmp_path, laws(*SMALL), "small")
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    old_ids = set(documents(run_cli, built))
    question = tmp_path / "q.jsonl"
    question.write_text(json.dumps({"id": "henan", "question": TAX_QUESTION}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    for n, (point, expected) in enumerate(KILL_POINTS.items()):
        data = copy_data(built, tmp_path / f"data{n}")
        killed = _killed_add(data, folder, point, script)
        if killed is not None:
            assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        ids = set(documents(run_cli, data))
        new = ids - old_ids
        assert ids >= old_ids and len(new) in (0, len(SMALL)), (point, new)
        assert ("new" if new else "old") == expected, point
        (answer,) = [json.loads(line) for line in
                     ok(run_cli("ask", "--jsonl", str(question), data_dir=data)).stdout.splitlines()]
        assert not answer["abstained"], point
        assert f"《{TITLES[HENAN]}》第十六条" in [c["citation"] for c in answer["citations"]], point
        listing = json.loads((data / "library" / "LIBRARY.json").read_text(encoding="utf-8"))
        assert not (data / "library" / "PENDING.json").exists(), point
        if point == "during embedding":
            # The next add finishes the job and clears what the killed one left.
            ok(run_cli("add", str(folder), data_dir=data))
            listing = json.loads((data / "library" / "LIBRARY.json").read_text(encoding="utf-8"))
            assert len(set(documents(run_cli, data)) - old_ids) == len(SMALL)
            assert {p.name for p in (data / "library" / "docs").iterdir()} == {d["folder"] for d in
                                                                                listing["documents"]}
            # A remove killed right after its index switch is rolled forward too.
            killed = subprocess.run(
                [sys.executable, str(script), "right after the index switch", "remove", TITLES[SHANTOU]],
                cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, encoding="utf-8",
                env=dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data),
                         PYTHONPATH=str(Path(__file__).resolve().parents[1])), timeout=900, check=False)
            assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
            assert TITLES[SHANTOU] not in {d["title"] for d in documents(run_cli, data).values()}
            ok(run_cli("search", "--jsonl", str(question), data_dir=data))  # index and library agree


def test_an_index_of_the_older_layout_moves_to_its_corpus_folder(tmp_path: Path) -> None:
    from rag.indexing import adopt_legacy_index

    data = tmp_path / "data"
    (data / "index" / "versions" / "v1").mkdir(parents=True)
    (data / "index" / "versions" / "v1" / "manifest.json").write_text("{}", encoding="utf-8")
    (data / "index" / "CURRENT").write_text("v1\n", encoding="utf-8")
    root = Settings(data_dir=data).index_dir
    assert adopt_legacy_index(root)
    assert (root / "CURRENT").read_text(encoding="utf-8") == "v1\n"
    assert (root / "versions" / "v1" / "manifest.json").is_file()
    assert not (data / "index" / "CURRENT").exists() and not adopt_legacy_index(root)
