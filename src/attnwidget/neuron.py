"""The neuron view's data on the wire, and BertViz's ``neuron_view.show`` as a widget.

The page asks for one head's queries and keys with ``{type: "qk", version, stack,
layer, head}``. Python answers with float32 row blocks of three arrays, each in
its own message with at most :data:`payload.MAX_MESSAGE_BYTES` of buffer:

``{type: "qk", version, stack, layer, head, key_head, scale, rows, cols, d_head,
part: "q" | "k" | "bias", row_start, row_end, has_bias}`` with one buffer, the rows
``row_start:row_end`` of ``q`` ``(rows, d_head)``, ``k`` ``(cols, d_head)`` or
``bias`` ``(rows, cols)``. The page puts them together and draws when every row of
every part has arrived. When queries and keys are unavailable the answer is one
message with ``error`` instead. Requests are checked in ``page.py`` with
``validation.check_queries_request``: the page is untrusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import validation as rules
from .payload import MAX_MESSAGE_BYTES
from .queries import HeadQueries

if TYPE_CHECKING:
    from .models import ModelSpec
    from .widget import AttentionWidget

Message = tuple[dict[str, Any], list[memoryview]]


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
        widget.heads = [rules.check_index(head, widget.n_heads, "head")]
    widget.neuron_view = True
    return widget
