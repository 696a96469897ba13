"""Shapes as the tutorials print them: ``{"input_ids": [1, 11], "attentions": [6, 1, 12, 11, 11]}``."""

from __future__ import annotations

from typing import Any


def output_shapes(output: Any, names: tuple[str, ...]) -> dict[str, list[int]]:
    """The shapes of those outputs the model has: a base model gives last_hidden_state, a head model logits."""
    return {name: list(value.shape) for name in names if (value := getattr(output, name, None)) is not None}


def layers_shape(per_layer: tuple | None) -> list[int]:
    """The shape of a per-layer tuple as the tutorials print it: [layers, *one layer's shape]."""
    if not per_layer:
        return []
    return [len(per_layer), *per_layer[0].shape]
