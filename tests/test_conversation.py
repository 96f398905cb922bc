"""Follow-up questions are made self-contained from the conversation before them (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.conversation import is_followup
from rag.conversation import resolve_followup as resolve_with
from rag.corpus import load_corpus
from rag.registry import Registry

REGISTRY = Registry.of(load_corpus(Path(__file__).resolve().parents[1] / "corpus").documents)


def resolve_followup(question, history):
    return resolve_with(question, history, REGISTRY)

HEBEI_FINANCE = "河北对高新区科技金融有什么措施？"
SICHUAN_TAX = "四川对高新区的财税支持政策是什么？"


def test_region_followup_swaps_the_region_of_the_previous_question():
    resolved = resolve_followup("那江苏呢？", [HEBEI_FINANCE])
    assert "江苏" in resolved and "河北" not in resolved
    assert "科技金融" in resolved


@pytest.mark.parametrize("followup", ["那四川呢？", "四川呢", "还有四川的呢？", "那么四川怎么样？"])
def test_region_followups_in_several_wordings_keep_the_subject(followup):
    resolved = resolve_followup(followup, [HEBEI_FINANCE])
    assert "四川" in resolved and "河北" not in resolved and "科技金融" in resolved


def test_followup_naming_the_state_council_asks_about_the_national_document():
    resolved = resolve_followup("那国务院呢？", ["江苏对新型研发机构有什么支持？"])
    assert "国务院" in resolved and "江苏" not in resolved and "新型研发机构" in resolved


def test_followup_naming_two_regions_keeps_both():
    resolved = resolve_followup("那四川和江苏呢？", ["河北对外国专家公寓有什么补贴？"])
    assert "四川" in resolved and "江苏" in resolved and "河北" not in resolved
    assert "外国专家公寓" in resolved


def test_english_followup_swaps_the_region():
    resolved = resolve_followup("What about Sichuan?", ["What does Hebei do to attract talent?"])
    assert "Sichuan" in resolved and "Hebei" not in resolved and "talent" in resolved


def test_the_most_recent_question_is_the_one_followed_up():
    resolved = resolve_followup("那江苏呢？", ["四川对瞪羚企业有什么支持？", HEBEI_FINANCE])
    assert "科技金融" in resolved and "瞪羚" not in resolved


@pytest.mark.parametrize("followup", ["牵头单位是谁？", "由哪个部门负责？", "这条由哪个部门负责？"])
def test_followup_without_a_region_is_attached_to_the_previous_question(followup):
    resolved = resolve_followup(followup, [SICHUAN_TAX])
    assert "四川" in resolved and "财税" in resolved
    assert followup.rstrip("？") in resolved


@pytest.mark.parametrize(
    "question",
    [
        "江苏对高新区土地利用有什么政策？",
        "国务院文件对国有创投企业跟投有什么规定？",
        "外籍人才工作许可年龄能放宽到多少岁？",
        "How does Jiangsu support new R&D institutions in its high-tech zones?",
    ],
)
def test_self_contained_question_is_left_alone(question):
    assert not is_followup(question, REGISTRY)
    assert resolve_followup(question, [HEBEI_FINANCE]) == question


@pytest.mark.parametrize("question", ["那江苏呢？", "牵头单位是谁？", "What about Sichuan?"])
def test_without_history_the_question_is_unchanged(question):
    assert resolve_followup(question, []) == question
    assert resolve_followup(question, ()) == question


@pytest.mark.parametrize("followup", ["那川呢？", "川呢", "那苏呢？"])
def test_a_followup_of_one_province_abbreviation_switches_to_that_province(followup):
    """那川呢？: the whole follow-up is the place it switches to, so 川 can only be 四川 (and 苏 江苏)."""
    resolved = resolve_followup(followup, [HEBEI_FINANCE])
    assert "河北" not in resolved and "科技金融" in resolved
    assert ("四川" if "川" in followup else "江苏") in resolved


@pytest.mark.parametrize("followup", ["那你呢？", "好呢"])
def test_a_one_character_followup_that_is_no_province_changes_no_region(followup):
    assert "河北" in resolve_followup(followup, [HEBEI_FINANCE])
