"""The page's requests, checked: each one's fields, ranges and the size of the answer it may ask for.

The page is an untrusted peer. A request that breaks a rule raises ``ValueError``
naming the field; the widget ignores it with one log line (see ``widget.page_side``).
The messages themselves are described once, in ARCHITECTURE.md, and typed in
``js/data/protocol.ts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core.checks import check_choice, check_index, check_text, is_int, is_list, shorten
from .limits import MAX_MESSAGE_BYTES, MAX_REQUEST_ID
from .view_state import StackShape, check_heads, check_layer


def check_request_id(value: Any) -> int:
    if not is_int(value) or not 0 <= value <= MAX_REQUEST_ID:
        raise ValueError(f"request must be an integer between 0 and {MAX_REQUEST_ID}, got {shorten(value)}")
    return int(value)


def check_model_choice(value: Any, models: Sequence[str]) -> str:
    """The page chooses among the models Python offered, and nothing else is ever loaded."""
    if not isinstance(value, str) or value not in models:
        raise ValueError(f"model {shorten(value)} is not one of this widget's models {shorten(list(models))}")
    return value


@dataclass(frozen=True)
class RunRequest:
    """A checked ``run`` message: None means "keep the current value"."""

    request: int
    sentence: str | None
    sentence_b: str | None
    target: str | None
    model: str | None


def check_run_message(content: Mapping[str, Any], models: Sequence[str]) -> RunRequest:
    """Raises ValueError for the first problem; the request id is checked first so the answer can name it."""
    request = check_request_id(content.get("request"))
    texts = {}
    for key in ("sentence", "sentence_b", "target"):
        value = content.get(key)
        texts[key] = None if value is None else check_text(value, key)
    model = content.get("model")
    return RunRequest(
        request=request,
        model=None if model is None else check_model_choice(model, models),
        **texts,
    )


def check_compare_message(content: Mapping[str, Any], models: Sequence[str]) -> tuple[int, str]:
    """``{request, model}`` -> (request id, model); ``""`` stops comparing, any other model must be offered."""
    request = check_request_id(content.get("request"))
    model = content.get("model")
    return request, ("" if model == "" else check_model_choice(model, models))


def check_head_stats_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str]:
    """``{version, stack}`` -> (version, stack): which statistics the page asks for."""
    return check_version(content.get("version")), check_choice(content.get("stack"), list(stacks), "stack")


def check_version(version: Any) -> int:
    """The data version a request is about (Python drops requests for replaced data)."""
    if not is_int(version):
        raise ValueError(f"version must be an integer, got {shorten(version)}")
    return int(version)


def check_layer_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str, list[int]]:
    """``{version, stack, layers}`` -> (version, stack, distinct layers in asked order, at most the stack's count)."""
    version = check_version(content.get("version"))
    stack = check_choice(content.get("stack"), list(stacks), "stack")
    layers = content.get("layers")
    if not is_list(layers):
        raise ValueError(f"layers must be a list of layer indices, got {shorten(layers)}")
    n_layers = stacks[stack].n_layers
    wanted: dict[int, None] = {}  # insertion-ordered set
    for layer in layers:
        if is_int(layer) and 0 <= layer < n_layers:
            wanted[int(layer)] = None
            if len(wanted) == n_layers:
                break  # every layer asked for: the rest can only repeat
    return version, stack, list(wanted)


def check_queries_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str, int, int]:
    """``{version, stack, layer, head}`` (the neuron view's ``qk`` message) -> (version, stack, layer, head)."""
    version = check_version(content.get("version"))
    stack = check_choice(content.get("stack"), list(stacks), "stack")
    layer = check_layer(content.get("layer"), stacks[stack])
    head = check_index(content.get("head"), stacks[stack].n_heads, "head")
    return version, stack, layer, head


# ---- long inputs: what the page asks of attention computed on demand -----------------------

LONG_REQUESTS = ("tile", "line", "top", "thumbs")
LINE_AXES = ("row", "col")
MAX_TILE_SIDE = 1024
MAX_TOP_KEYS = 32
MAX_THUMBNAIL_SIDE = 128


@dataclass(frozen=True)
class LongRequest:
    """One checked ``long`` message: ``what`` and the fields that kind reads (the others keep defaults)."""

    version: int
    stack: str
    id: int
    what: str
    layer: int
    heads: tuple[int, ...] = ()
    rows: tuple[int, int] = (0, 0)
    cols: tuple[int, int] = (0, 0)
    size: tuple[int, int] = (0, 0)
    axis: str = "row"
    index: int = 0
    count: int = 0


def check_long_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> LongRequest:
    """``{type: "long", version, stack, id, what, layer, ...}`` -> a LongRequest whose answer fits one message.

    ``tile``: ``heads``, ``rows`` and ``cols`` as ``[start, stop)``, ``size`` ``[rows, cols]`` of screen cells;
    ``line``: ``heads``, ``axis`` ("row" or "col"), ``index``; ``top``: one ``head`` (in ``heads``),
    ``count`` keys for rows ``[start, stop)``; ``thumbs``: ``size`` ``[side, side]`` for every head of the layer.
    """
    version = check_version(content.get("version"))
    stack = check_choice(content.get("stack"), list(stacks), "stack")
    shape = stacks[stack]
    request_id = check_request_id(content.get("id"))
    what = check_choice(content.get("what"), LONG_REQUESTS, "what")
    layer = check_layer(content.get("layer"), shape)
    base = LongRequest(version=version, stack=stack, id=request_id, what=what, layer=layer)
    if what == "thumbs":
        side = check_index(content.get("size"), MAX_THUMBNAIL_SIDE + 1, "size")
        if side == 0 or shape.n_heads * side * side * 4 > MAX_MESSAGE_BYTES:
            raise ValueError(f"thumbnails of side {side} for {shape.n_heads} heads do not fit one message")
        return replace(base, size=(side, side))
    heads = check_heads(content.get("heads"), shape)
    if not heads:
        raise ValueError("heads must name at least one head")
    if what == "line":
        axis = check_choice(content.get("axis"), LINE_AXES, "axis")
        index = check_index(content.get("index"), shape.n_rows if axis == "row" else shape.n_cols, "index")
        return replace(base, heads=tuple(heads), axis=axis, index=index)
    rows = _check_span(content.get("rows"), shape.n_rows, "rows")
    if what == "top":
        count = check_index(content.get("count"), MAX_TOP_KEYS + 1, "count")
        if len(heads) != 1 or count == 0 or (rows[1] - rows[0]) * count * 8 > MAX_MESSAGE_BYTES:
            raise ValueError(f"top keys are asked for one head and 1 to {MAX_TOP_KEYS} keys, at most 1 MiB of rows")
        return replace(base, heads=tuple(heads), rows=rows, count=count)
    cols = _check_span(content.get("cols"), shape.n_cols, "cols")
    size = content.get("size")
    if not is_list(size) or len(size) != 2:
        raise ValueError(f"size must be [rows, cols] of screen cells, got {shorten(size)}")
    out = (check_index(size[0], MAX_TILE_SIDE + 1, "size"), check_index(size[1], MAX_TILE_SIDE + 1, "size"))
    if 0 in out or out[0] * out[1] * 4 > MAX_MESSAGE_BYTES:
        raise ValueError(f"a tile of {out[0]} × {out[1]} cells does not fit one message")
    return replace(base, heads=tuple(heads), rows=rows, cols=cols, size=out)


def _check_span(value: Any, size: int, what: str) -> tuple[int, int]:
    """``[start, stop)`` within ``0..size``, not empty."""
    if not is_list(value) or len(value) != 2:
        raise ValueError(f"{what} must be [start, stop], got {shorten(value)}")
    start, stop = value
    if not (is_int(start) and is_int(stop) and 0 <= start < stop <= size):
        raise ValueError(f"{what} must be [start, stop] with 0 ≤ start < stop ≤ {size}, got {shorten(value)}")
    return int(start), int(stop)
