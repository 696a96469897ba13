"""The memory budget: how large an input's attention would be, checked before anything runs."""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_MAX_ATTENTION_BYTES = 4 * 2**30
"""Inputs whose float32 attention would exceed this (4 GiB) are refused, or kept as queries and keys (long inputs)."""


class AttentionSize(NamedTuple):
    """One attention block's dimensions: (layers, heads, rows, cols)."""

    layers: int
    heads: int
    rows: int
    cols: int

    @property
    def bytes(self) -> int:
        return self.layers * self.heads * self.rows * self.cols * 4  # float32

    def __str__(self) -> str:
        return f"{self.layers} layers × {self.heads} heads × {self.rows} × {self.cols} × 4 bytes"


def check_attention_budget(sizes: list[AttentionSize | None], max_attention_bytes: int) -> None:
    """Fail before the forward pass when the attention would not fit the budget."""
    known = [size for size in sizes if size is not None]
    if len(known) < len(sizes):
        return  # an unusual config; the forward pass itself will tell
    needed = sum(size.bytes for size in known)
    if needed > max_attention_bytes:
        parts = " + ".join(f"({size})" for size in known)
        raise ValueError(
            f"the attention for this input would take {human_bytes(needed)} {parts}, over the budget of "
            f"{human_bytes(max_attention_bytes)}: shorten the input or pass a larger max_attention_bytes"
        )


def human_bytes(count: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"
