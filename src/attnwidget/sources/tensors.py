"""Attention the user already has (HF tuples, numpy or torch arrays) to an ``Extraction``.

Accepted forms of ``attention``:

* what ``model(..., output_attentions=True).attentions`` returns: a tuple or list
  with one ``(1, heads, rows, cols)`` tensor per layer (``(heads, rows, cols)`` too);
* one array or tensor ``(layers, heads, rows, cols)``, or ``(layers, 1, heads, rows, cols)``,
  which is ``torch.stack`` of that tuple;
* one layer's ``(heads, rows, cols)``, as CircuitsVis's ``attention_patterns`` takes it.

The result is one float32 C-contiguous ``(layers, heads, rows, cols)`` array: a
float32 contiguous numpy array or CPU tensor is used as is unless ``copy=True``
(the widget asks for a copy, so that changing the caller's tensor afterwards
cannot make Python and the page disagree), anything else is copied exactly once.
The size is checked against ``max_attention_bytes`` before anything is converted.

Everything is checked, with messages naming what was expected and what was
given: batch size, shape against the tokens, heads per layer, NaN/inf and
negative values (errors), and rows that do not sum to 1 (a warning and a note:
such values are shown, but they are not attention probabilities).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES, AttentionSize, check_attention_budget
from ..core.stack import SELF, STACK_ORDER, AttentionStack, Extraction, is_causal
from ..core.tokens import looks_special

ROW_SUM_TOLERANCE = 1e-2
"""How far a row's sum may be from 1 before the values are called non-probabilities.

Loose enough for float16/bfloat16 attention converted to float32, tight enough
to catch raw scores, logits or a sub-block of a matrix.
"""


class TensorStack(NamedTuple):
    """One validated stack, with the attention's shape as given and any notes about it."""

    stack: AttentionStack
    shape: list[int]
    notes: list[str]


def extraction_from_tensors(
    attention: Any,
    tokens: Sequence[str],
    *,
    col_tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    name: str = SELF,
    copy: bool = False,
    max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
) -> Extraction:
    """An ``Extraction`` of one stack from attention the user computed.

    ``tokens`` label the rows (queries) and, unless ``col_tokens`` is given (as
    for cross-attention), the columns too. ``sentence_b_start`` is the index of
    sentence B's first token in a self-attention sentence pair.
    """
    part = stack_from_tensors(
        attention,
        tokens,
        col_tokens=col_tokens,
        sentence_b_start=sentence_b_start,
        name=name,
        copy=copy,
        max_attention_bytes=max_attention_bytes,
    )
    return combine_stacks([part])


def stack_from_tensors(
    attention: Any,
    tokens: Sequence[str],
    *,
    col_tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    name: str = SELF,
    copy: bool = False,
    max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
) -> TensorStack:
    """Validate and convert one stack's attention and tokens (see the module docstring)."""
    if name not in STACK_ORDER:
        raise ValueError(f"name must be one of {list(STACK_ORDER)}, got {name!r}")
    row_tokens = check_tokens(tokens, "tokens")
    columns = row_tokens if col_tokens is None else check_tokens(col_tokens, "col_tokens")
    check_attention_budget([_given_size(attention)], max_attention_bytes)
    array, shape = attention_array(attention, copy=copy)
    _check_shape_matches(array, row_tokens, columns, col_tokens is not None)
    b_start = _check_b_start(sentence_b_start, len(row_tokens), col_tokens is not None)
    check_values(array)
    notes = _row_sum_notes(array, name)

    row_special = [looks_special(token) for token in row_tokens]
    square = col_tokens is None
    stack = AttentionStack(
        name=name,
        layers=tuple(array),  # views of the one converted array: `attention` gives it back uncopied
        row_tokens=row_tokens,
        col_tokens=columns,
        row_special=row_special,
        col_special=row_special if square else [looks_special(token) for token in columns],
        causal=square and len(row_tokens) > 1 and is_causal(array),
        row_b_start=b_start,
        col_b_start=b_start,
    )
    return TensorStack(stack, shape, notes)


def _shape_key(name: str) -> str:
    return "attentions" if name == SELF else f"{name}_attentions"  # as HF names its outputs


def combine_stacks(parts: Sequence[TensorStack]) -> Extraction:
    """Stacks (in STACK_ORDER) into one Extraction; shapes keyed like HF outputs."""
    shapes = {_shape_key(part.stack.name): part.shape for part in parts}
    notes = [note for part in parts for note in part.notes]
    return Extraction(stacks={part.stack.name: part.stack for part in parts}, model_name="", shapes=shapes, notes=notes)


# ---- conversion -------------------------------------------------------------------------


def _given_size(attention: Any) -> AttentionSize | None:
    """The float32 size the attention will take, read from shapes alone (nothing converted yet)."""
    shape = given_shape(attention) if attention is not None else []
    if len(shape) == 3 and not isinstance(attention, (tuple, list)):
        shape = [1, *shape]  # one layer's (heads, rows, cols), as CircuitsVis takes it
    if len(shape) not in (4, 5):
        return None  # attention_array names the problem
    layers, *middle, rows, cols = shape
    return AttentionSize(layers, int(np.prod(middle)), rows, cols)


def attention_array(attention: Any, *, copy: bool = False) -> tuple[np.ndarray, list[int]]:
    """Any accepted form -> (float32 C-contiguous (layers, heads, rows, cols), the shape as given)."""
    if isinstance(attention, (tuple, list)):
        return _stack_per_layer(attention), given_shape(attention)
    if attention is None:
        raise ValueError("attention is None: pass the model's attentions (run it with output_attentions=True)")
    array = _as_numbers(attention)  # shape checks first: cast only what will be kept
    shape = list(array.shape)
    if array.ndim == 5:
        _check_batch(array.shape[1], "attention[:, :1]")
        array = array[:, 0]  # a view: no copy
    elif array.ndim == 3:
        array = array[None]  # one layer (heads, dest, src), as CircuitsVis takes it
    elif array.ndim != 4:
        raise ValueError(
            "attention must have shape (layers, heads, rows, cols), (layers, 1, heads, rows, cols) "
            f"or one layer's (heads, rows, cols), got {tuple(shape)}"
        )
    if copy:
        return np.array(array, dtype=np.float32, order="C", copy=True), shape
    return np.ascontiguousarray(array, dtype=np.float32), shape  # no copy if already float32 and contiguous


def _stack_per_layer(layers: Sequence[Any]) -> np.ndarray:
    """A tuple of per-layer (1, heads, rows, cols) tensors -> one preallocated float32 array."""
    if not layers:
        raise ValueError(
            "attention is an empty sequence: expected one (1, heads, rows, cols) tensor per layer. "
            "Pass outputs.attentions (on transformers 5, outputs[-1] may be the empty cross_attentions), "
            "and load the model with attn_implementation='eager': SDPA and flash attention return no weights"
        )
    first = _layer_array(layers[0], 0)
    out = np.empty((len(layers), *first.shape), dtype=np.float32)
    for index, layer in enumerate(layers):
        array = first if index == 0 else _layer_array(layer, index)
        if array.shape != first.shape:
            if array.shape[0] != first.shape[0]:
                difference = f"{array.shape[0]} heads, but layer 0 has {first.shape[0]}"
            else:
                difference = f"(heads, rows, cols) {array.shape}, but layer 0 has {first.shape}"
            raise ValueError(f"layer {index} has {difference}: every layer must have the same number of heads and tokens")
        out[index] = array  # the one copy (and cast) of this layer
    return out


def _layer_array(layer: Any, index: int) -> np.ndarray:
    """One layer as a (heads, rows, cols) array, not yet copied when avoidable."""
    array = _as_numbers(layer)
    if array.ndim == 4:
        _check_batch(array.shape[0], "[layer[:1] for layer in attention]")
        return array[0]
    if array.ndim == 3:
        return array
    raise ValueError(f"layer {index} of attention has shape {tuple(array.shape)}: expected (1, heads, rows, cols)")


def _as_numbers(value: Any) -> np.ndarray:
    """A torch tensor or array-like as a numpy array of real numbers, sharing memory where it can."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.to(torch.float32)  # numpy has no bfloat16
        array = tensor.numpy()
    else:
        array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"attention must hold real numbers, got dtype {array.dtype}")
    return array


def _check_batch(batch: int, example: str) -> None:
    if batch != 1:
        raise ValueError(f"attention has batch size {batch}; pass one example, e.g. {example}")


def given_shape(attention: Any) -> list[int]:
    """The shape as the user sees it: [layers, *one layer's shape] for a per-layer tuple."""
    if isinstance(attention, (tuple, list)):
        return [len(attention), *(int(size) for size in np.shape(attention[0]))] if attention else [0]
    return [int(size) for size in np.shape(attention)]


# ---- validation ---------------------------------------------------------------------------


def check_tokens(tokens: Any, what: str) -> list[str]:
    """A list of strings, kept exactly as given (markup, quotes, newlines, emoji, RTL)."""
    if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__iter__"):
        raise ValueError(f"{what} must be a list of strings, one per token, got {type(tokens).__name__}")
    tokens = list(tokens)
    for index, token in enumerate(tokens):
        if not isinstance(token, str):
            raise ValueError(f"{what}[{index}] is {type(token).__name__} {token!r}, not a string")
    if not tokens:
        raise ValueError(f"{what} is empty: expected one string per token")
    return [str(token) for token in tokens]  # plain str, also for numpy string scalars


def _check_shape_matches(array: np.ndarray, rows: list[str], cols: list[str], separate_cols: bool) -> None:
    layers, heads, n_rows, n_cols = array.shape
    if layers == 0 or heads == 0:
        raise ValueError(f"attention of shape {array.shape} has no {'layers' if layers == 0 else 'heads'}")
    if n_rows != len(rows):
        raise ValueError(f"attention has {n_rows} rows (shape {array.shape}) but {len(rows)} tokens were given")
    if n_cols != len(cols):
        given = "col_tokens" if separate_cols else "tokens"
        raise ValueError(f"attention has {n_cols} columns (shape {array.shape}) but {len(cols)} {given} were given")


def _check_b_start(b_start: Any, n_tokens: int, separate_cols: bool) -> int | None:
    if b_start is None:
        return None
    if separate_cols:
        raise ValueError("sentence_b_start marks sentence B in self-attention; it cannot be used with col_tokens")
    b_start = _scalar(b_start)
    if isinstance(b_start, bool) or not isinstance(b_start, (int, np.integer)):
        raise ValueError(f"sentence_b_start must be an int, got {type(b_start).__name__}")
    if not 0 < b_start < n_tokens:
        raise ValueError(f"sentence_b_start must be between 1 and {n_tokens - 1} (tokens - 1), got {b_start}")
    return int(b_start)


def _scalar(value: Any) -> Any:
    """A 0-d integer tensor or array (``token_type_ids.argmax()``) as a Python int; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point() and value.dtype != torch.bool:
        return int(value.item())
    if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.integer):
        return int(value)
    return value


_EXPECTED_VALUES = "expected probabilities between 0 and 1"


def check_values(array: np.ndarray) -> None:
    """NaN, inf and negative values are errors; checked layer by layer with no temporaries."""
    for index, layer in enumerate(array):
        low, high = float(layer.min()), float(layer.max())
        if np.isnan(low) or np.isnan(high):
            raise ValueError(f"attention has NaN values (in layer {index}): {_EXPECTED_VALUES}")
        if np.isinf(low) or np.isinf(high):
            raise ValueError(f"attention has infinite values (in layer {index}): {_EXPECTED_VALUES}")
        if low < 0:
            raise ValueError(
                f"attention has negative values (down to {low:.4g} in layer {index}): {_EXPECTED_VALUES} "
                "(pass softmax weights, not scores)"
            )


def _row_sum_notes(array: np.ndarray, name: str) -> list[str]:
    """A warning and a note when rows are not probability distributions."""
    sums = array.sum(axis=-1, dtype=np.float64)  # (layers, heads, rows): small
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if not off.any():
        return []
    layer, head, row = (int(index) for index in np.argwhere(off)[0])
    where = "" if name == SELF else f"{name}: "
    message = (
        f"{where}{int(off.sum())} of {off.size} rows do not sum to 1 (layer {layer}, head {head}, row {row} "
        f"sums to {sums[layer, head, row]:.4g}): the values are shown as given, "
        "but they are not attention probabilities"
    )
    warnings.warn(message, UserWarning, stacklevel=4)  # points at the caller of extraction_from_tensors
    return [message]
