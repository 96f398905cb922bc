"""Metadata read from a document's own text, checked against values read by hand from real documents:
the five bundled seeds and laws and regulations of ../shared/scale/laws-md.tar.xz (read at test time)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, read_laws

from rag.dates import find_dates, parse_date
from rag.gazetteer import load_gazetteer
from rag.metadata_text import Fact, TextMetadata, read_metadata
from rag.normalize import normalize_for_match

CORPUS = REPO_ROOT / "corpus"
_PROVINCIAL_LAWS = "DLC/{0}地方法规/地方性法规/{0}/{1}.md"

# Values read by hand from the header lines of each file (title, adoption/publication lines, signature).
# date: the closing signature's date, else the adoption date, else the publication date.
LAWS: dict[str, dict[str, object]] = {
    _PROVINCIAL_LAWS.format("广东", "深圳市人民代表大会常务委员会任免国家机关工作人员条例(2022-12-08)"): dict(
        title="深圳市人民代表大会常务委员会任免国家机关工作人员条例", issuer="深圳市人民代表大会常务委员会",
        date="2001-02-23", level="city", region="广东", city="深圳", genre="条例",
        amended=("2007-07-27", "2018-12-27", "2022-11-30")),
    _PROVINCIAL_LAWS.format("广东", "深圳经济特区中医药条例(2023-01-06)"): dict(
        title="深圳经济特区中医药条例", issuer="深圳市人民代表大会常务委员会", date="2010-04-02",
        level="city", region="广东", city="深圳", genre="条例"),
    _PROVINCIAL_LAWS.format("广东", "汕头经济特区突发公共卫生事件应急条例(2022-05-30)"): dict(
        title="汕头经济特区突发公共卫生事件应急条例", issuer="汕头市人民代表大会常务委员会", date="2022-05-30",
        level="city", region="广东", city="汕头", genre="条例"),
    _PROVINCIAL_LAWS.format("广东", "广州市流溪河流域保护条例(2021-06-15)"): dict(
        title="广州市流溪河流域保护条例", issuer="广州市人民代表大会常务委员会", date="2013-12-25",
        level="city", region="广东", city="广州", genre="条例", amended=("2015-12-03", "2021-05-26")),
    _PROVINCIAL_LAWS.format("广东", "云浮市优化营商环境条例(2023-03-03)"): dict(
        title="云浮市优化营商环境条例", issuer="云浮市人民代表大会常务委员会", date="2022-12-06",
        level="city", region="广东", city="云浮", genre="条例"),
    _PROVINCIAL_LAWS.format("浙江", "杭州西溪国家湿地公园保护管理条例(2011-10-17)"): dict(
        title="杭州西溪国家湿地公园保护管理条例", issuer="杭州市人民代表大会常务委员会", date="2011-06-30",
        effective="2011-12-01", doc_number="杭州市第十一届人民代表大会常务委员会公告第54号",
        level="city", region="浙江", city="杭州", genre="条例"),
    _PROVINCIAL_LAWS.format("浙江", "宁波东钱湖旅游度假区条例(2008-12-12)"): dict(
        title="宁波东钱湖旅游度假区条例", issuer="宁波市人民代表大会常务委员会", date="2008-08-22",
        level="city", region="浙江", city="宁波", genre="条例"),
    _PROVINCIAL_LAWS.format("浙江", "浙江省劳动人事争议调解仲裁条例(2020-09-24)"): dict(
        title="浙江省劳动人事争议调解仲裁条例", issuer="浙江省人民代表大会常务委员会", date="2015-12-04",
        level="provincial", region="浙江", city=None, genre="条例", amended=("2020-09-24",)),
    _PROVINCIAL_LAWS.format("浙江", "景宁畲族自治县城市管理条例(2015-06-08)"): dict(
        title="景宁畲族自治县城市管理条例", issuer="景宁畲族自治县人大", date="2015-03-26", effective="2015-08-01",
        level="county", region="浙江", city=None, genre="条例"),
    _PROVINCIAL_LAWS.format("山东", "山东省养老服务条例(2020-03-26)"): dict(
        title="山东省养老服务条例", issuer="山东省人民代表大会常务委员会", date="2020-03-26",
        level="provincial", region="山东", city=None, genre="条例"),
    _PROVINCIAL_LAWS.format("山东", "青岛市控制吸烟条例(2013-08-01)"): dict(
        title="青岛市控制吸烟条例", issuer="青岛市人民代表大会常务委员会", date="2013-06-27", effective="2013-09-01",
        level="city", region="山东", city="青岛", genre="条例"),
    _PROVINCIAL_LAWS.format("河南", "新乡市大气污染防治条例(2019-07-01)"): dict(
        title="新乡市大气污染防治条例", issuer="新乡市人民代表大会常务委员会", date="2019-04-22",
        level="city", region="河南", city="新乡", genre="条例"),
    _PROVINCIAL_LAWS.format("河南", "河南省测绘管理条例(2004-11-26)"): dict(
        title="河南省测绘管理条例", issuer="河南省人民代表大会常务委员会", date="1995-09-06",
        level="provincial", region="河南", city=None, genre="条例", amended=("1997-04-04", "2004-11-26")),
    _PROVINCIAL_LAWS.format("北京", "北京市湿地保护条例(2019-07-26)"): dict(
        title="北京市湿地保护条例", issuer="北京市人民代表大会常务委员会", date="2012-12-27",
        level="provincial", region="北京", city=None, genre="条例"),
    _PROVINCIAL_LAWS.format("上海", "上海市宗教事务条例(2018-11-22)"): dict(
        title="上海市宗教事务条例", issuer="上海市人民代表大会常务委员会", date="1995-11-30",
        level="provincial", region="上海", city=None, genre="条例",
        amended=("2005-04-21", "2015-06-18", "2018-11-22")),
    _PROVINCIAL_LAWS.format("重庆", "重庆市城市管线条例(2016-07-29)"): dict(
        title="重庆市城市管线条例", issuer="重庆市人民代表大会常务委员会", date="2016-07-29",
        level="provincial", region="重庆", city=None, genre="条例"),
    "行政法规/排污许可管理条例(2021-01-24).md": dict(
        title="排污许可管理条例", issuer="国务院", date="2020-12-09", effective="2021-03-01",
        doc_number="中华人民共和国国务院令第736号", level="national", region="全国", city=None, genre="条例"),
    "行政法规/护士条例(2020-03-27).md": dict(
        title="护士条例", issuer="国务院", date="2008-01-31", doc_number="中华人民共和国国务院令第517号",
        level="national", region="全国", city=None, genre="条例"),
    "行政法规/海关工作人员使用武器和警械的规定(2011-01-08).md": dict(
        title="海关工作人员使用武器和警械的规定", issuer="海关总署、公安部", date="1989-06-19",
        doc_number="海关总署、公安部令第7号", level="national", region="全国", city=None, genre="规定"),
    "行政法规/工资支付暂行规定(1994-12-06).md": dict(
        title="工资支付暂行规定", issuer="劳动部", date="1994-12-06", doc_number="劳部发〔1994〕489号",
        effective="1995-01-01", level="national", region="全国", city=None, genre="规定", status="trial"),
    "行政法规/国家机关、事业单位贯彻《国务院关于职工工作时间的规定》的实施办法(1995-05-01).md": dict(
        title="国家机关、事业单位贯彻《国务院关于职工工作时间的规定》的实施办法", issuer="人事部",
        date="1995-03-26", doc_number="人薪发［1995］32号", effective="1995-05-01",
        level="national", region="全国", city=None, genre="实施办法"),
    "行政法/城乡规划法(2019-04-23).md": dict(
        title="中华人民共和国城乡规划法", issuer="全国人民代表大会常务委员会", date="2007-10-28",
        level="national", region="全国", city=None, genre="法", amended=("2015-04-24", "2019-04-23")),
    "司法解释/最高人民法院关于适用《刑事诉讼法》的解释(2021-01-26).md": dict(
        title="最高人民法院关于适用《中华人民共和国刑事诉讼法》的解释", issuer="最高人民法院", date="2020-12-07",
        effective="2021-03-01", level="national", region="全国", city=None, genre="解释"),
    "司法解释/最高人民法院、最高人民检察院关于执行《刑法》 确定罪名的补充规定（七）(2021-02-26).md": dict(
        title="最高人民法院、最高人民检察院关于执行《中华人民共和国刑法》确定罪名的补充规定（七）",
        issuer="最高人民法院、最高人民检察院", date="2021-02-22", effective="2021-03-01",
        level="national", region="全国", city=None, genre="规定"),
    "部门规章/人力资源社会保障部/企业职工带薪年休假实施办法(2008-07-17).md": dict(
        title="企业职工带薪年休假实施办法", issuer="人力资源和社会保障部", date="2008-07-17",
        level="national", region="全国", city=None, genre="实施办法"),
    "部门规章/市场监督管理总局/食品生产经营监督检查管理办法(2021-12-24).md": dict(
        title="食品生产经营监督检查管理办法", issuer="国家市场监督管理总局", date="2021-12-24",
        effective="2022-03-15", doc_number="国家市场监督管理总局令第49号",
        level="national", region="全国", city=None, genre="办法"),
}


@pytest.fixture(scope="module")
def laws() -> dict[str, str]:
    return read_laws(frozenset(LAWS))


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("00*.txt"))}


def _value(fact: Fact | None) -> str | None:
    return None if fact is None else fact.value


def assert_evidence_points_at_value(meta: TextMetadata, text: str) -> None:
    """A printed fact's span holds its value (in simplified script, spacing aside); a printed date's
    span is the date as printed; a derived fact's span is a phrase of the text (or empty, from a file name)."""
    dated = {"date", "adopted", "amended", "effective", "published"}
    facts = [(name, getattr(meta, name)) for name in meta.__dataclass_fields__ if isinstance(getattr(meta, name), Fact)]
    facts += [("amended", fact) for fact in meta.amended]
    for name, fact in facts:
        evidence = fact.evidence
        assert evidence is not None, name
        start, end = evidence.span
        assert 0 <= start <= end <= len(text), name
        if evidence.line == 0:
            assert fact.derived and start == end, name
            continue
        printed = text[start:end]
        assert printed.strip(), name
        assert text.count("\n", 0, start) + 1 == evidence.line, name
        if name in dated and evidence.source == "text":
            assert parse_date(printed) == fact.value, (name, printed)
        elif evidence.source == "text":
            parts = fact.value.split("、")
            assert all(normalize_for_match(part) in normalize_for_match(printed) for part in parts), (name, printed)


# --- real laws and regulations ------------------------------------------------------------------


@pytest.mark.parametrize("path", list(LAWS))
def test_metadata_of_real_law_matches_hand_reading(laws, path):
    text = laws[path]
    meta = read_metadata(text, file_name=Path(path).name)
    expected = LAWS[path]
    got = {key: _value(getattr(meta, key)) for key in expected if key != "amended"}
    assert got == {key: value for key, value in expected.items() if key != "amended"}
    if "amended" in expected:
        assert tuple(fact.value for fact in meta.amended) == expected["amended"]
    assert meta.title.evidence.source == "text"
    assert_evidence_points_at_value(meta, text)


def test_issuer_without_its_sitting_is_marked_derived(laws):
    text = laws[_PROVINCIAL_LAWS.format("广东", "汕头经济特区突发公共卫生事件应急条例(2022-05-30)")]
    issuer = read_metadata(text).issuer
    assert issuer.derived
    assert issuer.printed(text).strip().startswith("汕头市第十五届人民代表大会常务委员会")


def test_level_region_and_city_are_derived_from_the_issuer(laws):
    text = laws[_PROVINCIAL_LAWS.format("浙江", "杭州西溪国家湿地公园保护管理条例(2011-10-17)")]
    meta = read_metadata(text)
    for fact in (meta.level, meta.region, meta.city):
        assert fact.derived and fact.evidence.span == meta.issuer.evidence.span


# --- the bundled seeds --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["000_d1e2f62dd4ac9d56.txt", "003_23e8893c0c99abef.txt"])
def test_seed_without_title_number_or_date_gives_none(seeds, name):
    meta = read_metadata(seeds[name], file_name=name)
    assert (meta.title, meta.doc_number, meta.date, meta.issuer) == (None, None, None, None)
    # Both cite 国发〔2020〕7号 in their opening sentence: a cited number is not the document's.
    assert "国发〔2020〕7号" in seeds[name]


def test_seed_state_council_opinions(seeds):
    text = seeds["002_aceb60dd589429a8.txt"]
    meta = read_metadata(text)
    assert _value(meta.title) == "国务院关于促进国家高新技术产业开发区高质量发展的若干意见"
    assert _value(meta.doc_number) == "国发〔2020〕7号"
    assert _value(meta.issuer) == "国务院"
    assert _value(meta.date) == "2020-07-13"
    assert (_value(meta.level), _value(meta.region), _value(meta.city)) == ("national", "全国", None)
    assert _value(meta.genre) == "若干意见"
    assert meta.status is None
    assert meta.title.evidence.line == 1
    assert meta.date.printed(text) == "2020年7月13日"


def test_seed_traditional_script_web_page_gives_simplified_values_and_printed_spans(seeds):
    text = seeds["001_f2cc480d52bcecb0.txt"]
    meta = read_metadata(text)
    assert meta.script == "traditional"
    assert _value(meta.title) == "河北省人民政府关于促进高新技术产业开发区高质量发展的实施意见"
    assert meta.title.printed(text) == "河北省人民政府關于促進高新技術產業開發區高質量發展的實施意見"
    assert _value(meta.doc_number) == "冀政字〔2020〕52号"
    assert meta.doc_number.printed(text) == "冀政字〔2020〕52號"
    assert _value(meta.issuer) == "河北省人民政府"
    # The page's own date (日期: 2021-01-16) is when it was scraped, not the document's.
    assert _value(meta.date) == "2020-09-30"
    assert (_value(meta.level), _value(meta.region), _value(meta.city)) == ("provincial", "河北", None)
    assert _value(meta.genre) == "实施意见"


def test_seed_draft_for_comment(seeds):
    meta = read_metadata(seeds["004_29b2e8ee0b403d2c.txt"])
    assert _value(meta.title) == "关于促进高新技术产业开发（园）区高质量发展的实施意见（征求意见稿）"
    assert _value(meta.status) == "draft"
    assert _value(meta.genre) == "实施意见"
    assert (meta.doc_number, meta.date) == (None, None)


def test_every_seed_evidence_points_at_its_value(seeds):
    for text in seeds.values():
        assert_evidence_points_at_value(read_metadata(text), text)


# --- small texts: each rule on its own ----------------------------------------------------------


def test_issuer_is_derived_from_a_provincial_number_prefix():
    text = "关于加快科技成果转化的实施意见\n冀政字〔2020〕52号\n各市人民政府：\n一、总体要求\n（一）加快转化。\n"
    meta = read_metadata(text)
    assert _value(meta.issuer) == "河北省人民政府"
    assert meta.issuer.derived
    assert meta.issuer.printed(text) == "冀政字〔2020〕52号"
    assert (_value(meta.level), _value(meta.region)) == ("provincial", "河北")


@pytest.mark.parametrize(
    ("number", "issuer"),
    [("国办发〔2021〕3号", "国务院办公厅"), ("川府发〔2021〕3号", "四川省人民政府"), ("粤府办〔2020〕1号", "广东省人民政府办公厅"),
     ("京政发[2019]12号", "北京市人民政府"), ("国科发火〔2020〕1号", "科学技术部"), ("内政发〔2020〕5号", "内蒙古自治区人民政府")],
)
def test_number_prefixes_name_their_issuer(number, issuer):
    meta = read_metadata(f"某某工作方案\n{number}\n各有关单位：\n一、目标\n")
    assert (_value(meta.doc_number), _value(meta.issuer)) == (number, issuer)


def test_adoption_line_gives_issuer_date_and_city_level():
    text = "# 深圳经济特区某某条例\n\n2022年12月29日深圳市第七届人民代表大会常务委员会第十四次会议通过\n\n第一条 为了……\n"
    meta = read_metadata(text)
    assert (_value(meta.issuer), _value(meta.date), _value(meta.adopted)) == (
        "深圳市人民代表大会常务委员会", "2022-12-29", "2022-12-29")
    assert (_value(meta.level), _value(meta.region), _value(meta.city)) == ("city", "广东", "深圳")


def test_a_county_organ_is_county_level():
    text = "某某办法\n\n第一条 ……\n第二条 本办法自2021年1月1日起施行。\n\n深圳市南山区人民政府\n2020年12月1日\n"
    meta = read_metadata(text)
    assert (_value(meta.issuer), _value(meta.level), _value(meta.region), _value(meta.city)) == (
        "深圳市南山区人民政府", "county", "广东", "深圳")
    assert _value(meta.effective) == "2021-01-01"


def test_chinese_numeral_dates_are_read():
    text = "某某规定\n\n第一条 ……\n\n北京市人民政府\n二〇二〇年七月十三日\n"
    meta = read_metadata(text)
    assert _value(meta.date) == "2020-07-13"
    assert meta.date.printed(text) == "二〇二〇年七月十三日"
    assert (_value(meta.level), _value(meta.region), _value(meta.city)) == ("provincial", "北京", None)


@pytest.mark.parametrize(
    ("printed", "iso"),
    [("2020年7月13日", "2020-07-13"), ("二〇二〇年七月十三日", "2020-07-13"), ("二○二○年十二月三十一日", "2020-12-31"),
     ("一九九八年十月三十日", "1998-10-30"), ("２０１２年１２月３日", "2012-12-03"), ("2020 年 9 月 30 日", "2020-09-30")],
)
def test_dates_in_any_numerals(printed, iso):
    assert parse_date(printed) == iso


def test_impossible_dates_are_not_dates():
    assert parse_date("2020年2月30日") is None
    assert find_dates("到2025年，全省高新区") == []


def test_title_from_a_closing_phrase_when_no_heading():
    text = "各区人民政府：\n现将《某市促进科技创新若干措施》印发给你们，请认真贯彻执行。\n\n某市人民政府\n2021年3月1日\n"
    meta = read_metadata(text)
    assert _value(meta.title) == "某市促进科技创新若干措施"
    assert _value(meta.genre) == "若干措施"


def test_title_guessed_from_a_file_name_is_derived():
    meta = read_metadata("各区人民政府：\n一、目标\n", file_name="广州市科技创新条例(2021-01-01).md")
    assert _value(meta.title) == "广州市科技创新条例"
    assert meta.title.derived and meta.title.evidence.span == (0, 0)
    assert read_metadata("各区人民政府：\n", file_name="003_23e8893c0c99abef.txt").title is None


@pytest.mark.parametrize(
    ("title", "status"),
    [("科技成果转化管理办法（试行）", "trial"), ("科技成果转化暂行规定", "trial"), ("科技成果转化条例（草案）", "draft"),
     ("关于促进高新区发展的实施意见（送审稿）", "draft"), ("科技成果转化条例", None), ("关于废止《科技成果转化办法》的决定", None),
     ("关于《科技成果转化条例（草案）》的说明", None)],
)
def test_status_is_read_from_the_title_outside_quoted_titles(title, status):
    assert _value(read_metadata(f"{title}\n\n第一条 ……\n").status) == status


def test_repealed_only_by_a_marker_of_its_own():
    assert _value(read_metadata("# 某某办法\n\n（已废止）\n\n第一条 ……\n").status) == "repealed"
    text = "# 某某办法\n\n第一条 ……\n第九条 1990年发布的《某某规定》同时废止。\n"
    assert read_metadata(text).status is None


def test_read_metadata_accepts_a_gazetteer():
    meta = read_metadata("国务院关于某事的通知\n国发〔2020〕1号\n", gazetteer=load_gazetteer())
    assert _value(meta.genre) == "通知"


# --- every document of the corpus ---------------------------------------------------------------


@pytest.mark.slow
def test_every_law_of_the_corpus_reads_with_evidence_on_its_value():
    """All 3,472 documents: most give a title, date, issuer and level, and every span holds its value."""
    texts = read_laws()
    started = time.perf_counter()
    metas = {path: read_metadata(text, file_name=Path(path).name) for path, text in texts.items()}
    elapsed = time.perf_counter() - started
    for path, meta in metas.items():
        assert_evidence_points_at_value(meta, texts[path])
    count = len(metas)
    assert count == 3472
    assert sum(m.title is not None for m in metas.values()) == count
    assert sum(m.date is not None for m in metas.values()) >= 0.9 * count
    assert sum(m.issuer is not None for m in metas.values()) >= 0.9 * count
    assert sum(m.level is not None for m in metas.values()) >= 0.95 * count
    local = [m for path, m in metas.items() if path.startswith("DLC/")]
    right_region = sum(_value(m.region) == path.split("/")[3] for path, m in zip(texts, metas.values(), strict=True)
                       if path.startswith("DLC/"))
    assert right_region >= 0.99 * len(local)
    assert elapsed < 600  # about 40 s on a loaded 2-core machine
