"""Turning raw tokenizer strings into labels a person can read.

Byte-level BPE (GPT-2, RoBERTa) writes a leading space as ``Ġ`` and other bytes
as stand-in characters; SentencePiece (T5, Llama, ALBERT) writes it as ``▁``; CLIP-style BPE ends a word with ``</w>``.
Labels keep the word-start space as a real space (the page shows it with a
subtle mark) and make newlines and tabs visible. WordPiece's ``##`` stays: it is
how BERT users recognise a word piece.
"""

from __future__ import annotations

import re
from functools import cache

_SENTENCEPIECE_SPACE = "\u2581"  # ▁
_END_OF_WORD = "</w>"  # CLIP's and OpenAI GPT's BPE mark a word's end; BertViz strips it too
_VISIBLE_WHITESPACE = str.maketrans({"\n": "↵", "\t": "⇥", "\r": "↵"})

# Tokens that look like markers rather than text, for user tensors that come
# without a tokenizer: [CLS], [SEP], [unused0], <s>, </s>, <pad>, <|endoftext|>,
# <extra_id_0>. A marker starts with a letter, "/" or "_", so Llama's byte pieces
# (<0x0A>) stay text.
_SPECIAL_PATTERN = re.compile(r"^(\[[A-Z_]{2,10}[0-9]*\]|<\|?[/a-z_][/a-z_0-9]{0,23}\|?>)$", re.IGNORECASE)


@cache
def _byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    shift = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + shift)
            shift += 1
    return {chr(code): byte for byte, code in zip(printable, codes)}


def display_token(token: str) -> str:
    """A readable label for one raw token."""
    if token.endswith(_END_OF_WORD) and token != _END_OF_WORD:
        token = token[: -len(_END_OF_WORD)]
    text = token.replace(_SENTENCEPIECE_SPACE, " ")
    decoder = _byte_decoder()
    if text and all(char in decoder for char in text):
        try:
            text = bytes(decoder[char] for char in text).decode("utf-8")
        except UnicodeDecodeError:
            pass  # a byte sequence split across tokens, or not byte-level at all
    return text.translate(_VISIBLE_WHITESPACE)


def display_tokens(tokens: list[str]) -> list[str]:
    return [display_token(token) for token in tokens]


def token_index(focus: int | str, labels: list[str]) -> int:
    """A token's index: ``focus`` itself, or the first token whose label (spaces stripped) is ``focus``."""
    if isinstance(focus, str):
        matches = [index for index, label in enumerate(labels) if label.strip() == focus.strip()]
        if not matches:
            raise ValueError(f"focus {focus!r} is not one of the tokens: {labels}")
        return matches[0]
    if isinstance(focus, bool) or not 0 <= focus < len(labels):
        raise ValueError(f"focus must be a token or an index between 0 and {len(labels) - 1}, got {focus!r}")
    return int(focus)


def looks_special(token: str) -> bool:
    """Guess whether a token is a marker like [CLS] or </s>, for tokens with no tokenizer."""
    return bool(_SPECIAL_PATTERN.match(token.strip()))
