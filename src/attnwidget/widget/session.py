"""The widget's private machinery: the input it shows, runs and their commit, the comparison, the page's side.

:class:`WidgetSession` owns that state; :class:`~attnwidget.widget.attention_widget.AttentionWidget`
adds the public face (constructors, accessors, exports). A run is prepared into temporaries
(``runs``) and committed in one sync, so a failure or an interrupt leaves every trait, the
arrays and the page as they were; ``_committing`` is set while the widget writes its own
traits (``_writing``), whose validators and observers would otherwise start a run of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import traitlets as t

from ..core.checks import check_text
from ..core.queries import HeadQueries
from ..core.stack import Extraction
from ..sources.models import LoadedModel, ModelSpec
from ..wire.payload import EncodedExtraction
from ..wire.requests import RunRequest
from ..wire.view_state import (
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
from .page_side import PageSide, describe
from .runs import Inputs, Prepared, RunSettings, Shown, prepare, run_model, shown_payload
from .second_model import Candidate, SecondModel
from .traits import INPUT_TRAITS, WidgetTraits


class WidgetSession(WidgetTraits):
    """The state behind a widget's traits, and every transition of it."""

    def __init__(self, settings: RunSettings, **traits: Any) -> None:
        super().__init__(**traits)
        self._settings = settings
        self._current = Current(settings)
        self._second = SecondModel(settings.max_attention_bytes, settings.prettify_tokens)
        self._model_spec: LoadedModel | None = None
        self._committing = False
        self._prepared: Prepared | None = None
        self._closed = False
        self._page = PageSide(self)

    # ---- validation of the view state (rules in wire/view_state.py) ---------------------------

    @t.validate(*VIEW_NAMES)
    def _valid_view_value(self, proposal: t.Bunch) -> Any:
        name = proposal["trait"].name
        try:
            if name in VALUE_SETTINGS:
                value = check_value_setting(name, proposal["value"])
                if self._current.raw is not None and value != VIEW[name].default:
                    self._current.extraction.weights(self.stack, f"{name}={value!r}")  # a long input refuses, saying why
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
            shape = self._stack_shapes()[self.stack]
            self.layer = min(self.layer, shape.n_layers - 1)
            self.heads = [head for head in self.heads if head < shape.n_heads] or list(range(shape.n_heads))
            if self.focus is not None and self.focus >= focus_axis_size(shape, self.direction):
                self.focus = None

    def _show_tokens_of(self, stack_name: str) -> None:
        stack = self._current.shown.stacks[stack_name]
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
        current_heads = self._current.extraction.stacks[self.stack].n_heads if self._current.encoded is not None else None
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

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The widget writing its own traits, as one sync: their validators and observers start no run."""
        was_committing, self._committing = self._committing, True
        try:
            with self.hold_sync():
                yield
        finally:
            self._committing = was_committing

    def _commit(self, prepared: Prepared, *, request: int | None = None) -> None:
        """Swap in a prepared run and every trait that depends on it, as one sync."""
        extraction = prepared.encoded.extraction
        with self._writing():
            self._current.adopt(prepared)
            if prepared.loaded is not None:
                self._model_spec = prepared.loaded
            self.stack = prepared.shown.stack
            self.layer = prepared.shown.layer
            self.heads = prepared.shown.heads
            self.focus = None
            self.sentence = prepared.inputs.sentence
            self.sentence_b = prepared.inputs.sentence_b
            self.target = prepared.inputs.target
            self.model = extraction.model_name
            self._show_tokens_of(prepared.shown.stack)
            self.set_trait("shapes", dict(extraction.shapes))
            self.set_trait("notes", list(extraction.notes))
            self.error = ""
            self._data = prepared.payload
            if request is not None:
                self._request = request
        if self._second.active:
            self._refresh_comparison()

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

    # ---- a second model ------------------------------------------------------------------

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
            candidate = self._second.tried(spec, self._inputs(), self._current.extraction, self.stack, self.granularity)
        finally:
            self.busy = False
        self._show_comparison(candidate, candidate.loaded.name, request=request, assigning=assigning)

    def _refresh_comparison(self, *, rerun: bool = True) -> None:
        """After a new input (rerun) or another stack / granularity: compare again, or stop with an error."""
        try:
            candidate = self._second.realigned(
                self._inputs(), self._current.extraction, self.stack, self.granularity, rerun=rerun
            )
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
        with self._writing():
            if not assigning:
                self.compare_to = model_b
            self._compare = payload
            if request is not None:
                self.error = ""
                self._request = request

    def _panels_for_file(self) -> dict[str, Any]:
        """The Heads table and the comparison as a saved file shows them: every layer, nothing left to ask for."""
        traits: dict[str, Any] = {"_head_stats": self._current.head_stats_payload(self.stack, version=1)}
        compare = self._second.file_payload(self.compare_to, self.layer)
        if compare is not None:
            traits["_compare"] = compare
            traits["compare_to"] = self.compare_to
        return traits

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
