"""What each head does: entropy, distance, self/previous/next/special shares, and a pattern label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.stack import AttentionStack, is_causal
from ..core.tokens import looks_special
from .inputs import attention_array_of

if TYPE_CHECKING:
    import pandas as pd

# ---- pattern thresholds (documented in head_stats) -------------------------------------
POSITION_SHARE = 0.5
"""A head is ``previous``, ``next``, ``self`` or ``special`` when, on average, at least
half of each row's attention goes to that one place."""
LOCAL_SHARE = 0.5
"""A head is ``local`` when previous + self + next together hold at least half."""
BROAD_ENTROPY = 0.75
"""A head is ``broad`` when its mean row entropy is at least 75 % of the largest
possible (log2 of the number of tokens each row may attend to)."""

PATTERNS = ("previous", "next", "self", "special", "local", "broad", "other")

HEAD_COLUMNS = ("layer", "head", "entropy", "distance", "self", "previous", "next", "special", "pattern")
"""The columns of :func:`head_stats`, in order; the page's Heads table shows them (``js/panels/headStats.ts``)."""


def head_stats(
    attention: np.ndarray | AttentionStack,
    tokens: Sequence[str] | None = None,
    special: Sequence[bool] | None = None,
) -> pd.DataFrame:
    """One row per (layer, head) describing what the head does, as a pandas DataFrame.

    Columns: ``layer``, ``head``; ``entropy``, the mean row entropy in bits;
    ``distance``, the mean over rows of Σⱼ aᵢⱼ·|i − j| (tokens); ``self``, ``previous``,
    ``next``, the mean of aᵢᵢ, aᵢ,ᵢ₋₁ and aᵢ,ᵢ₊₁ over the rows where that column
    exists; ``special``, the mean attention to special tokens ([CLS], [SEP], <s>,
    BOS...), from ``special`` flags or guessed from ``tokens`` (NaN when neither is
    known); and ``pattern``, the first of these that holds:

    ============ =====================================================================
    ``previous``  previous ≥ 0.5 (and the largest of previous/next/self/special)
    ``next``      next ≥ 0.5 (idem)
    ``self``      self ≥ 0.5 (idem)
    ``special``   special ≥ 0.5 (idem): a "sink" head, e.g. everything to [SEP]
    ``local``     previous + self + next ≥ 0.5
    ``broad``     entropy ≥ 0.75 × the largest possible (log2 of the tokens a row may see)
    ``other``     none of the above
    ============ =====================================================================

    Distance, self, previous and next need self-attention; for cross-attention they
    are NaN. An :class:`AttentionStack` brings its own column tokens and flags.
    """
    import pandas as pd

    return pd.DataFrame(head_stats_columns(attention, tokens, special))


def head_stats_columns(
    attention: np.ndarray | AttentionStack,
    tokens: Sequence[str] | None = None,
    special: Sequence[bool] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`head_stats` as a dict of flat numpy columns (no pandas needed)."""
    array = attention_array_of(attention)
    if isinstance(attention, AttentionStack):
        tokens = attention.col_tokens if tokens is None else tokens
        special = attention.col_special if special is None else special
    special_mask = _special_mask(array.shape[3], tokens, special)
    layers, heads, rows, cols = array.shape
    square = rows == cols
    causal = square and is_causal(array)
    # Largest possible entropy of each row: log2 of the columns it may attend to.
    seen = np.arange(1, rows + 1) if causal else np.full(rows, cols)
    max_entropy = float(np.log2(seen).mean())
    offsets = np.abs(np.subtract.outer(np.arange(rows), np.arange(cols))).astype(np.float32)

    shape = (layers, heads)
    entropy = np.empty(shape)
    distance = np.full(shape, np.nan)
    self_share, previous, following = (np.full(shape, np.nan) for _ in range(3))
    to_special = np.full(shape, np.nan)
    for layer in range(layers):
        weights = array[layer].astype(np.float32, copy=False)  # (heads, rows, cols)
        # One temporary (the logs, computed in place) and fused multiply-sums: this runs on every new input.
        logs = np.maximum(weights, np.float32(1e-30))
        np.log2(logs, out=logs)
        entropy[layer] = -np.einsum("hij,hij->h", weights, logs) / rows
        if special_mask is not None:
            to_special[layer] = weights[:, :, special_mask].sum(axis=2).mean(axis=1)
        if square:
            distance[layer] = np.einsum("hij,ij->h", weights, offsets) / rows
            self_share[layer] = np.diagonal(weights, axis1=1, axis2=2).mean(axis=1)
            if rows > 1:
                previous[layer] = np.diagonal(weights, offset=-1, axis1=1, axis2=2).mean(axis=1)
                following[layer] = np.diagonal(weights, offset=1, axis1=1, axis2=2).mean(axis=1)
    patterns = [
        classify_head(previous.flat[i], following.flat[i], self_share.flat[i], to_special.flat[i], entropy.flat[i], max_entropy)
        for i in range(layers * heads)
    ]
    return {
        "layer": np.repeat(np.arange(layers), heads),
        "head": np.tile(np.arange(heads), layers),
        "entropy": entropy.ravel(),
        "distance": distance.ravel(),
        "self": self_share.ravel(),
        "previous": previous.ravel(),
        "next": following.ravel(),
        "special": to_special.ravel(),
        "pattern": np.array(patterns, dtype=object),
    }


def classify_head(
    previous: float, following: float, self_share: float, special: float, entropy: float, max_entropy: float
) -> str:
    """The ``pattern`` label of one head from its statistics (thresholds in :func:`head_stats`)."""
    shares = {"previous": previous, "next": following, "self": self_share, "special": special}
    known = {name: value for name, value in shares.items() if not np.isnan(value)}
    if known:
        name, value = max(known.items(), key=lambda item: item[1])
        if value >= POSITION_SHARE:
            return name
    local = [value for name, value in shares.items() if name != "special" and not np.isnan(value)]
    if len(local) == 3 and sum(local) >= LOCAL_SHARE:
        return "local"
    if max_entropy > 0 and entropy >= BROAD_ENTROPY * max_entropy:
        return "broad"
    return "other"


def _special_mask(cols: int, tokens: Sequence[str] | None, special: Sequence[bool] | None) -> np.ndarray | None:
    if special is not None:
        flags = [bool(flag) for flag in special]
        if len(flags) != cols:
            raise ValueError(f"special has {len(flags)} flags but the attention has {cols} columns")
        return np.array(flags, dtype=bool)
    if tokens is not None:
        if len(tokens) != cols:
            raise ValueError(f"tokens has {len(tokens)} tokens but the attention has {cols} columns")
        return np.array([looks_special(token) for token in tokens], dtype=bool)
    return None


_PATTERN_PHRASES = {
    "previous": "previous-token",
    "next": "next-token",
    "self": "self",
    "special": "special-token-sink",
    "local": "local",
    "broad": "broad",
    "other": "mixed",
}


def _describe_patterns(names: list[str]) -> str:
    """["previous", "next"] -> "previous/next-token": the shared "-token" said once."""
    phrases = [_PATTERN_PHRASES[name] for name in names]
    return "/".join([phrase.removesuffix("-token") for phrase in phrases[:-1]] + phrases[-1:])


def layer_summary(stats: Any) -> str:
    """One line answering "what does each depth do?" for a :func:`head_stats` table.

    Each layer is named by its most common pattern(s) (two when the runner-up is
    at least half as common); consecutive layers with the same description merge:
    ``"layers 0–1: mostly previous/next-token heads; layers 4–5: mostly special-token-sink heads"``.
    """
    layers = np.asarray(stats["layer"])
    patterns = np.asarray(stats["pattern"])
    described: list[tuple[int, str]] = []
    for layer in np.unique(layers):
        names, counts = np.unique(patterns[layers == layer], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        top = [str(names[order[0]])]
        if len(order) > 1 and counts[order[1]] * 2 >= counts[order[0]]:
            top.append(str(names[order[1]]))
        described.append((int(layer), _describe_patterns(top)))
    parts: list[str] = []
    start = 0
    for index in range(1, len(described) + 1):
        if index == len(described) or described[index][1] != described[start][1]:
            first, last = described[start][0], described[index - 1][0]
            span = f"layer {first}" if first == last else f"layers {first}–{last}"
            parts.append(f"{span}: mostly {described[start][1]} heads")
            start = index
    return "; ".join(parts)
