"""The neuron view's data on the wire, and BertViz's ``neuron_view.show`` as a widget.

The page asks for one head's queries and keys with ``{type: "qk", version, stack,
layer, head}``. Python answers with float32 row blocks of three arrays, each in
its own message under :data:`MAX_MESSAGE_BYTES`:

``{type: "qk", version, stack, layer, head, key_head, scale, rows, cols, d_head,
part: "q" | "k" | "bias", row_start, row_end, has_bias}`` with one buffer, the rows
``row_start:row_end`` of ``q`` ``(rows, d_head)``, ``k`` ``(cols, d_head)`` or
``bias`` ``(rows, cols)``. The page puts them together and draws when every row of
every part has arrived. When queries and keys are unavailable the answer is one
message with ``error`` instead. A request the page should not have sent (a bad
stack, layer or head) is dropped with one log line: the page is untrusted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .queries import HeadQueries

if TYPE_CHECKING:
    from .models import ModelSpec
    from .result import Extraction
    from .widget import AttentionWidget

MAX_MESSAGE_BYTES = 2**20 - 4096
"""Each answer's buffer stays under 1 MiB (with room for the JSON beside it)."""

logger = logging.getLogger("attnwidget")

Message = tuple[dict[str, Any], list[memoryview]]


def parse_request(content: dict, extraction: Extraction, version: int) -> tuple[str, int, int] | None:
    """(stack, layer, head) of a valid request for the current data, else None (and one log line when malformed)."""
    if content.get("version") != version:
        return None  # a request for data the page has already replaced: not an error
    stack_name, layer, head = content.get("stack"), content.get("layer"), content.get("head")
    stack = extraction.stacks.get(stack_name) if isinstance(stack_name, str) else None
    if stack is None or not _index(layer, stack.n_layers) or not _index(head, stack.n_heads):
        logger.warning("attnwidget: ignored a queries request with stack=%r layer=%r head=%r", stack_name, layer, head)
        return None
    return stack.name, layer, head


def _index(value: object, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def head_messages(queries: HeadQueries, header: dict[str, Any]) -> Iterator[Message]:
    """One head's q, k and bias as row blocks, each message's buffer under the limit."""
    rows, cols = queries.q.shape[0], queries.k.shape[0]
    header = {
        **header,
        "scale": float(queries.scale),
        "rows": rows,
        "cols": cols,
        "d_head": int(queries.q.shape[1]),
        "has_bias": queries.bias is not None,
    }
    parts = {"q": queries.q, "k": queries.k, "bias": queries.bias}
    for part, array in parts.items():
        if array is None:
            continue
        array = np.ascontiguousarray(array, dtype=np.float32)
        step = max(1, MAX_MESSAGE_BYTES // max(1, array.shape[1] * 4))
        for start in range(0, array.shape[0], step):
            block = array[start : start + step]
            content = {**header, "part": part, "row_start": start, "row_end": start + block.shape[0]}
            yield content, [memoryview(block.tobytes())]


def neuron_view(
    model: Any,
    model_type: str,
    tokenizer: Any,
    sentence_a: str,
    sentence_b: str | None = None,
    display_mode: str = "dark",
    layer: int | None = None,
    head: int | None = None,
    html_action: str = "view",
) -> AttentionWidget:
    """BertViz's ``neuron_view.show``, for every supported family: a widget opened on the neuron view.

    ``model_type`` ("bert", "gpt2", "roberta" in BertViz) is accepted for any family
    and not needed: the model says what it is. ``display_mode`` is ignored (the
    widget follows the notebook's theme); ``html_action`` "view" and "return" both
    return the widget. ``layer`` and ``head`` choose what is shown first.
    """
    from .widget import AttentionWidget

    if not isinstance(model_type, str):
        raise ValueError(f"model_type must be a string such as 'bert', got {type(model_type).__name__}")
    if html_action not in ("view", "return"):
        raise ValueError(f"html_action must be 'view' or 'return', got {html_action!r}")
    spec: ModelSpec = (model, tokenizer)
    widget = AttentionWidget(sentence_a, model=spec, sentence_b=sentence_b, layer=layer or 0)
    if head is not None:
        if not _index(head, widget.n_heads):
            raise ValueError(f"head must be between 0 and {widget.n_heads - 1}, got {head}")
        widget.heads = [head]
    if layer is not None and widget.layer != layer:
        raise ValueError(f"layer must be between 0 and {widget.n_layers - 1}, got {layer}")
    widget.neuron_view = True
    return widget
