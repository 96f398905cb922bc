"""The corpus API on the real corpus: documents, clauses, metadata, duplicates, lookups, stability."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.clauses import ClauseKind
from rag.corpus import Corpus, load_corpus
from rag.documents import Level, Status
from rag.errors import CorpusError, UnknownReferenceError
from rag.normalize import normalize_for_match
from rag.settings import PACKAGE_CORPUS_DIR
from rag.textio import read_text

HEBEI, HEBEI_WEB = "000_d1e2f62dd4ac9d56.txt", "001_f2cc480d52bcecb0.txt"
SEEDS = sorted(p.name for p in PACKAGE_CORPUS_DIR.glob("[0-9]*.txt"))
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(PACKAGE_CORPUS_DIR)


def _copy_corpus(target: Path, encoding: str = "utf-8") -> Path:
    target.mkdir()
    for name in SEEDS:
        (target / name).write_bytes(read_text(PACKAGE_CORPUS_DIR / name).encode(encoding))
    shutil.copy(PACKAGE_CORPUS_DIR / "metadata.toml", target / "metadata.toml")
    return target


def test_five_files_hold_four_documents(corpus: Corpus) -> None:
    assert sorted(len(d.source_files) for d in corpus.documents) == [1, 1, 1, 2]
    assert sorted(f for d in corpus.documents for f in d.source_files) == SEEDS


@pytest.mark.parametrize(
    ("ref", "sections", "articles", "items"),
    [("国发〔2020〕7号", 7, 21, 0), ("河北", 3, 13, 21), ("江苏", 8, 24, 0), ("四川", 8, 28, 0)],
)
def test_counts_of_sections_articles_and_items(
    corpus: Corpus, ref: str, sections: int, articles: int, items: int
) -> None:
    counts = corpus.counts[corpus.resolve_document(ref).id]
    assert (counts.sections, counts.articles, counts.items) == (sections, articles, items)


def test_every_clause_text_is_the_slice_of_its_first_source_file(corpus: Corpus) -> None:
    texts = {name: read_text(PACKAGE_CORPUS_DIR / name) for name in SEEDS}
    for clause in corpus.clauses:
        start, end = clause.span
        assert texts[clause.source_files[0]][start:end] == clause.text, clause.id


def test_hebei_clauses_come_from_the_simplified_file_and_name_both_files(corpus: Corpus) -> None:
    hebei = corpus.resolve_document("河北")
    assert hebei.source_files == (HEBEI, HEBEI_WEB)
    numbered = [c for c in corpus.clauses_of(hebei.id) if c.kind is not ClauseKind.CLOSING]
    assert all(c.source_files == (HEBEI, HEBEI_WEB) for c in numbered)


def test_signature_and_date_only_the_scraped_copy_prints_are_kept_from_it(corpus: Corpus) -> None:
    closing = corpus.find_clause("河北", "落款")
    assert closing.source_files == (HEBEI_WEB,)
    assert "2020年9月30日" in closing.text


def test_hebei_metadata_merges_what_the_scraped_copy_prints(corpus: Corpus) -> None:
    hebei = corpus.resolve_document("hebei-2020-52")
    assert hebei.title == "河北省人民政府关于促进高新技术产业开发区高质量发展的实施意见"
    assert hebei.title_derived is False
    assert (hebei.doc_number, hebei.date, hebei.issuer) == ("冀政字〔2020〕52号", "2020年9月30日", "河北省人民政府")
    assert hebei.script == "simplified"


def test_documents_without_printed_facts_leave_them_unknown(corpus: Corpus) -> None:
    jiangsu, sichuan = corpus.resolve_document("江苏"), corpus.resolve_document("四川")
    assert jiangsu.title_derived and (jiangsu.doc_number, jiangsu.date, jiangsu.issuer) == (None, None, None)
    assert not sichuan.title_derived and (sichuan.doc_number, sichuan.date, sichuan.issuer) == (None, None, None)
    assert sichuan.status is Status.DRAFT and sichuan.is_draft


def test_state_council_document_facts(corpus: Corpus) -> None:
    guofa = corpus.resolve_document("国务院")
    assert guofa.level is Level.NATIONAL and guofa.region == "全国" and guofa.status is Status.IN_FORCE
    assert (guofa.doc_number, guofa.date) == ("国发〔2020〕7号", "2020年7月13日")


def test_at_least_24_hebei_clauses_name_responsible_units(corpus: Corpus) -> None:
    with_units = [c for c in corpus.clauses_of(corpus.resolve_document("河北").id) if c.responsible_units]
    assert len(with_units) >= 24
    assert corpus.find_clause("河北", "三、（二）").responsible_units == ("省自然资源厅", "省科技厅", "省发展改革委")


def test_at_least_24_sichuan_articles_name_lead_units(corpus: Corpus) -> None:
    sichuan = corpus.resolve_document("四川")
    articles = [c for c in corpus.clauses_of(sichuan.id) if c.kind is ClauseKind.ARTICLE and c.lead_units]
    assert len(articles) >= 24
    clause = corpus.find_clause("四川", "二、（三）")
    assert clause.lead_units == ("科技厅", "各市（州）人民政府")
    assert "省统计局" in clause.participating_units


def test_no_trace_of_scraped_page_junk_in_any_clause(corpus: Corpus) -> None:
    reported = [normalize_for_match(d.line.text) for d in corpus.report(HEBEI_WEB).dropped]
    assert len(reported) >= 10
    # Independent markers too; plain 成人 would not do: 形成人员 is document text.
    markers = [r for r in reported if len(r) >= 4] + [
        "来访者",
        "联系人",
        "成人在线",
        "麻豆",
        "南皮县",
        "0317",
        "字号",
        "首页>",
    ]
    for clause in corpus.clauses:
        folded = normalize_for_match(clause.text)
        for marker in markers:
            assert marker not in folded, (clause.id, marker)


def test_state_council_citation(corpus: Corpus) -> None:
    assert corpus.find_clause("国发〔2020〕7号", "二、（五）").citation == (
        "《国务院关于促进国家高新技术产业开发区高质量发展的若干意见》（国发〔2020〕7号）二、（五）"
    )


def test_hebei_citation_uses_the_printed_title_and_number(corpus: Corpus) -> None:
    assert corpus.find_clause("河北", "二、（一）5.").citation == (
        "《河北省人民政府关于促进高新技术产业开发区高质量发展的实施意见》（冀政字〔2020〕52号）二、（一）5."
    )


def test_every_sichuan_citation_says_it_is_a_draft(corpus: Corpus) -> None:
    clauses = corpus.clauses_of(corpus.resolve_document("四川").id)
    assert clauses and all("征求意见稿" in c.citation for c in clauses)


def test_jiangsu_citation_has_no_number_and_marks_the_supplied_title(corpus: Corpus) -> None:
    citation = corpus.find_clause("江苏", "八、（二十四）").citation
    assert citation == "《江苏省关于促进高新技术产业开发区高质量发展的实施意见》（拟题）八、（二十四）"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_encoded_copies_parse_to_the_same_clauses(tmp_path: Path, corpus: Corpus, encoding: str) -> None:
    copy = load_corpus(_copy_corpus(tmp_path / encoding, encoding))
    assert [(c.id, c.text, c.span, c.source_files) for c in copy.clauses] == [
        (c.id, c.text, c.span, c.source_files) for c in corpus.clauses
    ]


def test_clause_ids_are_stable_across_loads(corpus: Corpus) -> None:
    again = load_corpus(PACKAGE_CORPUS_DIR)
    assert [c.id for c in again.clauses] == [c.id for c in corpus.clauses]
    assert again.content_hash == corpus.content_hash
    assert corpus.clause("hebei-opinions:二.一.5").label == "二、（一）5."


def test_content_hash_follows_the_files(tmp_path: Path, corpus: Corpus) -> None:
    folder = _copy_corpus(tmp_path / "c")
    assert load_corpus(folder).content_hash == corpus.content_hash
    path = folder / "003_23e8893c0c99abef.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert load_corpus(folder).content_hash != corpus.content_hash


@pytest.mark.parametrize(
    "ref",
    ["guofa-2020-7", "国发〔2020〕7号", "国发(2020)7号", "国发7号", "7号文", "国务院", "002_aceb60dd589429a8.txt"],
)
def test_state_council_document_is_found_by_loose_references(corpus: Corpus, ref: str) -> None:
    assert corpus.resolve_document(ref).id == "guofa-2020-7"


@pytest.mark.parametrize("ref", ["河北", "河北省", "冀政字〔2020〕52號", "52号", "hebei-2020-52", HEBEI_WEB])
def test_hebei_document_is_found_by_region_number_and_either_file(corpus: Corpus, ref: str) -> None:
    assert corpus.resolve_document(ref).id == "hebei-opinions"


@pytest.mark.parametrize("label", ["二、（五）", "二（五）", "二(五)", "（五）", "(五)条", "二、（五）条", "第五条"])
def test_label_lookup_tolerates_width_comma_and_tiao(corpus: Corpus, label: str) -> None:
    assert corpus.find_clause("国发7号", label).id == "guofa-2020-7:二.五"


def test_clause_can_be_named_in_one_string(corpus: Corpus) -> None:
    assert corpus.lookup("国发〔2020〕7号二、（五）").id == "guofa-2020-7:二.五"


@pytest.mark.parametrize(
    ("ref", "label", "message"),
    [
        ("上海", "一、（一）", "no document matches '上海'"),
        ("河北", "（一）", "ambiguous"),
        ("河北", "二、（一）", "no text of its own"),
        ("河北", "九、（一）", "no clause"),
        ("河北", "发展目标", "not a clause label"),
    ],
)
def test_unknown_references_say_what_exists(corpus: Corpus, ref: str, label: str, message: str) -> None:
    with pytest.raises(UnknownReferenceError, match=message):
        corpus.find_clause(ref, label)


def test_metadata_fact_not_printed_in_the_file_is_refused(tmp_path: Path) -> None:
    folder = _copy_corpus(tmp_path / "c")
    meta = folder / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("国发〔2020〕7号", "国发〔2020〕8号"), encoding="utf-8")
    with pytest.raises(CorpusError, match="not printed"):
        load_corpus(folder)


def test_policy_file_without_metadata_is_read_from_its_text(tmp_path: Path) -> None:
    folder = _copy_corpus(tmp_path / "c")
    (folder / "005_new.txt").write_text("关于促进某区高新技术发展的若干措施\n各单位：\n一、总则\n（一）目标。\n", encoding="utf-8")
    corpus = load_corpus(folder)
    document = corpus.document("005_new.txt")
    assert (document.title, document.title_derived) == ("关于促进某区高新技术发展的若干措施", False)
    assert document.evidence_of("title").line == 1
    assert len(corpus.documents) == 5 and corpus.clauses_of(document.id)


def test_metadata_toml_is_optional(tmp_path: Path) -> None:
    folder = _copy_corpus(tmp_path / "c")
    (folder / "metadata.toml").unlink()
    (folder / "terms.txt").write_text("高新区\n", encoding="utf-8")
    corpus = load_corpus(folder)
    assert len(corpus.documents) >= 4
    assert {c.text for c in corpus.clauses} >= {c.text for c in load_corpus(PACKAGE_CORPUS_DIR).clauses_of("guofa-2020-7")}


@pytest.mark.skipif(not EVAL.exists(), reason="the shared evaluation questions are not next to this checkout")
def test_every_expected_quote_of_the_dev_questions_lies_in_a_clause(corpus: Corpus) -> None:
    missing = []
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        question = json.loads(line)
        for expected in question["expected"]:
            same_doc = corpus.document(expected["doc"]).id
            quote = normalize_for_match(expected["quote"])
            if not any(quote in normalize_for_match(c.text) for c in corpus.clauses_of(same_doc)):
                missing.append((question["id"], expected["quote"]))
    # 001 prints 众创空间—孵化器 with dashes where 000, whose text the clause holds, prints hyphens.
    assert missing == [("d036", "完善“眾創空間—孵化器—加速器”科技企業孵化育成鏈條")]
