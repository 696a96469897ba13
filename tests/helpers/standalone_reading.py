"""Reading a file written by save_html back, as the page does: its scripts, state and buffers."""

from __future__ import annotations

import base64
import gzip
import json
from html.parser import HTMLParser

import numpy as np


class _Scripts(HTMLParser):
    """Every <script> element as the browser's tokenizer splits the file: (attributes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def scripts_of(html: str) -> list[tuple[dict, str]]:
    parser = _Scripts()
    parser.feed(html)
    return parser.scripts


def embedded(html: str) -> tuple[dict, bytes]:
    """The state JSON and the inflated buffer blob, read as the page reads them."""
    by_id = {attrs.get("id"): text for attrs, text in scripts_of(html)}
    state = json.loads(by_id["attnwidget-state"])
    blob = base64.b64decode(by_id["attnwidget-buffers"])
    if state["compression"] == "gzip":
        blob = gzip.decompress(blob)
    return state, blob


def buffer(blob: bytes, encoded: dict) -> np.ndarray:
    offset, length = encoded["buffer"]["$buffer"]
    return np.frombuffer(blob[offset : offset + length], dtype=encoded["dtype"]).reshape(encoded["shape"])
