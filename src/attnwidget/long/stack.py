"""Long inputs: attention kept as queries and keys, computed on demand, never materialised.

An input whose float32 attention (layers · heads · n²) exceeds ``max_attention_bytes``
runs with fused attention while ``long.capture`` records every layer's queries and
keys; each row's log-sum-exp comes from the flash kernel or is computed once, blockwise.
A :class:`LongStack` is a :class:`~attnwidget.core.stack.Stack` like an
``AttentionStack``, with the same tokens and flags, and answers exactly (float32, no
sampling) what the page draws:

* :meth:`LongStack.tile`: a heatmap rectangle max-pooled to screen resolution;
* :meth:`LongStack.line`: one row (or column) for the token-focus panel;
* :meth:`LongStack.top_keys`: each row's strongest keys, for the head view;
* :meth:`LongStack.thumbnails`: one layer's heads, small, for the model view;
* :meth:`LongStack.layer`: one whole layer, when it fits the budget.

Every answer averages the asked heads first and pools after, as the page does with
materialised weights. Plain numpy in and out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

from ..core.budget import human_bytes
from ..core.queries import StackQueries
from .blockwise import Head, attention_block, attention_layer, pooled_mean_tile, row_logsumexp, top_keys

_BLAS = ThreadpoolController()
_T = TypeVar("_T")


def one_blas_thread(compute: Callable[[], _T]) -> _T:
    """``compute()`` with numpy's BLAS on one thread.

    The blocks are small (512 × d_head by d_head × 512), where threads gain nothing; in a
    notebook kernel, BLAS threads spinning against the browser and the model's own threads
    made every answer about 10× slower at 8,192 tokens (benchmarks/long_page.py).
    """
    with _BLAS.limit(limits=1, user_api="blas"):
        return compute()


CACHED_ANSWERS = 64
"""Top keys and thumbnails kept per stack (each at most a few MB), so going back to a head is instant."""


@dataclass(frozen=True)
class LongStack:
    """One self-attention stack of a long input: tokens like ``AttentionStack``, weights on demand.

    ``lse[layer, head, row]`` is the log-sum-exp of the row's scores, so a
    weight is ``exp(q·k·scale + bias − lse)`` without summing the row again.
    """

    is_long: ClassVar[bool] = True
    name: str
    queries: StackQueries
    lse: np.ndarray
    row_tokens: list[str]
    col_tokens: list[str]
    row_special: list[bool]
    col_special: list[bool]
    causal: bool = False
    row_b_start: int | None = None
    col_b_start: int | None = None
    _answers: dict[tuple, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_layers(self) -> int:
        return self.queries.n_layers

    @property
    def n_heads(self) -> int:
        return self.queries.n_heads

    @property
    def attention_bytes(self) -> int:
        return self.n_layers * self.n_heads * len(self.row_tokens) * len(self.col_tokens) * 4

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.n_layers, self.n_heads, len(self.row_tokens), len(self.col_tokens))

    def make_read_only(self) -> None:
        """Nothing to do: the queries, keys and log-sum-exps are read-only from the start (``extract_long``)."""

    @property
    def attention(self) -> np.ndarray:
        raise ValueError(
            f"this input's attention would take {human_bytes(self.attention_bytes)} as float32, over "
            "max_attention_bytes, so it is kept as queries and keys and computed on demand: use "
            "w.attention_layer(layer) for one layer's weights (heads, rows, cols)"
        )

    def head(self, layer: int, head: int) -> Head:
        return Head(self.queries, layer, head)

    def tile(self, layer: int, heads: list[int], rows: slice, cols: slice, out_rows: int, out_cols: int) -> np.ndarray:
        """The heads' mean over a rectangle, max-pooled to at most ``out_rows × out_cols``, float32."""
        selected = [self.head(layer, h) for h in heads]
        lses = [self.lse[layer, h] for h in heads]
        return one_blas_thread(lambda: pooled_mean_tile(selected, lses, rows, cols, out_rows, out_cols))

    def line(self, layer: int, heads: list[int], axis: str, index: int) -> np.ndarray:
        """The heads' mean weights of row ``index`` (``axis="row"``: what it attends to) or of column ``index``."""
        n_rows, n_cols = len(self.row_tokens), len(self.col_tokens)
        rows, cols = (slice(index, index + 1), slice(0, n_cols)) if axis == "row" else (slice(0, n_rows), slice(index, index + 1))
        blocks = [(self.head(layer, h), self.lse[layer, h]) for h in heads]
        total = one_blas_thread(lambda: sum(attention_block(head, lse, rows, cols) for head, lse in blocks))
        return (total / np.float32(len(heads))).reshape(-1)

    def top_keys(self, layer: int, head: int, count: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` strongest keys of ``rows`` for one head: (int32 keys, float32 weights) ``(rows, count)``."""
        return self._remembered(
            ("top", layer, head, count, rows.start, rows.stop),
            lambda: one_blas_thread(lambda: top_keys(self.head(layer, head), self.lse[layer, head], count, rows=rows)),
        )

    def thumbnails(self, layer: int, size: int) -> np.ndarray:
        """Each head of ``layer`` max-pooled to ``size × size`` (fewer cells for fewer tokens), float32."""

        def compute() -> np.ndarray:
            everything = (slice(0, len(self.row_tokens)), slice(0, len(self.col_tokens)))
            return np.stack([self.tile(layer, [h], *everything, size, size) for h in range(self.n_heads)])

        return self._remembered(("thumbs", layer, size), compute)

    def layer(self, layer: int, max_bytes: int) -> np.ndarray:
        """One layer's attention, float32 ``(heads, rows, cols)``, or a ValueError when it exceeds ``max_bytes``."""
        return one_blas_thread(lambda: attention_layer(self.queries, layer, max_bytes))

    def _remembered(self, key: tuple, compute: Any) -> Any:
        if key not in self._answers:
            while len(self._answers) >= CACHED_ANSWERS:
                del self._answers[next(iter(self._answers))]
            self._answers[key] = compute()
        return self._answers[key]


def logsumexp_all(queries: StackQueries) -> np.ndarray:
    """Every row's log-sum-exp for every layer and head, float64 ``(layers, heads, rows)``, blockwise."""
    out = np.empty((queries.n_layers, queries.n_heads, queries.queries.shape[2]), dtype=np.float64)
    for layer in range(queries.n_layers):
        for head in range(queries.n_heads):
            out[layer, head] = row_logsumexp(Head(queries, layer, head))
    return out
