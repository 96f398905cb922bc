"""The gazetteer data (rag/data/divisions.tsv) and its lookups."""

from __future__ import annotations

from collections import Counter

import pytest

from rag.gazetteer import Gazetteer, load_gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def _shorts(gazetteer: Gazetteer, text: str) -> list[str]:
    return [division.short for division in gazetteer.mentions(text)]


# --- the data -------------------------------------------------------------------------------------


def test_there_are_34_province_level_divisions_of_each_category(gazetteer):
    categories = Counter(d.category for d in gazetteer.provinces())
    assert len(gazetteer.provinces()) == 34
    assert categories == {"省": 23, "自治区": 5, "直辖市": 4, "特别行政区": 2}


def test_there_are_333_prefecture_level_divisions_of_each_category(gazetteer):
    cities = [d for d in gazetteer.divisions if d.kind == "city"]
    assert len(cities) == 333
    assert Counter(d.category for d in cities) == {"地级市": 293, "自治州": 30, "地区": 7, "盟": 3}


def test_codes_are_unique_and_cities_sit_under_their_province_code(gazetteer):
    codes = [d.code for d in gazetteer.divisions]
    assert len(set(codes)) == len(codes)
    for division in gazetteer.divisions:
        assert gazetteer.province_of(division).code[:2] == division.code[:2], division.name


def test_every_province_has_a_unique_one_character_abbreviation(gazetteer):
    abbreviations = [form for d in gazetteer.provinces() for form in d.abbreviations]
    assert all(len(a) == 1 for a in abbreviations)
    assert len(set(abbreviations)) == len(abbreviations)
    assert all(d.abbreviation for d in gazetteer.provinces())
    assert not any(d.abbreviation for d in gazetteer.divisions if d.kind == "city")


def test_every_city_belongs_to_an_existing_province(gazetteer):
    provinces = {d.short for d in gazetteer.provinces()}
    for division in gazetteer.divisions:
        assert division.province in provinces, division.name
        if division.kind == "province":
            assert division.province == division.short


def test_every_division_has_a_short_and_an_english_name(gazetteer):
    for division in gazetteer.divisions:
        assert division.short and division.name.startswith(division.short), division.name
        assert division.english and division.english[0].isupper(), division.name
    provinces = [d.short for d in gazetteer.provinces()]
    assert len(set(provinces)) == len(provinces)
    english = [d.english.casefold() for d in gazetteer.provinces()]
    assert len(set(english)) == len(english)


@pytest.mark.parametrize(
    ("name", "short", "abbreviation", "english"),
    [("广东省", "广东", "粤", "Guangdong"), ("北京市", "北京", "京", "Beijing"), ("上海市", "上海", "沪", "Shanghai"),
     ("河北省", "河北", "冀", "Hebei"), ("江苏省", "江苏", "苏", "Jiangsu"), ("四川省", "四川", "川", "Sichuan"),
     ("河南省", "河南", "豫", "Henan"), ("浙江省", "浙江", "浙", "Zhejiang"), ("山东省", "山东", "鲁", "Shandong"),
     ("重庆市", "重庆", "渝", "Chongqing"), ("内蒙古自治区", "内蒙古", "蒙", "Inner Mongolia"),
     ("西藏自治区", "西藏", "藏", "Tibet"), ("香港特别行政区", "香港", "港", "Hong Kong"),
     ("广西壮族自治区", "广西", "桂", "Guangxi"), ("陕西省", "陕西", "陕", "Shaanxi"), ("山西省", "山西", "晋", "Shanxi")],
)
def test_province_facts(gazetteer, name, short, abbreviation, english):
    division = gazetteer.by_name(name)
    assert division is not None and division.kind == "province"
    assert (division.short, division.abbreviation, division.english) == (short, abbreviation, english)


@pytest.mark.parametrize(
    ("name", "short", "province", "code"),
    [("深圳市", "深圳", "广东", "440300"), ("延边朝鲜族自治州", "延边", "吉林", "222400"),
     ("黔东南苗族侗族自治州", "黔东南", "贵州", "522600"), ("伊犁哈萨克自治州", "伊犁", "新疆", "654000"),
     ("锡林郭勒盟", "锡林郭勒", "内蒙古", "152500"), ("阿克苏地区", "阿克苏", "新疆", "652900"),
     ("那曲市", "那曲", "西藏", "540600"), ("宁波市", "宁波", "浙江", "330200")],
)
def test_city_facts(gazetteer, name, short, province, code):
    division = gazetteer.by_name(name)
    assert division is not None and division.kind == "city"
    assert (division.short, division.province, division.code) == (short, province, code)


def test_a_merged_city_is_gone(gazetteer):
    assert gazetteer.by_name("莱芜市") is None  # merged into 济南 in 2019


# --- lookups --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["广东省", "广东", "粤", "Guangdong", "guangdong", "GUANGDONG", "廣東", " 广东 "])
def test_by_name_accepts_every_form(gazetteer, name):
    assert gazetteer.by_name(name).name == "广东省"


def test_by_name_prefers_the_province_where_a_city_has_the_same_name(gazetteer):
    assert gazetteer.by_name("吉林").kind == "province"
    assert gazetteer.by_name("吉林市").kind == "city"
    assert gazetteer.by_name("海南").name == "海南省"


def test_by_name_of_an_unknown_name_is_none(gazetteer):
    assert gazetteer.by_name("高新区") is None
    assert gazetteer.by_name("") is None


def test_province_of_a_city_and_of_a_province(gazetteer):
    assert gazetteer.province_of(gazetteer.by_name("深圳")).name == "广东省"
    assert gazetteer.province_of(gazetteer.by_name("河北")).name == "河北省"


def test_municipalities_are_provinces(gazetteer):
    municipalities = sorted(d.short for d in gazetteer.divisions if d.is_municipality)
    assert municipalities == sorted(["北京", "上海", "天津", "重庆"])
    assert all(gazetteer.by_name(name).kind == "province" for name in municipalities)


# --- mentions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("江苏和河北在科技金融上分别有什么措施？", ["江苏", "河北"]),
        ("那四川呢？", ["四川"]),
        ("深圳市南山区人民政府", ["深圳"]),
        ("延边朝鲜族自治州人民政府", ["延边"]),
        ("大理州", ["大理"]),
        ("吉林省长春市", ["吉林", "长春"]),
        ("冀政字〔2020〕52号", ["河北"]),
        ("根据川府发〔2021〕3号", ["四川"]),
        ("云政发[2019]12号", ["云南"]),
        ("京津冀协同发展", ["北京", "天津", "河北"]),
        ("冀、苏、川等省", ["河北", "江苏", "四川"]),
        ("粤港澳大湾区", ["广东", "香港", "澳门"]),
        ("港澳台地区", ["香港", "澳门", "台湾"]),
        ("川渝地区", ["四川", "重庆"]),
        ("What about Guangdong and Inner Mongolia?", ["广东", "内蒙古"]),
        ("policies of shenzhen and Xi'an", ["深圳", "西安"]),
        ("河北省人民政府關於促進高新技術產業開發區", ["河北"]),
    ],
)
def test_mentions_finds_named_divisions_in_order(gazetteer, text, expected):
    assert _shorts(gazetteer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["贯彻新发展理念", "迈上新台阶", "藏青色", "长治久安", "日照时数", "推广安全生产", "纳入医保定点", "国台办〔2020〕1号",
     "区域内江河", "青少年", "宁可", "吉祥如意", "创新乡村产业", "Tibetan", "Hebeiese"],
)
def test_mentions_ignores_ordinary_words(gazetteer, text):
    assert _shorts(gazetteer, text) == []


def test_mentions_takes_the_longest_name_without_overlaps(gazetteer):
    mentions = load_gazetteer().find("海南藏族自治州和海南省")
    assert [(m.division.name, m.start, m.end) for m in mentions] == [
        ("海南藏族自治州", 0, 7), ("海南省", 8, 11)]


def test_mentions_lists_each_division_once(gazetteer):
    assert _shorts(gazetteer, "广东省、广东、粤、Guangdong") == ["广东"]


def test_find_gives_the_printed_span(gazetteer):
    text = "依据冀政字〔2020〕52号和深圳经济特区条例"
    spans = [(text[m.start:m.end], m.division.short) for m in gazetteer.find(text)]
    assert spans == [("冀", "河北"), ("深圳", "深圳")]


def test_load_gazetteer_is_read_once():
    assert load_gazetteer() is load_gazetteer()
