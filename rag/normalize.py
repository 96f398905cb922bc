"""Script and punctuation folding shared by documents and queries, so both meet in one form.

Canonical form: NFKC (full-width ASCII punctuation and letters become half-width, so （一）→(一),
，→, and ：→:, while Chinese-only marks such as 、。“”《》〔〕 stay), OpenCC traditional→simplified,
whitespace collapsed to one space (and dropped between two Chinese characters, where it carries no meaning).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Protocol

__all__ = ["normalize", "normalize_for_match", "to_simplified"]


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _t2s() -> _Converter:
    # Imported lazily: opencc loads its dictionaries on construction. The converter holds no
    # per-call state (OpenCC's Converter::Convert is const), so one shared instance is safe.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified (OpenCC 't2s'); other text is unchanged."""
    return _t2s().convert(text) if text else text


_WIDE = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u201c\u201d\u2018\u2019\u2014\u2026"
_SPACE_BETWEEN_WIDE = re.compile(rf"(?<=[{_WIDE}])\s+(?=[{_WIDE}])")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The canonical search form of a document text or a query (see the module docstring)."""
    folded = to_simplified(unicodedata.normalize("NFKC", text))
    folded = _SPACE_BETWEEN_WIDE.sub("", folded)
    return _SPACES.sub(" ", folded).strip()


def normalize_for_match(text: str) -> str:
    """NFKC, traditional→simplified, all whitespace removed: the evaluation's quote-matching rule."""
    return _SPACES.sub("", to_simplified(unicodedata.normalize("NFKC", text)))
