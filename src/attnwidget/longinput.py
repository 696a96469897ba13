"""Long inputs: attention kept as queries and keys, computed on demand, never materialised.

An input whose float32 attention (layers · heads · n²) exceeds ``max_attention_bytes``
runs with fused attention while ``longcapture`` records every layer's queries and
keys; each row's log-sum-exp is computed once, blockwise. A :class:`LongStack` then
stands where an :class:`~attnwidget.result.AttentionStack` would, with the same
tokens and flags, and answers exactly (float32, no sampling) what the page draws:

* :meth:`LongStack.tile`: a heatmap rectangle max-pooled to screen resolution;
* :meth:`LongStack.line`: one row (or column) for the token-focus panel;
* :meth:`LongStack.top_keys`: each row's strongest keys, for the head view;
* :meth:`LongStack.thumbnails`: one layer's heads, small, for the model view;
* :meth:`LongStack.layer`: one whole layer, when it fits the budget.

Every answer averages the asked heads first and pools after, as the page does with
materialised weights. Plain numpy in and out: the widget and ``page.py`` are glue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

from .blockwise import Head, attention_block, attention_layer, pooled_mean_tile, row_logsumexp, top_keys
from .extraction import _human_bytes as human_bytes
from .queries import QueryKeys, StackQueries
from .result import SELF, Extraction

if TYPE_CHECKING:
    from .models import LoadedModel
    from .validation import LongRequest

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
    def layers(self) -> tuple[np.ndarray, ...]:
        return self.attention  # type: ignore[return-value]  # raises: there are no weights to give

    @property
    def attention(self) -> np.ndarray:
        raise ValueError(
            f"this input's attention would take {human_bytes(self.attention_bytes)} as float32, over "
            "max_attention_bytes, so it is kept as queries and keys and computed on demand: use "
            "w.attention_layer(layer) for one layer's weights (heads, rows, cols)"
        )

    def head(self, layer: int, head: int) -> Head:
        return Head(self.queries, layer, head)

    def tile(
        self, layer: int, heads: list[int], rows: slice, cols: slice, out_rows: int, out_cols: int
    ) -> np.ndarray:
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


def long_answer(stack: LongStack, request: LongRequest) -> tuple[dict[str, Any], list[memoryview]]:
    """The message answering one checked page request: its fields echoed, the ``shape``, float32 buffers.

    ``top`` answers two buffers, the int32 keys then the float32 weights, ``(rows, count)`` each.
    """
    header: dict[str, Any] = {
        "type": "long", "version": request.version, "stack": request.stack, "id": request.id,
        "what": request.what, "layer": request.layer, "heads": list(request.heads),
    }
    heads = list(request.heads)
    if request.what == "tile":
        arrays = [stack.tile(request.layer, heads, slice(*request.rows), slice(*request.cols), *request.size)]
    elif request.what == "line":
        arrays = [stack.line(request.layer, heads, request.axis, request.index)]
        header.update(axis=request.axis, index=request.index)
    elif request.what == "top":
        arrays = list(stack.top_keys(request.layer, heads[0], request.count, slice(*request.rows)))
        header.update(rows=list(request.rows), count=request.count)
    else:
        arrays = [stack.thumbnails(request.layer, request.size[0])]
        header["size"] = list(request.size)
    if request.what == "tile":
        header.update(rows=list(request.rows), cols=list(request.cols), size=list(request.size))
    header["shape"] = list(arrays[0].shape)
    little_endian = [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for a in arrays]
    return header, [memoryview(a).cast("B") for a in little_endian]


def is_long(stack: object) -> bool:
    return isinstance(stack, LongStack)


def logsumexp_all(queries: StackQueries) -> np.ndarray:
    """Every row's log-sum-exp for every layer and head, float64 ``(layers, heads, rows)``, blockwise."""
    out = np.empty((queries.n_layers, queries.n_heads, queries.queries.shape[2]), dtype=np.float64)
    for layer in range(queries.n_layers):
        for head in range(queries.n_heads):
            out[layer, head] = row_logsumexp(Head(queries, layer, head))
    return out


def extract_long(
    loaded: LoadedModel, encoded: Any, special: list[bool], notes: list[str], b_start: int | None, needed_bytes: int
) -> Extraction:
    """Run ``loaded`` once on ``encoded`` with fused attention, keeping queries, keys and row log-sum-exps."""
    import torch

    from .extraction import _output_shapes
    from .longcapture import capture_queries_keys_long

    input_ids = encoded["input_ids"]
    # One unpadded sequence: an all-ones attention mask adds nothing but would be stored as n × n.
    inputs = {key: value for key, value in encoded.items() if key != "attention_mask"}
    try:
        with torch.no_grad(), capture_queries_keys_long(loaded.model) as capture:
            output = loaded.model(**inputs)
        queries = capture.result()
        lse = capture.row_logsumexp()  # from the flash kernel, or None: then computed blockwise below
    except Exception as error:  # noqa: BLE001 - a family without SDPA support: say why, in the budget's terms
        raise ValueError(
            f"the attention for this input would take {human_bytes(needed_bytes)}, over max_attention_bytes, "
            f"and {loaded.name!r} cannot run in long-input mode ({type(error).__name__}: {error}): shorten the "
            "input or pass a larger max_attention_bytes"
        ) from None
    for array in (queries.queries, queries.keys, *queries.biases):
        if array is not None:
            array.flags.writeable = False
    tokens = loaded.tokenizer.convert_ids_to_tokens(input_ids[0].tolist())
    lse = one_blas_thread(lambda: logsumexp_all(queries)) if lse is None else lse
    lse.flags.writeable = False
    stack = LongStack(
        name=SELF, queries=queries, lse=lse, row_tokens=tokens, col_tokens=tokens, row_special=special,
        col_special=special, causal=queries.causal, row_b_start=b_start, col_b_start=b_start,
    )
    shapes = {
        "input_ids": list(input_ids.shape),
        **_output_shapes(output, ("last_hidden_state", "logits")),
        "queries": list(queries.queries.shape),
        "keys": list(queries.keys.shape),
    }
    note = (
        f"long input: its attention would take {human_bytes(needed_bytes)}, so the widget keeps the queries and "
        "keys and computes what is shown on demand, exactly"
    )
    return Extraction(
        stacks={SELF: stack},  # type: ignore[dict-item]  # a LongStack stands in for an AttentionStack
        model_name=loaded.name,
        shapes=shapes,
        notes=[*notes, note],
        queries=QueryKeys(stacks={SELF: queries}),
    )
