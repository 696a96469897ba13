"""The answer to a long input's ``long`` request: the asked tile, row, top keys or thumbnails, computed now."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..long.stack import LongStack
from .requests import LongRequest


def long_answer(stack: LongStack, request: LongRequest) -> tuple[dict[str, Any], list[memoryview]]:
    """The message answering one checked page request: its fields echoed, the ``shape``, float32 buffers.

    ``top`` answers two buffers, the int32 keys then the float32 weights, ``(rows, count)`` each.
    """
    header: dict[str, Any] = {
        "type": "long",
        "version": request.version,
        "stack": request.stack,
        "id": request.id,
        "what": request.what,
        "layer": request.layer,
        "heads": list(request.heads),
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
    return header, [a.data.cast("B") for a in little_endian]
