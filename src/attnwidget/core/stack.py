"""What an extraction returns: tokens and attention as plain numpy, no widget code.

Everything downstream (analysis, the wire format, exports, the widget) reads these
types and nothing else, so a new model family only has to produce them. A
:class:`Stack` is what every consumer may read of one kind of attention; an
:class:`AttentionStack` holds every weight, and ``long.LongStack`` (inputs over the
memory budget) keeps queries and keys instead and computes weights on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Protocol

import numpy as np

from .queries import QueryKeys

# Names of the attention stacks an extraction can hold. Encoder-only and
# decoder-only models produce one stack, "self"; encoder-decoder models produce
# "encoder", "decoder" and "cross".
SELF, ENCODER, DECODER, CROSS = "self", "encoder", "decoder", "cross"
STACK_ORDER = (SELF, ENCODER, DECODER, CROSS)


class Stack(Protocol):
    """What every stack offers, whether it holds its weights or computes them on demand.

    Rows are queries ("from"), columns keys ("to"). ``is_long`` is True for a stack
    kept as queries and keys (``long.LongStack``): its ``attention`` raises, saying
    how to get one layer instead.
    """

    is_long: ClassVar[bool]

    @property
    def name(self) -> str: ...
    @property
    def row_tokens(self) -> list[str]: ...
    @property
    def col_tokens(self) -> list[str]: ...
    @property
    def row_special(self) -> list[bool]: ...
    @property
    def col_special(self) -> list[bool]: ...
    @property
    def causal(self) -> bool: ...
    @property
    def row_b_start(self) -> int | None: ...
    @property
    def col_b_start(self) -> int | None: ...
    @property
    def n_layers(self) -> int: ...
    @property
    def n_heads(self) -> int: ...
    @property
    def shape(self) -> tuple[int, int, int, int]: ...
    @property
    def attention(self) -> np.ndarray: ...
    def make_read_only(self) -> None: ...


class PerLayer:
    """Sizes read from ``layers``, one (heads, rows, cols) array per layer, for every class that keeps them so."""

    layers: tuple[np.ndarray, ...] | Sequence[np.ndarray]

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_heads(self) -> int:
        return int(self.layers[0].shape[0])


@dataclass(frozen=True)
class AttentionStack(PerLayer):
    """One kind of attention: every layer and head over one pair of token lists.

    ``layers[layer][head, row, col]`` is how much the row token attends to the
    column token. Rows are queries ("from"), columns are keys ("to"). For
    self-attention both lists are the same tokens; for cross-attention rows are the
    decoder tokens and columns the encoder tokens.

    The layers are kept as the arrays the model returned (one float32
    ``(heads, rows, cols)`` array per layer), not copied into one block: at 512
    tokens a copy is 75 MB of fresh memory and took half of a widget's ready time.
    ``attention`` is that block, built on first use only.
    """

    is_long: ClassVar[bool] = False
    name: str
    layers: tuple[np.ndarray, ...]  # one float32 (heads, rows, cols) array per layer
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
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError("attention must have at least one layer")
        first = self.layers[0]
        for index, layer in enumerate(self.layers):
            if layer.ndim != 3 or layer.shape != first.shape:
                raise ValueError(
                    f"layer {index} of attention has shape {layer.shape}: every layer must be "
                    f"(heads, rows, cols) of one shape, layer 0 is {first.shape}"
                )
        if first.shape[1] != len(self.row_tokens) or first.shape[2] != len(self.col_tokens):
            raise ValueError(
                f"attention of shape {self.shape} does not match {len(self.row_tokens)} row tokens "
                f"and {len(self.col_tokens)} column tokens"
            )
        for ids, tokens, what in ((self.row_word_ids, self.row_tokens, "row"), (self.col_word_ids, self.col_tokens, "col")):
            if ids is not None and len(ids) != len(tokens):
                raise ValueError(f"{what}_word_ids has {len(ids)} entries for {len(tokens)} {what} tokens")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        heads, rows, cols = self.layers[0].shape
        return (len(self.layers), heads, rows, cols)

    @cached_property
    def attention(self) -> np.ndarray:
        """Every layer as one float32 (layers, heads, rows, cols) array, built on first use and kept.

        When the layers are already consecutive views of one such array (attention
        given as a single tensor), that array is viewed without a copy. Read-only when
        the layers are (see :meth:`make_read_only`).
        """
        base = _common_base(self.layers)
        whole = np.stack(self.layers) if base is None else base.view()  # a view: the base's own flags stay
        whole.flags.writeable = any(layer.flags.writeable for layer in self.layers)
        return whole

    def make_read_only(self) -> None:
        """Refuse writes to every layer and to ``attention``, built or not: what Python holds is what the page shows."""
        for layer in self.layers:
            layer.flags.writeable = False
        if "attention" in self.__dict__:  # already built by cached_property
            self.attention.flags.writeable = False


@dataclass(frozen=True)
class Extraction:
    """The result of running one input through one model (or of user tensors)."""

    stacks: Mapping[str, Stack]  # keyed by stack name, in STACK_ORDER
    model_name: str  # what the user asked for ("offline", "gpt2", a path), "" for user tensors
    # Shapes as the tutorials print them, e.g. {"input_ids": [1, 11], "attentions": [6, 1, 12, 11, 11]}
    shapes: dict[str, list[int]] = field(default_factory=dict)
    # Notes the widget shows beside the view: truncation, a generated target, ...
    notes: list[str] = field(default_factory=list)
    # Queries and keys per stack, when the extraction captured them (the neuron view's data).
    queries: QueryKeys | None = None

    @property
    def main(self) -> Stack:
        """The stack shown first: self-attention, or the encoder's."""
        return next(iter(self.stacks.values()))

    def make_read_only(self) -> None:
        """Refuse writes to every stack and to the queries and keys: what Python holds is what the page shows."""
        for stack in self.stacks.values():
            stack.make_read_only()
        for captured in self.queries.stacks.values() if self.queries is not None else ():
            captured.make_read_only()

    def weights(self, name: str, need: str) -> AttentionStack:
        """Stack ``name`` with every weight, for ``need`` (what reads them); a ValueError for a long input."""
        stack = self.stacks[name]
        if not isinstance(stack, AttentionStack):
            raise ValueError(
                f"{need} reads every weight, and this input's attention is over max_attention_bytes "
                "(kept as queries and keys): not available for a long input; w.attention_layer(layer) "
                "computes one layer's weights"
            )
        return stack

    @property
    def full_stacks(self) -> dict[str, AttentionStack]:
        """Every stack that holds its weights (all of them, except for a long input)."""
        return {name: stack for name, stack in self.stacks.items() if isinstance(stack, AttentionStack)}


def is_causal(layers: Iterable[np.ndarray]) -> bool:
    """True when no row attends to a later column, in any layer or head.

    ``layers`` are (heads, rows, cols) arrays (a 4-D array iterates as its layers).
    Row by row over views, so no copy is made, and a bidirectional model is
    recognised on its first row.
    """
    return not any(layer[..., row, row + 1 :].any() for layer in layers for row in range(layer.shape[-2]))


def _common_base(layers: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The C-contiguous 4-D array whose ``tuple(array)`` these layers are, or None."""
    base = layers[0].base
    if not isinstance(base, np.ndarray) or base.shape != (len(layers), *layers[0].shape):
        return None
    if base.dtype != np.float32 or not base.flags.c_contiguous:
        return None
    start = base.__array_interface__["data"][0]
    step = base.strides[0]
    for index, layer in enumerate(layers):
        if layer.base is not base or layer.__array_interface__["data"][0] != start + index * step:
            return None
    return base
