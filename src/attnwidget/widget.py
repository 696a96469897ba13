"""AttentionWidget: syncs an extraction and the view state with the page.

All computing lives in ``extraction`` and ``encoding``; this class only decides
what to send when, and turns page requests into calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets as t
from ipywidgets import widget_serialization

from . import validation as rules
from .analysis import head_stats_columns
from .analysis import layer_summary as summarize_layers
from .analysis_payload import comparison_payload, encoded_comparison, head_stats_payload
from .compare import Comparison, compare_extractions
from .extraction import DEFAULT_MAX_ATTENTION_BYTES, check_sentence, extract
from .frontend import FrontEnd, front_end_traits, widget_css, widget_esm
from .models import LoadedModel, ModelSpec, load_model
from .page import PageSide, _describe
from .payload import EncodedExtraction
from .queries import HeadQueries
from .result import Extraction
from .standalone import THEMES
from .validation import StackShape
from .views import shown_extraction

if TYPE_CHECKING:
    import pandas as pd


def _checked(default: Any) -> t.Any:
    """A synced trait the page may set, whose every value, None included, goes through the validator."""
    trait = t.Any(default)
    trait.allow_none = False  # traitlets' Any lets None skip validation otherwise
    return trait.tag(sync=True)


_VIEW_TRAITS = (
    "combine",
    "granularity",
    "stack",
    "direction",
    "layer",
    "heads",
    "focus",
    "pair_filter",
    "hide_special",
    "threshold",
    "neuron_view",
)
"""In the order the constructor applies them: ranges depend on the words or tokens, the stack and direction."""

_INPUT_TRAITS = ("sentence", "sentence_b", "target", "model")


class AttentionWidget(PageSide, anywidget.AnyWidget):
    """A live, linked view of a Transformer's attention for one input.

    >>> w = AttentionWidget("He went to the bank to deposit money.", model="offline")
    >>> w.attention.shape   # (layers, heads, tokens, tokens), float32
    >>> w.layer = 3         # the page follows; clicks in the page update w.layer

    Every value of the view state is checked by the rules in ``validation.py``, the
    same for the constructor, assignment and the page; see the README's API section.
    """

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

    # View state, shared by every panel and by Python; the only traits the page may set.
    # Typed Any: `validation.py` checks them (a bool is not an int, NaN is not a threshold).
    stack = _checked("self")  # which attention: self, encoder, decoder, cross
    layer = _checked(0)
    heads = _checked([])
    focus = _checked(None)  # token index, or None
    direction = _checked("attends_to")
    pair_filter = _checked("all")
    hide_special = _checked(False)
    threshold = _checked(0.0)
    # Analysis (issue #10): what the values are. Rollout up to each layer instead of the layer
    # alone; words instead of sub-word tokens. Every panel shows the chosen form.
    combine = _checked("none")
    granularity = _checked("tokens")
    neuron_view = _checked(False)  # the neuron view (queries and keys) is open

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
    # The page echoes `_request` here once it has taken in the answer (validation.check_page_runs:
    # never beyond `_request`). Hosts that re-run the cells reading a widget only when its page
    # changes a trait (marimo) then re-run them with the new input.
    page_runs = _checked(0)

    # A second model run on the same input ("" for none); the page picks one with a `compare` message.
    compare_to = t.Unicode("").tag(sync=True)
    _head_stats = t.Dict().tag(sync=True)  # head_stats() of one stack as JSON columns, when the page asks
    _compare = t.Dict().tag(sync=True)  # A and B aligned, for the compare panel; {} for none

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
        rules.check_flag(prettify_tokens, "prettify_tokens")  # before any widget (and comm) exists
        rules.check_flag(capture_qk, "capture_qk")
        view = {name: kwargs.pop(name) for name in _VIEW_TRAITS if name in kwargs}
        view["layer"] = layer
        if heads is not None:
            view["heads"] = heads
        super().__init__(**front_end_traits(), **kwargs)
        self._raw: Extraction | None = None  # the extraction as the model returned it
        self._raw_version = 0  # the _version at which _raw arrived: rollout or words do not change it
        self._stats: tuple[tuple[int, str], dict] | None = None  # ((raw version, stack), head_stats_columns)
        self._comparison: Comparison | None = None
        self._compare_encoded: EncodedExtraction | None = None  # the comparison, for compare_layers requests
        self._compare_spec: ModelSpec | None = None  # the second model, loaded
        self._b_extraction: Extraction | None = None  # its run on the current input
        self._model_spec: ModelSpec | None = None
        self._encoded: EncodedExtraction | None = None
        self._version = 0
        self._stream = stream
        self._prettify_tokens = prettify_tokens
        self._max_attention_bytes = max_attention_bytes
        self._capture_qk = capture_qk  # keep queries and keys for w.qk and the neuron view
        self._committing = False  # set while this class writes the traits a re-run changes
        self._prepared: _Prepared | None = None
        self._closed = False
        try:
            for name in rules.DISPLAY_SETTINGS:  # before the first encoding, which shows them
                if name in view:
                    setattr(self, name, view.pop(name))
            if _extraction is None:
                check_sentence(sentence, "sentence")
                for text, what in ((sentence, "sentence"), (sentence_b, "sentence_b"), (target, "target")):
                    if text is not None:
                        rules.check_text(text, what)
                inputs = _Inputs(sentence or "", sentence_b or "", target or "")
                prepared = self._prepare(inputs, model)
                self.models = _model_choices(prepared.model_name, models)
            else:
                self.has_model = False
                prepared = self._prepared_from(_extraction, _Inputs(""), None)
            self._commit(prepared)
            self._set_view(view)
            if (self.stack, self.layer) != (prepared.stack, prepared.layer):
                self._data = self._state_payload()  # send the chosen layer up front, not layer 0
            if compare_to is not None:
                if isinstance(compare_to, str):
                    rules.check_text(compare_to, "compare_to")
                self._start_comparison(compare_to)
        except BaseException:
            self.close()
            raise
        self.on_msg(self._on_page_message)

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
        from .tensors import extraction_from_tensors

        if callable(getattr(attention, "keys", None)):  # a TransformerLens cache, not an array
            return cls.from_cache(
                attention, tokens, layer=layer, heads=heads, max_attention_bytes=max_attention_bytes, **kwargs
            )
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
        from .lens import extraction_from_cache

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
        assert self._raw is not None
        return self._raw

    @property
    def shown(self) -> Extraction:
        """What the page shows: rollout and/or words when `combine` / `granularity` ask for them."""
        assert self._encoded is not None
        return self._encoded.extraction

    @property
    def attention(self) -> np.ndarray:
        """The shown stack's attention, float32 (layers, heads, rows, cols), read-only, as the model returned it."""
        return self.extraction.stacks[self.stack].attention

    def qk(self, layer: int, head: int, stack: str | None = None) -> HeadQueries:
        """One head's queries and keys as the softmax read them (``stack`` defaults to the shown one).

        ``q, k, scale, bias = w.qk(3, 1)``: float32 ``q`` (rows, d_head) and ``k``
        (cols, d_head), and ``softmax(q @ k.T * scale + bias)`` is ``w.attention[3, 1]``.
        ``bias`` (rows, cols) holds masks and position biases, or is None.
        """
        queries = self.extraction.queries
        if queries is None:
            raise ValueError(
                "this widget has no queries and keys: it shows attention given to it with no model, "
                "or was made with capture_qk=False"
            )
        captured = queries.stack(stack or self.stack)
        if not 0 <= layer < captured.n_layers or not 0 <= head < captured.n_heads:
            raise ValueError(
                f"layer must be between 0 and {captured.n_layers - 1} and head between 0 and "
                f"{captured.n_heads - 1}, got layer {layer}, head {head}"
            )
        return captured.head(layer, head)

    @property
    def prettify_tokens(self) -> bool:
        """Whether the page shows readable labels (True) or the tokenizer's raw strings."""
        return self._prettify_tokens

    @property
    def n_layers(self) -> int:
        return self.extraction.stacks[self.stack].n_layers

    @property
    def n_heads(self) -> int:
        return self.extraction.stacks[self.stack].n_heads

    # ---- leaving the notebook ------------------------------------------------------------

    def save_html(self, path: str | os.PathLike, *, theme: str | None = None) -> Path:
        """Write this view, with every layer, as one self-contained HTML file that opens offline."""
        from .standalone import save_html

        return save_html(self, path, theme=theme)

    def figure(self, view: str = "heatmap", **options: Any) -> Any:
        """A matplotlib Figure of ``view`` ("heatmap", "token_focus", "head_view", "model_view") as the page shows it now.

        ``options`` override the current view (``layer=``, ``heads=``, ``theme=``, ...); needs ``attnwidget[plot]``.
        """
        from . import plot

        return plot.figure(self, view, **{**plot.widget_view_options(self, view), **options})

    # ---- validation of the view state (rules in validation.py) ----------------------------

    @t.validate(*_VIEW_TRAITS)
    def _valid_view_value(self, proposal: t.Bunch) -> Any:
        name = proposal["trait"].name
        try:
            if name in rules.DISPLAY_SETTINGS:
                return rules.check_display_setting(name, proposal["value"])
            if self._encoded is None:  # only while constructing: _commit sets them from the data
                return proposal["value"]
            return rules.check_view_value(
                name, proposal["value"], stacks=self._stack_shapes(), stack=self.stack, direction=self.direction
            )
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    @t.validate("page_runs")
    def _valid_page_runs(self, proposal: t.Bunch) -> int:
        try:
            return rules.check_page_runs(proposal["value"], answered=self._request)
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    def _stack_shapes(self) -> dict[str, StackShape]:
        """The shown stacks' dimensions: focus indexes words when granularity is words."""
        assert self._encoded is not None
        return self._encoded.shapes()

    def _set_view(self, view: dict[str, Any]) -> None:
        """View state given to the constructor, checked exactly as an assignment would be."""
        for name in _VIEW_TRAITS:
            if name in view:
                setattr(self, name, view[name])

    @t.observe("stack", "direction")
    def _keep_view_in_range(self, change: t.Bunch) -> None:
        """A new stack may have fewer layers, heads or tokens: clamp rather than fail."""
        if self._encoded is None:
            return
        with self.hold_sync():
            self._show_tokens_of(self.stack)
            self.layer = min(self.layer, self.n_layers - 1)
            self.heads = [head for head in self.heads if head < self.n_heads] or list(range(self.n_heads))
            if self.focus is not None and self.focus >= self._focus_axis_size():
                self.focus = None

    def _show_tokens_of(self, stack_name: str) -> None:
        stack = self.shown.stacks[stack_name]
        self.set_trait("tokens", list(stack.row_tokens))
        self.set_trait("col_tokens", list(stack.col_tokens))

    def _focus_axis_size(self) -> int:
        return rules.focus_axis_size(self._stack_shapes()[self.stack], self.direction)

    # ---- re-running -------------------------------------------------------------------

    @t.validate(*_INPUT_TRAITS)
    def _valid_input(self, proposal: t.Bunch) -> str:
        """Assigning an input re-runs the model here, before the trait changes: a failure
        (or an interrupt) leaves every trait, the arrays and the page as they were."""
        name, value = proposal["trait"].name, proposal["value"]
        if self._committing:
            return value
        rules.check_text(value, name)
        if name == "model" and not value.strip():
            raise ValueError("model is empty: give a Hugging Face id, a local directory or 'offline'")
        if value == getattr(self, name):
            return value
        if self._closed:
            raise RuntimeError("this widget is closed and no longer re-runs: create a new one")
        if not self.has_model or self._model_spec is None:
            raise ValueError("this widget shows tensors given to it and has no model to re-run")
        inputs = replace(self._inputs(), **({name: value} if name != "model" else {}))
        self._prepared = self._prepare(inputs, value if name == "model" else self._model_spec)
        return value

    @t.observe(*_INPUT_TRAITS)
    def _commit_prepared(self, change: t.Bunch) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None and not self._committing:
            self._commit(prepared)

    def _inputs(self) -> _Inputs:
        return _Inputs(self.sentence, self.sentence_b, self.target)

    def _prepare(self, inputs: _Inputs, model: ModelSpec) -> _Prepared:
        """Run the model and encode the result into temporaries; no trait changes but `busy`."""
        self.busy = True
        try:
            loaded = load_model(model)
            extraction = extract(
                loaded,
                inputs.sentence,
                sentence_b=inputs.sentence_b or None,
                target=inputs.target or None,
                max_attention_bytes=self._max_attention_bytes,
                capture_qk=self._capture_qk,
            )
            return self._prepared_from(extraction, inputs, loaded)
        finally:
            self.busy = False

    def _prepared_from(self, extraction: Extraction, inputs: _Inputs, loaded: LoadedModel | None) -> _Prepared:
        for stack in extraction.stacks.values():
            stack.make_read_only()  # what Python holds is what the page shows
        for captured in extraction.queries.stacks.values() if extraction.queries is not None else ():
            for array in (captured.queries, captured.keys, *captured.biases):
                if array is not None:
                    array.flags.writeable = False  # the neuron view shows these too
        encoded = self._encode_shown(extraction, self._version + 1)
        stack = self.stack if self.stack in extraction.stacks else next(iter(extraction.stacks))
        main = extraction.stacks[stack]
        layer = min(self.layer, main.n_layers - 1) if self._encoded is not None else 0
        heads = list(range(main.n_heads))
        if self._encoded is not None and self.extraction.stacks[self.stack].n_heads == main.n_heads:
            heads = list(self.heads)  # a re-run keeps the heads the user chose
        payload = self._shown_payload(encoded, stack, layer)
        return _Prepared(extraction, encoded, inputs, loaded, stack, layer, heads, payload)

    def _encode_shown(self, raw: Extraction, version: int) -> EncodedExtraction:
        """Rollout and/or words of ``raw`` as `combine` and `granularity` ask, encoded for the page."""
        shown = shown_extraction(raw, self.combine, self.granularity)
        for stack in shown.stacks.values():
            stack.make_read_only()
        return EncodedExtraction(shown, version, prettify_tokens=self._prettify_tokens)

    def _shown_payload(self, encoded: EncodedExtraction, stack: str, layer: int) -> dict:
        """The `_data` dict, saying whether its values are rollout and over words (for the captions).

        Each layer of a rollout already holds the rollout up to it, so the page needs only the layer it shows.
        """
        payload = encoded.state_payload(stack, layer, stream=self._stream)
        return {**payload, "combine": self.combine, "granularity": self.granularity}

    def _state_payload(self) -> dict:
        assert self._encoded is not None
        return self._shown_payload(self._encoded, self.stack, self.layer)

    def _commit(self, prepared: _Prepared, *, request: int | None = None) -> None:
        """Swap in a prepared run and every trait that depends on it, as one sync."""
        extraction = prepared.encoded.extraction
        self._committing = True
        try:
            with self.hold_sync():
                self._version = prepared.encoded.version
                self._encoded = prepared.encoded
                self._raw = prepared.raw
                self._raw_version = self._version
                if prepared.loaded is not None:
                    self._model_spec = prepared.loaded
                self.stack = prepared.stack
                self.layer = prepared.layer
                self.heads = prepared.heads
                self.focus = None
                self.sentence = prepared.inputs.sentence
                self.sentence_b = prepared.inputs.sentence_b
                self.target = prepared.inputs.target
                self.model = extraction.model_name
                self._show_tokens_of(prepared.stack)
                self.set_trait("shapes", dict(extraction.shapes))
                self.set_trait("notes", list(extraction.notes))
                self.error = ""
                self._data = prepared.payload
                if request is not None:
                    self._request = request
        finally:
            self._committing = False
        if self._compare_spec is not None and self._comparison is not None:
            self._refresh_comparison()

    # ---- analysis: rollout, words, head statistics ---------------------------------------

    def head_stats(self) -> pd.DataFrame:
        """:func:`attnwidget.head_stats` of the shown stack's raw token attention, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._stats_of(self.stack))

    @property
    def layer_summary(self) -> str:
        """One line on what each depth of the shown stack mostly does (:func:`attnwidget.layer_summary`)."""
        return summarize_layers(self._stats_of(self.stack))

    def _stats_of(self, stack: str) -> dict:
        """head_stats_columns of a raw stack, computed once per input and stack.

        Not part of building the widget: the page asks for them after its first paint.
        """
        key = (self._raw_version, stack)
        if self._stats is None or self._stats[0] != key:
            self._stats = (key, head_stats_columns(self.extraction.stacks[stack]))
        return self._stats[1]

    def _head_stats_payload(self, stack: str) -> dict:
        assert self._encoded is not None
        columns = self._stats_of(stack)
        return head_stats_payload(stack, columns, summarize_layers(columns), self._encoded.version)

    def _analysis_for_file(self, version: int) -> dict[str, Any]:
        """The Heads table and the comparison as a saved file shows them: every layer, nothing left to ask for."""
        stats = self._stats_of(self.stack)
        traits: dict[str, Any] = {"_head_stats": head_stats_payload(self.stack, stats, summarize_layers(stats), version)}
        if self._comparison is not None:
            encoded = encoded_comparison(self._comparison, self.compare_to, version, prettify_tokens=self._prettify_tokens)
            traits["_compare"] = comparison_payload(self._comparison, encoded, self.layer, every_layer=True)
            traits["compare_to"] = self.compare_to
        return traits

    @t.observe("combine", "granularity")
    def _reshow(self, change: t.Bunch) -> None:
        """Re-encode what the page shows; the model does not run again."""
        if self._raw is None or self._committing:
            return
        self._version += 1
        self._encoded = self._encode_shown(self._raw, self._version)
        with self.hold_sync():
            self.focus = None  # token and word positions differ
            self._show_tokens_of(self.stack)
            self._data = self._state_payload()
        if change["name"] == "granularity" and self._comparison is not None:
            self._refresh_comparison(rerun=False)

    # ---- analysis: a second model ---------------------------------------------------------

    @property
    def comparison(self) -> Comparison | None:
        """The aligned A and B of the current comparison, or None."""
        return self._comparison

    @t.observe("stack")
    def _recompare(self, _change: t.Bunch) -> None:
        if self._raw is not None and self._comparison is not None and not self._committing:
            self._refresh_comparison(rerun=False)

    @t.validate("compare_to")
    def _valid_compare_to(self, proposal: t.Bunch) -> str:
        """Assigning runs the second model here, before the trait changes: a failure keeps the
        first view and any earlier comparison, sets `error`, and raises."""
        value = proposal["value"]
        if self._committing:
            return value
        rules.check_text(value, "compare_to")
        try:
            self._start_comparison(value or None, assigning=True)
        except Exception as error:
            self.error = _describe(error)
            raise
        return value

    def _start_comparison(self, spec: ModelSpec | None, *, request: int | None = None, assigning: bool = False) -> None:
        """Run `spec` on the current input and show the comparison; None stops comparing.

        On failure nothing changes (the first model's view and any earlier comparison stay) and it raises.
        """
        if spec is None or spec == "":
            self._show_comparison(None, None, "", request=request, assigning=assigning)
            return
        if self._closed:
            raise RuntimeError("this widget is closed and no longer runs models: create a new one")
        if not self.has_model:
            raise ValueError("this widget shows tensors given to it: there is no input to run a second model on")
        self.busy = True
        try:
            loaded = load_model(spec)
            b_extraction = self._run_b(loaded)
            comparison = compare_extractions(self.extraction, b_extraction, self.stack, self.granularity)
        finally:
            self.busy = False
        self._compare_spec, self._b_extraction = loaded, b_extraction
        self._show_comparison(comparison, loaded, loaded.name, request=request, assigning=assigning)

    def _run_b(self, spec: ModelSpec) -> Extraction:
        return extract(
            spec,
            self.sentence,
            sentence_b=self.sentence_b or None,
            target=self.target or None,
            max_attention_bytes=self._max_attention_bytes,
        )

    def _refresh_comparison(self, *, rerun: bool = True) -> None:
        """After a new input (rerun) or another stack / granularity: compare again, or stop with an error."""
        assert self._compare_spec is not None
        try:
            if rerun or self._b_extraction is None:
                self._b_extraction = self._run_b(self._compare_spec)
            comparison = compare_extractions(self.extraction, self._b_extraction, self.stack, self.granularity)
        except Exception as error:  # noqa: BLE001 - the first model's view stays; the error says why
            self._show_comparison(None, None, "")
            self.error = f"comparison stopped: {_describe(error)}"
            return
        self._show_comparison(comparison, self._compare_spec, self.compare_to)

    def _show_comparison(
        self,
        comparison: Comparison | None,
        spec: ModelSpec | None,
        model_b: str,
        *,
        request: int | None = None,
        assigning: bool = False,
    ) -> None:
        """Swap in a comparison (None: none) and its traits as one sync; `compare_to` too unless being assigned."""
        self._comparison, self._compare_spec = comparison, spec
        if comparison is None:
            self._b_extraction, self._compare_encoded = None, None
            payload: dict = {}
        else:
            self._version += 1
            self._compare_encoded = encoded_comparison(comparison, model_b, self._version, prettify_tokens=self._prettify_tokens)
            payload = comparison_payload(comparison, self._compare_encoded, self.layer)
        was_committing, self._committing = self._committing, True
        try:
            with self.hold_sync():
                if not assigning:
                    self.compare_to = model_b
                self._compare = payload
                if request is not None:
                    self.error = ""
                    self._request = request
        finally:
            self._committing = was_committing

@dataclass(frozen=True)
class _Inputs:
    """The texts one run reads; empty strings mean "none" (no pair, a generated target)."""

    sentence: str
    sentence_b: str = ""
    target: str = ""


@dataclass(frozen=True)
class _Prepared:
    """A finished run not yet shown: everything `_commit` swaps in at once."""

    raw: Extraction  # as the model returned it; `encoded` holds what the page shows of it
    encoded: EncodedExtraction
    inputs: _Inputs
    loaded: LoadedModel | None
    stack: str
    layer: int
    heads: list[int]
    payload: dict

    @property
    def model_name(self) -> str:
        return self.encoded.extraction.model_name


def _model_choices(current: str, models: list[str] | None) -> list[str]:
    choices = list(models or [])
    if current not in choices:
        choices.insert(0, current)
    return choices
