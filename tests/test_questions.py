"""What a question asks (rag.questions.analyse) and which quantities it asks for and sentences state
(rag.evidence): pure functions over text, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.evidence import (
    CorpusYears,
    Quantity,
    asked_quantities,
    missing_quantities,
    states,
    states_any_number,
    year_like_numbers,
    years_in,
)
from rag.normalize import normalize
from rag.questions import (
    ArticleRef,
    Intent,
    analyse,
    article_reference,
    literal_phrases,
)
from rag.registry import Registry

REGISTRY = Registry.of(load_corpus(Path(__file__).resolve().parents[1] / "corpus").documents)


def ask(question: str):
    return analyse(normalize(question), REGISTRY)


# --- regions -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("question", "regions"),
    [
        ("河北对高新区人才有什么支持？", ("河北",)),
        ("江苏省的高新区土地政策", ("江苏",)),
        ("四川征求意见稿里的金融措施", ("四川",)),
        ("国务院文件对科技金融怎么规定？", ("全国",)),
        ("國務院的意見裡有沒有提到技術經紀人？", ("全国",)),
        ("河北和江苏的人才政策", ("河北", "江苏")),
        ("What does Hebei say about venture capital?", ("河北",)),
        ("Compare Jiangsu and Sichuan on land use", ("江苏", "四川")),
        ("What does the State Council say about talent?", ("全国",)),
        ("国家和河北、江苏都鼓励设科技支行吗？", ("全国", "河北", "江苏")),
        ("冀、川两省对领军企业分别给予哪些支持？", ("河北", "四川")),
        ("苏川两省的土地政策有何不同？", ("江苏", "四川")),
        ("川省对瞪羚企业有什么支持？", ("四川",)),
    ],
)
def test_regions_named_in_the_question_are_found(question, regions):
    assert set(ask(question).regions) == set(regions)


@pytest.mark.parametrize("question", ["经济复苏阶段高新区有什么扶持？", "京津冀协同发展方面高新区要做什么？"])
def test_one_character_names_inside_other_words_name_no_region(question):
    assert ask(question).regions == ()


def test_a_city_without_documents_of_its_own_stands_for_its_province():
    analysis = ask("苏州工业园区算不算高新区？")
    assert analysis.regions == ("苏州",)
    assert [d.region for d in REGISTRY.documents_for(analysis.regions)] == ["江苏"]


@pytest.mark.parametrize("question", ["国家高新区可以申请综合保税区吗？", "高新区如何建设国家重点实验室？"])
def test_national_high_tech_zone_is_not_a_reference_to_the_national_document(question):
    assert ask(question).regions == ()


@pytest.mark.parametrize(
    ("question", "uncovered"),
    [
        ("浙江对高新区有什么奖励？", ("浙江",)),
        ("广东省高新区升格给多少钱？", ("广东",)),
        ("What does Zhejiang offer high-tech zones?", ("浙江",)),
        ("上海和北京的高新区政策", ("上海", "北京")),
    ],
)
def test_uncovered_province_is_detected(question, uncovered):
    analysis = ask(question)
    assert set(analysis.other_regions) == set(uncovered)
    assert analysis.names_uncovered_region_only


def test_question_naming_a_covered_and_an_uncovered_province_is_not_uncovered_only():
    analysis = ask("江苏和浙江的高新区政策有什么不同？")
    assert analysis.regions == ("江苏",) and analysis.other_regions == ("浙江",)
    assert not analysis.names_uncovered_region_only


def test_covered_province_is_not_reported_uncovered():
    assert ask("河北高新区的金融支持").other_regions == ()


# --- article references --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("question", "ref"),
    [
        ("国发7号文第（十五）条讲什么", ArticleRef(None, "十五", None)),
        ("国务院意见第十五条讲什么", ArticleRef(None, "十五", None)),
        ("四川征求意见稿二、（三）", ArticleRef("二", "三", None)),
        ("河北实施意见二、（五）2.是什么", ArticleRef("二", "五", "2")),
        ("江苏第(二十)条", ArticleRef(None, "二十", None)),
        ("國務院意見第（十五）條講什麼", ArticleRef(None, "十五", None)),
    ],
)
def test_article_references_are_read(question, ref):
    assert article_reference(normalize(question)) == ref


@pytest.mark.parametrize("question", ["外籍人才工作许可年龄能放宽到多少岁？", "江苏有哪些措施支持新型研发机构？"])
def test_question_without_an_article_has_no_reference(question):
    assert article_reference(normalize(question)) is None


def test_asking_what_an_article_says_is_an_article_question():
    assert ask("国发7号文第（十五）条讲什么").intent is Intent.ARTICLE


# --- intents -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "question",
    [
        "河北和江苏在科技金融上分别有什么措施？",
        "对比一下江苏和四川的人才政策",
        "各省对高新区的土地政策有什么不同？",
        "国家和各省对外籍人才的规定一样吗？",
        "Compare the talent policies of Hebei and Jiangsu",
        "国家和三个省的文件是否都提到了知识产权质押？",
        "四份文件都涉及人才引进吗？",
    ],
)
def test_comparison_questions_have_compare_intent(question):
    assert ask(question).intent is Intent.COMPARE


@pytest.mark.parametrize(
    "question",
    ["四川金融服务那条措施的牵头单位是谁？", "河北高新区规划由哪个部门负责？", "Which department leads Sichuan's land measure?"],
)
def test_responsibility_questions_have_responsible_intent(question):
    assert ask(question).intent is Intent.RESPONSIBLE


@pytest.mark.parametrize("question", ["河北对落后高新区的主要负责人会怎么处理？", "高新区负责同志可以兼任吗？"])
def test_questions_about_the_person_in_charge_are_not_about_the_responsible_unit(question):
    assert ask(question).intent is not Intent.RESPONSIBLE


@pytest.mark.parametrize("question", ["京津冀协同发展在各份文件里分别怎么提的？", "各文件对京津冀是怎么表述的？"])
def test_beijing_tianjin_hebei_names_no_province_and_every_document_is_compared(question):
    analysis = ask(question)
    assert analysis.regions == () and analysis.intent is Intent.COMPARE


@pytest.mark.parametrize("question", ["7号文第（十五）条讲了什么？", "冀政字52号是什么时候发的？"])
def test_documents_named_by_their_number(question):
    assert len(ask(question).regions) == 1


@pytest.mark.parametrize("question", ["江苏有多少家省级以上高新区？", "外籍人才居留许可最长几年？"])
def test_how_many_questions_have_number_intent(question):
    assert ask(question).intent is Intent.NUMBER


def test_plain_question_is_a_fact_question():
    assert ask("四川和重庆共建西部科学城采用什么模式？").intent is Intent.FACT


# --- years and language --------------------------------------------------------------------------

def test_years_are_read_in_order_without_repeats():
    assert ask("到2025年和2035年，2025年的目标分别是什么？").years == ("2025", "2035")


def test_a_question_without_a_year_has_none():
    assert ask("高新区有多少个重点发展的产业？").years == ()


@pytest.mark.parametrize(
    ("question", "english"),
    [("Which departments lead Sichuan's finance measure?", True), ("四川金融措施的牵头单位", False),
     ("R字签证 visa", False), ("What does 国发〔2020〕7号 say about talent?", True)],
)
def test_english_questions_are_recognised(question, english):
    assert ask(question).is_english is english


# --- quantities asked and stated (rag.evidence) --------------------------------------------------

@pytest.mark.parametrize(
    ("question", "quantities"),
    [
        ("省里给每家孵化器补贴多少钱？", {Quantity.MONEY}),
        ("IPO上市能拿到几万元奖励？", {Quantity.MONEY}),
        ("外国专家的年龄上限能放宽到几岁？", {Quantity.AGE}),
        ("R字签证的有效期是多久？", {Quantity.DURATION}),
        ("研发投入要占到营业收入的多大比例？", {Quantity.SHARE}),
        ("每家高新区最多确定几个主导产业？", {Quantity.COUNT}),
        ("How old can foreign experts be when they apply?", {Quantity.AGE}),
        ("How much money does Sichuan give for an IPO?", {Quantity.MONEY}),
        ("How many years can the visa last?", {Quantity.DURATION}),
        ("How many zones does Jiangsu plan?", {Quantity.COUNT}),
        ("江苏有几个国家高新区，分别在哪里？", {Quantity.COUNT}),
        ("R字签证的有效期是多久，每次能停留几天？", {Quantity.DURATION}),
        ("这份条例是哪一天开始施行的？", {Quantity.DATE}),
        ("申报截止到什么时候？", {Quantity.DATE}),
        ("When was the opinion issued?", {Quantity.DATE}),
    ],
)
def test_questions_ask_for_the_quantity_their_words_name(question, quantities):
    assert asked_quantities(question).quantities == quantities


@pytest.mark.parametrize(
    "question",
    [
        "四川对瞪羚企业有哪些支持？",
        "牵头单位是谁？",
        "What does Jiangsu say about land?",
        "一个大园区把旁边几个小园区接过来统一管了，那些小园区的收入怎么分？",
        "要是几家企业联合申报了，项目归谁管？",
        "When provinces draw up their land plans, what should they consider?",
        "企业什么时候可以享受加计扣除？",
    ],
)
def test_questions_asking_no_number_ask_for_no_quantity(question):
    assert not asked_quantities(question).wants_number


@pytest.mark.parametrize(
    ("sentence", "quantity"),
    [
        ("对新认定的企业一次性给予50万元奖励。", Quantity.MONEY),
        ("最高补助2000元/平方米。", Quantity.MONEY),
        ("申请年龄可放宽至60周岁。", Quantity.AGE),
        ("许可有效期最长3年。", Quantity.DURATION),
        ("审批在15个工作日内办结。", Quantity.DURATION),
        ("财政资金占比不低于30%。", Quantity.SHARE),
        ("每个园区培育3家以上龙头企业。", Quantity.COUNT),
        ("本条例自2012年3月1日起施行。", Quantity.DATE),
        ("每年3月30日前报送年度报告。", Quantity.DATE),
        ("二〇二〇年七月十三日", Quantity.DATE),
    ],
)
def test_sentences_state_the_quantity_their_units_name(sentence, quantity):
    assert states(sentence, quantity)


@pytest.mark.parametrize(
    ("sentence", "quantity"),
    [
        ("省级财政给予一次性奖补。", Quantity.MONEY),
        ("加大对人才的支持力度。", Quantity.AGE),
        ("加快建设创新平台。", Quantity.COUNT),
        ("支持金融机构开展知识产权质押。", Quantity.SHARE),
        ("新布局建设一批省级高新区。", Quantity.DATE),
    ],
)
def test_sentences_without_that_quantity_do_not_state_it(sentence, quantity):
    assert not states(sentence, quantity)


@pytest.mark.parametrize("sentence", ["到2025年，建成一批创新型特色园区。", "2030年前完成园区整合。"])
def test_a_calendar_year_is_not_a_duration(sentence):
    """"2025年" dates a goal; it does not say how long anything lasts."""
    assert not states(sentence, Quantity.DURATION)


@pytest.mark.parametrize("sentence", ["加快建设一批创新平台。", "培育一批瞪羚企业。"])
def test_a_batch_is_not_a_count(sentence):
    """"一批" (a number of) answers no "how many" question."""
    assert not states(sentence, Quantity.COUNT)


def test_missing_quantities_are_those_no_sentence_states():
    asked = asked_quantities("补贴多少钱，期限多久？")
    assert asked.quantities == {Quantity.MONEY, Quantity.DURATION}
    assert missing_quantities(asked, ["补助期限为3年。", "加大支持力度。"]) == {Quantity.MONEY}
    assert missing_quantities(asked, ["补助期限为3年，每年补助100万元。"]) == frozenset()


def test_any_number_counts_digits_and_chinese_numerals_with_units():
    assert states_any_number("培育10家企业")
    assert states_any_number("建设三个平台")
    assert not states_any_number("加大支持力度")


@pytest.mark.parametrize(
    "sentence",
    ["可以从技术转让所得的净收入中提取不低于百分之三十，用于一次性奖励科技成果完成人", "每人补助五百万元", "放宽至六十五周岁"],
)
def test_a_measure_in_chinese_numerals_is_a_figure(sentence):
    """A share, an amount or an age written out (百分之三十) answers "多少？" as digits would."""
    assert states_any_number(sentence)
    assert missing_quantities(asked_quantities("可以提取净收入的多少？"), [sentence]) == frozenset()


@pytest.mark.parametrize(
    "question",
    ["国务院文件对国家高新区有什么要求？", "国家高新区的总体目标是什么？", "江苏这边，搞科研的单位想在园区里开公司，省里给不给钱？"],
)
def test_a_question_about_one_document_is_no_comparison(question):
    assert ask(question).intent is not Intent.COMPARE


@pytest.mark.parametrize(
    "question",
    ["What is the maximum subsidy for a new incubator?", "What's the minimum investment per mu?", "补贴的上限是什么？"],
)
def test_asking_for_a_limit_asks_for_a_number(question):
    assert asked_quantities(question).wants_number


def test_a_year_asked_as_a_year_must_be_a_year_in_the_corpus():
    years = CorpusYears.of(["到2025年，支持高新区积极参与科技创新2030重大项目"])
    assert years.unknown_in("江苏到2030年高新区要达到什么目标？") == ["2030"]
    assert years.unknown_in("Does Jiangsu join the Innovation 2030 projects?") == []
    assert years.unknown_in("到2025年要有几家？") == [] and years.unknown_in("2040年的目标？") == ["2040"]


def test_a_number_inside_a_name_is_a_year_like_number_but_not_an_asked_year():
    """科技创新2030重大项目 names 2030: a clause mentioning it covers questions about "2030"."""
    assert year_like_numbers("参与科技创新2030重大项目，到2025年") == ("2030", "2025")
    assert years_in("参与科技创新2030重大项目") == ()
    assert years_in("补助2000万元") == () and year_like_numbers("编号12345") == ()


def test_years_in_text_are_found_once_each():
    assert years_in("到2025年……到2035年，2025年目标") == ("2025", "2035")
    assert years_in("编号12345") == ()


def test_literal_phrases_are_quoted_text_and_chinese_inside_english():
    assert literal_phrases("推动“万企转型”和「一区多园」吗?", english=False) == ("万企转型", "一区多园")
    assert literal_phrases('What is the "双招双引" policy or 链长制?', english=True) == ("双招双引", "链长制")
    assert literal_phrases("高新区有哪些政策？", english=False) == ()
