"""Queries and keys exactly as they enter each attention softmax, captured in the forward pass.

Every supported family (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA, GPT-2, Llama,
T5, BART, Marian) computes its eager attention in a module-level function
``eager_attention_forward(module, query, key, value, attention_mask, scaling, ...)``
that the attention module looks up by name when it runs. :func:`capture_queries_keys`
wraps that function, for the duration of one forward pass, in the Python module of
each of the model's attention classes, so it sees the model's own tensors after
projection, head split and rotary embedding (Llama), together with the scale and
every additive term (the causal or padding mask, T5's relative position bias).
No second pass and no re-implementation of any family: what is recorded is what the
softmax read.

A recorded call is tied to its layer by the weights it returned, which are the very
tensors the model hands back in ``output.attentions`` (and ``cross_attentions``...),
so self, decoder and cross attention sort themselves out without knowing module names.
A family whose attention does not go through that function (or a model loaded with
another attention implementation) gets :data:`StackQueries` for no stack and a
reason: "the neuron view is not available for <class>" (``core.queries``).
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import torch

from ..core.queries import QueryKeys, StackQueries, not_available

ATTENTION_FUNCTION = "eager_attention_forward"

# Patching a module global is process-wide: one capture at a time.
_PATCH_LOCK = threading.RLock()


# ---- capturing -------------------------------------------------------------------------------


@dataclass
class _Call:
    """One call of the attention function, as the softmax saw it."""

    module: torch.nn.Module
    query: torch.Tensor  # (1, heads, rows, d)
    key: torch.Tensor  # (1, key_heads, cols, d)
    scale: float
    mask: torch.Tensor | None
    position_bias: torch.Tensor | None
    weights: torch.Tensor  # what the call returned: the tensor the model reports


class Capture:
    """Records attention calls during a forward pass; :meth:`result` sorts them into stacks."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.calls: list[_Call] = []
        self.reason = ""

    def result(self, outputs: Mapping[str, Sequence[torch.Tensor] | None]) -> QueryKeys:
        """Match each stack's per-layer output tensors to the calls that produced them."""
        if self.reason:
            return not_available(self.model, self.reason)
        by_weights = {id(call.weights): call for call in self.calls}
        stacks: dict[str, StackQueries] = {}
        bias_cache: dict[tuple[int, int], np.ndarray | None] = {}
        for name, layers in outputs.items():
            calls = [by_weights.get(id(layer)) for layer in layers or ()]
            if not calls or any(call is None for call in calls):
                return not_available(
                    self.model, f"its {name} attention does not go through {ATTENTION_FUNCTION} (eager attention)"
                )
            stacks[name] = _stack_from_calls(calls, bias_cache)  # type: ignore[arg-type]
        return QueryKeys(stacks=stacks)


@contextmanager
def capture_queries_keys(model: torch.nn.Module) -> Iterator[Capture]:
    """Within the block, every attention call of ``model`` is recorded (see the module docstring)."""
    capture = Capture(model)
    targets = _attention_modules(model)
    if not targets:
        capture.reason = f"none of its modules computes attention with {ATTENTION_FUNCTION}"
        yield capture
        return
    ours = {id(module) for modules in targets.values() for module in modules}
    with _PATCH_LOCK:
        originals = {python_module: getattr(python_module, ATTENTION_FUNCTION) for python_module in targets}
        try:
            for python_module, original in originals.items():
                setattr(python_module, ATTENTION_FUNCTION, _recording(original, ours, capture.calls))
            yield capture
        finally:
            for python_module, original in originals.items():
                setattr(python_module, ATTENTION_FUNCTION, original)


def _attention_modules(model: torch.nn.Module) -> dict[ModuleType, list[torch.nn.Module]]:
    """The model's modules whose class is defined next to an attention function, by Python module."""
    found: dict[ModuleType, list[torch.nn.Module]] = {}
    for module in model.modules():
        python_module = sys.modules.get(type(module).__module__)
        if python_module is not None and callable(getattr(python_module, ATTENTION_FUNCTION, None)):
            found.setdefault(python_module, []).append(module)
    return found


def _recording(original: Any, ours: set[int], calls: list[_Call]) -> Any:
    signature = inspect.signature(original)

    def recording_attention(*args: Any, **kwargs: Any) -> Any:
        output = original(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = {**bound.arguments, **bound.arguments.get("kwargs", {})}
        module, query = arguments["module"], arguments["query"]
        if id(module) in ours and isinstance(output, tuple) and len(output) >= 2 and output[1] is not None:
            scale = arguments.get("scaling")
            calls.append(
                _Call(
                    module=module,
                    query=query.detach(),
                    key=arguments["key"].detach(),
                    # The functions' own default when the caller passes no scale.
                    scale=float(query.size(-1) ** -0.5 if scale is None else scale),
                    mask=arguments.get("attention_mask"),
                    position_bias=arguments.get("position_bias"),
                    weights=output[1],
                )
            )
        return output

    return recording_attention


# ---- to numpy ------------------------------------------------------------------------------------


def _stack_from_calls(calls: list[_Call], bias_cache: dict[tuple[int, int], np.ndarray | None]) -> StackQueries:
    first = calls[0]
    queries = np.empty((len(calls), *first.query.shape[1:]), dtype=np.float32)
    keys = np.empty((len(calls), *first.key.shape[1:]), dtype=np.float32)
    for layer, call in enumerate(calls):
        queries[layer] = _numpy(call.query[0])
        keys[layer] = _numpy(call.key[0])
    biases = tuple(_bias(call, bias_cache) for call in calls)
    return StackQueries(queries, keys, tuple(call.scale for call in calls), biases)


def _bias(call: _Call, cache: dict[tuple[int, int], np.ndarray | None]) -> np.ndarray | None:
    """Mask plus position bias as float32 (1 or heads, rows, cols), computed once per distinct pair."""
    cache_key = (id(call.mask), id(call.position_bias))
    if cache_key in cache:
        return cache[cache_key]
    rows, cols = call.query.shape[-2], call.key.shape[-2]
    total: np.ndarray | None = None
    for term in (call.position_bias, _additive_mask(call.mask)):
        if term is None:
            continue
        # The functions slice the mask to the key length; batch 1 is ours.
        values = _numpy(term[0, :, :rows, :cols]) if term.dim() == 4 else _numpy(term[..., :rows, :cols])
        total = values if total is None else total + values
    if total is not None:
        total = np.ascontiguousarray(np.broadcast_to(total, (total.shape[0], rows, cols)), dtype=np.float32)
    cache[cache_key] = total
    return total


def _additive_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    if mask is None or mask.dtype != torch.bool:
        return mask
    # A boolean mask (True = may attend) as the additive term attention functions use.
    return torch.where(mask, 0.0, torch.finfo(torch.float32).min)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float32).cpu().numpy()
