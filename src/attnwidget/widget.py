"""AttentionWidget: syncs an extraction and the view state with the page.

All computing lives in ``extraction`` and ``encoding``; this class only decides
what to send when, and turns page requests into calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets as t

from .analysis import head_stats_columns
from .analysis import layer_summary as summarize_layers
from .analysis_payload import comparison_payload, head_stats_payload
from .compare import Comparison, compare_extractions
from .extraction import DEFAULT_MAX_ATTENTION_BYTES, check_sentence, extract
from .models import ModelSpec, load_model
from .payload import EAGER_BYTES, EncodedExtraction
from .result import Extraction
from .views import COMBINES, GRANULARITIES, shown_extraction

if TYPE_CHECKING:
    import pandas as pd

_STATIC = Path(__file__).parent / "static"


def _bundle(name: str) -> str | Path:
    """The built front end, as text.

    anywidget watches a Path for hot reloading and keeps a reference to every
    widget given one, so closed widgets (and their attention arrays) would never
    be freed. Only under ANYWIDGET_HMR=1, while developing, is the Path kept.
    """
    path = _STATIC / name
    if os.environ.get("ANYWIDGET_HMR") == "1":
        return path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportError(
            f"the attnwidget front end is not built ({path} is missing): run `npm ci && npm run build` "
            "in the repository, or install the package with pip, which builds it"
        ) from None

DIRECTIONS = ("attends_to", "attended_by")
PAIR_FILTERS = ("all", "aa", "ab", "ba", "bb")


class AttentionWidget(anywidget.AnyWidget):
    """A live, linked view of a Transformer's attention for one input.

    >>> w = AttentionWidget("He went to the bank to deposit money.", model="offline")
    >>> w.attention.shape   # (layers, heads, tokens, tokens), float32
    >>> w.layer = 3         # the page follows; clicks in the page update w.layer
    """

    _esm = _bundle("widget.js")
    _css = _bundle("widget.css")

    # The input. Setting `sentence`, `sentence_b`, `target` or `model` from Python re-runs the model.
    sentence = t.Unicode("").tag(sync=True)
    sentence_b = t.Unicode("").tag(sync=True)  # the second sentence of a pair, "" for none
    target = t.Unicode("").tag(sync=True)  # an encoder-decoder's decoder text, "" to generate one
    model = t.Unicode("").tag(sync=True)  # the model's name as the user gave it
    models = t.List(t.Unicode()).tag(sync=True)  # choices for the page's model selector
    has_model = t.Bool(True).tag(sync=True)  # False for user tensors: no sentence box

    # View state, shared by every panel and by Python.
    stack = t.Unicode("self").tag(sync=True)  # which attention: self, encoder, decoder, cross
    layer = t.Int(0).tag(sync=True)
    heads = t.List(t.Int()).tag(sync=True)
    focus = t.Int(None, allow_none=True).tag(sync=True)  # token index, or None
    direction = t.Enum(DIRECTIONS, default_value="attends_to").tag(sync=True)
    pair_filter = t.Enum(PAIR_FILTERS, default_value="all").tag(sync=True)
    hide_special = t.Bool(False).tag(sync=True)
    threshold = t.Float(0.0, min=0.0, max=1.0).tag(sync=True)

    # Read-outs. `tokens` are the shown stack's rows ("from"), `col_tokens` its columns ("to"):
    # the same list except for cross-attention, where rows are decoder and columns encoder tokens.
    tokens = t.List(t.Unicode(), read_only=True)
    col_tokens = t.List(t.Unicode(), read_only=True)
    shapes = t.Dict(read_only=True).tag(sync=True)
    notes = t.List(t.Unicode(), read_only=True).tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    busy = t.Bool(False).tag(sync=True)

    _data = t.Dict().tag(sync=True)

    # Analysis (issue #10). `combine` and `granularity` change what every panel shows;
    # `compare_to` names a second model run on the same input ("" for none).
    combine = t.Enum(COMBINES, default_value="none").tag(sync=True)
    granularity = t.Enum(GRANULARITIES, default_value="tokens").tag(sync=True)
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
        combine: str = "none",
        granularity: str = "tokens",
        _extraction: Extraction | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._raw: Extraction | None = None  # the extraction as the model returned it
        self._comparison: Comparison | None = None
        self._compare_spec: ModelSpec | None = None  # the second model, loaded
        self._b_extraction: Extraction | None = None  # its run on the current input
        self._raw_version = 0  # the _version at which _raw arrived: rollout or words do not change it
        self._stats: tuple[tuple[int, str], dict] | None = None  # ((raw version, stack), head_stats_columns)
        self._applying = True  # the analysis traits below apply with the first extraction
        self.combine, self.granularity = combine, granularity
        self._applying = False
        self._model_spec: ModelSpec | None = None
        self._encoded: EncodedExtraction | None = None
        self._version = 0
        self._stream = stream
        self._max_attention_bytes = max_attention_bytes
        self._applying = False  # set while this class writes traits it also observes

        if _extraction is None:
            check_sentence(sentence, "sentence")
            loaded = load_model(model)
            self._model_spec = loaded
            _extraction = extract(
                loaded, sentence, sentence_b=sentence_b, target=target, max_attention_bytes=max_attention_bytes
            )
            self.models = _model_choices(loaded.name, models)
        else:
            self.has_model = False
        inputs = _Inputs(sentence or "", sentence_b or "", target or "")
        self._apply(_extraction, inputs, layer=layer, heads=heads)
        self.on_msg(self._on_page_message)
        if compare_to is not None:
            self._start_comparison(compare_to)

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
        **kwargs: Any,
    ) -> AttentionWidget:
        """A widget for attention you already have, with no model behind it (no sentence box).

        ``attention`` is what Hugging Face returns (a tuple of ``(1, heads, n, n)``
        tensors, one per layer) or one ``(layers, heads, n, n)`` numpy or torch array.
        ``col_tokens`` names the columns when they differ from the rows (cross-attention).
        """
        from .tensors import extraction_from_tensors

        extraction = extraction_from_tensors(
            attention, tokens, col_tokens=col_tokens, sentence_b_start=sentence_b_start
        )
        return cls(_extraction=extraction, layer=layer, heads=heads, **kwargs)

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
        """The shown stack's attention, float32 (layers, heads, rows, cols), exactly as the model returned it."""
        return self.extraction.stacks[self.stack].attention

    @property
    def n_layers(self) -> int:
        return self.extraction.stacks[self.stack].n_layers

    @property
    def n_heads(self) -> int:
        return self.extraction.stacks[self.stack].n_heads

    # ---- validation of the view state -------------------------------------------------

    @t.validate("layer")
    def _valid_layer(self, proposal: t.Bunch) -> int:
        layer = proposal["value"]
        if self._encoded is not None and not 0 <= layer < self.n_layers:
            raise t.TraitError(f"layer must be between 0 and {self.n_layers - 1}, got {layer}")
        return layer

    @t.validate("heads")
    def _valid_heads(self, proposal: t.Bunch) -> list[int]:
        heads = list(proposal["value"])
        if self._encoded is not None:
            wrong = [head for head in heads if not 0 <= head < self.n_heads]
            if wrong:
                raise t.TraitError(f"heads must be between 0 and {self.n_heads - 1}, got {wrong}")
        if len(set(heads)) != len(heads):
            raise t.TraitError(f"heads must not repeat, got {heads}")
        return sorted(heads)

    @t.validate("focus")
    def _valid_focus(self, proposal: t.Bunch) -> int | None:
        focus = proposal["value"]
        if focus is not None and self._encoded is not None:
            size = self._focus_axis_size()
            if not 0 <= focus < size:
                raise t.TraitError(f"focus must be None or a token index between 0 and {size - 1}, got {focus}")
        return focus

    @t.validate("stack")
    def _valid_stack(self, proposal: t.Bunch) -> str:
        name = proposal["value"]
        if self._encoded is not None and name not in self.extraction.stacks:
            raise t.TraitError(f"stack must be one of {list(self.extraction.stacks)}, got {name!r}")
        return name

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
        stack = self.shown.stacks[self.stack]
        tokens = stack.row_tokens if self.direction == "attends_to" else stack.col_tokens
        return len(tokens)

    # ---- re-running -------------------------------------------------------------------

    @t.observe("sentence", "sentence_b", "target", "model")
    def _rerun_from_python(self, change: t.Bunch) -> None:
        if self._applying:
            return
        model = self.model if change["name"] == "model" else self._model_spec
        try:
            self._run(_Inputs(self.sentence, self.sentence_b, self.target), model)
        except Exception:
            self._applying = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._applying = False
            raise

    def _run(self, inputs: _Inputs, model: ModelSpec | None) -> None:
        if model is None or not self.has_model:
            raise ValueError("this widget shows tensors given to it and has no model to re-run")
        self.busy = True
        try:
            loaded = load_model(model)
            extraction = extract(
                loaded,
                inputs.sentence,
                sentence_b=inputs.sentence_b or None,
                target=inputs.target or None,
                max_attention_bytes=self._max_attention_bytes,
            )
        finally:
            self.busy = False
        self._model_spec = loaded
        self._apply(extraction, inputs, layer=self.layer, heads=self.heads)

    def _apply(self, extraction: Extraction, inputs: _Inputs, *, layer: int, heads: list[int] | None) -> None:
        """Swap in a new extraction and every trait that depends on it, as one sync."""
        self._version += 1
        previous = self._encoded
        self._raw = extraction
        self._raw_version = self._version
        self._encoded = EncodedExtraction(shown_extraction(extraction, self.combine, self.granularity), self._version)
        stack = self.stack if self.stack in extraction.stacks else next(iter(extraction.stacks))
        main = extraction.stacks[stack]
        layer = min(max(layer, 0), main.n_layers - 1)
        if heads is None or (previous is not None and previous.extraction.main.n_heads != main.n_heads):
            heads = list(range(main.n_heads))
        heads = [head for head in heads if head < main.n_heads]
        self._applying = True
        try:
            with self.hold_sync():
                self.stack = stack
                self.layer = layer
                self.heads = heads
                self.focus = None
                self.sentence = inputs.sentence
                self.sentence_b = inputs.sentence_b
                self.target = inputs.target
                self.model = extraction.model_name
                self._show_tokens_of(stack)
                self.set_trait("shapes", dict(extraction.shapes))
                self.set_trait("notes", list(extraction.notes))
                self.error = ""
                self._data = self._shown_payload(self._eager_layers(stack, layer))
        finally:
            self._applying = False
        if self._compare_spec is not None and self._comparison is not None:
            self._refresh_comparison()

    def _eager_layers(self, stack: str, layer: int) -> dict[str, list[int]] | None:
        """None (send everything) when small or not streaming, else just the layer on screen."""
        assert self._encoded is not None
        if not self._stream or self._encoded.total_values <= EAGER_BYTES:
            return None
        return {stack: [layer]}

    # ---- analysis: rollout, words, head statistics, a second model ---------------------

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

    @property
    def comparison(self) -> Comparison | None:
        """The aligned A and B of the current comparison, or None."""
        return self._comparison

    @t.observe("combine", "granularity")
    def _reshow(self, change: t.Bunch) -> None:
        """Re-encode what the page shows; the model does not run again."""
        if self._applying or self._raw is None:
            return
        self._version += 1
        self._encoded = EncodedExtraction(shown_extraction(self._raw, self.combine, self.granularity), self._version)
        with self.hold_sync():
            self.focus = None  # token and word positions differ
            self._show_tokens_of(self.stack)
            self._data = self._shown_payload(self._eager_layers(self.stack, self.layer))
        if change["name"] == "granularity" and self._comparison is not None:
            self._refresh_comparison(rerun=False)

    def _shown_payload(self, eager: dict[str, list[int]] | None) -> dict:
        """The `_data` dict, saying whether its values are rollout and over words (for the captions)."""
        assert self._encoded is not None
        return {**self._encoded.payload(eager), "combine": self.combine, "granularity": self.granularity}

    @t.observe("stack")
    def _recompare(self, _change: t.Bunch) -> None:
        if self._applying or self._raw is None:
            return
        if self._comparison is not None:
            self._refresh_comparison(rerun=False)

    def _send_head_stats(self, request: dict) -> None:
        """Answer the page's {type: "head_stats", version, stack}; stale or unknown requests are dropped."""
        encoded = self._encoded
        stack = request.get("stack")
        if encoded is None or request.get("version") != encoded.version or stack not in self.extraction.stacks:
            return
        columns = self._stats_of(stack)
        self._head_stats = head_stats_payload(stack, columns, summarize_layers(columns), encoded.version)

    @t.observe("compare_to")
    def _compare_from_python(self, change: t.Bunch) -> None:
        if self._applying:
            return
        if "compare_to" in getattr(self, "_property_lock", {}):
            # The page set the trait itself: hold it to the page's rules (offered models only, errors to `error`).
            self._set_compare_trait(change["old"])
            self._compare_from_page({"model": change["new"]})
            return
        try:
            self._start_comparison(change["new"] or None)
        except Exception as error:
            self.error = _describe(error)
            self._applying = True
            try:
                self.compare_to = change["old"]
            finally:
                self._applying = False
            raise

    def _start_comparison(self, spec: ModelSpec | None) -> None:
        """Run `spec` on the current input and show the comparison; None stops comparing.

        On failure nothing changes (the first model's view and any earlier comparison stay) and it raises.
        """
        if spec is None or spec == "":
            self._compare_spec, self._comparison = None, None
            self._set_compare_trait("")
            self._compare = {}
            return
        if not self.has_model:
            raise ValueError("this widget shows tensors given to it: there is no input to run a second model on")
        self.busy = True
        try:
            loaded = load_model(spec)
            comparison = self._compare_with(loaded)
        finally:
            self.busy = False
        self._compare_spec = loaded
        self._show_comparison(comparison, loaded.name)

    def _refresh_comparison(self, *, rerun: bool = True) -> None:
        """After a new input (rerun) or another stack / granularity: compare again, or stop with an error."""
        assert self._compare_spec is not None
        try:
            comparison = self._compare_with(self._compare_spec, rerun=rerun)
        except Exception as error:  # noqa: BLE001 - the first model's view stays; the error says why
            self._compare_spec, self._comparison = None, None
            self._set_compare_trait("")
            self._compare = {}
            self.error = f"comparison stopped: {_describe(error)}"
            return
        self._show_comparison(comparison, self.compare_to)

    def _compare_with(self, spec: ModelSpec, *, rerun: bool = True) -> Comparison:
        if rerun or self._comparison is None or self._b_extraction is None:
            self._b_extraction = extract(
                spec,
                self.sentence,
                sentence_b=self.sentence_b or None,
                target=self.target or None,
                max_attention_bytes=self._max_attention_bytes,
            )
        return compare_extractions(self.extraction, self._b_extraction, self.stack, self.granularity)

    def _show_comparison(self, comparison: Comparison, model_b: str) -> None:
        self._comparison = comparison
        self._version += 1
        self._set_compare_trait(model_b)
        self._compare = comparison_payload(comparison, model_b, self._version)

    def _set_compare_trait(self, value: str) -> None:
        self._applying = True
        try:
            self.compare_to = value
        finally:
            self._applying = False

    def _compare_from_page(self, request: dict) -> None:
        """A second model chosen in the page: failures go to `error`, never raise."""
        model = request.get("model")
        if model is not None and not isinstance(model, str):
            self.error = f"compare: model must be a model name, got {type(model).__name__}"
            return
        if model and model not in self.models and model != self.compare_to:
            # The page picks among the models Python offered; it cannot make the kernel load anything else.
            self.error = f"compare: {model!r} is not one of the models offered to the page ({', '.join(self.models)})"
            return
        try:
            self._start_comparison(model or None)
        except Exception as error:  # noqa: BLE001 - the last good view stays
            self.error = _describe(error)

    # ---- messages from the page -------------------------------------------------------

    def _on_page_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        kind = content.get("type")
        if kind == "layers":
            self._send_layers(content)
        elif kind == "run":
            self._run_from_page(content)
        elif kind == "compare":
            self._compare_from_page(content)
        elif kind == "head_stats":
            self._send_head_stats(content)

    def _send_layers(self, request: dict) -> None:
        encoded = self._encoded
        if encoded is None or request.get("version") != encoded.version:
            return  # a request for data the page has already replaced
        stack = encoded.extraction.stacks.get(request.get("stack", ""))
        if stack is None:
            return
        for layer in request.get("layers", []):
            if isinstance(layer, int) and 0 <= layer < stack.n_layers:
                self.send(*encoded.layer_message(stack.name, layer))

    def _run_from_page(self, request: dict) -> None:
        """A sentence or model chosen in the page: failures go to `error`, never raise."""
        inputs = _Inputs(
            sentence=request.get("sentence", self.sentence),
            sentence_b=request.get("sentence_b", self.sentence_b),
            target=request.get("target", self.target),
        )
        model = request.get("model") or self._model_spec
        try:
            self._run(inputs, model)
        except Exception as error:  # noqa: BLE001 - every failure is shown, the last view kept
            self.error = _describe(error)


@dataclass(frozen=True)
class _Inputs:
    """The texts one run reads; empty strings mean "none" (no pair, a generated target)."""

    sentence: str
    sentence_b: str = ""
    target: str = ""


def _model_choices(current: str, models: list[str] | None) -> list[str]:
    choices = list(models or [])
    if current not in choices:
        choices.insert(0, current)
    return choices


def _describe(error: Exception) -> str:
    message = str(error).strip() or type(error).__name__
    return message if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {message}"
