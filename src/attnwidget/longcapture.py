"""Queries and keys of long inputs, captured without the n × n weights ever existing.

:func:`capture_queries_keys` (``queries.py``) needs eager attention, which builds
every layer's ``heads × n × n`` weights and an ``n × n`` mask. For long inputs the
model runs instead with PyTorch's fused ``scaled_dot_product_attention`` through
transformers' own SDPA function, registered under :data:`IMPLEMENTATION` with a
recorder in front of it: the recorder keeps each layer's queries and keys (float32,
after rotary) and the attention output is transformers' own. A causal model without
padding gets no mask at all (SDPA's ``is_causal``), so the result is a
:class:`~attnwidget.queries.StackQueries` with ``causal=True`` and no stored bias;
:mod:`attnwidget.blockwise` then computes any weight exactly.

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

from .queries import StackQueries

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

    def result(self) -> StackQueries:
        if not self.queries:
            raise ValueError(f"{type(self.model).__name__} made no attention call through transformers' SDPA function")
        if len(set(self.causal)) > 1:
            raise ValueError("some layers are causal and some are not: one causal flag cannot describe them")
        biases = tuple(None if mask is None else mask[None] for mask in self.masks)
        return StackQueries(np.stack(self.queries), np.stack(self.keys), tuple(self.scales), biases, self.causal[0])


@contextmanager
def capture_queries_keys_long(model: torch.nn.Module) -> Iterator[LongCapture]:
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

        def recording_sdpa(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                           attention_mask: torch.Tensor | None, **kwargs: Any) -> Any:
            capture = next((c for c in _ACTIVE.values() if id(module) in c.module_ids), None)
            if capture is not None:
                _record(capture, module, query, key, attention_mask, kwargs)
            return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)

        AttentionInterface.register(IMPLEMENTATION, recording_sdpa)
        AttentionMaskInterface.register(IMPLEMENTATION, sdpa_mask)
        _registered = True


def _record(capture: LongCapture, module: Any, query: torch.Tensor, key: torch.Tensor,
            mask: torch.Tensor | None, kwargs: dict) -> None:
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
