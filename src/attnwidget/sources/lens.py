"""A TransformerLens ``ActivationCache`` (from ``run_with_cache``) to an ``Extraction``.

Read through the cache's documented interface only (``keys()`` and ``cache[name]``),
so it works for TransformerLens 3's ``HookedTransformer`` and for 4.x's
``TransformerBridge`` alike, with or without the batch dimension
(``cache.remove_batch_dim()``):

* ``blocks.{layer}.attn.hook_pattern``: ``(batch, heads, dest, src)`` or ``(heads, dest, src)``,
  every layer, becomes the "self" stack;
* ``blocks.{layer}.attn.hook_rot_q`` / ``hook_rot_k`` (after the rotary embedding) or else
  ``hook_q`` / ``hook_k``: ``(batch, pos, heads, d_head)``, become the neuron view's queries
  and keys. The scale is the model's (``cfg.use_attn_scale``, ``cfg.attn_scale``), the bias
  the causal mask. They are used only when their softmax reproduces ``hook_pattern``
  within 1e-4; otherwise the neuron view says why it is not available.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES, AttentionSize, check_attention_budget
from ..core.queries import QueryKeys, StackQueries
from ..core.stack import SELF, Extraction
from .tensors import TensorStack, check_tokens, combine_stacks, stack_from_tensors

PATTERN = re.compile(r"^blocks\.(\d+)\.attn\.hook_pattern$")
REPRODUCE_TOLERANCE = 1e-4


def extraction_from_cache(
    cache: Any, tokens: Sequence[str], *, max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES
) -> Extraction:
    """Every layer's attention pattern from the cache, and its queries and keys when they reproduce it.

    The patterns' size (as float32) is checked against ``max_attention_bytes``
    before any of them is converted; the result holds its own copy of them.
    """
    names = _names(cache)
    layers = sorted(int(match.group(1)) for name in names if (match := PATTERN.match(name)))
    if not layers:
        raise ValueError(
            "the cache holds no attention patterns (no 'blocks.{layer}.attn.hook_pattern'): run "
            "model.run_with_cache(...) without a names_filter that drops them"
        )
    if layers != list(range(len(layers))):
        raise ValueError(f"the cache has the patterns of layers {layers}: every layer from 0 is needed")
    pattern_names = [f"blocks.{layer}.attn.hook_pattern" for layer in layers]
    check_attention_budget([_patterns_size(cache, pattern_names)], max_attention_bytes)
    patterns = [_one_example(cache[name], 3, "hook_pattern") for name in pattern_names]
    part: TensorStack = stack_from_tensors(
        patterns, check_tokens(tokens, "tokens"), copy=True, max_attention_bytes=max_attention_bytes
    )
    extraction = combine_stacks([part])
    return replace(extraction, queries=_queries(cache, names, part, len(layers)))


def _names(cache: Any) -> set[str]:
    keys = getattr(cache, "keys", None)
    if not callable(keys):
        raise ValueError(f"cache must be a TransformerLens ActivationCache (or a dict of its hooks), got {type(cache).__name__}")
    return set(keys())


def _patterns_size(cache: Any, names: Sequence[str]) -> AttentionSize | None:
    """The float32 size of every layer's pattern, read from the first one's shape (nothing converted)."""
    shape = [int(size) for size in np.shape(cache[names[0]])]
    if len(shape) not in (3, 4):
        return None  # _one_example names the problem
    heads, rows, cols = shape[-3:]
    return AttentionSize(len(names), heads, rows, cols)


def _one_example(value: Any, ndim: int, what: str) -> np.ndarray:
    """A cached activation without its batch dimension (which must be 1 when present)."""
    array = value.detach().cpu().float().numpy() if hasattr(value, "detach") else np.asarray(value, dtype=np.float32)
    if array.ndim == ndim + 1:
        if array.shape[0] != 1:
            raise ValueError(f"{what} has batch size {array.shape[0]}: pass one example, e.g. cache.remove_batch_dim()")
        array = array[0]
    if array.ndim != ndim:
        raise ValueError(f"{what} has shape {array.shape}: expected {ndim} dimensions, or {ndim + 1} with the batch")
    return array


def _queries(cache: Any, names: set[str], part: TensorStack, n_layers: int) -> QueryKeys:
    def hook(layer: int, what: str) -> str | None:
        for name in (f"blocks.{layer}.attn.hook_rot_{what}", f"blocks.{layer}.attn.hook_{what}"):
            if name in names:
                return name
        return None

    found = [(hook(layer, "q"), hook(layer, "k")) for layer in range(n_layers)]
    if any(q is None or k is None for q, k in found):
        return _unavailable("it holds no hook_q and hook_k for every layer (run_with_cache keeps them by default)")
    # (pos, heads, d_head) -> (heads, pos, d_head)
    hooks = [(q, k) for q, k in found if q is not None and k is not None]
    queries = np.stack([_one_example(cache[q], 3, q).transpose(1, 0, 2) for q, _ in hooks])
    keys = np.stack([_one_example(cache[k], 3, k).transpose(1, 0, 2) for _, k in hooks])
    stack = part.stack
    if queries.shape[2] != len(stack.row_tokens) or queries.shape[1] != stack.n_heads or keys.shape[1] == 0:
        return _unavailable(f"its queries {queries.shape[1:]} do not match the patterns {stack.shape[1:]}")
    if queries.shape[1] % keys.shape[1]:
        return _unavailable(f"{queries.shape[1]} query heads cannot share {keys.shape[1]} key heads")
    scale = _scale(cache, queries.shape[3])
    bias = _causal_bias(len(stack.row_tokens)) if stack.causal else None
    captured = StackQueries(
        np.ascontiguousarray(queries, dtype=np.float32),
        np.ascontiguousarray(keys, dtype=np.float32),
        (scale,) * n_layers,
        (bias,) * n_layers,
    )
    error = _reproduction_error(captured, stack.layers)
    if error > REPRODUCE_TOLERANCE:
        return _unavailable(
            f"the softmax of its q and k differs from hook_pattern by {error:.2g} (a model that rotates q and k "
            "after hook_q needs hook_rot_q and hook_rot_k in the cache)"
        )
    return QueryKeys(stacks={SELF: captured})


def _scale(cache: Any, d_head: int) -> float:
    """The model's score scale: 1 / cfg.attn_scale, 1 without use_attn_scale, 1/√d_head by default."""
    config = getattr(getattr(cache, "model", None), "cfg", None)
    if config is not None and getattr(config, "use_attn_scale", True) is False:
        return 1.0
    attn_scale = getattr(config, "attn_scale", None)
    if isinstance(attn_scale, (int, float)) and attn_scale > 0:
        return 1.0 / float(attn_scale)
    return float(d_head) ** -0.5


def _causal_bias(n: int) -> np.ndarray:
    future = np.triu(np.ones((n, n), dtype=bool), k=1)
    return np.where(future, np.finfo(np.float32).min, 0.0).astype(np.float32)[None]


def _reproduction_error(captured: StackQueries, layers: Sequence[np.ndarray]) -> float:
    worst = 0.0
    for layer in range(captured.n_layers):
        for head in range(captured.n_heads):
            q, k, scale, bias = captured.head(layer, head)
            scores = (q.astype(np.float64) @ k.astype(np.float64).T) * scale
            if bias is not None:
                scores = scores + bias
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            worst = max(worst, float(np.abs(weights - layers[layer][head]).max()))
    return worst


def _unavailable(why: str) -> QueryKeys:
    return QueryKeys(unavailable=f"the neuron view is not available for this ActivationCache: {why}")
