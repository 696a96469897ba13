"""What an extraction returns: tokens and attention as plain numpy, no widget code.

Everything downstream (encoding for the browser, the widget, the BertViz-style
helpers) reads these two dataclasses and nothing else, so a new model family only
has to produce them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .queries import QueryKeys

# Names of the attention stacks an extraction can hold. Encoder-only and
# decoder-only models produce one stack, "self"; encoder-decoder models produce
# "encoder", "decoder" and "cross".
SELF, ENCODER, DECODER, CROSS = "self", "encoder", "decoder", "cross"
STACK_ORDER = (SELF, ENCODER, DECODER, CROSS)


@dataclass(frozen=True)
class AttentionStack:
    """One kind of attention: every layer and head over one pair of token lists.

    ``attention[layer, head, row, col]`` is how much the row token attends to the
    column token. Rows are queries ("from"), columns are keys ("to"). For
    self-attention both lists are the same tokens; for cross-attention rows are the
    decoder tokens and columns the encoder tokens.
    """

    name: str
    attention: np.ndarray  # float32, (layers, heads, rows, cols), C-contiguous
    row_tokens: list[str]  # raw tokenizer strings, e.g. "Ġbank", "▁bank", "##ing"
    col_tokens: list[str]
    row_special: list[bool]  # True for [CLS]/[SEP]/<s>/</s>/padding and the like
    col_special: list[bool]
    causal: bool = False  # rows only attend to columns at or before them
    # For sentence pairs: index of the first token of sentence B in rows and in
    # columns (None when the input is a single sentence).
    row_b_start: int | None = None
    col_b_start: int | None = None
    # Each token's word, as the tokenizer's ``word_ids()`` gives it (unique across a
    # pair; None for special tokens, which stay words of their own). None when the
    # tokenizer gave none: words are then guessed from the token strings.
    row_word_ids: list[int | None] | None = None
    col_word_ids: list[int | None] | None = None

    def __post_init__(self) -> None:
        a = self.attention
        if a.ndim != 4:
            raise ValueError(f"attention must have 4 dimensions (layers, heads, rows, cols), got shape {a.shape}")
        if a.shape[2] != len(self.row_tokens) or a.shape[3] != len(self.col_tokens):
            raise ValueError(
                f"attention of shape {a.shape} does not match {len(self.row_tokens)} row tokens "
                f"and {len(self.col_tokens)} column tokens"
            )
        for ids, tokens, what in ((self.row_word_ids, self.row_tokens, "row"), (self.col_word_ids, self.col_tokens, "col")):
            if ids is not None and len(ids) != len(tokens):
                raise ValueError(f"{what}_word_ids has {len(ids)} entries for {len(tokens)} {what} tokens")

    @property
    def n_layers(self) -> int:
        return int(self.attention.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.attention.shape[1])


@dataclass(frozen=True)
class Extraction:
    """The result of running one input through one model (or of user tensors)."""

    stacks: dict[str, AttentionStack]  # keyed by stack name, in STACK_ORDER
    model_name: str  # what the user asked for ("offline", "gpt2", a path), "" for user tensors
    # Shapes as the tutorials print them, e.g. {"input_ids": [1, 11], "attentions": [6, 1, 12, 11, 11]}
    shapes: dict[str, list[int]] = field(default_factory=dict)
    # Notes the widget shows beside the view: truncation, a generated target, ...
    notes: list[str] = field(default_factory=list)
    # Queries and keys per stack, when the extraction captured them (the neuron view's data).
    queries: QueryKeys | None = None

    @property
    def main(self) -> AttentionStack:
        """The stack shown first: self-attention, or the encoder's."""
        return next(iter(self.stacks.values()))
