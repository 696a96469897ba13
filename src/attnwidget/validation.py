"""The rules every value of the view state and every input text must follow.

One set of pure functions, used by the constructor, by assignment from Python
(the widget's traitlets validators) and by values and messages from the page, so
that all three accept and refuse exactly the same things. Each function returns
the value in its canonical form or raises ``ValueError`` naming the value (long
values shortened) and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DIRECTIONS = ("attends_to", "attended_by")
PAIR_FILTERS = ("all", "aa", "ab", "ba", "bb")
COMBINES = ("none", "rollout")
"""``combine``: raw attention per layer, or attention rollout up to each layer (issue #10)."""
GRANULARITIES = ("tokens", "words")
"""``granularity``: sub-word tokens, or words (issue #10)."""

MAX_TEXT_CHARS = 100_000
"""The longest sentence, sentence B or target accepted (every model truncates far earlier)."""

MAX_REQUEST_ID = 2**53 - 1
"""Request ids are JavaScript-safe integers."""

VIEW_SETTABLE = (
    "stack",
    "layer",
    "heads",
    "focus",
    "direction",
    "pair_filter",
    "hide_special",
    "threshold",
    "combine",
    "granularity",
    "neuron_view",
)
"""The view state, which the page and Python both change."""

PAGE_SETTABLE = (*VIEW_SETTABLE, "page_runs")
"""The traits the page may change: the view state, and ``page_runs``, where the page echoes
the run answer it has taken in. Everything else is Python's: the page asks for new inputs
with a ``run`` message, for a second model with a ``compare`` message, and cannot write
results (``_data``, ``tokens``, ``error``...)."""

DISPLAY_SETTINGS = ("combine", "granularity")
"""View settings that change what the values are (rollout, words), not which are shown: they
need no stack shapes, and ``focus`` is checked against the tokens or words they lead to."""

_SHOWN_CHARS = 60


def shorten(value: Any) -> str:
    """``repr(value)``, cut to a readable length: an error must not print 100,000 numbers."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 1]}… ({_size_of(value)})"


def shorten_text(text: str, limit: int = 300) -> str:
    """A message cut to ``limit`` characters, for the page's one-line error."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _size_of(value: Any) -> str:
    if isinstance(value, str):
        return f"{len(value)} characters"
    if isinstance(value, Sequence | Mapping):
        return f"{len(value)} items"
    return type(value).__name__


def is_int(value: Any) -> bool:
    """A true integer: ``True`` is not a layer number."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class StackShape:
    """What the ranges of the view state depend on: one stack's dimensions."""

    n_layers: int
    n_heads: int
    n_rows: int
    n_cols: int


# ---- the view state ------------------------------------------------------------------------


def check_index(value: Any, size: int, what: str) -> int:
    if not is_int(value):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__} {shorten(value)}")
    if not 0 <= value < size:
        raise ValueError(f"{what} must be between 0 and {size - 1}, got {shorten(value)}")
    return int(value)


def check_layer(value: Any, shape: StackShape) -> int:
    return check_index(value, shape.n_layers, "layer")


def check_heads(value: Any, shape: StackShape) -> list[int]:
    """A list of distinct head indices, returned sorted; empty shows no head."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ValueError(f"heads must be a list of head indices, got {type(value).__name__} {shorten(value)}")
    if len(value) > shape.n_heads:
        raise ValueError(f"heads lists {len(value)} heads, but there are only {shape.n_heads}: {shorten(value)}")
    heads = [check_index(head, shape.n_heads, "each of heads") for head in value]
    if len(set(heads)) != len(heads):
        raise ValueError(f"heads must not repeat, got {shorten(list(value))}")
    return sorted(heads)


def focus_axis_size(shape: StackShape, direction: str) -> int:
    """Focus indexes rows ("from") when reading what a token attends to, else columns."""
    return shape.n_rows if direction == "attends_to" else shape.n_cols


def check_focus(value: Any, shape: StackShape, direction: str) -> int | None:
    if value is None:
        return None
    size = focus_axis_size(shape, direction)
    if not is_int(value) or not 0 <= value < size:
        raise ValueError(f"focus must be None or a token index between 0 and {size - 1}, got {shorten(value)}")
    return int(value)


def check_choice(value: Any, choices: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {shorten(value)}")
    return value


def check_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {type(value).__name__} {shorten(value)}")
    return value


def check_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"threshold must be a number between 0 and 1, got {type(value).__name__} {shorten(value)}")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"threshold must be a number between 0 and 1, got {shorten(value)}")
    return number


def check_display_setting(name: str, value: Any) -> str:
    """``combine`` or ``granularity``: one of a fixed set, whatever the input."""
    return check_choice(value, COMBINES if name == "combine" else GRANULARITIES, name)


def check_view_value(
    name: str, value: Any, *, stacks: Mapping[str, StackShape], stack: str, direction: str
) -> Any:
    """One view-state trait's value against the stacks shown (``stack``/``direction`` as they will be)."""
    if name == "stack":
        return check_choice(value, list(stacks), "stack")
    if name == "direction":
        return check_choice(value, DIRECTIONS, "direction")
    if name == "pair_filter":
        return check_choice(value, PAIR_FILTERS, "pair_filter")
    if name in ("hide_special", "neuron_view"):
        return check_flag(value, name)
    if name == "threshold":
        return check_threshold(value)
    if name in DISPLAY_SETTINGS:
        return check_display_setting(name, value)
    shape = stacks[stack]
    if name == "layer":
        return check_layer(value, shape)
    if name == "heads":
        return check_heads(value, shape)
    if name == "focus":
        return check_focus(value, shape, direction)
    raise ValueError(f"{shorten(name)} is not a view-state trait; the view state is {list(VIEW_SETTABLE)}")


def check_page_runs(value: Any, *, answered: int) -> int:
    """The run answer the page has taken in: a request id Python has already answered.

    ``answered`` is ``_request``, the last run Python answered; the page cannot claim a later one.
    """
    if not is_int(value) or not 0 <= value <= answered:
        raise ValueError(f"page_runs must be an integer between 0 and {answered} (the last run answered), got {shorten(value)}")
    return int(value)


def check_page_patch(
    patch: Mapping[str, Any], *, stacks: Mapping[str, StackShape], stack: str, direction: str, answered: int = 0
) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a state update from the page into accepted values and refusals (name -> reason).

    ``answered`` is the last run request Python answered (``_request``), the bound of ``page_runs``.

    ``stack`` and ``direction`` are checked first, so that ``layer``, ``heads`` and
    ``focus`` sent with them are checked against the stack they will be shown with.
    """
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    ordered = sorted(patch, key=lambda name: (name not in ("stack", "direction"), str(name)))
    for name in ordered:
        if name not in PAGE_SETTABLE:
            refused[name] = f"{shorten(name)} is set by Python; the page cannot change it"
            continue
        try:
            if name == "page_runs":
                accepted[name] = check_page_runs(patch[name], answered=answered)
                continue
            value = check_view_value(
                name,
                patch[name],
                stacks=stacks,
                stack=accepted.get("stack", stack),
                direction=accepted.get("direction", direction),
            )
        except ValueError as error:
            refused[name] = str(error)
        else:
            accepted[name] = value
    return accepted, refused


# ---- texts and run requests -----------------------------------------------------------------


def check_text(value: Any, what: str, *, allow_empty: bool = True) -> str:
    """A string that can cross the wire: bounded, and no lone surrogate (they cannot be UTF-8)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__} {shorten(value)}")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{what} has {len(value):,} characters; at most {MAX_TEXT_CHARS:,} are accepted")
    position = lone_surrogate_position(value)
    if position is not None:
        raise ValueError(
            f"{what} has a lone surrogate {value[position]!r} at character {position}, which is not valid "
            "Unicode text; remove it or decode the text with errors='replace'"
        )
    if not allow_empty and not value.strip():
        raise ValueError(f"{what} is empty: type some text to look at its attention")
    return value


def lone_surrogate_position(text: str) -> int | None:
    """The index of the first lone surrogate (U+D800–U+DFFF) in ``text``, or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def replace_lone_surrogates(text: str) -> str:
    """Each lone surrogate as U+FFFD, the replacement character (for tokens from user tensors)."""
    if lone_surrogate_position(text) is None:
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def check_request_id(value: Any) -> int:
    if not is_int(value) or not 0 <= value <= MAX_REQUEST_ID:
        raise ValueError(f"request must be an integer between 0 and {MAX_REQUEST_ID}, got {shorten(value)}")
    return int(value)


def check_model_choice(value: Any, models: Sequence[str]) -> str:
    """The page chooses among the models Python offered, and nothing else is ever loaded."""
    if not isinstance(value, str) or value not in models:
        raise ValueError(f"model {shorten(value)} is not one of this widget's models {shorten(list(models))}")
    return value


@dataclass(frozen=True)
class RunRequest:
    """A checked ``run`` message: None means "keep the current value"."""

    request: int
    sentence: str | None
    sentence_b: str | None
    target: str | None
    model: str | None


def check_run_message(content: Mapping[str, Any], models: Sequence[str]) -> RunRequest:
    """Raises ValueError for the first problem; the request id is checked first so the answer can name it."""
    request = check_request_id(content.get("request"))
    texts = {}
    for key in ("sentence", "sentence_b", "target"):
        value = content.get(key)
        texts[key] = None if value is None else check_text(value, key)
    model = content.get("model")
    return RunRequest(
        request=request,
        model=None if model is None else check_model_choice(model, models),
        **texts,
    )


def check_compare_message(content: Mapping[str, Any], models: Sequence[str]) -> tuple[int, str]:
    """``{request, model}`` -> (request id, model); ``""`` stops comparing, any other model must be offered."""
    request = check_request_id(content.get("request"))
    model = content.get("model")
    return request, ("" if model == "" else check_model_choice(model, models))


def check_head_stats_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str]:
    """``{version, stack}`` -> (version, stack): which statistics the page asks for."""
    return check_version(content.get("version")), check_choice(content.get("stack"), list(stacks), "stack")


def check_version(version: Any) -> int:
    """The data version a request is about (Python drops requests for replaced data)."""
    if not is_int(version):
        raise ValueError(f"version must be an integer, got {shorten(version)}")
    return int(version)


def check_layer_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str, list[int]]:
    """``{version, stack, layers}`` -> (version, stack, distinct layers in asked order, at most the stack's count)."""
    version = check_version(content.get("version"))
    stack = check_choice(content.get("stack"), list(stacks), "stack")
    layers = content.get("layers")
    if isinstance(layers, str | bytes | Mapping) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a list of layer indices, got {shorten(layers)}")
    n_layers = stacks[stack].n_layers
    wanted: dict[int, None] = {}  # insertion-ordered set
    for layer in layers:
        if is_int(layer) and 0 <= layer < n_layers:
            wanted[int(layer)] = None
            if len(wanted) == n_layers:
                break  # every layer asked for: the rest can only repeat
    return version, stack, list(wanted)


def check_queries_request(content: Mapping[str, Any], stacks: Mapping[str, StackShape]) -> tuple[int, str, int, int]:
    """``{version, stack, layer, head}`` (the neuron view's ``qk`` message) -> (version, stack, layer, head)."""
    version = content.get("version")
    if not is_int(version):
        raise ValueError(f"version must be an integer, got {shorten(version)}")
    stack = check_choice(content.get("stack"), list(stacks), "stack")
    layer = check_layer(content.get("layer"), stacks[stack])
    head = check_index(content.get("head"), stacks[stack].n_heads, "head")
    return version, stack, layer, head
