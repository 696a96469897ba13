"""The input checks every analysis function starts with: a finite float array of 4 dimensions, or a stack's."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.stack import AttentionStack


def attention_array_of(attention: Any, what: str = "attention") -> np.ndarray:
    """The 4-d float array of an array or stack, checked for shape and finite values."""
    array = attention.attention if isinstance(attention, AttentionStack) else attention
    if hasattr(array, "detach"):  # a torch tensor
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim != 4:
        raise ValueError(f"{what} must have 4 dimensions (layers, heads, rows, cols), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{what} must hold floating-point weights, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        layer = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"{what} has NaN or infinite values (first in layer {layer})")
    return array


def check_square(array: np.ndarray, function: str) -> None:
    if array.shape[2] != array.shape[3]:
        raise ValueError(
            f"{function} needs self-attention (rows and columns the same tokens); got {array.shape[2]} rows "
            f"and {array.shape[3]} columns, which is cross-attention"
        )
