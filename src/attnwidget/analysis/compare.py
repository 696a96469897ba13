"""Comparing two models on the same input: aligned stacks, matched layers, the heads that changed.

Plain functions, no widget code. Same tokens: compared token by token.
Different tokenizers (BERT vs RoBERTa): compared word by word; when one model
adds special tokens the other lacks, only the words of the text are kept and
rows renormalised over them. Different depths: each layer of A meets the layer
of B at the same relative depth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.stack import CROSS, AttentionStack, Extraction
from ..core.tokens import display_tokens
from .change import check_same_kind, head_change, matched_layers
from .shown import words_stack


@dataclass(frozen=True)
class Comparison:
    """A and B over the same rows and columns; B's layers as they are, with the map from A's."""

    a: AttentionStack
    b: AttentionStack
    level: str  # "tokens" or "words"
    layer_map: list[int]  # for each layer of A, the layer of B it is compared with
    change: np.ndarray | None  # (A's layers, heads) mean JS divergence, None when head counts differ
    caption: str


def compare_extractions(a: Extraction, b: Extraction, stack: str, granularity: str = "tokens") -> Comparison:
    """Align stack ``stack`` of ``a`` with the matching stack of ``b`` (see the module docstring)."""
    stack_a = a.weights(stack, "a comparison")
    full_b = b.full_stacks
    stack_b = (
        full_b.get(stack) or (full_b.get(CROSS) if stack_a.name == CROSS else None) or b.weights(b.main.name, "a comparison")
    )
    check_same_kind(stack_a, stack_b)
    same_tokens = stack_a.row_tokens == stack_b.row_tokens and stack_a.col_tokens == stack_b.col_tokens
    notes: list[str] = []
    if same_tokens and granularity == "tokens":
        level = "tokens"
    else:
        level = "words"
        stack_a, stack_b = words_stack(stack_a), words_stack(stack_b)
        if not same_tokens:
            notes.append("different tokenizers: compared word by word")
        if _shape(stack_a) != _shape(stack_b):
            stack_a, stack_b = _text_words_only(stack_a, stack_b)
            notes.append("special tokens left out (the models add different ones), rows renormalised over the words")
    layer_map = matched_layers(stack_a.n_layers, stack_b.n_layers)
    if stack_a.n_layers != stack_b.n_layers:
        notes.append(
            f"{stack_a.n_layers} vs {stack_b.n_layers} layers, matched by relative depth "
            f"(A's layer l with B's round(l·{stack_b.n_layers - 1}/{max(stack_a.n_layers - 1, 1)}))"
        )
    change = None
    if stack_a.n_heads == stack_b.n_heads:
        change = head_change(stack_a.attention, stack_b.attention[layer_map])
    else:
        notes.append(f"{stack_a.n_heads} vs {stack_b.n_heads} heads: B shows the mean of all its heads; no per-head ranking")
    return Comparison(stack_a, stack_b, level, layer_map, change, "; ".join(notes))


def _shape(stack: AttentionStack) -> tuple[int, int]:
    return stack.attention.shape[2], stack.attention.shape[3]


def _text_words_only(a: AttentionStack, b: AttentionStack) -> tuple[AttentionStack, AttentionStack]:
    """Both stacks without special words, rows renormalised; their word counts must then agree."""
    kept_a, kept_b = _without_special(a), _without_special(b)
    if _shape(kept_a) != _shape(kept_b):
        words_a = ", ".join(display_tokens(kept_a.row_tokens)[:8])
        words_b = ", ".join(display_tokens(kept_b.row_tokens)[:8])
        raise ValueError(
            f"the two models split the text into different words ({kept_a.attention.shape[2]}: {words_a}… vs "
            f"{kept_b.attention.shape[2]}: {words_b}…), so their attention cannot be compared word by word"
        )
    return kept_a, kept_b


def _without_special(stack: AttentionStack) -> AttentionStack:
    rows = [i for i, special in enumerate(stack.row_special) if not special]
    cols = [j for j, special in enumerate(stack.col_special) if not special]
    attention = stack.attention[:, :, rows][:, :, :, cols]
    sums = attention.sum(axis=3, keepdims=True)
    attention = np.divide(attention, sums, out=np.zeros_like(attention), where=sums > 0).astype(np.float32)

    def shift(index: int | None) -> int | None:
        """A pair boundary among the kept words."""
        return None if index is None else sum(1 for i in rows if i < index)

    return replace(
        stack,
        layers=tuple(np.ascontiguousarray(attention)),
        row_tokens=[stack.row_tokens[i] for i in rows],
        col_tokens=[stack.col_tokens[j] for j in cols],
        row_special=[False] * len(rows),
        col_special=[False] * len(cols),
        row_b_start=shift(stack.row_b_start),
        col_b_start=shift(stack.col_b_start),
        row_word_ids=None,
        col_word_ids=None,
    )
