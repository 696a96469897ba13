"""Beyond looking: combine layers, characterise heads, read words, compare two models.

Plain numpy in and out, no widget code. Every function takes a float
``(layers, heads, rows, cols)`` attention array (or an :class:`AttentionStack`,
whose tokens and special-token flags are then used) and checks it first: a
wrong shape, NaN or infinite values, or mismatched arguments raise ValueError
naming the problem.

* :func:`rollout` — attention rollout (Abnar & Zuidema, 2020).
* :func:`head_stats` — one row per head: entropy, distance, self/previous/next/
  special shares and a ``pattern`` label by the thresholds below.
* :func:`word_attention` — sub-word tokens to words (Clark et al., 2019).
* :func:`head_change` — mean Jensen–Shannon divergence per head between two stacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .extraction import is_causal
from .result import CROSS, AttentionStack
from .tokens import looks_special

if TYPE_CHECKING:
    import pandas as pd

HEAD_FUSIONS = ("mean", "max", "min")

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

WordIds = Sequence[int | None]


# ---- input checks --------------------------------------------------------------------------


def _attention_of(attention: np.ndarray | AttentionStack, what: str = "attention") -> np.ndarray:
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


def _square(array: np.ndarray, function: str) -> None:
    if array.shape[2] != array.shape[3]:
        raise ValueError(
            f"{function} needs self-attention (rows and columns the same tokens); got {array.shape[2]} rows "
            f"and {array.shape[3]} columns, which is cross-attention"
        )


# ---- rollout ---------------------------------------------------------------------------------


def rollout(
    attention: np.ndarray | AttentionStack, *, head_fusion: str = "mean", residual: float = 0.5
) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): float32 ``(layers, n, n)``.

    ``Â_l = rownorm(residual·I + (1 − residual)·fuse(A_l))`` with ``fuse`` the mean,
    max or min over heads; ``R_0 = Â_0`` and ``R_l = Â_l @ R_{l−1}``, so ``R_l[i, j]`` is
    how much of token j's input reaches token i's output after layer l through the
    residual stream. A causal stack's rollout stays causal (products of lower
    triangular matrices are lower triangular).
    """
    array = _attention_of(attention)
    _square(array, "rollout")
    residual = _check_residual(residual)
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {list(HEAD_FUSIONS)}, got {head_fusion!r}")
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}[head_fusion]
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
    array = _attention_of(attention)
    _square(array, "rollout_by_head")
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


# ---- head statistics ---------------------------------------------------------------------------


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
    array = _attention_of(attention)
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


# ---- words ---------------------------------------------------------------------------------------


def word_attention(
    attention: np.ndarray | AttentionStack,
    word_ids: WordIds | None = None,
    col_word_ids: WordIds | None = None,
) -> np.ndarray:
    """Sub-word tokens to words (Clark et al., 2019): float32 ``(layers, heads, row words, col words)``.

    Attention *to* a word is the sum over its pieces; attention *from* a word is the
    mean over its pieces, so rows still sum to 1. ``word_ids[i]`` is token i's word
    (as a fast tokenizer's ``encoding.word_ids()`` gives it; ids must be unique across
    a sentence pair); ``None`` makes a token its own word, as for [CLS] and [SEP].
    Words come out in the order of their first token. ``col_word_ids`` is for
    cross-attention, whose columns are other tokens; for a stack, the ids it carries
    are used when none are given.
    """
    array = _attention_of(attention)
    if isinstance(attention, AttentionStack):
        word_ids = stack_word_ids(attention, "row") if word_ids is None else word_ids
        if col_word_ids is None:
            col_word_ids = stack_word_ids(attention, "col")
    if word_ids is None:
        raise ValueError("word_attention needs word_ids (one per token, None for a token that is its own word)")
    if col_word_ids is None:
        if array.shape[2] != array.shape[3]:
            raise ValueError(
                f"attention has {array.shape[2]} rows and {array.shape[3]} columns (cross-attention): "
                "pass col_word_ids for the columns"
            )
        col_word_ids = word_ids
    row_groups = word_groups(word_ids, array.shape[2], "word_ids")
    col_groups = word_groups(col_word_ids, array.shape[3], "col_word_ids")
    row_starts, col_starts = _run_starts(row_groups), _run_starts(col_groups)
    if row_starts is not None and col_starts is not None:
        # Words are runs of neighbouring tokens (always, with real tokenizers): sum runs in place.
        counts = np.array([len(group) for group in row_groups], dtype=np.float32)[:, None]
        out = np.empty((*array.shape[:2], len(row_groups), len(col_groups)), dtype=np.float32)
        for layer in range(array.shape[0]):
            to_words = np.add.reduceat(array[layer].astype(np.float32, copy=False), col_starts, axis=2)
            out[layer] = np.add.reduceat(to_words, row_starts, axis=1) / counts
        return out
    return _word_attention_by_products(array, row_groups, col_groups)


def _run_starts(groups: list[list[int]]) -> np.ndarray | None:
    """Where each word starts, when every word is a run of neighbouring tokens in order; else None."""
    expected = 0
    for group in groups:
        if group != list(range(expected, expected + len(group))):
            return None
        expected += len(group)
    return np.array([group[0] for group in groups], dtype=np.intp)


def _word_attention_by_products(array: np.ndarray, row_groups: list[list[int]], col_groups: list[list[int]]) -> np.ndarray:
    """The general case (a word's pieces apart from each other): sums and means as matrix products."""
    rows = _membership(row_groups, array.shape[2])
    cols = _membership(col_groups, array.shape[3])
    from_words = (rows / rows.sum(axis=0, keepdims=True)).T.astype(np.float32)  # (row words, rows): a mean
    out = np.empty((*array.shape[:2], rows.shape[1], cols.shape[1]), dtype=np.float32)
    heads, n_rows, n_cols = array.shape[1:]
    for layer in range(array.shape[0]):
        # Two plain 2-d products (BLAS), not a broadcast batch of small ones.
        weights = array[layer].astype(np.float32, copy=False).reshape(heads * n_rows, n_cols)
        to_words = (weights @ cols).reshape(heads, n_rows, -1)  # a sum over each word's columns
        stacked = to_words.transpose(1, 0, 2).reshape(n_rows, -1)  # (rows, heads · col words)
        out[layer] = (from_words @ stacked).reshape(-1, heads, cols.shape[1]).transpose(1, 0, 2)  # a mean over rows
    return out


def _membership(groups: list[list[int]], n_tokens: int) -> np.ndarray:
    """A (tokens, words) 0/1 float32 matrix: column k marks the tokens of the k-th word."""
    membership = np.zeros((n_tokens, len(groups)), dtype=np.float32)
    for word, tokens in enumerate(groups):
        membership[tokens, word] = 1.0
    return membership


def word_groups(word_ids: WordIds, n_tokens: int | None = None, what: str = "word_ids") -> list[list[int]]:
    """The token indices of each word, words in the order of their first token."""
    ids = list(word_ids)
    if n_tokens is not None and len(ids) != n_tokens:
        raise ValueError(f"{what} has {len(ids)} entries but the attention has {n_tokens} tokens on that axis")
    groups: dict[Any, list[int]] = {}
    for index, word in enumerate(ids):
        if word is not None and (isinstance(word, bool) or not isinstance(word, (int, np.integer)) or word < 0):
            raise ValueError(f"{what}[{index}] must be a word number ≥ 0 or None, got {word!r}")
        groups.setdefault(("token", index) if word is None else int(word), []).append(index)
    return list(groups.values())


def word_labels(tokens: Sequence[str], word_ids: WordIds) -> list[str]:
    """Raw strings for words: each word's pieces joined, WordPiece's ``##`` dropped.

    Byte-level ``Ġ`` and SentencePiece ``▁`` stay, so the usual display turns them
    into the word's leading space.
    """
    labels = []
    for group in word_groups(word_ids, len(tokens), "word_ids"):
        pieces = [tokens[group[0]]] + [tokens[i].removeprefix("##") for i in group[1:]]
        labels.append("".join(pieces))
    return labels


_WORD_START_MARKS = ("Ġ", "▁")


def word_ids_from_tokens(tokens: Sequence[str], special: Sequence[bool] | None = None) -> list[int | None]:
    """Word ids guessed from raw tokens, for tokens that come without a tokenizer.

    WordPiece: ``##`` continues the previous word. Byte-level BPE (``Ġ``) and
    SentencePiece (``▁``): a token starts a word when it carries the mark, is
    punctuation, or follows punctuation or a special token. Special tokens
    (flagged, or looking like [CLS]/</s>) get None.
    """
    flags = [looks_special(token) for token in tokens] if special is None else [bool(flag) for flag in special]
    if len(flags) != len(tokens):
        raise ValueError(f"special has {len(flags)} flags for {len(tokens)} tokens")
    marked = any(token.startswith(_WORD_START_MARKS) for token in tokens)
    ids: list[int | None] = []
    word = -1
    previous_breaks = True  # the first token always starts a word
    for token, is_special in zip(tokens, flags):
        if is_special:
            ids.append(None)
            previous_breaks = True
            continue
        punctuation = bool(token) and not any(char.isalnum() for char in token.lstrip("".join(_WORD_START_MARKS)))
        if marked:
            starts = previous_breaks or token.startswith(_WORD_START_MARKS) or punctuation
        else:
            starts = previous_breaks or not token.startswith("##")
        if starts:
            word += 1
        ids.append(word)
        previous_breaks = marked and punctuation
    return ids


def stack_word_ids(stack: AttentionStack, axis: str) -> list[int | None]:
    """A stack's word ids for its rows or columns: the tokenizer's when it gave them, else guessed."""
    given = stack.row_word_ids if axis == "row" else stack.col_word_ids
    tokens = stack.row_tokens if axis == "row" else stack.col_tokens
    if given is not None:
        return split_at_word_marks(given, tokens)
    special = stack.row_special if axis == "row" else stack.col_special
    return word_ids_from_tokens(tokens, special)


def split_at_word_marks(word_ids: WordIds, tokens: Sequence[str]) -> list[int | None]:
    """The tokenizer's word ids, with a new word wherever a token carries a word-start mark (Ġ, ▁).

    Tokenizers without a pre-tokenizer (Llama's SentencePiece) call the whole text
    one word; the mark on each word's first piece still says where words begin.
    """
    out: list[int | None] = []
    word, previous = -1, None
    for index, (given, token) in enumerate(zip(word_ids, tokens)):
        if given is None:
            out.append(None)
            previous = None
            continue
        if given != previous or (index > 0 and out[-1] is not None and token.startswith(_WORD_START_MARKS)):
            word += 1
        out.append(word)
        previous = given
    return out


# ---- comparing two stacks ------------------------------------------------------------------------


def head_change(attention_a: np.ndarray | AttentionStack, attention_b: np.ndarray | AttentionStack) -> np.ndarray:
    """Mean Jensen–Shannon divergence (bits, 0 to 1) between corresponding rows: ``(layers, heads)``.

    ``out[l, h]`` is the mean over rows i of JS(A[l, h, i], B[l, h, i]), with
    JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2. Both must have the same
    shape (align tokens with :func:`word_attention` and depths first); stacks of
    different kinds (cross- vs self-attention) are refused.
    """
    if isinstance(attention_a, AttentionStack) and isinstance(attention_b, AttentionStack):
        check_same_kind(attention_a, attention_b)
    a = _attention_of(attention_a, "attention_a")
    b = _attention_of(attention_b, "attention_b")
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
