"""The ``_data`` payload and the answers to ``layers`` requests (the format: ARCHITECTURE.md, ``js/data/protocol.ts``).

Only the layer on screen (and what fits beside it) travels up front, so the first paint
waits for one layer, not all of them; the rest come in messages under
:data:`~attnwidget.wire.limits.MAX_MESSAGE_BYTES`, as the page asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import replace_lone_surrogates
from ..core.stack import Extraction, Stack
from ..core.tokens import display_tokens
from .encoding import encode_array, quantize_rows, row_scales
from .limits import MAX_MESSAGE_BYTES
from .view_state import StackShape, stack_shapes

EAGER_BYTES = MAX_MESSAGE_BYTES
"""Inputs whose codes and row scales are at most this (1 MiB) are sent whole, in ``_data``."""

INLINE_SCALE_BYTES = MAX_MESSAGE_BYTES // 4
"""Streamed inputs keep their row scales in ``_data`` up to this size, else each layer brings its own."""


@dataclass
class EncodedExtraction:
    """An extraction with the row scales computed once, ready to answer layer requests."""

    extraction: Extraction
    version: int
    prettify_tokens: bool = True  # readable labels (Ġ, ▁ as spaces); False shows the raw strings, as BertViz's option
    scales: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        # Layer by layer from the arrays the model returned: no full-size copy is made. A long input has no weights.
        self.scales = {
            name: np.stack([row_scales(layer) for layer in stack.layers]) for name, stack in self.extraction.full_stacks.items()
        }

    @property
    def total_values(self) -> int:
        return sum(int(np.prod(stack.shape)) for stack in self.extraction.full_stacks.values())

    @property
    def scale_bytes(self) -> int:
        return sum(scales.nbytes for scales in self.scales.values())

    def state_payload(self, stack: str, layer: int, *, stream: bool) -> dict:
        """The ``_data`` dict, kept under :data:`EAGER_BYTES` of buffers when streaming.

        Everything when small or not streaming. Otherwise the row scales if they are
        small, then the layer on screen and as many of the following layers as fit
        beside them; the page asks for the rest.
        """
        if not stream:
            return self.payload(None)
        return self.bounded_payload(self._layers_from(stack, layer))

    def bounded_payload(self, wanted: Iterable[tuple[str, int]]) -> dict:
        """A payload under :data:`EAGER_BYTES` of buffers: everything if it fits, else the
        row scales if they are small and as many of the ``wanted`` (stack, layer)s as fit, in order."""
        if self.total_values + self.scale_bytes <= EAGER_BYTES:
            return self.payload(None)
        with_scales = self.scale_bytes <= INLINE_SCALE_BYTES
        eager: dict[str, list[int]] = {}
        room = EAGER_BYTES - self.scale_bytes
        for name, index in wanted if with_scales else ():
            size = self.extraction.full_stacks[name].layers[index].size
            if size > room:
                break
            eager.setdefault(name, []).append(index)
            room -= size
        return self.payload(eager, scales=with_scales)

    def shapes(self) -> dict[str, StackShape]:
        """Each stack's dimensions, which the rules check page values against."""
        return stack_shapes(self.extraction)

    def _layers_from(self, stack: str, layer: int) -> Iterator[tuple[str, int]]:
        """Every (stack, layer): the one on screen first, then the rest of its stack, then the other stacks."""
        n_layers = self.extraction.stacks[stack].n_layers
        for offset in range(n_layers):
            yield stack, (layer + offset) % n_layers
        for name, other in self.extraction.stacks.items():
            if name != stack:
                yield from ((name, index) for index in range(other.n_layers))

    def quantized_layer(self, stack_name: str, layer: int) -> np.ndarray:
        stack = self.extraction.full_stacks[stack_name]
        return quantize_rows(stack.layers[layer], self.scales[stack_name][layer])

    def payload(self, eager: Mapping[str, Iterable[int]] | None, *, scales: bool = True) -> dict:
        """The ``_data`` dict; ``eager`` names the layers to include per stack, None for all.

        Without ``scales``, ``row_scale`` is None and every layer message brings its rows' scales.
        """
        stacks = {}
        for name, stack in self.extraction.stacks.items():
            layers = range(stack.n_layers) if eager is None else eager.get(name, ())
            stacks[name] = self._stack_payload(stack, layers, scales=scales)
        return {"version": self.version, "model": self.extraction.model_name, "stacks": stacks}

    def layer_messages(
        self, stack_name: str, layer: int, max_bytes: int = MAX_MESSAGE_BYTES
    ) -> Iterator[tuple[dict, list[memoryview]]]:
        """The custom messages answering the page's request for one layer.

        The layer's ``heads * rows`` rows are numbered as one flat axis; each message
        carries rows ``[start, stop)``: their uint8 codes and their float32 row scales,
        two buffers of at most ``max_bytes`` together. The page reassembles them.
        """
        codes = self.quantized_layer(stack_name, layer)
        heads, rows, cols = codes.shape
        flat_codes = codes.reshape(heads * rows, cols)
        flat_scales = np.ascontiguousarray(self.scales[stack_name][layer], dtype="<f4").reshape(-1)
        rows_per_message = max(1, max_bytes // (cols + flat_scales.itemsize))
        for start in range(0, heads * rows, rows_per_message):
            stop = min(heads * rows, start + rows_per_message)
            content = {
                "type": "layer",
                "version": self.version,
                "stack": stack_name,
                "layer": layer,
                "dtype": "uint8",
                "shape": [heads, rows, cols],
                "start": start,
                "stop": stop,
            }
            yield content, [flat_codes[start:stop].data.cast("B"), flat_scales[start:stop].data.cast("B")]

    def _stack_payload(self, stack: Stack, layers: Iterable[int], *, scales: bool) -> dict:
        # A long input holds no weights: "long" tells the page to ask for tiles, rows and top keys instead.
        long = stack.is_long
        return {
            "name": stack.name,
            "rows": _wire_labels(stack.row_tokens, pretty=self.prettify_tokens),
            "cols": _wire_labels(stack.col_tokens, pretty=self.prettify_tokens),
            "row_special": stack.row_special,
            "col_special": stack.col_special,
            "row_b_start": stack.row_b_start,
            "col_b_start": stack.col_b_start,
            "causal": stack.causal,
            "n_layers": stack.n_layers,
            "n_heads": stack.n_heads,
            "row_scale": encode_array(self.scales[stack.name]) if scales and not long else None,
            "layers": {} if long else {str(layer): encode_array(self.quantized_layer(stack.name, layer)) for layer in layers},
            "long": long,
        }


def _wire_labels(tokens: list[str], *, pretty: bool) -> list[str]:
    """Labels that can be sent as UTF-8: a lone surrogate in a user's token shows as U+FFFD.

    ``pretty`` shows readable labels (Ġ, ▁ as spaces); otherwise the tokenizer's raw strings.
    """
    labels = display_tokens(tokens) if pretty else tokens
    return [replace_lone_surrogates(label) for label in labels]


def payload_bytes(payload: dict) -> int:
    """Bytes of binary data in a payload (what dominates the wire)."""
    if isinstance(payload, dict):
        return sum(payload_bytes(value) for value in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_bytes(value) for value in payload)
    if isinstance(payload, memoryview):
        return payload.nbytes
    return 0
