"""How much hybrid retrieval trusts BM25 for a question (rag.retrieval.keyword_trust)."""

import pytest

from rag.retrieval import TRUSTED_KNOWN_SHARE, keyword_trust


def test_a_question_in_the_documents_own_words_gets_full_keyword_weight():
    assert keyword_trust(TRUSTED_KNOWN_SHARE) == 1.0
    assert keyword_trust(1.0) == 1.0


def test_a_question_in_none_of_the_documents_words_gets_no_keyword_weight():
    assert keyword_trust(0.0) == 0.0


@pytest.mark.parametrize(("lower", "higher"), [(0.1, 0.3), (0.3, 0.5), (0.5, TRUSTED_KNOWN_SHARE)])
def test_keyword_weight_grows_with_the_share_of_known_words(lower, higher):
    assert keyword_trust(lower) < keyword_trust(higher)
