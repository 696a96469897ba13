"""The ``_head_stats`` and ``_compare`` payloads (the format: ARCHITECTURE.md, ``js/data/protocol.ts``).

Head statistics travel as JSON columns with NaN as null (JSON has no NaN); a comparison is a
``_data``-like payload of stacks ``"a"`` and ``"b"``, bounded like ``_data``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..analysis.compare import Comparison
from ..analysis.heads import HEAD_COLUMNS
from ..core.stack import Extraction
from .payload import EncodedExtraction


def head_stats_payload(stack: str, columns: dict[str, np.ndarray], summary: str, version: int) -> dict:
    """``head_stats_columns`` of ``stack`` as JSON columns, with its layer summary."""
    return {
        "stack": stack,
        "version": version,
        "summary": summary,
        "columns": {name: [_json_value(value) for value in values] for name, values in columns.items()},
    }


def empty_head_stats_payload(stack: str, version: int) -> dict:
    """A Heads table with no rows: for a long input, whose statistics would read every weight."""
    return {"stack": stack, "version": version, "summary": "", "columns": {name: [] for name in HEAD_COLUMNS}}


def encoded_comparison(comparison: Comparison, model_b: str, version: int, *, prettify_tokens: bool = True) -> EncodedExtraction:
    """A and B as one encoded extraction with stacks ``"a"`` and ``"b"``, to answer layer requests."""
    pair = Extraction(stacks={"a": replace(comparison.a, name="a"), "b": replace(comparison.b, name="b")}, model_name=model_b)
    return EncodedExtraction(pair, version, prettify_tokens=prettify_tokens)


def comparison_payload(comparison: Comparison, encoded: EncodedExtraction, layer: int, *, every_layer: bool = False) -> dict:
    """The ``_compare`` trait: under ``EAGER_BYTES`` of buffers, with A's ``layer`` and the layer of B
    it is matched with when they fit; the page asks for other layers as it shows them.
    ``every_layer``: all of them, for a saved file, where nobody answers such requests."""
    layer = min(max(layer, 0), comparison.a.n_layers - 1)
    if every_layer:
        payload = encoded.payload(None)
    else:
        payload = encoded.bounded_payload([("a", layer), ("b", comparison.layer_map[layer])])
    payload.update(
        level=comparison.level,
        caption=comparison.caption,
        layer_map=comparison.layer_map,
        change=ranked_changes(comparison.change),
    )
    return payload


def ranked_changes(change: np.ndarray | None) -> list[list[float]]:
    """``[layer, head, value]`` for every head, largest change first; [] without a per-head change."""
    if change is None:
        return []
    order = np.argsort(-change, axis=None, kind="stable")
    layers, heads = np.unravel_index(order, change.shape)
    return [[int(layer), int(head), float(change[layer, head])] for layer, head in zip(layers, heads)]


def _json_value(value: Any) -> Any:
    """A numpy scalar as JSON: NaN becomes None."""
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
