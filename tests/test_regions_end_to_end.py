"""Issue 10 end to end: the product answers for regions the bundled seeds do not cover.

One library per module: the five seed files plus three real local regulations of regions outside
them — 山东 (a province), 上海 (a municipality) and 青岛 (a prefecture-level city of 山东) — read at
test time from ../shared/scale/laws-md.tar.xz and added through the real library path
(rag.library_changes.add_documents, what `policy-rag add` runs) with the real embedding model. The
seeds' index is copied from the session's, so only the three added regulations are embedded.

Every question was written from the regulations' text, and each expected article was checked by
reading it there; the tests ask through PolicyQA.ask, what `policy-rag ask` and the chat call (a
follow-up carries the earlier turns' resolved questions, as ui/chat.py passes them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from rag.results import Answer
from rag.service import PolicyQA
from rag.settings import Settings

pytestmark = pytest.mark.slow

SHANDONG_MEMBER = "DLC/山东地方法规/地方性法规/山东/山东省促进科技成果转化条例(2017-12-01).md"
SHANGHAI_MEMBER = "DLC/上海地方法规/地方性法规/上海/上海市促进科技成果转化条例(2017-04-20).md"
QINGDAO_MEMBER = "DLC/山东地方法规/地方性法规/山东/青岛市科技创新促进条例(2011-07-29).md"
ADDED = (SHANDONG_MEMBER, SHANGHAI_MEMBER, QINGDAO_MEMBER)

# Each document by its first source file: an added one's is the file's own name.
SHANDONG = Path(SHANDONG_MEMBER).name
SHANGHAI = Path(SHANGHAI_MEMBER).name
QINGDAO = Path(QINGDAO_MEMBER).name
NATIONAL = "002_aceb60dd589429a8.txt"
HEBEI = "000_d1e2f62dd4ac9d56.txt"  # with its traditional-script copy 001_f2cc480d52bcecb0.txt
JIANGSU = "003_23e8893c0c99abef.txt"
SICHUAN = "004_29b2e8ee0b403d2c.txt"
ALL_DOCUMENTS = (NATIONAL, HEBEI, JIANGSU, SICHUAN, SHANDONG, SHANGHAI, QINGDAO)

ITEM_RATE = (
    "the rate is item （一） of 第三十四条, a one-sentence clause: dense and BM25 both rank it near the top, but "
    "multi-sentence articles of the same chapter (第三十三、三十五、四十二条) outrank it in rag/retrieval.py's "
    "clause score, where a clause's whole-clause passage counts as a second matching sentence "
    "(SECOND_PASSAGE_WEIGHT); the top three then state no rate and the answer abstains or quotes another item. "
    "Counting only distinct sentences fixed the ranking but lowered dev MRR 0.945→0.924 and heldout2 hit@5 "
    "0.981→0.963, so it is left for a redesign of clause scoring"
)


@pytest.fixture(scope="module")
def library(tmp_path_factory, laws, qa) -> PolicyQA:
    """The seeds and the three regulations, added as `policy-rag add` adds them, with an index."""
    from rag.library_changes import Verdict, add_documents

    data = tmp_path_factory.mktemp("regions-e2e") / "data"
    shutil.copytree(qa.settings.models_dir, data / "models", copy_function=_link_or_copy)
    settings = Settings(corpus_dir=qa.settings.corpus_dir, data_dir=data)
    shutil.copytree(qa.settings.index_dir, settings.index_dir)
    report = add_documents(settings, laws(*ADDED))
    assert [o.verdict for o in report.outcomes] == [Verdict.ADDED] * len(ADDED), report.outcomes
    assert report.index is not None
    return PolicyQA.open(settings)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def ask(qa: PolicyQA, *turns: str) -> list[Answer]:
    """A conversation as the chat holds it: each turn asked with the earlier turns' resolved questions."""
    answers: list[Answer] = []
    for turn in turns:
        answers.append(qa.ask(turn, history=[a.resolved_question for a in answers]))
    return answers


def cited_documents(answer: Answer) -> set[str]:
    """The documents an answer cites, each by its first source file."""
    return {c.clause.source_files[0] for c in answer.citations}


def cited_labels(answer: Answer, document: str) -> set[str]:
    return {c.clause.label for c in answer.citations if c.clause.source_files[0] == document}


def check_answer(answer: Answer, expected: Mapping[str, str | Iterable[str] | None]) -> None:
    """Answered, citing exactly the expected documents, each with one of its expected articles (any
    where None)."""
    shown = f"{answer.resolved_question}\n{answer.text}"
    assert not answer.abstained, shown
    assert cited_documents(answer) == set(expected), shown
    for document, labels in expected.items():
        if labels is None:
            continue
        wanted = {labels} if isinstance(labels, str) else set(labels)
        assert cited_labels(answer, document) & wanted, (document, wanted, shown)


# --- the library ------------------------------------------------------------------------------------


def test_the_added_regulations_are_known_by_their_places(library: PolicyQA) -> None:
    by_file = {d.source_files[0]: d for d in library.corpus.documents}
    assert {f: (by_file[f].region, by_file[f].city, by_file[f].level.value) for f in (SHANDONG, SHANGHAI, QINGDAO)} == {
        SHANDONG: ("山东", None, "provincial"),
        SHANGHAI: ("上海", None, "provincial"),
        QINGDAO: ("山东", "青岛", "city"),
    }
    assert by_file[QINGDAO].title == "青岛市科技创新促进条例"


# --- 1. a question naming one new region cites only that region's document ---------------------------


@pytest.mark.parametrize(
    ("question", "document", "article", "phrase"),
    [
        # 上海 第十八条: 于每年3月30日前 … 提交上一年度科技成果转化情况年度报告 (山东 says 三月底前).
        ("上海的研发机构、高等院校要在每年几月几日前提交科技成果转化年度报告？", SHANGHAI, "第十八条", "3月30日"),
        # 济南 has no regulation of its own: its province's applies (山东 第二十二条).
        ("济南的高校在校学生可以休学开展科技成果转化吗？", SHANDONG, "第二十二条", "休学开展科技成果转化"),
        # 青岛 第四十一条: 技术转让所得的净收入中提取不低于百分之三十 (山东's own rate is 百分之七十).
        # (Quoted the article's 一年内未实施转化 sentence, for its 一年, until a share written out in
        # Chinese numerals counted as a figure: rag/evidence.py.)
        ("青岛市科研机构以技术转让方式转化职务科技成果，可以提取净收入的多少奖励完成人？", QINGDAO, "第四十一条",
         "百分之三十"),
        # 山东 第三十四条（一）: 从该项科技成果转让净收入…中提取不低于百分之七十的比例.
        pytest.param(
            "山东省政府设立的高校转让职务科技成果，给做出重要贡献人员的奖励不低于净收入的多少？", SHANDONG,
            "第三十四条（一）", "百分之七十", marks=pytest.mark.xfail(strict=True, reason=ITEM_RATE)),
    ],
    ids=["shanghai-report-date", "jinan-falls-back-to-shandong", "qingdao-transfer-rate", "shandong-transfer-rate"],
)
def test_a_question_naming_a_new_region_cites_only_its_document(
    library: PolicyQA, question: str, document: str, article: str, phrase: str
) -> None:
    (answer,) = ask(library, question)
    check_answer(answer, {document: article})
    assert phrase in answer.text, answer.text


def test_a_city_with_its_own_regulation_is_not_answered_from_its_provinces(library: PolicyQA) -> None:
    """青岛 第三十六条 on housing and the placement of spouses and children of high-level talent; the
    山东 regulation, a province's, is not 青岛's."""
    (answer,) = ask(library, "青岛对高层次优秀人才在住房、配偶及子女安置方面有什么便利？")
    check_answer(answer, {QINGDAO: "第三十六条"})


# --- 2. comparisons naming a new region and a seed region ---------------------------------------------

COMPARISONS = {
    # 山东 第二十五条 科技金融服务平台; 江苏 七、（二十一） 多样化科技金融服务.
    "山东和江苏在科技金融上有什么不同？": {SHANDONG: "第二十五条", JIANGSU: "七、（二十一）"},
    # 上海 第二十二条 众创空间…孵化场地 or 第十九条（五） 科技创业孵化服务; 河北 二、（二）4. 科技企业孵化器.
    "上海和河北对科技企业孵化有什么规定？": {SHANGHAI: ("第二十二条", "第十九条（五）"), HEBEI: "二、（二）4."},
    # 青岛 第三十六条 高层次优秀人才…住房、配偶及子女安置; 四川 三、（十） 人才政策…住房保障、医疗保险、子女入学.
    "青岛和四川在吸引高层次人才方面有什么不同？": {QINGDAO: "第三十六条", SICHUAN: "三、（十）"},
    # 上海 第三十四条（三） 连续五年…不低于百分之五; 山东 第三十四条（三） 连续三至五年…不低于百分之十.
    "上海和山东对职务科技成果自行实施转化的奖励比例有什么不同？": {
        SHANGHAI: "第三十四条（三）", SHANDONG: "第三十四条（三）"},
}


@pytest.mark.parametrize("question", list(COMPARISONS))
def test_a_comparison_of_a_new_and_a_seed_region_cites_both_documents(library: PolicyQA, question: str) -> None:
    (answer,) = ask(library, question)
    assert not answer.abstained, answer.text
    assert cited_documents(answer) == set(COMPARISONS[question]), answer.text
    assert {row.document.source_files[0] for row in answer.comparison if row.found} == set(COMPARISONS[question])


@pytest.mark.parametrize("question", list(COMPARISONS))
def test_each_compared_document_is_quoted_at_its_article_on_the_topic(library: PolicyQA, question: str) -> None:
    (answer,) = ask(library, question)
    check_answer(answer, COMPARISONS[question])


# --- 3. one-character abbreviations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A list of abbreviations: 鲁 (山东) and 沪 (上海), both 第三十四条（一） (百分之七十 each).
        ("鲁、沪两地对职务科技成果转让净收入的奖励比例分别是多少？",
         {SHANDONG: "第三十四条（一）", SHANGHAI: "第三十四条（一）"}),
        # An unbroken run: 苏 (江苏, a seed) and 鲁.
        ("苏鲁两省在科技金融方面有什么措施？", {JIANGSU: "七、（二十一）", SHANDONG: "第二十五条"}),
        # 鲁省: 山东 第二十二条 (高等学校在校学生…可以休学开展科技成果转化活动).
        ("鲁省高校在校学生能休学开展科技成果转化吗？", {SHANDONG: "第二十二条"}),
        # 在沪: 上海 第十八条 (3月30日前).
        pytest.param("在沪高校职务科技成果转化的年度报告要在什么时候之前提交？", {SHANGHAI: "第十八条"},
                     marks=pytest.mark.xfail(strict=True, reason=(
                         "a lone abbreviation is read as a place only in a list or run (鲁、沪, 苏鲁), before 省 "
                         "(鲁省) or opening a document number; 在沪 (and 来沪, 赴京) is not, so the question is "
                         "not narrowed to 上海 and 山东 第十五条 (三月底前) leads the answer. Reading it needs to know "
                         "沪 stands alone as a word there (在京东, 在晋升 must stay no place): a segmenter in "
                         "rag/gazetteer.py, not a cue list"))),
    ],
    ids=["list-lu-hu", "run-su-lu", "lu-sheng", "zai-hu"],
)
def test_one_character_abbreviations_name_the_new_regions(
    library: PolicyQA, question: str, expected: dict[str, str]
) -> None:
    (answer,) = ask(library, question)
    check_answer(answer, expected)


# --- 4. English names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does Qingdao offer high-level talent in housing and placement of spouses and children?",
         {QINGDAO: "第三十六条"}),
        # 上海 第十四条 (融资, 信用担保, 保险) or 第十三条 (创业投资引导基金); 江苏 七、（二十一）.
        ("How do Shanghai and Jiangsu differ on financial support for technology companies?",
         {SHANGHAI: ("第十三条", "第十四条"), JIANGSU: "七、（二十一）"}),
        pytest.param(
            "In Shandong, what share of the net income from transferring a job-related scientific achievement goes "
            "to the people who made it?", {SHANDONG: "第三十四条（一）"},
            marks=pytest.mark.xfail(strict=True, reason=ITEM_RATE)),
    ],
    ids=["qingdao-talent", "shanghai-vs-jiangsu-finance", "shandong-transfer-rate"],
)
def test_english_questions_name_the_new_regions(library: PolicyQA, question: str, expected: dict[str, str]) -> None:
    (answer,) = ask(library, question)
    check_answer(answer, expected)
    assert answer.text.startswith("According to the policy documents"), answer.text


# --- 5. follow-ups -------------------------------------------------------------------------------------


def test_a_followup_moves_from_a_seed_region_to_a_new_one(library: PolicyQA) -> None:
    first, then = ask(library, "江苏对科技金融有什么措施？", "那山东呢？")
    check_answer(first, {JIANGSU: "七、（二十一）"})
    assert "山东" in then.resolved_question and "科技金融" in then.resolved_question
    check_answer(then, {SHANDONG: "第二十五条"})


def test_a_followup_moves_from_a_new_region_to_a_seed_one(library: PolicyQA) -> None:
    first, then = ask(library, "上海对引进外籍科技成果转化人才有什么便利？", "那四川呢？")
    check_answer(first, {SHANGHAI: "第二十九条"})  # 入境签证、居留许可和就业许可…简化程序、放宽条件
    assert "四川" in then.resolved_question and "上海" not in then.resolved_question
    assert not then.abstained and cited_documents(then) == {SICHUAN}, then.text


def test_an_english_followup_moves_from_a_seed_region_to_a_new_city(library: PolicyQA) -> None:
    first, then = ask(library, "What financial support does Hebei give to technology companies?", "What about Qingdao?")
    assert not first.abstained and cited_documents(first) == {HEBEI}, first.text
    assert "Qingdao" in then.resolved_question and "Hebei" not in then.resolved_question
    assert not then.abstained and cited_documents(then) == {QINGDAO}, then.text


def test_a_followup_moves_from_a_new_city_to_a_new_province_level_region(library: PolicyQA) -> None:
    first, then = ask(library, "青岛对科研机构技术转让职务成果的奖励比例是多少？", "那上海呢？")
    check_answer(first, {QINGDAO: "第四十一条"})
    assert "百分之三十" in first.text, first.text
    assert not then.abstained and cited_documents(then) == {SHANGHAI}, then.text


def test_the_followups_rate_is_the_new_regions_own(library: PolicyQA) -> None:
    """上海 第三十四条（一）: 转让净收入…中提取不低于百分之七十 (not （三）'s 百分之五 for results put to use)."""
    _, then = ask(library, "青岛对科研机构技术转让职务成果的奖励比例是多少？", "那上海呢？")
    check_answer(then, {SHANGHAI: "第三十四条（一）"})
    assert "百分之七十" in then.text, then.text


# --- 6. a region with no document, named beside a covered one -------------------------------------------


@pytest.mark.parametrize(
    ("question", "uncovered_note", "expected"),
    [
        # Any 山东 article: the rate itself (第三十四条（一）) is ITEM_RATE's case above.
        ("广东和山东对职务科技成果转让的奖励比例有什么规定？", "文件库中没有广东的文件", {SHANDONG: None}),
        ("浙江和上海在科技成果转化年度报告上有什么要求？", "文件库中没有浙江的文件", {SHANGHAI: "第十八条"}),
        ("How do Guangdong and Shanghai differ on the annual report on transforming scientific achievements?",
         "The library holds no document of Guangdong", {SHANGHAI: "第十八条"}),
    ],
    ids=["guangdong-shandong", "zhejiang-shanghai", "english-guangdong-shanghai"],
)
def test_an_uncovered_region_is_said_to_have_no_document_and_the_covered_one_is_answered(
    library: PolicyQA, question: str, uncovered_note: str, expected: dict[str, str]
) -> None:
    (answer,) = ask(library, question)
    check_answer(answer, expected)
    assert uncovered_note in answer.text, answer.text


def test_a_question_about_an_uncovered_region_alone_abstains(library: PolicyQA) -> None:
    (answer,) = ask(library, "广东对职务科技成果转让的奖励比例有什么规定？")
    assert answer.abstained and "不涉及广东" in answer.text, answer.text


# --- 7. comparisons over five or more documents ------------------------------------------------------------


def test_every_document_is_compared_when_asked_about_all_regions(library: PolicyQA) -> None:
    """Each of the seven documents speaks of incubators (孵化器, 孵化机构 or 孵化服务)."""
    (answer,) = ask(library, "各地对科技企业孵化器有什么规定？")
    assert not answer.abstained, answer.text
    assert cited_documents(answer) == set(ALL_DOCUMENTS), answer.text
    assert all("孵化" in c.clause.text for c in answer.citations), answer.text


def test_five_named_regions_are_each_answered_from_their_own_document(library: PolicyQA) -> None:
    (answer,) = ask(library, "国务院、河北、江苏、山东、上海对科技金融分别有什么措施？")
    check_answer(answer, {
        NATIONAL: "六、（十七）",  # 加强金融服务
        HEBEI: "二、（六）3.",  # 完善创新生态: 加强金融服务
        JIANGSU: "七、（二十一）",  # 加强金融服务
        SHANDONG: ("第二十五条", "第二十六条", "第二十七条"),  # 科技金融服务平台, 直接融资, 引导基金
        SHANGHAI: ("第十三条", "第十四条"),  # 创业投资引导基金, 融资与信用担保
    })
    assert len(answer.comparison) == 5 and all(row.found for row in answer.comparison)
