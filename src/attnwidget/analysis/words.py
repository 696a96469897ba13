"""Sub-word tokens to words (Clark et al., 2019), with word ids from the tokenizer or guessed from the tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.stack import AttentionStack
from ..core.tokens import looks_special
from .inputs import attention_array_of

WordIds = Sequence[int | None]


def word_attention(
    attention: np.ndarray | AttentionStack,
    word_ids: WordIds | None = None,
    col_word_ids: WordIds | None = None,
) -> np.ndarray:
    """Sub-word tokens to words (Clark et al., 2019): float32 ``(layers, heads, row words, col words)``.

    Attention *to* a word is the sum over its pieces; attention *from* a word is the
    mean over its pieces, so rows still sum to 1. ``word_ids[i]`` is token i's word
    (as a fast tokenizer's ``encoding.word_ids()`` gives it; ids must be unique across
    a sentence pair); ``None`` makes a token its own word, as for [CLS] and [SEP].
    Words come out in the order of their first token. ``col_word_ids`` is for
    cross-attention, whose columns are other tokens; for a stack, the ids it carries
    are used when none are given.
    """
    array = attention_array_of(attention)
    if isinstance(attention, AttentionStack):
        word_ids = stack_word_ids(attention, "row") if word_ids is None else word_ids
        if col_word_ids is None:
            col_word_ids = stack_word_ids(attention, "col")
    if word_ids is None:
        raise ValueError("word_attention needs word_ids (one per token, None for a token that is its own word)")
    if col_word_ids is None:
        if array.shape[2] != array.shape[3]:
            raise ValueError(
                f"attention has {array.shape[2]} rows and {array.shape[3]} columns (cross-attention): "
                "pass col_word_ids for the columns"
            )
        col_word_ids = word_ids
    row_groups = word_groups(word_ids, array.shape[2], "word_ids")
    col_groups = word_groups(col_word_ids, array.shape[3], "col_word_ids")
    row_starts, col_starts = _run_starts(row_groups), _run_starts(col_groups)
    if row_starts is not None and col_starts is not None:
        # Words are runs of neighbouring tokens (always, with real tokenizers): sum runs in place.
        counts = np.array([len(group) for group in row_groups], dtype=np.float32)[:, None]
        out = np.empty((*array.shape[:2], len(row_groups), len(col_groups)), dtype=np.float32)
        for layer in range(array.shape[0]):
            to_words = np.add.reduceat(array[layer].astype(np.float32, copy=False), col_starts, axis=2)
            out[layer] = np.add.reduceat(to_words, row_starts, axis=1) / counts
        return out
    return _word_attention_by_products(array, row_groups, col_groups)


def _run_starts(groups: list[list[int]]) -> np.ndarray | None:
    """Where each word starts, when every word is a run of neighbouring tokens in order; else None."""
    expected = 0
    for group in groups:
        if group != list(range(expected, expected + len(group))):
            return None
        expected += len(group)
    return np.array([group[0] for group in groups], dtype=np.intp)


def _word_attention_by_products(array: np.ndarray, row_groups: list[list[int]], col_groups: list[list[int]]) -> np.ndarray:
    """The general case (a word's pieces apart from each other): sums and means as matrix products."""
    rows = _membership(row_groups, array.shape[2])
    cols = _membership(col_groups, array.shape[3])
    from_words = (rows / rows.sum(axis=0, keepdims=True)).T.astype(np.float32)  # (row words, rows): a mean
    out = np.empty((*array.shape[:2], rows.shape[1], cols.shape[1]), dtype=np.float32)
    heads, n_rows, n_cols = array.shape[1:]
    for layer in range(array.shape[0]):
        # Two plain 2-d products (BLAS), not a broadcast batch of small ones.
        weights = array[layer].astype(np.float32, copy=False).reshape(heads * n_rows, n_cols)
        to_words = (weights @ cols).reshape(heads, n_rows, -1)  # a sum over each word's columns
        stacked = to_words.transpose(1, 0, 2).reshape(n_rows, -1)  # (rows, heads · col words)
        out[layer] = (from_words @ stacked).reshape(-1, heads, cols.shape[1]).transpose(1, 0, 2)  # a mean over rows
    return out


def _membership(groups: list[list[int]], n_tokens: int) -> np.ndarray:
    """A (tokens, words) 0/1 float32 matrix: column k marks the tokens of the k-th word."""
    membership = np.zeros((n_tokens, len(groups)), dtype=np.float32)
    for word, tokens in enumerate(groups):
        membership[tokens, word] = 1.0
    return membership


def word_groups(word_ids: WordIds, n_tokens: int | None = None, what: str = "word_ids") -> list[list[int]]:
    """The token indices of each word, words in the order of their first token."""
    ids = list(word_ids)
    if n_tokens is not None and len(ids) != n_tokens:
        raise ValueError(f"{what} has {len(ids)} entries but the attention has {n_tokens} tokens on that axis")
    groups: dict[Any, list[int]] = {}
    for index, word in enumerate(ids):
        if word is not None and (isinstance(word, bool) or not isinstance(word, (int, np.integer)) or word < 0):
            raise ValueError(f"{what}[{index}] must be a word number ≥ 0 or None, got {word!r}")
        groups.setdefault(("token", index) if word is None else int(word), []).append(index)
    return list(groups.values())


def word_labels(tokens: Sequence[str], word_ids: WordIds) -> list[str]:
    """Raw strings for words: each word's pieces joined, WordPiece's ``##`` dropped.

    Byte-level ``Ġ`` and SentencePiece ``▁`` stay, so the usual display turns them
    into the word's leading space.
    """
    labels = []
    for group in word_groups(word_ids, len(tokens), "word_ids"):
        pieces = [tokens[group[0]]] + [tokens[i].removeprefix("##") for i in group[1:]]
        labels.append("".join(pieces))
    return labels


_WORD_START_MARKS = ("Ġ", "▁")


def word_ids_from_tokens(tokens: Sequence[str], special: Sequence[bool] | None = None) -> list[int | None]:
    """Word ids guessed from raw tokens, for tokens that come without a tokenizer.

    WordPiece: ``##`` continues the previous word. Byte-level BPE (``Ġ``) and
    SentencePiece (``▁``): a token starts a word when it carries the mark, is
    punctuation, or follows punctuation or a special token. Special tokens
    (flagged, or looking like [CLS]/</s>) get None.
    """
    flags = [looks_special(token) for token in tokens] if special is None else [bool(flag) for flag in special]
    if len(flags) != len(tokens):
        raise ValueError(f"special has {len(flags)} flags for {len(tokens)} tokens")
    marked = any(token.startswith(_WORD_START_MARKS) for token in tokens)
    ids: list[int | None] = []
    word = -1
    previous_breaks = True  # the first token always starts a word
    for token, is_special in zip(tokens, flags):
        if is_special:
            ids.append(None)
            previous_breaks = True
            continue
        punctuation = bool(token) and not any(char.isalnum() for char in token.lstrip("".join(_WORD_START_MARKS)))
        if marked:
            starts = previous_breaks or token.startswith(_WORD_START_MARKS) or punctuation
        else:
            starts = previous_breaks or not token.startswith("##")
        if starts:
            word += 1
        ids.append(word)
        previous_breaks = marked and punctuation
    return ids


def stack_word_ids(stack: AttentionStack, axis: str) -> list[int | None]:
    """A stack's word ids for its rows or columns: the tokenizer's when it gave them, else guessed."""
    given = stack.row_word_ids if axis == "row" else stack.col_word_ids
    tokens = stack.row_tokens if axis == "row" else stack.col_tokens
    if given is not None:
        return split_at_word_marks(given, tokens)
    special = stack.row_special if axis == "row" else stack.col_special
    return word_ids_from_tokens(tokens, special)


def split_at_word_marks(word_ids: WordIds, tokens: Sequence[str]) -> list[int | None]:
    """The tokenizer's word ids, with a new word wherever a token carries a word-start mark (Ġ, ▁).

    Tokenizers without a pre-tokenizer (Llama's SentencePiece) call the whole text
    one word; the mark on each word's first piece still says where words begin.
    """
    out: list[int | None] = []
    word, previous = -1, None
    for index, (given, token) in enumerate(zip(word_ids, tokens)):
        if given is None:
            out.append(None)
            previous = None
            continue
        if given != previous or (index > 0 and out[-1] is not None and token.startswith(_WORD_START_MARKS)):
            word += 1
        out.append(word)
        previous = given
    return out
