"""Every trait the widget syncs with the page, declared once, with what it means.

The view-state traits derive from ``wire.view_state.VIEW_STATE`` (their defaults and rules);
``AttentionWidget`` adds the behaviour: validators, re-runs and the page's side.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as t
from ipywidgets import widget_serialization

from ..export.html import THEMES
from ..wire.view_state import VIEW
from .frontend import FrontEnd, widget_css, widget_esm


def checked_trait(default: Any) -> Any:
    """A synced trait whose every value, None included, goes through the widget's validator.

    Typed Any: the rule checks the value (a bool is not an int, NaN is not a threshold), and
    traitlets' Any would let None skip validation unless told otherwise.
    """
    trait = t.Any(default)
    trait.allow_none = False
    return trait.tag(sync=True)


def view_trait(name: str) -> Any:
    """The trait of view-state setting ``name``, with the default of ``wire.view_state.VIEW``; checked by its rule."""
    return checked_trait(VIEW[name].default).tag(view=True)


INPUT_TRAITS = ("sentence", "sentence_b", "target", "model")
"""The traits whose assignment from Python re-runs the model."""


class WidgetTraits(anywidget.AnyWidget):
    """The synced state of an ``AttentionWidget``: the input, the view state, read-outs and the payloads."""

    # A ~1 kB loader; the front end itself is one shared model per kernel (see frontend.py),
    # except where a widget must carry the whole bundle (marimo: front_end_traits).
    _esm = widget_esm()
    _css = widget_css()
    _front_end = t.Instance(FrontEnd, allow_none=True).tag(sync=True, **widget_serialization)

    # The input. Setting `sentence`, `sentence_b`, `target` or `model` from Python re-runs the model;
    # the page cannot set them, it sends a `run` message.
    sentence = t.Unicode("").tag(sync=True)
    sentence_b = t.Unicode("").tag(sync=True)  # the second sentence of a pair, "" for none
    target = t.Unicode("").tag(sync=True)  # an encoder-decoder's decoder text, "" to generate one
    model = t.Unicode("").tag(sync=True)  # the model's name as the user gave it
    models = t.List(t.Unicode()).tag(sync=True)  # choices for the page's model selector
    has_model = t.Bool(True).tag(sync=True)  # False for user tensors: no sentence box

    # The view state (wire/view_state.py), shared by every panel and by Python: the only traits the page may set.
    combine = view_trait("combine")  # rollout up to each layer instead of the layer alone
    granularity = view_trait("granularity")  # words instead of sub-word tokens
    stack = view_trait("stack")  # which attention: self, encoder, decoder, cross
    direction = view_trait("direction")
    layer = view_trait("layer")
    heads = view_trait("heads")
    focus = view_trait("focus")  # token index, or None
    pair_filter = view_trait("pair_filter")
    hide_special = view_trait("hide_special")
    threshold = view_trait("threshold")
    neuron_view = view_trait("neuron_view")  # the neuron view (queries and keys) is open

    # Set by Python only: "light" or "dark" force a theme (BertViz's display_mode), "auto" follows the host.
    theme = t.Enum(THEMES, default_value="auto").tag(sync=True)

    # Read-outs. `tokens` are the shown stack's rows ("from"), `col_tokens` its columns ("to"):
    # the same list except for cross-attention, where rows are decoder and columns encoder tokens.
    tokens = t.List(t.Unicode(), read_only=True)
    col_tokens = t.List(t.Unicode(), read_only=True)
    shapes = t.Dict(read_only=True).tag(sync=True)
    notes = t.List(t.Unicode(), read_only=True).tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    busy = t.Bool(False).tag(sync=True)

    _data = t.Dict().tag(sync=True)
    _request = t.Int(0).tag(sync=True)  # the page's run request the current state answers
    # The page echoes `_request` here once it has taken in the answer (never beyond `_request`).
    # Hosts that re-run the cells reading a widget only when its page changes a trait (marimo)
    # then re-run them with the new input.
    page_runs = checked_trait(0)

    # A second model run on the same input ("" for none); the page picks one with a `compare` message.
    compare_to = t.Unicode("").tag(sync=True)
    _head_stats = t.Dict().tag(sync=True)  # head_stats() of one stack as JSON columns, when the page asks
    _compare = t.Dict().tag(sync=True)  # A and B aligned, for the compare panel; {} for none
