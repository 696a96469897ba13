"""AttentionWidget: the public face of the widget (constructors, accessors, exports).

All computing lives below (``sources``, ``analysis``, ``wire``); the state and its
transitions are :class:`~attnwidget.widget.session.WidgetSession`'s, the traits
:class:`~attnwidget.widget.traits.WidgetTraits`'.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.compare import Comparison
from ..analysis.heads import layer_summary
from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES
from ..core.checks import check_flag, check_text
from ..core.queries import HeadQueries
from ..core.stack import Extraction
from ..export.html import save_html
from ..export.view import SavedView
from ..sources.forward import check_sentence
from ..sources.models import ModelSpec
from ..wire.view_state import (
    SAVED_VIEW,
    VALUE_SETTINGS,
    VIEW_NAMES,
)
from .frontend import front_end_traits
from .runs import Inputs, RunSettings
from .session import WidgetSession

if TYPE_CHECKING:
    import pandas as pd


class AttentionWidget(WidgetSession):
    """A live, linked view of a Transformer's attention for one input.

    >>> w = AttentionWidget("He went to the bank to deposit money.", model="offline")
    >>> w.attention.shape   # (layers, heads, tokens, tokens), float32
    >>> w.layer = 3         # the page follows; clicks in the page update w.layer

    Every value of the view state is checked by the rules in ``wire/view_state.py``, the
    same for the constructor, assignment and the page; see the README's API section.
    """

    def __init__(
        self,
        sentence: str | None = None,
        model: ModelSpec = "bert-base-uncased",
        *,
        sentence_b: str | None = None,
        target: str | None = None,
        models: list[str] | None = None,
        layer: int = 0,
        heads: list[int] | None = None,
        stream: bool = True,
        max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
        compare_to: ModelSpec | None = None,
        capture_qk: bool = True,
        prettify_tokens: bool = True,
        _extraction: Extraction | None = None,
        **kwargs: Any,
    ) -> None:
        check_flag(prettify_tokens, "prettify_tokens")  # before any widget (and comm) exists
        check_flag(capture_qk, "capture_qk")
        view = {name: kwargs.pop(name) for name in VIEW_NAMES if name in kwargs}
        view["layer"] = layer
        if heads is not None:
            view["heads"] = heads
        super().__init__(RunSettings(max_attention_bytes, capture_qk, stream, prettify_tokens), **front_end_traits(), **kwargs)
        try:
            for name in VALUE_SETTINGS:  # before the first encoding, which shows them
                if name in view:
                    setattr(self, name, view.pop(name))
            if _extraction is None:
                check_sentence(sentence, "sentence")
                for text, what in ((sentence, "sentence"), (sentence_b, "sentence_b"), (target, "target")):
                    if text is not None:
                        check_text(text, what)
                prepared = self._prepare(Inputs(sentence or "", sentence_b or "", target or ""), model)
                self.models = _model_choices(prepared.model_name, models)
            else:
                self.has_model = False
                prepared = self._prepared_from(_extraction, Inputs(""), None)
            self._commit(prepared)
            for name in VIEW_NAMES:  # checked exactly as an assignment would be
                if name in view:
                    setattr(self, name, view[name])
            if (self.stack, self.layer) != (prepared.shown.stack, prepared.shown.layer):
                self._data = self._state_payload()  # send the chosen layer up front, not layer 0
            if compare_to is not None:
                if isinstance(compare_to, str):
                    check_text(compare_to, "compare_to")
                self._start_comparison(compare_to)
        except BaseException:
            self.close()
            raise
        self.on_msg(self._page.on_message)

    @classmethod
    def from_attentions(
        cls,
        attention: Any,
        tokens: list[str],
        *,
        col_tokens: list[str] | None = None,
        sentence_b_start: int | None = None,
        layer: int = 0,
        heads: list[int] | None = None,
        max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
        **kwargs: Any,
    ) -> AttentionWidget:
        """A widget for attention you already have, with no model behind it (no sentence box).

        ``attention`` is what Hugging Face returns (a tuple of ``(1, heads, n, n)``
        tensors, one per layer), one ``(layers, heads, n, n)`` numpy or torch array, one
        layer's ``(heads, n, n)`` (CircuitsVis), or a TransformerLens cache (see ``from_cache``).
        ``col_tokens`` names the columns when they differ from the rows (cross-attention).
        The widget keeps its own read-only copy: changing ``attention`` afterwards
        (``attn.zero_()``) changes neither ``w.attention`` nor the page. Inputs over
        ``max_attention_bytes`` (as float32) are refused before anything is converted.
        Tokens with lone surrogates are shown with U+FFFD in the page.
        """
        from ..sources.tensors import extraction_from_tensors

        if callable(getattr(attention, "keys", None)):  # a TransformerLens cache, not an array
            return cls.from_cache(attention, tokens, layer=layer, heads=heads, max_attention_bytes=max_attention_bytes, **kwargs)
        extraction = extraction_from_tensors(
            attention,
            tokens,
            col_tokens=col_tokens,
            sentence_b_start=sentence_b_start,
            copy=True,
            max_attention_bytes=max_attention_bytes,
        )
        return cls(_extraction=extraction, layer=layer, heads=heads, max_attention_bytes=max_attention_bytes, **kwargs)

    @classmethod
    def from_cache(
        cls,
        cache: Any,
        tokens: list[str],
        *,
        layer: int = 0,
        heads: list[int] | None = None,
        max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
        **kwargs: Any,
    ) -> AttentionWidget:
        """A widget for a TransformerLens ``ActivationCache`` from ``model.run_with_cache(...)``.

        Shows every layer's ``hook_pattern``; ``tokens`` label the positions (e.g.
        ``model.to_str_tokens(text)``). The neuron view uses the cache's ``q`` and
        ``k`` (after rotary where cached) when they reproduce the pattern. As for
        ``from_attentions``, the patterns are checked against ``max_attention_bytes``
        before they are converted, and the widget keeps its own read-only copy.
        """
        from ..sources.lens import extraction_from_cache

        extraction = extraction_from_cache(cache, tokens, max_attention_bytes=max_attention_bytes)
        return cls(_extraction=extraction, layer=layer, heads=heads, max_attention_bytes=max_attention_bytes, **kwargs)

    def close(self) -> None:
        """Close the widget: the page removes it, and it no longer re-runs."""
        self._closed = True
        super().close()

    # ---- the arrays, for Python users -------------------------------------------------

    @property
    def extraction(self) -> Extraction:
        """What the model returned: raw attention over tokens, whatever `combine` and `granularity` show."""
        return self._current.extraction

    @property
    def shown(self) -> Extraction:
        """What the page shows: rollout and/or words when `combine` / `granularity` ask for them."""
        return self._current.shown

    @property
    def attention(self) -> np.ndarray:
        """The shown stack's attention, float32 (layers, heads, rows, cols), read-only, as the model returned it.

        An input over ``max_attention_bytes`` has none (a ValueError says so): see ``attention_layer``.
        """
        return self.extraction.stacks[self.stack].attention

    @property
    def is_long_input(self) -> bool:
        """True when the input's attention exceeds ``max_attention_bytes``: the widget keeps queries and keys."""
        return self.extraction.stacks[self.stack].is_long

    def attention_layer(self, layer: int, stack: str | None = None) -> np.ndarray:
        """One layer's attention, float32 (heads, rows, cols), read-only; for a long input computed now,
        exactly, when one layer fits ``max_attention_bytes`` (else a ValueError says what it would take)."""
        return self._current.attention_layer(layer, stack or self.stack)

    def qk(self, layer: int, head: int, stack: str | None = None) -> HeadQueries:
        """One head's queries and keys as the softmax read them (``stack`` defaults to the shown one).

        ``q, k, scale, bias = w.qk(3, 1)``: float32 ``q`` (rows, d_head) and ``k``
        (cols, d_head), and ``softmax(q @ k.T * scale + bias)`` is ``w.attention[3, 1]``.
        ``bias`` (rows, cols) holds masks and position biases, or is None.
        """
        return self._current.head_queries(layer, head, stack or self.stack)

    @property
    def prettify_tokens(self) -> bool:
        """Whether the page shows readable labels (True) or the tokenizer's raw strings."""
        return self._settings.prettify_tokens

    @property
    def n_layers(self) -> int:
        return self.extraction.stacks[self.stack].n_layers

    @property
    def n_heads(self) -> int:
        return self.extraction.stacks[self.stack].n_heads

    # ---- leaving the notebook ------------------------------------------------------------

    def __attnwidget_view__(self) -> SavedView:
        """This view as the exports read it (``export.view``): they never import the widget."""
        view = {name: getattr(self, name) for name in SAVED_VIEW}
        return SavedView(
            self.extraction,
            self.shown,
            view,
            sentence=self.sentence,
            theme=self.theme,
            prettify_tokens=self.prettify_tokens,
            panels=self._panels_for_file,
        )

    def save_html(self, path: str | os.PathLike[str], *, theme: str | None = None) -> Path:
        """Write this view, with every layer, as one self-contained HTML file that opens offline."""
        if self.is_long_input:
            raise ValueError(
                "save_html writes every layer's weights, and this input's attention is over max_attention_bytes: "
                "its page computes what it shows from a live kernel; save a shorter input"
            )
        return save_html(self, path, theme=theme)

    def figure(self, view: str = "heatmap", **options: Any) -> Any:
        """A matplotlib Figure of ``view`` ("heatmap", "token_focus", "head_view", "model_view") as the page shows it now.

        ``options`` override the current view (``layer=``, ``heads=``, ``theme=``, ...); needs ``attnwidget[plot]``.
        """
        from ..export import plot

        return plot.figure(self, view, **{**plot.view_options(self.__attnwidget_view__(), view), **options})

    # ---- analysis: rollout, words, head statistics ---------------------------------------

    def head_stats(self) -> pd.DataFrame:
        """:func:`attnwidget.head_stats` of the shown stack's raw token attention, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._current.stats(self.stack))

    @property
    def layer_summary(self) -> str:
        """One line on what each depth of the shown stack mostly does (:func:`attnwidget.layer_summary`)."""
        return layer_summary(self._current.stats(self.stack))

    # ---- analysis: a second model ---------------------------------------------------------

    @property
    def comparison(self) -> Comparison | None:
        """The aligned A and B of the current comparison, or None."""
        return self._second.comparison


def _model_choices(current: str, models: list[str] | None) -> list[str]:
    choices = list(models or [])
    if current not in choices:
        choices.insert(0, current)
    return choices
