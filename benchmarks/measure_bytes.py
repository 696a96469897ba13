"""Bytes attnwidget sends to the page, against BertViz's HTML.

* first paint: the ``_data`` trait at construction, its binary buffers
  (``attnwidget.wire.payload.payload_bytes``) plus the JSON of everything else in it;
* total: first paint plus every ``layer`` message the page asks for afterwards
  (JSON content plus the codes), i.e. what the page holds once every layer is cached;
* wire: the kernel messages published while constructing the widget, as
  serialised by ``jupyter_client.session.Session`` (headers, HMAC and all other
  traits included, and anywidget's ``_esm``/``_css``, which since issue #12 are the
  ~1 kB loader: the front end itself is one shared model per kernel, sent with the
  first widget only, see ``attnwidget/frontend.py``; ``lab.py`` counts both cases);
* standalone: the file ``save_html`` writes (bundle, CSS and every layer, gzip + base64),
  the offline counterpart of BertViz's HTML.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ipywidgets.widgets.widget import _remove_buffers

from attnwidget import AttentionWidget
from attnwidget.export.html import html_of
from attnwidget.wire.payload import payload_bytes
from common import RecordingComm, close_widget
from harness.fixture import layer_answers


@dataclass
class Bytes:
    label: str
    tokens: int
    n_layers: int
    n_heads: int
    eager_layers: int  # layers carried in _data at construction
    first_paint_binary: int
    first_paint_json: int
    layer_messages: int  # how many the page requests afterwards
    layer_message_bytes: int
    wire_construction: int  # every message published by the constructor, as a kernel serialises them
    bundle_bytes: int  # _esm + _css, part of wire_construction
    float32_bytes: int  # the attention as float32 (what Python holds)
    standalone_bytes: int = 0  # the file save_html() writes, every layer included

    @property
    def first_paint(self) -> int:
        return self.first_paint_binary + self.first_paint_json

    @property
    def total(self) -> int:
        return self.first_paint + self.layer_message_bytes


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def widget_bytes(widget: AttentionWidget, label: str, wire_construction: int) -> Bytes:
    """What this widget sent for its first paint, and what the page would ask for afterwards."""
    data = widget._data
    plain, _paths, _buffers = _remove_buffers({"_data": data})
    answers = layer_answers(widget)
    answer_bytes = sum(json_size(a.body) + sum(buffer.nbytes for buffer in a.buffers) for a in answers)
    stacks = data["stacks"].values()
    state = widget.get_state(["_esm", "_css"])
    return Bytes(
        label=label,
        tokens=len(widget.tokens),
        n_layers=widget.n_layers,
        n_heads=widget.n_heads,
        eager_layers=sum(len(stack["layers"]) for stack in stacks),
        first_paint_binary=payload_bytes(data),
        first_paint_json=json_size(plain["_data"]),
        layer_messages=len(answers),
        layer_message_bytes=answer_bytes,
        wire_construction=wire_construction,
        bundle_bytes=len(str(state["_esm"]).encode()) + len(str(state["_css"]).encode()),
        float32_bytes=sum(4 * math.prod(stack.shape) for stack in widget.extraction.stacks.values()),
        standalone_bytes=len(html_of(widget).encode("utf-8")),
    )


def measure_bytes(recorder: RecordingComm, model: Any, text: str, label: str) -> Bytes:
    """Construct a widget (recording its kernel messages) and count its bytes."""
    with recorder.listen() as messages:
        widget = AttentionWidget(text, model=model)
    try:
        return widget_bytes(widget, label, sum(message.wire_bytes for message in messages))
    finally:
        close_widget(widget)
