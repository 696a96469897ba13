"""The view state: every setting the page and Python share, with its default and its rule, in one table.

:data:`VIEW_STATE` is the one definition. The widget's traits, the set the page may
write, the saved file's view and its defaults derive from it, and a test checks the
page's mirror (``js/state/traits.ts``, ``js/state/viewState.ts``) against it. Each rule
is a pure function used alike by the constructor, by assignment from Python (the
widget's validators) and by values from the page, so that all three accept and refuse
exactly the same things: it returns the value in its canonical form or raises
``ValueError`` naming the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..analysis.shown import COMBINES, GRANULARITIES
from ..core.checks import check_choice, check_flag, check_index, is_int, is_list, shorten
from ..core.stack import Extraction

DIRECTIONS = ("attends_to", "attended_by")
PAIR_FILTERS = ("all", "aa", "ab", "ba", "bb")


@dataclass(frozen=True)
class StackShape:
    """What the ranges of the view state depend on: one stack's dimensions."""

    n_layers: int
    n_heads: int
    n_rows: int
    n_cols: int


def stack_shapes(extraction: Extraction) -> dict[str, StackShape]:
    """Each stack's dimensions, which the rules check values against."""
    return {
        name: StackShape(stack.n_layers, stack.n_heads, len(stack.row_tokens), len(stack.col_tokens))
        for name, stack in extraction.stacks.items()
    }


@dataclass(frozen=True)
class ViewContext:
    """What a value is checked against: the shown stacks' shapes, and the stack and direction it will be shown with."""

    stacks: Mapping[str, StackShape]
    stack: str
    direction: str

    @property
    def shape(self) -> StackShape:
        return self.stacks[self.stack]


# ---- the rules ------------------------------------------------------------------------------


def check_layer(value: Any, shape: StackShape) -> int:
    return check_index(value, shape.n_layers, "layer")


def check_heads(value: Any, shape: StackShape) -> list[int]:
    """A list of distinct head indices, returned sorted; empty shows no head."""
    if not is_list(value):
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


def check_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"threshold must be a number between 0 and 1, got {type(value).__name__} {shorten(value)}")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"threshold must be a number between 0 and 1, got {shorten(value)}")
    return number


# ---- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewSetting:
    """One view-state setting: its trait name, default and rule, and where it applies."""

    name: str
    default: Any
    check: Callable[[Any, ViewContext], Any]
    saved: bool = True
    """Part of a saved file's view (the neuron view is not: the file holds no queries and keys)."""
    changes_values: bool = False
    """It changes what the values are (rollout, words), not which are shown: it needs no stack shapes, and
    ``focus`` and the rest are checked against the tokens or words it leads to."""


VIEW_STATE: tuple[ViewSetting, ...] = (
    ViewSetting("combine", "none", lambda value, _: check_choice(value, COMBINES, "combine"), changes_values=True),
    ViewSetting("granularity", "tokens", lambda value, _: check_choice(value, GRANULARITIES, "granularity"), changes_values=True),
    ViewSetting("stack", "self", lambda value, context: check_choice(value, list(context.stacks), "stack")),
    ViewSetting("direction", "attends_to", lambda value, _: check_choice(value, DIRECTIONS, "direction")),
    ViewSetting("layer", 0, lambda value, context: check_layer(value, context.shape)),
    # [] in a file or the constructor means every head: the widget fills them in once it knows the stack.
    ViewSetting("heads", [], lambda value, context: check_heads(value, context.shape)),
    ViewSetting("focus", None, lambda value, context: check_focus(value, context.shape, context.direction)),
    ViewSetting("pair_filter", "all", lambda value, _: check_choice(value, PAIR_FILTERS, "pair_filter")),
    ViewSetting("hide_special", False, lambda value, _: check_flag(value, "hide_special")),
    ViewSetting("threshold", 0.0, lambda value, _: check_threshold(value)),
    ViewSetting("neuron_view", False, lambda value, _: check_flag(value, "neuron_view"), saved=False),
)
"""In the order the constructor applies them: ranges depend on the words or tokens, the stack and direction."""

VIEW = {setting.name: setting for setting in VIEW_STATE}
VIEW_NAMES = tuple(VIEW)
VALUE_SETTINGS = tuple(setting.name for setting in VIEW_STATE if setting.changes_values)
"""``combine`` and ``granularity``: applied before the rest of a patch, whose ranges they change."""
SAVED_VIEW = {setting.name: setting.default for setting in VIEW_STATE if setting.saved}
"""The view a saved file holds, with the values of a file made from bare tensors."""

PAGE_SETTABLE = (*VIEW_NAMES, "page_runs")
"""The traits the page may change: the view state, and ``page_runs``, where the page echoes
the run answer it has taken in. Everything else is Python's: the page asks for new inputs
with a ``run`` message, for a second model with a ``compare`` message, and cannot write
results (``_data``, ``tokens``, ``error``...)."""


def check_view_value(name: str, value: Any, context: ViewContext) -> Any:
    """One view-state setting's value against the stacks shown (``context`` as they will be)."""
    setting = VIEW.get(name)
    if setting is None:
        raise ValueError(f"{shorten(name)} is not a view-state setting; the view state is {list(VIEW_NAMES)}")
    return setting.check(value, context)


def check_value_setting(name: str, value: Any) -> str:
    """``combine`` or ``granularity``: one of a fixed set, whatever the input."""
    if name not in VALUE_SETTINGS:
        raise ValueError(f"{shorten(name)} is not one of {list(VALUE_SETTINGS)}")
    return str(VIEW[name].check(value, _NO_STACKS))


_NO_STACKS = ViewContext({}, "", "")
"""The context of settings whose rule reads none (``combine``, ``granularity``)."""


def check_page_runs(value: Any, *, answered: int) -> int:
    """The run answer the page has taken in: a request id Python has already answered.

    ``answered`` is ``_request``, the last run Python answered; the page cannot claim a later one.
    """
    if not is_int(value) or not 0 <= value <= answered:
        raise ValueError(f"page_runs must be an integer between 0 and {answered} (the last run answered), got {shorten(value)}")
    return int(value)


def check_page_patch(
    patch: Mapping[str, Any], context: ViewContext, *, answered: int = 0
) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a state update from the page into accepted values and refusals (name -> reason).

    Settings are checked in the table's order, each against the stack and direction accepted
    before it, so ``layer``, ``heads`` and ``focus`` sent with a new ``stack`` are checked against it.
    ``answered`` is the last run request Python answered (``_request``), the bound of ``page_runs``.
    """
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    order = {name: index for index, name in enumerate(PAGE_SETTABLE)}
    for name in sorted(patch, key=lambda name: (order.get(name, len(order)), str(name))):
        if name not in order:
            refused[name] = f"{shorten(name)} is set by Python; the page cannot change it"
            continue
        try:
            if name == "page_runs":
                accepted[name] = check_page_runs(patch[name], answered=answered)
                continue
            shown_with = replace(
                context, stack=accepted.get("stack", context.stack), direction=accepted.get("direction", context.direction)
            )
            accepted[name] = check_view_value(name, patch[name], shown_with)
        except ValueError as error:
            refused[name] = str(error)
    return accepted, refused
