"""Comparing two stacks head by head: mean Jensen–Shannon divergence, and layers matched by relative depth."""

from __future__ import annotations

import numpy as np

from ..core.stack import CROSS, AttentionStack
from .inputs import attention_array_of


def head_change(attention_a: np.ndarray | AttentionStack, attention_b: np.ndarray | AttentionStack) -> np.ndarray:
    """Mean Jensen–Shannon divergence (bits, 0 to 1) between corresponding rows: ``(layers, heads)``.

    ``out[l, h]`` is the mean over rows i of JS(A[l, h, i], B[l, h, i]), with
    JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2. Both must have the same
    shape (align tokens with :func:`word_attention` and depths first); stacks of
    different kinds (cross- vs self-attention) are refused.
    """
    if isinstance(attention_a, AttentionStack) and isinstance(attention_b, AttentionStack):
        check_same_kind(attention_a, attention_b)
    a = attention_array_of(attention_a, "attention_a")
    b = attention_array_of(attention_b, "attention_b")
    if a.shape != b.shape:
        raise ValueError(
            f"attention_a has shape {a.shape} and attention_b {b.shape}: head_change compares layer by layer, head "
            "by head and token by token (use word_attention for different tokenizers, match depths first)"
        )
    out = np.empty(a.shape[:2])
    for layer in range(a.shape[0]):
        p = a[layer].astype(np.float64)
        q = b[layer].astype(np.float64)
        m = (p + q) / 2
        out[layer] = ((_kl_terms(p, m) + _kl_terms(q, m)) / 2).sum(axis=2).mean(axis=1)
    return np.clip(out, 0.0, 1.0)


def _kl_terms(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """p·log2(p/m) elementwise, 0 where p is 0."""
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * np.log2(safe / np.where(m > 0, m, 1.0)), 0.0)


def check_same_kind(a: AttentionStack, b: AttentionStack) -> None:
    """Cross-attention compares only with cross-attention; self, encoder and decoder are all self-attention."""
    if (a.name == CROSS) != (b.name == CROSS):
        kind = {True: "cross-attention", False: "self-attention"}
        raise ValueError(
            f"cannot compare {kind[a.name == CROSS]} ({a.name!r}) with {kind[b.name == CROSS]} ({b.name!r}): "
            "compare stacks of the same kind"
        )


def matched_layers(layers_a: int, layers_b: int) -> list[int]:
    """For each layer of A, the layer of B at the same relative depth (first to first, last to last)."""
    if layers_a < 1 or layers_b < 1:
        raise ValueError(f"both models need at least one layer, got {layers_a} and {layers_b}")
    if layers_a == 1:
        return [layers_b - 1]
    return [round(layer * (layers_b - 1) / (layers_a - 1)) for layer in range(layers_a)]
