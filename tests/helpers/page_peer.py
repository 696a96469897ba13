"""Talking to a widget as the page does: through ipywidgets' own comm handler.

Messages go through ``Widget._handle_msg`` with the shape the front end sends, so
``set_state``, the echo and the custom-message dispatch are the real ones. A
traceback ipywidgets would show in the kernel is raised instead, so that a test
fails on it. Everything the kernel sends back is recorded by :class:`Wire`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import ipywidgets.widgets.widget as ipywidget_module

from attnwidget import AttentionWidget


class _KernelShell:
    """Stands in for IPython: a traceback the kernel would print fails the test instead."""

    def showtraceback(self) -> None:
        raise  # re-raises the exception ipywidgets caught


@contextmanager
def _tracebacks_raise() -> Iterator[None]:
    with mock.patch.object(ipywidget_module, "get_ipython", lambda: _KernelShell()):
        yield


def _deliver(widget: AttentionWidget, data: dict, buffers: list | None = None) -> None:
    with _tracebacks_raise():
        widget._handle_msg({"content": {"data": data}, "buffers": buffers or []})


def page_sends(widget: AttentionWidget, content: Any) -> None:
    """A custom message from the page (``model.send(content)`` in the front end)."""
    _deliver(widget, {"method": "custom", "content": content})


def page_sets(widget: AttentionWidget, state: Any) -> None:
    """A state update from the page (``model.set(...); model.save_changes()``)."""
    _deliver(widget, {"method": "update", "state": state, "buffer_paths": []})


@dataclass
class Wire:
    """What the kernel sent to the page: state updates, echoes and custom messages, with their buffers."""

    messages: list[tuple[dict, list]] = field(default_factory=list)

    def custom(self, kind: str | None = None) -> list[tuple[dict, list]]:
        return [
            (msg["content"], buffers)
            for msg, buffers in self.messages
            if msg["method"] == "custom" and (kind is None or msg["content"].get("type") == kind)
        ]

    def updates(self) -> dict:
        """Every key Python sent with method "update", the last value of each (what the page now holds)."""
        state: dict = {}
        for msg, _buffers in self.messages:
            if msg["method"] == "update":
                state.update(msg["state"])
        return state

    def largest_message_bytes(self) -> int:
        return max((sum(memoryview(buffer).nbytes for buffer in buffers) for _msg, buffers in self.messages), default=0)

    def clear(self) -> None:
        self.messages.clear()


def listen(widget: AttentionWidget, monkeypatch) -> Wire:
    """Record every message the widget sends to the page from now on (JSON-checked like the real comm)."""
    wire = Wire()

    def send(msg: dict, buffers: list | None = None) -> None:
        # jupyter_client packs messages like this: NaN or a lone surrogate would fail here as there.
        json.dumps(msg, ensure_ascii=False, allow_nan=False).encode("utf8", errors="surrogateescape")
        wire.messages.append((msg, list(buffers or [])))

    monkeypatch.setattr(widget, "_send", send)
    return wire
