"""Queries and keys exactly as they entered each attention softmax: plain numpy.

``sources.capture`` records them during the forward pass of a full input,
``long.capture`` during the fused pass of a long one; the neuron view, ``w.qk`` and
the long-input answers read them through these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

MASKED = np.finfo(np.float32).min
"""The additive term of a key a query may not see, as the models write it."""


class HeadQueries(NamedTuple):
    """One head's queries and keys as the softmax read them: ``softmax(q @ k.T * scale + bias)``.

    ``q`` is float32 ``(rows, d_head)``, ``k`` float32 ``(cols, d_head)`` (for grouped-query
    attention, the key head this query head reads), ``bias`` float32 ``(rows, cols)`` or
    None when nothing is added (masks use a very negative number, as the model does).
    """

    q: np.ndarray
    k: np.ndarray
    scale: float
    bias: np.ndarray | None

    def scores(self) -> np.ndarray:
        """The scaled scores plus the bias: the softmax's input, float32 ``(rows, cols)``."""
        scores = (self.q @ self.k.T) * np.float32(self.scale)
        return scores if self.bias is None else scores + self.bias

    def bias_row(self, row: int) -> np.ndarray:
        """The additive term of one row (zeros when there is none)."""
        if self.bias is None:
            return np.zeros(self.k.shape[0], dtype=np.float32)
        return self.bias[row]


@dataclass(frozen=True)
class StackQueries:
    """Queries and keys of every layer of one attention stack.

    ``queries`` is float32 ``(layers, heads, rows, d_head)``, ``keys`` float32
    ``(layers, key_heads, cols, d_head)``; query head ``h`` reads key head
    ``h // (heads // key_heads)`` (grouped-query attention repeats each key head).
    ``biases[layer]`` is float32 ``(1 or heads, rows, cols)`` or None; layers that
    share a bias (the same mask, T5's position bias) share one array. ``causal``
    adds the causal mask on top without storing it (long inputs, where n × n
    would not fit): :meth:`bias_block` computes any part of it.
    """

    queries: np.ndarray
    keys: np.ndarray
    scales: tuple[float, ...]
    biases: tuple[np.ndarray | None, ...]
    causal: bool = False

    @property
    def n_layers(self) -> int:
        return int(self.queries.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.queries.shape[1])

    @property
    def d_head(self) -> int:
        return int(self.queries.shape[3])

    def make_read_only(self) -> None:
        """Refuse writes to every array: the neuron view shows them, and what Python holds is what it shows."""
        for array in (self.queries, self.keys, *self.biases):
            if array is not None:
                array.flags.writeable = False

    def key_head(self, head: int) -> int:
        return head // (self.n_heads // int(self.keys.shape[1]))

    def head(self, layer: int, head: int) -> HeadQueries:
        """One head, its bias as a dense (rows, cols) array (the causal mask too, when ``causal``)."""
        rows, cols = self.queries.shape[2], self.keys.shape[2]
        bias = self.bias_block(layer, head, slice(0, rows), slice(0, cols))
        return HeadQueries(self.queries[layer, head], self.keys[layer, self.key_head(head)], self.scales[layer], bias)

    def bias_block(self, layer: int, head: int, rows: slice, cols: slice) -> np.ndarray | None:
        """The additive term of a rectangle of one head's scores, float32, or None when nothing is added."""
        bias = self.biases[layer]
        block = None if bias is None else bias[head if bias.shape[0] > 1 else 0, rows, cols]
        last_col = min(cols.stop, self.keys.shape[2]) - 1
        if not self.causal or last_col <= rows.start:  # below the diagonal nothing is masked
            return block
        future = np.arange(rows.start, rows.stop)[:, None] < np.arange(cols.start, last_col + 1)
        mask = np.where(future, MASKED, np.float32(0.0)).astype(np.float32)
        return mask if block is None else block + mask


@dataclass(frozen=True)
class QueryKeys:
    """What one capture found: queries and keys per stack name, or why there are none."""

    stacks: dict[str, StackQueries] = field(default_factory=dict)
    unavailable: str = ""  # "the neuron view is not available for ...", "" when captured

    def stack(self, name: str) -> StackQueries:
        if self.unavailable:
            raise ValueError(self.unavailable)
        if name not in self.stacks:
            raise ValueError(f"no queries and keys for the {name!r} attention; have {list(self.stacks)}")
        return self.stacks[name]


def not_available(model: object, why: str) -> QueryKeys:
    """No queries and keys for ``model``, and why: "the neuron view is not available for <class>: ..."."""
    return QueryKeys(unavailable=f"the neuron view is not available for {type(model).__name__}: {why}")
