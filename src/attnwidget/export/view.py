"""What an export reads of a view: the protocol by which a widget (or anything else) hands it over.

Exports take plain data, or any object with a ``__attnwidget_view__()`` method (as
lonboard accepts anything with ``__arrow_c_array__``), so they never import the widget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..core.stack import Extraction


@dataclass(frozen=True)
class SavedView:
    """One view as an export needs it: the attention, what the page shows of it, and the view settings."""

    extraction: Extraction
    """Raw attention, as the model returned it."""
    shown: Extraction
    """What the page shows: rollout and/or words when ``view`` asks for them."""
    view: Mapping[str, Any]
    """The saved view settings (``wire.view_state.SAVED_VIEW``'s names)."""
    sentence: str = ""
    theme: str = "auto"
    prettify_tokens: bool = True
    panels: Callable[[], dict[str, Any]] = field(default=dict)
    """The traits of the analysis panels (``_head_stats``, ``_compare``, ``compare_to``) as a saved file
    holds them: every layer, nothing left to ask for. Computed only when a file is written."""


@runtime_checkable
class Viewable(Protocol):
    """Anything that can say what it shows: an ``AttentionWidget``, for one."""

    def __attnwidget_view__(self) -> SavedView: ...


def view_of(source: Any) -> SavedView | None:
    """``source``'s view when it offers one, else None (an array or a stack, handled by the caller)."""
    return source.__attnwidget_view__() if isinstance(source, Viewable) else None
