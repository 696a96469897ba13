"""Checks shared by every layer: one value, one rule, one ``ValueError`` that names the value and what is allowed.

Long values are shortened in messages: an error must not print 100,000 numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np

MAX_TEXT_CHARS = 100_000
"""The longest sentence, sentence B or target accepted (every model truncates far earlier)."""

_SHOWN_CHARS = 60


def shorten(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
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


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    """A sequence of items, not a string, bytes or a mapping (which are sequences too, or iterate as keys)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | Mapping)


def check_index(value: Any, size: int, what: str) -> int:
    if not is_int(value):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__} {shorten(value)}")
    if not 0 <= value < size:
        raise ValueError(f"{what} must be between 0 and {size - 1}, got {shorten(value)}")
    return int(value)


def check_indices(indices: Sequence[int], size: int, what: str, unit: str) -> list[int]:
    """A non-empty list of distinct int indices below ``size``, or a ValueError naming ``what`` was wrong."""
    chosen = list(indices)
    wrong = [index for index in chosen if isinstance(index, bool) or not isinstance(index, (int, np.integer))]
    if wrong or not chosen:
        raise ValueError(f"{what} must be a non-empty list of int indices, got {chosen!r}")
    repeated = sorted({index for index in chosen if chosen.count(index) > 1})
    if repeated:
        raise ValueError(f"{what} must not repeat an index, got {chosen!r} ({repeated} more than once)")
    out_of_range = [index for index in chosen if not 0 <= index < size]
    if out_of_range:
        raise ValueError(f"{what} has {out_of_range}, but the attention has {size} {unit} (0 to {size - 1})")
    return [int(index) for index in chosen]


def check_choice(value: Any, choices: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {shorten(value)}")
    return value


def check_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {type(value).__name__} {shorten(value)}")
    return value


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
