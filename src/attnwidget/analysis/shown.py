"""What the page shows of an extraction: raw attention, rollout, tokens or words.

Plain functions, no widget code. The widget encodes ``shown_extraction(...)``
instead of the raw extraction, so every panel draws rollout or words without
knowing about either: the same stacks, layers and heads, other values and labels.
"""

from __future__ import annotations

from dataclasses import replace

from ..core.checks import check_choice
from ..core.stack import CROSS, AttentionStack, Extraction, is_causal
from .combine import rollout_by_head
from .words import stack_word_ids, word_attention, word_groups, word_labels

COMBINES = ("none", "rollout")
"""``combine``: raw attention per layer, or attention rollout up to each layer."""
GRANULARITIES = ("tokens", "words")
"""``granularity``: sub-word tokens, or words."""
ROLLOUT_RESIDUAL = 0.5


def shown_extraction(extraction: Extraction, combine: str = "none", granularity: str = "tokens") -> Extraction:
    """The extraction with every stack combined across layers and/or read as words.

    ``combine="rollout"``: each layer of a self-attention stack becomes attention
    rollout up to that layer, keeping that layer's heads (:func:`rollout_by_head`,
    residual 0.5), so the mean of all heads is the rollout itself. Cross-attention
    is left raw: rollout needs rows and columns to be the same tokens.
    ``granularity="words"``: sub-word tokens become words (:func:`word_attention`).
    Rollout is taken over tokens first, then read as words.
    """
    check_choice(combine, COMBINES, "combine")
    check_choice(granularity, GRANULARITIES, "granularity")
    if combine == "none" and granularity == "tokens":
        return extraction
    need = "combine='rollout'" if combine == "rollout" else "granularity='words'"
    stacks = {name: shown_stack(extraction.weights(name, need), combine, granularity) for name in extraction.stacks}
    return replace(extraction, stacks=stacks)


def is_combined(stack: AttentionStack, combine: str) -> bool:
    return combine == "rollout" and stack.name != CROSS


def shown_stack(stack: AttentionStack, combine: str, granularity: str) -> AttentionStack:
    if is_combined(stack, combine):
        stack = replace(stack, layers=tuple(rollout_by_head(stack.attention, residual=ROLLOUT_RESIDUAL)))
    if granularity == "words":
        stack = words_stack(stack)
    return stack


def words_stack(stack: AttentionStack) -> AttentionStack:
    """The stack with words for tokens: labels, special flags and pair boundaries follow."""
    row_ids = stack_word_ids(stack, "row")
    col_ids = stack_word_ids(stack, "col")
    attention = word_attention(stack.attention, row_ids, col_ids)
    rows = word_groups(row_ids)
    cols = word_groups(col_ids)
    return AttentionStack(
        name=stack.name,
        layers=tuple(attention),
        row_tokens=word_labels(stack.row_tokens, row_ids),
        col_tokens=word_labels(stack.col_tokens, col_ids),
        row_special=[stack.row_special[group[0]] for group in rows],
        col_special=[stack.col_special[group[0]] for group in cols],
        causal=stack.causal and len(rows) > 1 and is_causal(attention),
        row_b_start=_word_of(rows, stack.row_b_start),
        col_b_start=_word_of(cols, stack.col_b_start),
        row_word_ids=list(range(len(rows))),
        col_word_ids=list(range(len(cols))),
    )


def analysis_caption(combine: str, granularity: str, stack_name: str, layer: int | None) -> str:
    """What the values are when they are not raw token attention, for a title: "Rollout of layers 0–3 · words".

    The twin of the page's ``analysisCaption`` (js/shared/format.ts), so figures and the saved
    file say what the panels say. Empty for raw tokens; ``layer=None`` is a view of every layer.
    """
    parts = []
    if combine == "rollout" and stack_name != CROSS:
        if layer is None:
            parts.append("Rollout up to each layer")
        else:
            parts.append("Rollout of layer 0" if layer == 0 else f"Rollout of layers 0–{layer}")
    if granularity == "words":
        parts.append("words" if parts else "Words")
    return " · ".join(parts)


def _word_of(groups: list[list[int]], token: int | None) -> int | None:
    """The index of the word holding ``token`` (a pair's first token of B)."""
    if token is None:
        return None
    return next((index for index, group in enumerate(groups) if token in group), None)
