"""The BM25 tokenizer: its own jieba instance, user words, lowercasing, punctuation, stopwords, bigrams."""

from __future__ import annotations

import pytest

from index.tokenize import (
    DEFAULT_STOPWORDS,
    JiebaTokenizer,
    TokenizerConfig,
    prefix_dict_cache_file,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba")


def words_only(cache_dir, **config):
    return JiebaTokenizer(TokenizerConfig(char_bigrams=False, **config), cache_dir=cache_dir)


def test_user_words_are_kept_whole(cache_dir):
    assert "樱桃番茄园" not in words_only(cache_dir).tokenize("他去了樱桃番茄园")
    assert "樱桃番茄园" in words_only(cache_dir, user_words=("樱桃番茄园",)).tokenize("他去了樱桃番茄园")


def test_each_tokenizer_owns_its_dictionary(cache_dir):
    with_word = words_only(cache_dir, user_words=("樱桃番茄园",))
    without = words_only(cache_dir)
    with_word.warm_up()
    assert "樱桃番茄园" not in without.tokenize("他去了樱桃番茄园")
    assert with_word._segmenter() is not without._segmenter()


def test_the_shared_jieba_instance_is_left_alone(cache_dir):
    import jieba

    words_only(cache_dir, user_words=("樱桃番茄园",)).warm_up()
    assert "樱桃番茄园" not in jieba.dt.FREQ


def test_latin_is_lowercased(cache_dir):
    assert {"python", "ai"} <= set(words_only(cache_dir).tokenize("Python 与 AI"))


def test_punctuation_and_whitespace_are_dropped(cache_dir):
    tokens = words_only(cache_dir).tokenize("公园， 桃花！（樱花）\n\t“游客”……")
    assert tokens == ["公园", "桃花", "樱花", "游客"]


def test_default_stopwords_are_dropped(cache_dir):
    tokens = words_only(cache_dir).tokenize("公园的桃花和樱花")
    assert "的" not in tokens and "和" not in tokens
    assert {"的", "了", "和", "是", "在", "对"} <= DEFAULT_STOPWORDS


def test_stopwords_can_be_replaced(cache_dir):
    tokens = words_only(cache_dir, stopwords=frozenset({"公园"})).tokenize("公园的桃花")
    assert tokens == ["的", "桃花"]


def test_char_bigrams_cover_every_adjacent_pair_of_a_cjk_run(cache_dir):
    tokens = JiebaTokenizer(TokenizerConfig(), cache_dir=cache_dir).tokenize("科技金融, AB")
    assert {"科技", "技金", "金融"} <= set(tokens)
    assert "ab" in tokens and "a" not in tokens


def test_text_with_nothing_to_index_has_no_tokens(cache_dir):
    assert JiebaTokenizer(cache_dir=cache_dir).tokenize("的了，。 ！") == []


def test_fingerprint_ignores_order_and_case_of_user_words():
    assert TokenizerConfig(user_words=("乙", "甲")).fingerprint == TokenizerConfig(user_words=("甲", "乙", "甲")).fingerprint
    assert TokenizerConfig(user_words=("ABC",)).fingerprint == TokenizerConfig(user_words=("abc",)).fingerprint


def test_fingerprint_changes_with_any_setting():
    fingerprints = {
        TokenizerConfig().fingerprint,
        TokenizerConfig(user_words=("甲乙",)).fingerprint,
        TokenizerConfig(stopwords=frozenset({"的"})).fingerprint,
        TokenizerConfig(char_bigrams=False).fingerprint,
    }
    assert len(fingerprints) == 4


def test_config_round_trips_through_a_dict():
    config = TokenizerConfig(user_words=("甲乙", "丙丁"), stopwords=frozenset({"的"}), char_bigrams=False)
    assert TokenizerConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("word", ["", "  ", "两个 词"])
def test_blank_or_spaced_user_words_are_refused(word):
    with pytest.raises(ValueError, match="user words"):
        TokenizerConfig(user_words=(word,))


def test_first_use_prints_nothing_and_caches_the_dictionary(tmp_path, capfd):
    tokens = JiebaTokenizer(cache_dir=tmp_path).tokenize("公园里的桃花")
    assert tokens
    assert capfd.readouterr() == ("", "")
    assert list(tmp_path.glob("prefix-dict-*.pickle"))
    assert JiebaTokenizer(cache_dir=tmp_path).tokenize("公园里的桃花") == tokens
    assert capfd.readouterr() == ("", "")


def test_unreadable_dictionary_cache_is_rebuilt(tmp_path, cache_dir):
    cache_file = prefix_dict_cache_file(tmp_path)
    cache_file.write_bytes(b"not a pickle")
    tokens = JiebaTokenizer(cache_dir=tmp_path).tokenize("公园里的桃花")
    assert tokens == JiebaTokenizer(cache_dir=cache_dir).tokenize("公园里的桃花")
    assert cache_file.read_bytes() != b"not a pickle"


def test_words_are_the_tokens_without_character_bigrams(tmp_path):
    tokenizer = JiebaTokenizer(TokenizerConfig(user_words=("高新区",)), cache_dir=tmp_path)
    words = tokenizer.words("支持高新区发展")
    assert "高新区" in words
    assert set(words) <= set(tokenizer.tokenize("支持高新区发展"))
    assert "新区" not in words and "新区" in tokenizer.tokenize("支持高新区发展")
