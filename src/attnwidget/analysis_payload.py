"""The wire format of issue #10's traits (mirrored in ``js/data/protocol.ts``).

``_head_stats``: ``{stack, version, summary, columns: {name: [value per head]}}``, NaN as null
(JSON has no NaN); ``version`` is the ``_data`` version the page asked for.
``_compare``: a ``_data``-like payload with stacks ``"a"`` and ``"b"`` aligned over the same
rows and columns, plus ``level``, ``caption``, ``layer_map`` and ``change`` (``[layer, head,
mean JS divergence]``, largest first).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .compare import Comparison
from .payload import EncodedExtraction
from .result import Extraction


def head_stats_payload(stack: str, columns: dict[str, np.ndarray], summary: str, version: int) -> dict:
    """``head_stats_columns`` of ``stack`` as JSON columns, with its layer summary."""
    return {
        "stack": stack,
        "version": version,
        "summary": summary,
        "columns": {name: [_json_value(value) for value in values] for name, values in columns.items()},
    }


def comparison_payload(comparison: Comparison, model_b: str, version: int) -> dict:
    """The ``_compare`` trait for one comparison."""
    pair = Extraction(
        stacks={"a": replace(comparison.a, name="a"), "b": replace(comparison.b, name="b")}, model_name=model_b
    )
    # B's layers that no layer of A is matched with are never shown: leave them out.
    eager = {"a": list(range(comparison.a.n_layers)), "b": sorted(set(comparison.layer_map))}
    payload = EncodedExtraction(pair, version).payload(eager)
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
