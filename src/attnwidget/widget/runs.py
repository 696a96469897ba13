"""A run: the model on an input, encoded into temporaries, before anything the page sees changes.

The widget commits a :class:`Prepared` run in one sync (``AttentionWidget._commit``), so a
failure or an interrupt while running leaves every trait, the arrays and the page as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.shown import shown_extraction
from ..core.stack import Extraction
from ..sources.forward import extract
from ..sources.models import LoadedModel, ModelSpec, load_model
from ..wire.payload import EncodedExtraction


@dataclass(frozen=True)
class Inputs:
    """The texts one run reads; empty strings mean "none" (no pair, a generated target)."""

    sentence: str
    sentence_b: str = ""
    target: str = ""


@dataclass(frozen=True)
class RunSettings:
    """How a widget runs and sends every input, fixed when it is made."""

    max_attention_bytes: int
    capture_qk: bool = True  # keep queries and keys for w.qk and the neuron view
    stream: bool = True  # send the shown layer first, the rest when the page asks
    prettify_tokens: bool = True  # readable labels (Ġ, ▁ as spaces), else the tokenizer's raw strings


@dataclass(frozen=True)
class Shown:
    """What the page shows of a raw extraction: its form (rollout, words) and the selection kept across runs."""

    combine: str
    granularity: str
    stack: str
    layer: int
    heads: list[int]


@dataclass(frozen=True)
class Prepared:
    """A finished run not yet shown: everything the widget swaps in at once."""

    raw: Extraction  # as the model returned it; `encoded` holds what the page shows of it
    encoded: EncodedExtraction
    inputs: Inputs
    loaded: LoadedModel | None
    shown: Shown  # the stack, layer and heads it is shown with
    payload: dict[str, Any]

    @property
    def model_name(self) -> str:
        return self.encoded.extraction.model_name


def run_model(model: ModelSpec, inputs: Inputs, settings: RunSettings) -> tuple[Extraction, LoadedModel]:
    """Load (or reuse) ``model`` and run it once on ``inputs``; inputs over the budget keep queries and keys."""
    loaded = load_model(model)
    extraction = extract(
        loaded,
        inputs.sentence,
        sentence_b=inputs.sentence_b or None,
        target=inputs.target or None,
        max_attention_bytes=settings.max_attention_bytes,
        capture_qk=settings.capture_qk,
        long_inputs=True,  # over the budget, keep queries and keys instead of refusing
    )
    return extraction, loaded


def encode_shown(raw: Extraction, combine: str, granularity: str, version: int, settings: RunSettings) -> EncodedExtraction:
    """Rollout and/or words of ``raw`` as ``combine`` and ``granularity`` ask, encoded for the page."""
    shown = shown_extraction(raw, combine, granularity)
    for stack in shown.stacks.values():
        stack.make_read_only()
    return EncodedExtraction(shown, version, prettify_tokens=settings.prettify_tokens)


def shown_payload(encoded: EncodedExtraction, shown: Shown, settings: RunSettings) -> dict[str, Any]:
    """The `_data` dict, saying whether its values are rollout and over words (for the captions).

    Each layer of a rollout already holds the rollout up to it, so the page needs only the layer it shows.
    """
    payload = encoded.state_payload(shown.stack, shown.layer, stream=settings.stream)
    return {**payload, "combine": shown.combine, "granularity": shown.granularity}


def prepare(
    raw: Extraction,
    inputs: Inputs,
    loaded: LoadedModel | None,
    *,
    version: int,
    current: Shown,
    current_heads: int | None,
    settings: RunSettings,
) -> Prepared:
    """``raw`` encoded as ``current`` shows things, keeping its stack, layer and heads where they still exist.

    ``current_heads`` is the shown stack's head count before this run, None for a widget's first run.
    """
    raw.make_read_only()
    encoded = encode_shown(raw, current.combine, current.granularity, version, settings)
    stack = current.stack if current.stack in raw.stacks else next(iter(raw.stacks))
    main = raw.stacks[stack]
    layer = min(current.layer, main.n_layers - 1) if current_heads is not None else 0
    heads = list(current.heads) if current_heads == main.n_heads else list(range(main.n_heads))  # a re-run keeps the heads chosen
    shown = Shown(current.combine, current.granularity, stack, layer, heads)
    return Prepared(raw, encoded, inputs, loaded, shown, shown_payload(encoded, shown, settings))
