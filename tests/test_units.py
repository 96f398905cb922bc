"""Responsible-unit notes: （…负责） and （牵头单位：…；参与单位：…） with nested parentheses."""

from __future__ import annotations

from rag.units import find_unit_notes, split_units


def test_single_responsible_unit() -> None:
    (note,) = find_unit_notes("加强对科技型中小企业的支持。（省科技厅负责）")
    assert note.responsible == ("省科技厅",) and note.lead == () and note.participating == ()


def test_units_sharing_responsibility_are_split() -> None:
    (note,) = find_unit_notes("……用地政策。（省自然资源厅、省科技厅、省发展改革委按职责分工负责）")
    assert note.responsible == ("省自然资源厅", "省科技厅", "省发展改革委")


def test_enumeration_comma_inside_one_unit_name_is_kept() -> None:
    assert split_units("省科技厅，各市、县政府，雄安新区管委会") == ("省科技厅", "各市、县政府", "雄安新区管委会")


def test_note_with_an_explanation_after_responsible_keeps_only_units() -> None:
    (note,) = find_unit_notes(
        "（省科技厅，各市、县政府，雄安新区管委会按职责分工负责。以下均需各市县政府负责，不再列出）"
    )
    assert note.responsible == ("省科技厅", "各市、县政府", "雄安新区管委会")


def test_lead_and_participating_units_with_nested_parentheses() -> None:
    (note,) = find_unit_notes(
        "（牵头单位：科技厅、各市（州）人民政府；参与单位：省发展改革委、经济和信息化厅、省统计局等）"
    )
    assert note.lead == ("科技厅", "各市（州）人民政府")
    assert note.participating == ("省发展改革委", "经济和信息化厅", "省统计局")
    assert note.responsible == note.lead + note.participating


def test_half_width_note_is_read_too() -> None:
    (note,) = find_unit_notes("(牵头单位:财政厅;参与单位:科技厅)")
    assert note.lead == ("财政厅",) and note.participating == ("科技厅",)


def test_ordinary_parentheses_are_not_notes() -> None:
    assert find_unit_notes("经市级以上人民政府科技行政部门（外国人来华工作管理部门）批准，（包括国家高新区）") == ()


def test_each_note_knows_where_it_stands_in_the_text():
    text = "支持银行开展质押业务。（省地方金融监管局负责）构建创新生态圈。（省科技厅、省发展改革委按职责分工负责）"
    notes = find_unit_notes(text)
    assert [text[n.span[0] : n.span[1]] for n in notes] == [
        "（省地方金融监管局负责）",
        "（省科技厅、省发展改革委按职责分工负责）",
    ]
