"""The answer to the neuron view's ``qk`` request: one head's queries, keys and bias in row blocks.

Each block is its own message with one float32 buffer under :data:`~attnwidget.wire.limits.MAX_MESSAGE_BYTES`;
the page puts them together and draws when every row of every part has arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.queries import HeadQueries
from .limits import MAX_MESSAGE_BYTES

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
