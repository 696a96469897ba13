"""Combining layers: attention rollout (Abnar & Zuidema, 2020), fused over heads or kept per head."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.stack import AttentionStack
from .inputs import attention_array_of, check_square

HEAD_FUSIONS = ("mean", "max", "min")


def rollout(attention: np.ndarray | AttentionStack, *, head_fusion: str = "mean", residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): float32 ``(layers, n, n)``.

    ``Â_l = rownorm(residual·I + (1 − residual)·fuse(A_l))`` with ``fuse`` the mean,
    max or min over heads; ``R_0 = Â_0`` and ``R_l = Â_l @ R_{l−1}``, so ``R_l[i, j]`` is
    how much of token j's input reaches token i's output after layer l through the
    residual stream. A causal stack's rollout stays causal (products of lower
    triangular matrices are lower triangular).
    """
    array = attention_array_of(attention)
    check_square(array, "rollout")
    residual = _check_residual(residual)
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {list(HEAD_FUSIONS)}, got {head_fusion!r}")
    fusions: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "max": np.max, "min": np.min}
    fuse = fusions[head_fusion]
    n = array.shape[2]
    out = np.empty((array.shape[0], n, n), dtype=np.float32)
    running: np.ndarray | None = None
    for layer in range(array.shape[0]):
        mixed = _with_residual(fuse(array[layer].astype(np.float32, copy=False), axis=0), residual)
        running = mixed if running is None else mixed @ running
        out[layer] = running
    return out


def rollout_by_head(attention: np.ndarray | AttentionStack, *, residual: float = 0.5) -> np.ndarray:
    """Rollout that keeps the heads of the last layer: float32 ``(layers, heads, n, n)``.

    ``out[l, h] = rownorm(residual·I + (1 − residual)·A_l[h]) @ R_{l−1}``, with
    ``R`` the mean-fused :func:`rollout` of the layers below. Because each head's
    rows sum to 1, the mean over all heads of ``out[l]`` is exactly ``rollout(...)[l]``;
    one head's slice shows what that head adds on top of everything before it.
    """
    array = attention_array_of(attention)
    check_square(array, "rollout_by_head")
    residual = _check_residual(residual)
    layers, heads, n, _ = array.shape
    out = np.empty(array.shape, dtype=np.float32)
    below: np.ndarray | None = None
    for layer in range(layers):
        mixed = _with_residual(array[layer].astype(np.float32), residual)  # (heads, n, n)
        if below is None:
            out[layer] = mixed
        else:  # one (heads·n, n) @ (n, n) product instead of one per head
            out[layer] = (mixed.reshape(heads * n, n) @ below).reshape(heads, n, n)
        fused = mixed.mean(axis=0)
        below = fused if below is None else fused @ below
    return out


def _check_residual(residual: float) -> float:
    if not isinstance(residual, (int, float, np.floating)) or isinstance(residual, bool) or not 0 <= residual <= 1:
        raise ValueError(f"residual must be a number between 0 and 1, got {residual!r}")
    return float(residual)


def _with_residual(weights: np.ndarray, residual: float) -> np.ndarray:
    """rownorm(residual·I + (1 − residual)·weights) over the last two axes; an all-zero row stays zero."""
    n = weights.shape[-1]
    mixed = (1 - residual) * weights
    diagonal = np.arange(n)
    mixed[..., diagonal, diagonal] += residual
    sums = mixed.sum(axis=-1, keepdims=True)
    return np.divide(mixed, sums, out=np.zeros_like(mixed), where=sums > 0)
