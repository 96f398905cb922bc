"""The registry reads places and documents from the library's metadata and the gazetteer: any
province or city by any of its names, national documents by their issuer's words or number, names
of documents from issuer, place and genre. Synthetic documents from regions the seeds don't cover
stand in for a grown library here; tests/test_library_questions.py asks real ones."""

from __future__ import annotations

import pytest

from rag.documents import Document, Level, Status
from rag.normalize import normalize
from rag.questions import analyse, document_constraint
from rag.registry import Registry


def _doc(doc_id: str, title: str, level: Level, region: str, city: str | None = None, number: str | None = None,
         issuer: str | None = None, status: Status = Status.IN_FORCE, date: str | None = None) -> Document:
    return Document(
        id=doc_id, title=title, title_derived=False, issuer=issuer, doc_number=number, date=date, level=level,
        region=region, status=status, script="simplified", source_files=(f"{doc_id}.md",), city=city,
    )


LIBRARY = (
    _doc("gd", "广东省自主创新促进条例", Level.PROVINCIAL, "广东", date="2019-09-25"),
    _doc("sz", "深圳经济特区科技创新条例", Level.CITY, "广东", city="深圳", date="2020-08-26"),
    _doc("zj", "浙江省促进科技成果转化条例", Level.PROVINCIAL, "浙江", date="2021-09-30"),
    _doc("nat", "国务院关于某事的若干意见", Level.NATIONAL, "全国", number="国发〔2019〕12号", issuer="国务院",
         date="2019-03-01"),
    _doc("hn", "河南省某事实施意见（征求意见稿）", Level.PROVINCIAL, "河南", status=Status.DRAFT),
)
REGISTRY = Registry.of(LIBRARY)


def regions(question: str) -> tuple[str, ...]:
    return analyse(normalize(question), REGISTRY).regions


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("广东省对新型研发机构有什么支持？", ("广东",)),
        ("广东对新型研发机构有什么支持？", ("广东",)),
        ("粤、浙两省对新型研发机构有什么支持？", ("广东", "浙江")),
        ("What does Guangdong's regulation say about new R&D institutions?", ("广东",)),
        ("深圳对新型研发机构有什么支持？", ("深圳",)),
        ("Zhejiang and Shenzhen: how do they reward researchers?", ("浙江", "深圳")),
        ("国发12号文对人才有什么规定？", ("全国",)),
        ("豫省的征求意见稿说了什么？", ("河南",)),
    ],
)
def test_any_name_of_a_covered_place_is_recognised(question, expected):
    assert regions(question) == expected


def test_a_city_resolves_to_its_own_documents_then_to_its_provinces():
    assert [d.id for d in REGISTRY.documents_for(["深圳"])] == ["sz"]
    assert [d.id for d in REGISTRY.documents_for(["广州"])] == ["gd"]  # no Guangzhou document: Guangdong's
    assert [d.id for d in REGISTRY.documents_for(["广东"])] == ["gd"]  # a province's own, not its cities'


def test_an_uncovered_place_named_beside_a_covered_one_is_reported():
    analysis = analyse(normalize("湖南和浙江在科技成果转化上有什么不同？"), REGISTRY)
    assert analysis.regions == ("浙江",) and analysis.other_regions == ("湖南",)
    assert analysis.intent.value == "compare"


def test_names_come_from_issuer_place_and_genre():
    names = {d.id: (REGISTRY.short_name(d), REGISTRY.short_name(d, english=True)) for d in LIBRARY}
    assert names["gd"] == ("广东条例", "Guangdong regulation")
    assert names["sz"] == ("深圳条例", "Shenzhen regulation")
    assert names["nat"] == ("国务院若干意见（国发〔2019〕12号）", "State Council opinions (国发〔2019〕12号)")
    assert names["hn"][0].endswith("（征求意见稿）") and "not in force" in names["hn"][1]


@pytest.mark.parametrize(
    ("question", "allowed"),
    [
        ("现行有效的文件里对人才有什么支持？", {"gd", "sz", "zj", "nat"}),
        ("2020年以后出台的政策对人才有什么支持？", {"sz", "zj"}),
        ("草案里对人才有什么支持？", {"hn"}),
        ("到2025年以后高新区要达到什么目标？", {d.id for d in LIBRARY}),
    ],
)
def test_status_and_issue_date_in_a_question_choose_documents(question, allowed):
    constraint = document_constraint(normalize(question))
    assert {d.id for d in LIBRARY if constraint.allows(d)} == allowed


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("广东省对新型研发机构有什么支持？", "对新型研发机构有什么支持？"),
        ("广东条例对新型研发机构有什么支持？", "对新型研发机构有什么支持？"),
        ("浙江的实施意见提出到2035年要做什么？", "提出到2035年要做什么？"),
        ("国务院意见提出到2035年要实现什么目标？", "提出到2035年要实现什么目标？"),
    ],
)
def test_the_searched_text_drops_the_place_and_the_genre_that_names_the_document(question, searched):
    """The words that choose the documents are not matched against their clauses: 意见 after 国务院 would
    match the preface that says 提出如下意见, not what the opinions propose."""
    from rag.questions import without_regions

    text = normalize(question)
    assert without_regions(text, REGISTRY, regions(question)) == normalize(searched)
