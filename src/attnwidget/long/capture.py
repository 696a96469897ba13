"""Queries and keys of long inputs, captured without the n × n weights ever existing.

:func:`~attnwidget.sources.capture.capture_queries_keys` needs eager attention, which builds
every layer's ``heads × n × n`` weights and an ``n × n`` mask. For long inputs the
model runs instead with PyTorch's fused ``scaled_dot_product_attention`` through
transformers' own SDPA function, registered under :data:`IMPLEMENTATION` with a
recorder in front of it: the recorder keeps each layer's queries and keys (float32,
after rotary) and the attention output is transformers' own. A causal model without
padding gets no mask at all (SDPA's ``is_causal``), so the result is a
:class:`~attnwidget.core.queries.StackQueries` with ``causal=True`` and no stored bias;
:mod:`attnwidget.long.blockwise` then computes any weight exactly. Without a mask, the
attention runs through PyTorch's CPU flash kernel directly, the one SDPA itself
dispatches to (same output), which also returns each row's log-sum-exp: the rows'
normalisers come free with the forward pass (:meth:`LongCapture.row_logsumexp`).

Decoder-only and encoder-only models of families that support SDPA (BERT, RoBERTa,
DistilBERT, ALBERT, ELECTRA, GPT-2, Llama): one call per layer, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from ..core.queries import StackQueries

IMPLEMENTATION = "attnwidget_sdpa"
_REGISTER_LOCK = threading.Lock()
_registered = False


class LongCapture:
    """The per-layer queries and keys recorded during one pass, in call order."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.module_ids = {id(module) for module in model.modules()}
        self.queries: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []
        self.scales: list[float] = []
        self.masks: list[np.ndarray | None] = []
        self.causal: list[bool] = []
        self.lses: list[np.ndarray | None] = []

    def result(self) -> StackQueries:
        if not self.queries:
            raise ValueError(f"{type(self.model).__name__} made no attention call through transformers' SDPA function")
        if len(set(self.causal)) > 1:
            raise ValueError("some layers are causal and some are not: one causal flag cannot describe them")
        biases = tuple(None if mask is None else mask[None] for mask in self.masks)
        return StackQueries(np.stack(self.queries), np.stack(self.keys), tuple(self.scales), biases, self.causal[0])

    def row_logsumexp(self) -> np.ndarray | None:
        """Each layer's, head's and row's log-sum-exp as the flash kernel computed it, float32
        ``(layers, heads, rows)``; None when some layer ran without it (a mask, a position bias)."""
        if not self.lses or any(lse is None for lse in self.lses):
            return None
        return np.stack(self.lses)  # type: ignore[arg-type]


@contextmanager
def capture_queries_keys_long(model: Any) -> Iterator[LongCapture]:
    """Within the block, ``model`` runs with fused SDPA attention and its queries and keys are recorded."""
    _register()
    capture = LongCapture(model)
    previous = model.config._attn_implementation
    with _PASS_LOCK:
        _ACTIVE[id(model)] = capture
        model.set_attn_implementation(IMPLEMENTATION)
        try:
            yield capture
        finally:
            model.set_attn_implementation(previous)
            del _ACTIVE[id(model)]


# Captures in progress, by the model whose modules call the recorder (one pass at a time).
_ACTIVE: dict[int, LongCapture] = {}
_PASS_LOCK = threading.RLock()


def _register() -> None:
    global _registered
    with _REGISTER_LOCK:
        if _registered:
            return
        from transformers import AttentionInterface
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

        def recording_sdpa(
            module: Any,
            query: torch.Tensor,
            key: torch.Tensor,
            value: torch.Tensor,
            attention_mask: torch.Tensor | None,
            **kwargs: Any,
        ) -> Any:
            capture = next((c for c in _ACTIVE.values() if id(module) in c.module_ids), None)
            if capture is None:
                return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
            _record(capture, module, query, key, attention_mask, kwargs)
            fused = _flash_with_logsumexp(module, query, key, value, attention_mask, kwargs)
            capture.lses.append(None if fused is None else fused[1][0].detach().numpy())
            if fused is None:
                return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
            return fused[0], None

        AttentionInterface.register(IMPLEMENTATION, recording_sdpa)
        AttentionMaskInterface.register(IMPLEMENTATION, sdpa_mask)
        _registered = True


def _flash_with_logsumexp(
    module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None, kwargs: dict
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The attention output as transformers' SDPA function returns it, and each row's log-sum-exp.

    Only where SDPA itself would run the CPU flash kernel on these tensors: one float32
    sequence on the CPU, no mask, no position bias, no dropout, as many keys as queries.
    Otherwise None, and the caller runs transformers' function.
    """
    rows, cols = query.shape[-2], key.shape[-2]
    plain = not any(kwargs.get(name) is not None for name in ("position_bias", "softcap"))
    if mask is not None or not plain or kwargs.get("dropout", 0.0) or query.shape[0] != 1 or rows != cols:
        return None
    if query.device.type != "cpu" or query.dtype != torch.float32 or query.shape[-1] != value.shape[-1]:
        return None
    groups = query.shape[1] // key.shape[1]
    if groups > 1:  # grouped-query attention: each key head serves `groups` query heads
        key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    is_causal = kwargs.get("is_causal")
    causal = rows > 1 and bool(is_causal if is_causal is not None else getattr(module, "is_causal", True))
    output, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
        query, key, value, 0.0, causal, scale=kwargs.get("scaling")
    )[:2]
    return output.transpose(1, 2).contiguous(), lse


def _record(
    capture: LongCapture, module: Any, query: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None, kwargs: dict
) -> None:
    rows, cols = query.shape[-2], key.shape[-2]
    scaling = kwargs.get("scaling")
    is_causal = kwargs.get("is_causal")
    # transformers' own rule (sdpa_attention_forward): causal when no mask is given and the module is causal.
    module_causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    causal = mask is None and rows > 1 and bool(module_causal)
    capture.queries.append(query[0].detach().to(torch.float32).cpu().numpy())
    capture.keys.append(key[0].detach().to(torch.float32).cpu().numpy())
    capture.scales.append(float(query.shape[-1] ** -0.5 if scaling is None else scaling))
    capture.causal.append(causal)
    if mask is None:
        capture.masks.append(None)
    else:
        mask = mask[0, 0, :rows, :cols]
        additive = torch.where(mask, 0.0, torch.finfo(torch.float32).min) if mask.dtype == torch.bool else mask
        capture.masks.append(additive.to(torch.float32).cpu().numpy())
