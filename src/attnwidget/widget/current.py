"""The input a widget shows now, as numpy: the raw extraction, its shown form encoded for the page, and
what is computed from them once (head statistics). No traits: the widget reads and commits through it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis.heads import head_stats_columns, layer_summary
from ..core.checks import check_choice
from ..core.queries import HeadQueries
from ..core.stack import Extraction
from ..long.stack import LongStack
from ..wire.analysis import head_stats_payload
from ..wire.payload import EncodedExtraction
from ..wire.view_state import StackShape, check_layer
from .runs import Prepared, RunSettings, encode_shown


class Current:
    """What the widget holds of its input; ``version`` numbers every payload the page receives."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.raw: Extraction | None = None  # as the model returned it
        self.encoded: EncodedExtraction | None = None  # what the page shows
        self.version = 0
        self._raw_version = 0  # the version at which `raw` arrived: rollout or words do not change it
        self._stats: tuple[tuple[int, str], dict[str, np.ndarray]] | None = None  # ((raw version, stack), columns)

    @property
    def extraction(self) -> Extraction:
        assert self.raw is not None
        return self.raw

    @property
    def shown(self) -> Extraction:
        assert self.encoded is not None
        return self.encoded.extraction

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def adopt(self, prepared: Prepared) -> None:
        """Take in a prepared run (the widget writes its traits in the same sync)."""
        self.encoded, self.raw = prepared.encoded, prepared.raw
        self.version = self._raw_version = prepared.encoded.version

    def reshow(self, combine: str, granularity: str) -> None:
        """The same raw extraction, shown as rollout and/or words (or not): a new version, no new run."""
        self.encoded = encode_shown(self.extraction, combine, granularity, self.next_version(), self.settings)

    def shapes(self) -> dict[str, StackShape]:
        """The shown stacks' dimensions: focus indexes words when granularity is words."""
        assert self.encoded is not None
        return self.encoded.shapes()

    def stats(self, stack: str) -> dict[str, np.ndarray]:
        """head_stats_columns of a raw stack, computed once per input and stack.

        Not part of building the widget: the page asks for them after its first paint.
        """
        key = (self._raw_version, stack)
        if self._stats is None or self._stats[0] != key:
            self._stats = (key, head_stats_columns(self.extraction.weights(stack, "head_stats")))
        return self._stats[1]

    def head_stats_payload(self, stack: str, version: int | None = None) -> dict[str, Any]:
        """The ``_head_stats`` trait for ``stack``, for the shown version (or ``version``: 1 in a saved file)."""
        columns = self.stats(stack)
        return head_stats_payload(stack, columns, layer_summary(columns), self.version if version is None else version)

    def attention_layer(self, layer: int, stack: str) -> np.ndarray:
        """One layer's raw attention, read-only; for a long input computed now, when it fits the budget."""
        shown = self.extraction.stacks[check_choice(stack, list(self.extraction.stacks), "stack")]
        check_layer(layer, self.shapes()[shown.name])
        if not isinstance(shown, LongStack):
            return self.extraction.weights(shown.name, "attention_layer").layers[layer]
        weights = shown.layer(layer, self.settings.max_attention_bytes)
        weights.flags.writeable = False
        return weights

    def head_queries(self, layer: int, head: int, stack: str) -> HeadQueries:
        """One head's queries and keys as the softmax read them, or a ValueError saying why there are none."""
        if self.extraction.stacks[stack].is_long:
            raise ValueError(
                "w.qk is not available for an input over max_attention_bytes: one head's dense bias alone would "
                "be rows × cols; use w.attention_layer(layer) or a shorter input"
            )
        queries = self.extraction.queries
        if queries is None:
            raise ValueError(
                "this widget has no queries and keys: it shows attention given to it with no model, "
                "or was made with capture_qk=False"
            )
        captured = queries.stack(stack)
        if not 0 <= layer < captured.n_layers or not 0 <= head < captured.n_heads:
            raise ValueError(
                f"layer must be between 0 and {captured.n_layers - 1} and head between 0 and "
                f"{captured.n_heads - 1}, got layer {layer}, head {head}"
            )
        return captured.head(layer, head)

    def key_head(self, stack: str, head: int) -> int:
        """The key head query head ``head`` reads (grouped-query attention shares them)."""
        assert self.extraction.queries is not None
        return self.extraction.queries.stacks[stack].key_head(head)
