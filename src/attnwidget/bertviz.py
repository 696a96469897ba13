"""BertViz's ``head_view``, ``model_view`` and ``neuron_view.show``, showing an ``AttentionWidget``.

Replace ``from bertviz import head_view, model_view`` with
``from attnwidget import head_view, model_view``; calls keep working, in the same
places (the last line of a cell, inside a function, in a loop, before a ``print``),
and show the live widget instead of static HTML.

Accepted, with BertViz's meaning:

* ``attention`` + ``tokens`` (+ ``sentence_b_start``) for self-attention models;
  ``encoder_attention`` / ``decoder_attention`` / ``cross_attention`` with
  ``encoder_tokens`` / ``decoder_tokens`` for encoder-decoders (stacks
  "encoder", "decoder", "cross"). The same argument combinations are required
  or refused as in BertViz. Attention may be the tuple Hugging Face returns or an
  array (see ``sources/tensors.py``); it must be batch size 1.
* ``layer`` and ``heads`` (head_view): the layer and heads selected at first.
  ``layer`` is an index into the model's layers and must be in ``include_layers``.
* ``include_layers``: only these layers are kept (the widget numbers them 0, 1, ...
  and a note lists the original indices).
* ``include_heads`` (model_view): only these heads are kept, with a note.
* ``html_action``: "view" (the default) displays the widget and returns None, as
  BertViz displays its HTML; "return" returns an ``IPython.display.HTML`` whose
  ``.data`` is the self-contained offline file of ``save_html`` (so BertViz's
  ``open("x.html", "w").write(html.data)`` works). attnwidget adds "widget": the
  live widget, not displayed. Anything else is a ValueError, as in BertViz.
* ``prettify_tokens``: True shows readable labels (``Ġ``/``▁`` as spaces, no
  ``</w>``); False shows the raw strings. ``widget.tokens`` is always raw.
* ``display_mode`` (model_view): "dark" (BertViz's default) or "light" forces the
  widget's theme; BertViz has no other.
* Repeated indices in ``heads``, ``include_layers`` or ``include_heads`` are a
  ValueError.

``model_view`` returns the same widget as ``head_view``: it has the model view
(every layer and head as thumbnails) as one of its linked panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .core.checks import check_index, check_indices
from .core.stack import CROSS, DECODER, ENCODER, SELF, Extraction
from .export.html import html_of
from .sources.models import ModelSpec
from .sources.tensors import TensorStack, combine_stacks, given_shape, stack_from_tensors
from .widget import AttentionWidget

if TYPE_CHECKING:
    from IPython.display import HTML

HTML_ACTIONS = ("view", "return", "widget")
DISPLAY_MODES = ("dark", "light")
Shown = Union[None, "HTML", "AttentionWidget"]


def head_view(
    attention: Any = None,
    tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    prettify_tokens: bool = True,
    layer: int | None = None,
    heads: Sequence[int] | None = None,
    encoder_attention: Any = None,
    decoder_attention: Any = None,
    cross_attention: Any = None,
    encoder_tokens: Sequence[str] | None = None,
    decoder_tokens: Sequence[str] | None = None,
    include_layers: Sequence[int] | None = None,
    html_action: str = "view",
) -> Shown:
    """BertViz's ``head_view``: displays the widget, or returns it or its HTML (see the module docstring)."""
    _check_html_action(html_action)
    extraction = _extraction(
        attention,
        tokens,
        sentence_b_start,
        encoder_attention,
        decoder_attention,
        cross_attention,
        encoder_tokens,
        decoder_tokens,
        include_layers,
    )
    widget = _widget(extraction, layer, include_layers, heads, prettify_tokens=prettify_tokens, theme="auto")
    return _deliver(widget, html_action)


def model_view(
    attention: Any = None,
    tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    prettify_tokens: bool = True,
    display_mode: str = "dark",
    encoder_attention: Any = None,
    decoder_attention: Any = None,
    cross_attention: Any = None,
    encoder_tokens: Sequence[str] | None = None,
    decoder_tokens: Sequence[str] | None = None,
    include_layers: Sequence[int] | None = None,
    include_heads: Sequence[int] | None = None,
    html_action: str = "view",
) -> Shown:
    """BertViz's ``model_view``: the same widget as ``head_view``, in ``display_mode``'s theme."""
    _check_html_action(html_action)
    if display_mode not in DISPLAY_MODES:
        raise ValueError(f"display_mode must be 'dark' or 'light', got {display_mode!r}")
    extraction = _extraction(
        attention,
        tokens,
        sentence_b_start,
        encoder_attention,
        decoder_attention,
        cross_attention,
        encoder_tokens,
        decoder_tokens,
        include_layers,
    )
    if include_heads is not None:
        extraction = _keep_heads(extraction, include_heads)
    widget = _widget(extraction, None, include_layers, None, prettify_tokens=prettify_tokens, theme=display_mode)
    return _deliver(widget, html_action)


# ---- building the extraction --------------------------------------------------------------


def _extraction(
    attention: Any,
    tokens: Sequence[str] | None,
    sentence_b_start: int | None,
    encoder_attention: Any,
    decoder_attention: Any,
    cross_attention: Any,
    encoder_tokens: Sequence[str] | None,
    decoder_tokens: Sequence[str] | None,
    include_layers: Sequence[int] | None,
) -> Extraction:
    """One stack for self-attention, or encoder/decoder/cross stacks, with BertViz's argument rules."""
    encoder_decoder_args = (encoder_attention, decoder_attention, cross_attention, encoder_tokens, decoder_tokens)
    if attention is not None:
        if tokens is None:
            raise ValueError("'tokens' is required with 'attention'")
        if any(arg is not None for arg in encoder_decoder_args):
            raise ValueError(
                "pass either 'attention' and 'tokens' (self-attention models) or the encoder-decoder arguments "
                "(encoder_attention, decoder_attention, cross_attention, encoder_tokens, decoder_tokens), not both"
            )
        parts = [_part(attention, tokens, None, SELF, include_layers, sentence_b_start)]
    else:
        parts = _encoder_decoder_parts(
            encoder_attention, decoder_attention, cross_attention, encoder_tokens, decoder_tokens, include_layers
        )
    extraction = combine_stacks(parts)
    if include_layers is not None:
        note = f"showing layers {list(include_layers)} of the model (include_layers); the widget numbers them from 0"
        extraction = Extraction(extraction.stacks, extraction.model_name, extraction.shapes, [*extraction.notes, note])
    return extraction


def _encoder_decoder_parts(
    encoder_attention: Any,
    decoder_attention: Any,
    cross_attention: Any,
    encoder_tokens: Sequence[str] | None,
    decoder_tokens: Sequence[str] | None,
    include_layers: Sequence[int] | None,
) -> list[TensorStack]:
    if encoder_attention is None and decoder_attention is None and cross_attention is None:
        raise ValueError(
            "no attention given: pass attention= and tokens= (self-attention), or encoder_attention=, "
            "decoder_attention= and/or cross_attention= with encoder_tokens= and decoder_tokens="
        )
    # BertViz's requirements, in its order: which tokens each attention needs.
    needs = (
        (ENCODER, encoder_attention, {"encoder_tokens": encoder_tokens}),
        (DECODER, decoder_attention, {"decoder_tokens": decoder_tokens}),
        (CROSS, cross_attention, {"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}),
    )
    for name, given, required in needs:
        missing = [key for key, value in required.items() if value is None]
        if given is not None and missing:
            raise ValueError(f"'{missing[0]}' is required with '{name}_attention'")
    parts = []
    if encoder_attention is not None:
        parts.append(_part(encoder_attention, encoder_tokens, None, ENCODER, include_layers))
    if decoder_attention is not None:
        parts.append(_part(decoder_attention, decoder_tokens, None, DECODER, include_layers))
    if cross_attention is not None:
        # Rows are decoder tokens (queries), columns encoder tokens (keys).
        parts.append(_part(cross_attention, decoder_tokens, encoder_tokens, CROSS, include_layers))
    return parts


def _part(
    attention: Any,
    tokens: Sequence[str] | None,
    col_tokens: Sequence[str] | None,
    name: str,
    include_layers: Sequence[int] | None,
    sentence_b_start: int | None = None,
) -> TensorStack:
    if tokens is None:
        raise ValueError(f"tokens are required with the {name} attention")
    shape = given_shape(attention)  # shapes show what the user passed, before include_layers
    if include_layers is not None:
        attention = _select_layers(attention, include_layers)
    # A copy, as from_attentions makes: the widget owns what it shows (read-only), the caller's tensor stays theirs.
    part = stack_from_tensors(attention, tokens, col_tokens=col_tokens, sentence_b_start=sentence_b_start, name=name, copy=True)
    return part._replace(shape=shape)


def _select_layers(attention: Any, include_layers: Sequence[int]) -> Any:
    """The chosen layers, before conversion, so dropped layers are never copied."""
    indices = check_indices(include_layers, len(attention), "include_layers", "layers")
    if isinstance(attention, (tuple, list)):
        return [attention[index] for index in indices]
    return attention[indices]


def _keep_heads(extraction: Extraction, include_heads: Sequence[int]) -> Extraction:
    """Every stack with only the chosen heads, plus a note (model_view's include_heads)."""
    stacks = {}
    for name in extraction.stacks:
        stack = extraction.weights(name, "include_heads")
        indices = check_indices(include_heads, stack.n_heads, "include_heads", "heads")
        stacks[name] = replace(stack, layers=tuple(np.ascontiguousarray(layer[indices]) for layer in stack.layers))
    note = f"showing heads {list(include_heads)} of the model (include_heads); the widget numbers them from 0"
    return Extraction(stacks, extraction.model_name, extraction.shapes, [*extraction.notes, note])


# ---- the widget -----------------------------------------------------------------------------


def _widget(
    extraction: Extraction,
    layer: int | None,
    include_layers: Sequence[int] | None,
    heads: Sequence[int] | None,
    *,
    prettify_tokens: bool,
    theme: str,
) -> AttentionWidget:
    main = extraction.main
    return AttentionWidget(
        _extraction=extraction,
        layer=_widget_layer(layer, include_layers, main.n_layers),
        heads=None if heads is None else check_indices(heads, main.n_heads, "heads", "heads"),
        prettify_tokens=bool(prettify_tokens),
        theme=theme,
    )


def _deliver(widget: AttentionWidget, html_action: str) -> Shown:
    """What BertViz does with its view: display it (None), or return it as HTML; or the live widget."""
    if html_action == "widget":
        return widget
    if html_action == "return":
        from IPython.display import HTML

        try:
            return HTML(html_of(widget))
        finally:
            widget.close()  # only the file is returned: no live view will ever use this widget
    from IPython.display import display

    display(widget)
    return None


def _widget_layer(layer: int | None, include_layers: Sequence[int] | None, n_layers: int) -> int:
    """BertViz's ``layer`` is a model layer; the widget's is a position among the kept layers."""
    if layer is None:
        return 0
    if include_layers is not None:
        kept = list(include_layers)
        if layer not in kept:
            raise ValueError(f"layer {layer} is not in include_layers: {kept}")
        return kept.index(layer)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise ValueError(f"layer must be an index between 0 and {n_layers - 1}, got {layer!r}")
    return int(layer)


def _check_html_action(html_action: str) -> None:
    if html_action not in HTML_ACTIONS:
        raise ValueError(
            f"html_action must be 'view' (display the widget), 'return' (an IPython HTML object holding "
            f"the standalone page) or 'widget' (the live widget, not displayed), got {html_action!r}"
        )


def neuron_view(
    model: Any,
    model_type: str,
    tokenizer: Any,
    sentence_a: str,
    sentence_b: str | None = None,
    display_mode: str = "dark",
    layer: int | None = None,
    head: int | None = None,
    html_action: str = "view",
) -> AttentionWidget:
    """BertViz's ``neuron_view.show``, for every supported family: a widget opened on the neuron view.

    ``model_type`` ("bert", "gpt2", "roberta" in BertViz) is accepted for any family
    and not needed: the model says what it is. ``display_mode`` is ignored (the
    widget follows the notebook's theme); ``html_action`` "view" and "return" both
    return the widget. ``layer`` and ``head`` choose what is shown first.
    """
    if not isinstance(model_type, str):
        raise ValueError(f"model_type must be a string such as 'bert', got {type(model_type).__name__}")
    if html_action not in ("view", "return"):
        raise ValueError(f"html_action must be 'view' or 'return', got {html_action!r}")
    spec: ModelSpec = (model, tokenizer)
    widget = AttentionWidget(sentence_a, model=spec, sentence_b=sentence_b, layer=layer or 0)
    if head is not None:
        widget.heads = [check_index(head, widget.n_heads, "head")]
    widget.neuron_view = True
    return widget
