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
reason: "the neuron view is not available for <class>".
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import torch

ATTENTION_FUNCTION = "eager_attention_forward"
MASKED = np.finfo(np.float32).min
"""The additive term of a key a query may not see, as the models write it."""

# Patching a module global is process-wide: one capture at a time.
_PATCH_LOCK = threading.RLock()


class HeadQueries(NamedTuple):
    """One head's queries and keys as the softmax read them: ``softmax(q @ k.T * scale + bias)``.

    ``q`` is float32 ``(rows, d_head)``, ``k`` float32 ``(cols, d_head)`` (for grouped-query
    attention, the key head this query head reads), ``bias`` float32 ``(rows, cols)`` or
    None when nothing is added (masks use a very negative number, as the model does).
    """

    q: np.ndarray
    k: np.ndarray
    scale: float
    bias: np.ndarray | None

    def scores(self) -> np.ndarray:
        """The scaled scores plus the bias: the softmax's input, float32 ``(rows, cols)``."""
        scores = (self.q @ self.k.T) * np.float32(self.scale)
        return scores if self.bias is None else scores + self.bias

    def bias_row(self, row: int) -> np.ndarray:
        """The additive term of one row (zeros when there is none)."""
        if self.bias is None:
            return np.zeros(self.k.shape[0], dtype=np.float32)
        return self.bias[row]


@dataclass(frozen=True)
class StackQueries:
    """Queries and keys of every layer of one attention stack.

    ``queries`` is float32 ``(layers, heads, rows, d_head)``, ``keys`` float32
    ``(layers, key_heads, cols, d_head)``; query head ``h`` reads key head
    ``h // (heads // key_heads)`` (grouped-query attention repeats each key head).
    ``biases[layer]`` is float32 ``(1 or heads, rows, cols)`` or None; layers that
    share a bias (the same mask, T5's position bias) share one array. ``causal``
    adds the causal mask on top without storing it (long inputs, where n × n
    would not fit): :meth:`bias_block` computes any part of it.
    """

    queries: np.ndarray
    keys: np.ndarray
    scales: tuple[float, ...]
    biases: tuple[np.ndarray | None, ...]
    causal: bool = False

    @property
    def n_layers(self) -> int:
        return int(self.queries.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.queries.shape[1])

    @property
    def d_head(self) -> int:
        return int(self.queries.shape[3])

    def key_head(self, head: int) -> int:
        return head // (self.n_heads // int(self.keys.shape[1]))

    def head(self, layer: int, head: int) -> HeadQueries:
        """One head, its bias as a dense (rows, cols) array (the causal mask too, when ``causal``)."""
        rows, cols = self.queries.shape[2], self.keys.shape[2]
        bias = self.bias_block(layer, head, slice(0, rows), slice(0, cols))
        return HeadQueries(self.queries[layer, head], self.keys[layer, self.key_head(head)], self.scales[layer], bias)

    def bias_block(self, layer: int, head: int, rows: slice, cols: slice) -> np.ndarray | None:
        """The additive term of a rectangle of one head's scores, float32, or None when nothing is added."""
        bias = self.biases[layer]
        block = None if bias is None else bias[head if bias.shape[0] > 1 else 0, rows, cols]
        if not self.causal:
            return block
        future = np.arange(rows.start, rows.stop)[:, None] < np.arange(cols.start, min(cols.stop, self.keys.shape[2]))
        mask = np.where(future, MASKED, np.float32(0.0)).astype(np.float32)
        return mask if block is None else block + mask


@dataclass(frozen=True)
class QueryKeys:
    """What one capture found: queries and keys per stack name, or why there are none."""

    stacks: dict[str, StackQueries] = field(default_factory=dict)
    unavailable: str = ""  # "the neuron view is not available for ...", "" when captured

    def stack(self, name: str) -> StackQueries:
        if self.unavailable:
            raise ValueError(self.unavailable)
        if name not in self.stacks:
            raise ValueError(f"no queries and keys for the {name!r} attention; have {list(self.stacks)}")
        return self.stacks[name]


def not_available(model: torch.nn.Module, why: str) -> QueryKeys:
    return QueryKeys(unavailable=f"the neuron view is not available for {type(model).__name__}: {why}")


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
