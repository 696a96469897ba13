"""The data protocol between Python and the page (mirrored in ``js/data/protocol.ts``).

The widget's ``_data`` trait holds one :func:`build_payload` dict. It carries every
stack's tokens and row scales, and the quantised values of the layers sent up
front: all of them when the input is small or streaming is off, otherwise just
the layer on screen. The page asks for the other layers with a ``layers``
message and caches what :func:`layer_message` answers, so the first paint waits
for one layer, not all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .encoding import encode_array, quantize_rows, row_scales
from .result import AttentionStack, Extraction
from .tokens import display_tokens

EAGER_BYTES = 4 * 2**20
"""Inputs whose quantised attention is at most this (4 MiB) are sent whole."""


@dataclass
class EncodedExtraction:
    """An extraction with the row scales computed once, ready to answer layer requests."""

    extraction: Extraction
    version: int
    scales: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        # Layer by layer from the arrays the model returned: no full-size copy is made.
        self.scales = {
            name: np.stack([row_scales(layer) for layer in stack.layers])
            for name, stack in self.extraction.stacks.items()
        }

    @property
    def total_values(self) -> int:
        return sum(int(np.prod(stack.shape)) for stack in self.extraction.stacks.values())

    def quantized_layer(self, stack_name: str, layer: int) -> np.ndarray:
        stack = self.extraction.stacks[stack_name]
        return quantize_rows(stack.layers[layer], self.scales[stack_name][layer])

    def payload(self, eager: dict[str, Iterable[int]] | None) -> dict:
        """The ``_data`` dict; ``eager`` names the layers to include per stack, None for all."""
        stacks = {}
        for name, stack in self.extraction.stacks.items():
            layers = range(stack.n_layers) if eager is None else eager.get(name, ())
            stacks[name] = self._stack_payload(stack, layers)
        return {"version": self.version, "model": self.extraction.model_name, "stacks": stacks}

    def layer_message(self, stack_name: str, layer: int) -> tuple[dict, list[memoryview]]:
        """A custom message answering the page's request for one layer."""
        encoded = encode_array(self.quantized_layer(stack_name, layer))
        content = {
            "type": "layer",
            "version": self.version,
            "stack": stack_name,
            "layer": layer,
            "dtype": encoded["dtype"],
            "shape": encoded["shape"],
        }
        return content, [encoded["buffer"]]

    def _stack_payload(self, stack: AttentionStack, layers: Iterable[int]) -> dict:
        return {
            "name": stack.name,
            "rows": display_tokens(stack.row_tokens),
            "cols": display_tokens(stack.col_tokens),
            "row_special": stack.row_special,
            "col_special": stack.col_special,
            "row_b_start": stack.row_b_start,
            "col_b_start": stack.col_b_start,
            "causal": stack.causal,
            "n_layers": stack.n_layers,
            "n_heads": stack.n_heads,
            "row_scale": encode_array(self.scales[stack.name]),
            "layers": {str(layer): encode_array(self.quantized_layer(stack.name, layer)) for layer in layers},
        }


def payload_bytes(payload: dict) -> int:
    """Bytes of binary data in a payload (what dominates the wire)."""
    if isinstance(payload, dict):
        return sum(payload_bytes(value) for value in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_bytes(value) for value in payload)
    if isinstance(payload, memoryview):
        return payload.nbytes
    return 0
