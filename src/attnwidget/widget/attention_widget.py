"""AttentionWidget: syncs an extraction and the view state with the page.

All computing lives below (``sources``, ``analysis``, ``wire``); this class decides what
to send when. A run is prepared into temporaries (``runs``) and committed in one sync;
the second model of a comparison is a :class:`SecondModel` the widget owns; what the
page sends is checked and answered by a :class:`PageSide`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets as t

from ..analysis.compare import Comparison
from ..analysis.heads import layer_summary
from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES
from ..core.checks import check_flag, check_text
from ..core.queries import HeadQueries
from ..core.stack import Extraction
from ..export.html import save_html
from ..export.view import SavedView
from ..sources.forward import check_sentence
from ..sources.models import LoadedModel, ModelSpec
from ..wire.payload import EncodedExtraction
from ..wire.requests import RunRequest
from ..wire.view_state import (
    SAVED_VIEW,
    VALUE_SETTINGS,
    VIEW,
    VIEW_NAMES,
    StackShape,
    ViewContext,
    check_page_runs,
    check_value_setting,
    check_view_value,
    focus_axis_size,
)
from .current import Current
from .frontend import front_end_traits
from .page_side import PageSide, describe
from .runs import Inputs, Prepared, RunSettings, Shown, prepare, run_model, shown_payload
from .second_model import Candidate, SecondModel
from .traits import INPUT_TRAITS, WidgetTraits

if TYPE_CHECKING:
    import pandas as pd


class AttentionWidget(WidgetTraits):
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
        super().__init__(**front_end_traits(), **kwargs)
        self._settings = RunSettings(max_attention_bytes, capture_qk, stream, prettify_tokens)
        self._current = Current(self._settings)
        self._second = SecondModel(max_attention_bytes, prettify_tokens)
        self._model_spec: LoadedModel | None = None
        self._committing = False  # set while this class writes the traits a re-run changes
        self._prepared: Prepared | None = None
        self._closed = False
        self._page = PageSide(self)
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
            if (self.stack, self.layer) != (prepared.stack, prepared.layer):
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

    def _panels_for_file(self) -> dict[str, Any]:
        """The Heads table and the comparison as a saved file shows them: every layer, nothing left to ask for."""
        traits: dict[str, Any] = {"_head_stats": self._current.head_stats_payload(self.stack, version=1)}
        compare = self._second.file_payload(self.compare_to, self.layer)
        if compare is not None:
            traits["_compare"] = compare
            traits["compare_to"] = self.compare_to
        return traits

    # ---- validation of the view state (rules in wire/view_state.py) ------------------------

    @t.validate(*VIEW_NAMES)
    def _valid_view_value(self, proposal: t.Bunch) -> Any:
        name = proposal["trait"].name
        try:
            if name in VALUE_SETTINGS:
                value = check_value_setting(name, proposal["value"])
                if self._current.raw is not None and self.is_long_input and value != VIEW[name].default:
                    raise ValueError(
                        f"{name}={value!r} reads every weight, and this input's attention is over "
                        "max_attention_bytes (kept as queries and keys): not available for a long input"
                    )
                return value
            if self._current.encoded is None:  # only while constructing: _commit sets them from the data
                return proposal["value"]
            return check_view_value(name, proposal["value"], self._view_context())
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    @t.validate("page_runs")
    def _valid_page_runs(self, proposal: t.Bunch) -> int:
        try:
            return check_page_runs(proposal["value"], answered=self._request)
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    def _stack_shapes(self) -> dict[str, StackShape]:
        return self._current.shapes()

    def _view_context(self) -> ViewContext:
        return ViewContext(self._stack_shapes(), self.stack, self.direction)

    @t.observe("stack", "direction")
    def _keep_view_in_range(self, change: t.Bunch) -> None:
        """A new stack may have fewer layers, heads or tokens: clamp rather than fail."""
        if self._current.encoded is None:
            return
        with self.hold_sync():
            self._show_tokens_of(self.stack)
            self.layer = min(self.layer, self.n_layers - 1)
            self.heads = [head for head in self.heads if head < self.n_heads] or list(range(self.n_heads))
            if self.focus is not None and self.focus >= focus_axis_size(self._stack_shapes()[self.stack], self.direction):
                self.focus = None

    def _show_tokens_of(self, stack_name: str) -> None:
        stack = self.shown.stacks[stack_name]
        self.set_trait("tokens", list(stack.row_tokens))
        self.set_trait("col_tokens", list(stack.col_tokens))

    # ---- re-running -------------------------------------------------------------------

    @t.validate(*INPUT_TRAITS)
    def _valid_input(self, proposal: t.Bunch) -> str:
        """Assigning an input re-runs the model here, before the trait changes: a failure
        (or an interrupt) leaves every trait, the arrays and the page as they were."""
        name, value = proposal["trait"].name, proposal["value"]
        if self._committing:
            return str(value)
        check_text(value, name)
        if name == "model" and not value.strip():
            raise ValueError("model is empty: give a Hugging Face id, a local directory or 'offline'")
        if value == getattr(self, name):
            return str(value)
        self._require_model()
        inputs = replace(self._inputs(), **({name: value} if name != "model" else {}))
        self._prepared = self._prepare(inputs, value if name == "model" else self._model_spec)
        return str(value)

    @t.observe(*INPUT_TRAITS)
    def _commit_prepared(self, change: t.Bunch) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None:
            self._commit(prepared)

    def _require_model(self) -> None:
        if self._closed:
            raise RuntimeError("this widget is closed and no longer re-runs: create a new one")
        if not self.has_model or self._model_spec is None:
            raise ValueError("this widget shows tensors given to it and has no model to re-run")

    def _inputs(self) -> Inputs:
        return Inputs(self.sentence, self.sentence_b, self.target)

    def _shown_view(self) -> Shown:
        return Shown(self.combine, self.granularity, self.stack, self.layer, list(self.heads))

    def _prepare(self, inputs: Inputs, model: ModelSpec | None) -> Prepared:
        """Run the model and encode the result into temporaries; no trait changes but `busy`."""
        assert model is not None
        self.busy = True
        try:
            extraction, loaded = run_model(model, inputs, self._settings)
            return self._prepared_from(extraction, inputs, loaded)
        finally:
            self.busy = False

    def _prepared_from(self, extraction: Extraction, inputs: Inputs, loaded: LoadedModel | None) -> Prepared:
        current_heads = self.extraction.stacks[self.stack].n_heads if self._current.encoded is not None else None
        return prepare(
            extraction,
            inputs,
            loaded,
            version=self._current.version + 1,
            current=self._shown_view(),
            current_heads=current_heads,
            settings=self._settings,
        )

    def _state_payload(self) -> dict[str, Any]:
        assert self._current.encoded is not None
        return shown_payload(self._current.encoded, self._shown_view(), self._settings)

    def _commit(self, prepared: Prepared, *, request: int | None = None) -> None:
        """Swap in a prepared run and every trait that depends on it, as one sync."""
        extraction = prepared.encoded.extraction
        self._committing = True
        try:
            with self.hold_sync():
                self._current.adopt(prepared)
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
        if self._second.active:
            self._refresh_comparison()

    # ---- analysis: rollout, words, head statistics ---------------------------------------

    def head_stats(self) -> pd.DataFrame:
        """:func:`attnwidget.head_stats` of the shown stack's raw token attention, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._current.stats(self.stack))

    @property
    def layer_summary(self) -> str:
        """One line on what each depth of the shown stack mostly does (:func:`attnwidget.layer_summary`)."""
        return layer_summary(self._current.stats(self.stack))

    @t.observe("combine", "granularity")
    def _reshow(self, change: t.Bunch) -> None:
        """Re-encode what the page shows; the model does not run again."""
        if self._current.raw is None or self._committing:
            return
        self._current.reshow(self.combine, self.granularity)
        with self.hold_sync():
            self.focus = None  # token and word positions differ
            self._show_tokens_of(self.stack)
            self._data = self._state_payload()
        if change["name"] == "granularity" and self._second.active:
            self._refresh_comparison(rerun=False)

    # ---- analysis: a second model ---------------------------------------------------------

    @property
    def comparison(self) -> Comparison | None:
        """The aligned A and B of the current comparison, or None."""
        return self._second.comparison

    @t.observe("stack")
    def _recompare(self, _change: t.Bunch) -> None:
        if self._current.raw is not None and self._second.active and not self._committing:
            self._refresh_comparison(rerun=False)

    @t.validate("compare_to")
    def _valid_compare_to(self, proposal: t.Bunch) -> str:
        """Assigning runs the second model here, before the trait changes: a failure keeps the
        first view and any earlier comparison, sets `error`, and raises."""
        value = proposal["value"]
        if self._committing:
            return str(value)
        check_text(value, "compare_to")
        try:
            self._start_comparison(value or None, assigning=True)
        except Exception as error:
            self.error = describe(error)
            raise
        return str(value)

    def _start_comparison(self, spec: ModelSpec | None, *, request: int | None = None, assigning: bool = False) -> None:
        """Run `spec` on the current input and show the comparison; None stops comparing.

        On failure nothing changes (the first model's view and any earlier comparison stay) and it raises.
        """
        if spec is None or spec == "":
            self._show_comparison(None, "", request=request, assigning=assigning)
            return
        if self._closed:
            raise RuntimeError("this widget is closed and no longer runs models: create a new one")
        if not self.has_model:
            raise ValueError("this widget shows tensors given to it: there is no input to run a second model on")
        self.busy = True
        try:
            candidate = self._second.tried(spec, self._inputs(), self.extraction, self.stack, self.granularity)
        finally:
            self.busy = False
        self._show_comparison(candidate, candidate.loaded.name, request=request, assigning=assigning)

    def _refresh_comparison(self, *, rerun: bool = True) -> None:
        """After a new input (rerun) or another stack / granularity: compare again, or stop with an error."""
        try:
            candidate = self._second.realigned(self._inputs(), self.extraction, self.stack, self.granularity, rerun=rerun)
        except Exception as error:  # noqa: BLE001 - the first model's view stays; the error says why
            self._show_comparison(None, "")
            self.error = f"comparison stopped: {describe(error)}"
            return
        self._show_comparison(candidate, self.compare_to)

    def _show_comparison(
        self, candidate: Candidate | None, model_b: str, *, request: int | None = None, assigning: bool = False
    ) -> None:
        """Swap in a comparison (None: none) and its traits as one sync; `compare_to` too unless being assigned."""
        version = self._current.next_version() if candidate is not None else self._current.version
        payload = self._second.show(candidate, model_b, version, self.layer)
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

    # ---- the page's side (widget/page_side.py's PageHost) ---------------------------------

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A state update from the page: checked by the page side, which applies only what the rules accept."""
        self._page.set_state(sync_data)

    def _apply_page_state(self, values: dict[str, Any]) -> None:
        super().set_state(values)

    def _snap_back(self, names: list[str]) -> None:
        names = [name for name in names if name in self.keys]
        if names:
            self.send_state(names)

    def _shown_data(self) -> EncodedExtraction | None:
        return self._current.encoded

    def _comparison_data(self) -> EncodedExtraction | None:
        return self._second.encoded

    def _answered(self) -> int:
        return self._request

    def _model_choices(self) -> list[str]:
        return list(self.models)

    def _held_layers(self, stack: str) -> dict[str, Any]:
        held: dict[str, Any] = self._data.get("stacks", {}).get(stack, {}).get("layers", {})
        return held

    def _head_queries(self, stack: str, layer: int, head: int) -> HeadQueries:
        return self._current.head_queries(layer, head, stack)

    def _key_head(self, stack: str, head: int) -> int:
        return self._current.key_head(stack, head)

    def _run_from_page(self, run: RunRequest) -> None:
        texts = {"sentence": run.sentence, "sentence_b": run.sentence_b, "target": run.target}
        inputs = replace(self._inputs(), **{key: text for key, text in texts.items() if text is not None})
        # The current model by what it is (it may be a (model, tokenizer) pair), others by their name.
        model = self._model_spec if run.model in (None, self.model) else run.model
        self._commit(self._prepare(inputs, model), request=run.request)

    def _compare_from_page(self, model: str, request: int) -> None:
        self._start_comparison(model or None, request=request)

    def _answer(self, request: int, error: str) -> None:
        with self.hold_sync():
            self.error = error
            self._request = request

    def _head_stats_payload(self, stack: str) -> dict[str, Any]:
        return self._current.head_stats_payload(stack)

    def _set_head_stats(self, payload: dict[str, Any]) -> None:
        self._head_stats = payload


def _model_choices(current: str, models: list[str] | None) -> list[str]:
    choices = list(models or [])
    if current not in choices:
        choices.insert(0, current)
    return choices
