"""Dump a live AttentionWidget to files the harness page can load as a kernel stand-in.

A fixture directory holds ``manifest.json`` and ``*.bin`` buffers:

    {
      "format": 1,
      "name": "offline-64",
      "state": {...},              # the synced traits, binary buffers taken out (no _esm/_css)
      "buffer_paths": [[...]],     # where each buffer goes back, as ipywidgets sends them
      "buffers": ["state-0.bin"],
      "messages": [                # Python's answers to the page's layer requests
        {"content": {"type": "layer", "version": 1, "stack": "self", "layer": 1, ...},
         "buffers": ["layer-v1-self-1.bin"]}
      ],
      "updates": {                 # state updates Python sends after a page message
        "rerun": {"sentence": "...", "steps": [{"state": {...}, "buffer_paths": [...], "buffers": [...]}]}
      }
    }

Everything is produced by the widget's own code paths: the state is
``widget.get_state()`` split by ipywidgets' ``_remove_buffers`` (exactly what the
comm sends), layer answers are what ``_on_page_message`` sends for a ``layers``
request, and a re-run's updates are the messages the widget sends while handling
a ``run`` message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipywidgets.widgets.widget import _remove_buffers

FORMAT = 1
# Traits the harness does not need: the bundle is loaded from its own URL.
_SKIPPED_TRAITS = ("_esm", "_css")


@dataclass
class SentMessage:
    """One message the widget sent to the page: an ipywidgets ``update`` or ``custom`` message."""

    method: str
    body: dict  # the update's state, or the custom message's content
    buffer_paths: list
    buffers: list[memoryview]


@contextmanager
def capture_messages(widget: Any) -> Iterator[list[SentMessage]]:
    """Catch what the widget sends to the front end inside the block (it is not sent on)."""
    messages: list[SentMessage] = []

    def _send(msg: dict, buffers: list | None = None) -> None:
        views = [memoryview(buffer) for buffer in buffers or []]
        if msg.get("method") == "update":
            messages.append(SentMessage("update", msg["state"], msg.get("buffer_paths", []), views))
        elif msg.get("method") == "custom":
            messages.append(SentMessage("custom", msg["content"], [], views))

    widget._send = _send  # an instance attribute shadows Widget._send
    try:
        yield messages
    finally:
        del widget._send


def layer_answers(widget: Any, *, only_missing: bool = True) -> list[SentMessage]:
    """What the widget sends when the page asks for every layer ``_data`` lacks (or every layer).

    One ``layers`` request per stack goes through ``widget._on_page_message``, the
    handler of the page's custom messages, and the ``layer`` answers are returned.
    """
    data = widget._data
    answers: list[SentMessage] = []
    for stack_name, stack in data["stacks"].items():
        present = set(stack["layers"]) if only_missing else set()
        wanted = [layer for layer in range(stack["n_layers"]) if str(layer) not in present]
        if not wanted:
            continue
        with capture_messages(widget) as sent:
            request = {"type": "layers", "version": data["version"], "stack": stack_name, "layers": wanted}
            widget._page.on_message(widget, request, [])
        answers += [m for m in sent if m.method == "custom" and m.body.get("type") == "layer"]
    return answers


class FixtureWriter:
    """Writes one fixture directory."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.manifest: dict[str, Any] = {"format": FORMAT, "name": name, "messages": [], "updates": {}}
        self._count = 0

    def _write_buffers(self, buffers: list[memoryview], stem: str) -> list[str]:
        files = []
        for buffer in buffers:
            self._count += 1
            file = f"{stem}-{self._count}.bin"
            (self.directory / file).write_bytes(buffer)
            files.append(file)
        return files

    def _split_state(self, state: dict, stem: str) -> dict:
        state = {key: value for key, value in state.items() if key not in _SKIPPED_TRAITS}
        plain, paths, buffers = _remove_buffers(state)
        return {"state": plain, "buffer_paths": paths, "buffers": self._write_buffers(buffers, stem)}

    def add_state(self, widget: Any) -> None:
        self.manifest.update(self._split_state(widget.get_state(), "state"))

    def add_layer_answers(self, widget: Any, *, only_missing: bool = True) -> int:
        """Ask the widget for every layer the page lacks (or all), as the page would; returns how many."""
        answers = layer_answers(widget, only_missing=only_missing)
        for message in answers:
            content = message.body
            stem = f"layer-v{content['version']}-{content['stack']}-{content['layer']}"
            files = self._write_buffers(message.buffers, stem)
            self.manifest["messages"].append({"content": content, "buffers": files})
        return len(answers)

    def add_rerun(self, widget: Any, name: str, sentence: str, *, layer_answers: bool = True) -> None:
        """Handle ``{"type": "run", sentence}`` as from the page; store what the widget sent back.

        The widget holds the new input afterwards.
        """
        with capture_messages(widget) as sent:
            widget._page.on_message(widget, {"type": "run", "request": widget._request + 1, "sentence": sentence}, [])
        if widget.error:
            raise RuntimeError(f"the re-run failed: {widget.error}")
        steps = []
        for index, message in enumerate(message for message in sent if message.method == "update"):
            files = self._write_buffers(message.buffers, f"{name}-step{index}")
            steps.append({"state": message.body, "buffer_paths": message.buffer_paths, "buffers": files})
        self.manifest["updates"][name] = {"sentence": sentence, "steps": steps}
        if layer_answers:
            self.add_layer_answers(widget)

    def write(self) -> Path:
        path = self.directory / "manifest.json"
        path.write_text(json.dumps(self.manifest))
        return path


def dump_widget(widget: Any, directory: Path, name: str | None = None) -> Path:
    """Write a widget's current state and the answers to its layer requests; returns manifest.json."""
    writer = FixtureWriter(directory, name or Path(directory).name)
    writer.add_state(widget)
    writer.add_layer_answers(widget)
    return writer.write()
