"""One canonical form for documents and queries: simplified script, half-width ASCII punctuation."""

from __future__ import annotations

from rag.normalize import normalize, normalize_for_match, to_simplified


def test_traditional_script_folds_to_simplified() -> None:
    assert to_simplified("河北省人民政府關於促進高新技術產業開發區") == "河北省人民政府关于促进高新技术产业开发区"
    assert normalize("冀政字〔2020〕52號") == "冀政字〔2020〕52号"


def test_full_width_and_half_width_forms_meet() -> None:
    assert normalize("（一）指導思想。以習近平，") == normalize("(一)指导思想。以习近平,")


def test_chinese_only_marks_are_kept() -> None:
    text = "《意见》（国发〔2020〕7号）、“双招双引”。"
    assert normalize(text) == "《意见》(国发〔2020〕7号)、“双招双引”。"


def test_full_width_letters_digits_and_spaces_fold() -> None:
    assert normalize("ＡＢＣ１２３\u3000ｘ") == "ABC123 x"


def test_whitespace_is_collapsed_and_dropped_between_chinese_characters() -> None:
    assert normalize("  電\xa0\xa0話  号码\n\n query:   hello   world ") == "电话号码 query: hello world"


def test_normalize_is_idempotent() -> None:
    text = "  (三)發展目標。到2025年，全省高新區\u3000創新能力明顯提升 "
    once = normalize(text)
    assert normalize(once) == once


def test_normalize_for_match_removes_every_space() -> None:
    assert normalize_for_match("手\xa0\xa0機: 136 0333") == "手机:1360333"


def test_empty_text_stays_empty() -> None:
    assert normalize("") == "" and normalize_for_match(" \u3000 ") == ""
