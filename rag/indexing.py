"""The search index of a corpus: its passages, the policy-term dictionary, and building or loading
the index folder in the data directory."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.passages import Passage, build_passages, keyword_text, passage_text

if TYPE_CHECKING:
    from index.embedder import Embedder
    from index.hybrid import HybridIndex
    from index.tokenize import TokenizerConfig
    from rag.corpus import Corpus

PASSAGE_SCHEME = "sentences+clauses-v4"
"""Part of the index fingerprint: change it when passages_of or passage_text change."""
TERMS_FILE = "terms.txt"

Progress = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class IndexInputs:
    passages: tuple[Passage, ...]
    items: tuple[tuple[str, str], ...]
    keyword_texts: tuple[str, ...]
    fingerprint: str
    tokenizer: TokenizerConfig


def policy_terms(corpus_dir: Path) -> tuple[str, ...]:
    """The user dictionary for jieba: corpus/terms.txt, one term a line, # for comments."""
    path = corpus_dir / TERMS_FILE
    if not path.exists():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def index_inputs(corpus: Corpus, corpus_dir: Path) -> IndexInputs:
    from index.tokenize import TokenizerConfig

    passages = tuple(build_passages(corpus.clauses))
    clauses = [corpus.clause(p.clause_id) for p in passages]
    items = tuple((p.id, passage_text(p, c)) for p, c in zip(passages, clauses))
    keywords = tuple(keyword_text(p, c) for p, c in zip(passages, clauses))
    digest = hashlib.sha256(f"{corpus.content_hash}\n{PASSAGE_SCHEME}".encode())
    for (item_id, text), keyword in zip(items, keywords):
        digest.update(f"{item_id}\t{text}\t{keyword}\n".encode())
    tokenizer = TokenizerConfig(user_words=policy_terms(corpus_dir))
    return IndexInputs(passages, items, keywords, digest.hexdigest(), tokenizer)


def open_index(
    inputs: IndexInputs,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    dense_kind: str = "flat",
) -> HybridIndex:
    """The index for these inputs: loaded when current, otherwise (re)built, re-embedding only new text."""
    from index.store import build_index

    return build_index(
        index_dir,
        inputs.items,
        embedder,
        inputs.fingerprint,
        inputs.tokenizer,
        progress=progress,
        force=rebuild,
        keyword_texts=inputs.keyword_texts,
        dense_kind=dense_kind,
        tokenizer_cache_dir=index_dir.parent / "jieba",
    )


def index_is_current(inputs: IndexInputs, index_dir: Path, model_id: str, dense_kind: str = "flat") -> bool:
    """Whether the index folder already matches these inputs and model; reads no model and no index."""
    from index.store import is_current

    return is_current(index_dir, inputs.fingerprint, model_id, inputs.tokenizer, dense_kind)
