"""One forward pass: a model and an input in, tokens and attention (numpy) out."""

from __future__ import annotations

import numpy as np
import torch

from .models import LoadedModel, ModelSpec, load_model
from .result import SELF, AttentionStack, Extraction

DEFAULT_MAX_ATTENTION_BYTES = 4 * 2**30
"""Refuse inputs whose float32 attention would exceed this (4 GiB), before running."""


def extract(
    model: ModelSpec,
    sentence: str,
    *,
    sentence_b: str | None = None,
    max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
) -> Extraction:
    """Tokenize ``sentence`` (and ``sentence_b``), run the model once, return every attention.

    Input longer than the model accepts is truncated, with a note saying so.
    """
    check_sentence(sentence, "sentence")
    if sentence_b is not None:
        check_sentence(sentence_b, "sentence_b")
    loaded = load_model(model)
    if loaded.is_encoder_decoder:
        raise ValueError(f"{loaded.name!r} is an encoder-decoder model; it is not supported yet")
    return _extract_self_attention(loaded, sentence, sentence_b, max_attention_bytes)


def check_sentence(sentence: object, what: str) -> None:
    if not isinstance(sentence, str):
        raise ValueError(f"{what} must be a string, got {type(sentence).__name__}")
    if not sentence.strip():
        raise ValueError(f"{what} is empty: type some text to look at its attention")


def _extract_self_attention(
    loaded: LoadedModel, sentence: str, sentence_b: str | None, max_attention_bytes: int
) -> Extraction:
    tokenizer, limit = loaded.tokenizer, loaded.max_tokens
    texts = (sentence,) if sentence_b is None else (sentence, sentence_b)
    full_length = len(tokenizer(*texts)["input_ids"])
    notes = []
    if full_length > limit:
        notes.append(f"showing the first {limit} of {full_length} tokens ({loaded.name} accepts at most {limit})")
    n = min(full_length, limit)
    check_attention_budget(loaded, n, n, max_attention_bytes)

    encoded = tokenizer(
        *texts,
        return_tensors="pt",
        truncation=full_length > limit,
        max_length=limit,
        return_special_tokens_mask=True,
    )
    special = [bool(flag) for flag in encoded.pop("special_tokens_mask")[0].tolist()]
    input_ids = encoded["input_ids"]
    with torch.no_grad():
        output = loaded.model(**encoded, output_attentions=True, output_hidden_states=True)
    attention = stack_layers(output.attentions, loaded.name)
    tokens = tokenizer.convert_ids_to_tokens(input_ids[0].tolist())
    b_start = _sentence_b_start(encoded) if sentence_b is not None else None
    causal = n > 1 and is_causal(attention)

    stack = AttentionStack(
        name=SELF,
        attention=attention,
        row_tokens=tokens,
        col_tokens=tokens,
        row_special=special,
        col_special=special,
        causal=causal,
        row_b_start=b_start,
        col_b_start=b_start,
    )
    shapes = {
        "input_ids": list(input_ids.shape),
        "last_hidden_state": list(output.last_hidden_state.shape),
        "hidden_states": [len(output.hidden_states), *output.hidden_states[0].shape],
        "attentions": [len(output.attentions), *output.attentions[0].shape],
    }
    return Extraction(stacks={SELF: stack}, model_name=loaded.name, shapes=shapes, notes=notes)


def stack_layers(attentions: tuple | None, model_name: str) -> np.ndarray:
    """Per-layer (1, heads, rows, cols) tensors -> one float32 (layers, heads, rows, cols) array.

    Copies each layer once into a preallocated array, so the peak is the model's
    tensors plus one float32 copy.
    """
    if not attentions or any(layer is None for layer in attentions):
        raise ValueError(
            f"{model_name!r} returned no attention weights: its attention implementation "
            "does not compute them (load it with attn_implementation='eager')"
        )
    first = attentions[0]
    out = np.empty((len(attentions), *first.shape[1:]), dtype=np.float32)
    for index, layer in enumerate(attentions):
        out[index] = layer[0].detach().to(torch.float32).cpu().numpy()
    return out


def is_causal(attention: np.ndarray) -> bool:
    """True when no row attends to a later column, in any layer or head."""
    rows, cols = attention.shape[-2:]
    above_diagonal = np.triu(np.ones((rows, cols), dtype=bool), k=1)
    return not bool(attention[..., above_diagonal].any())


def check_attention_budget(loaded: LoadedModel, rows: int, cols: int, max_attention_bytes: int) -> None:
    """Fail before the forward pass when its attention would not fit the budget."""
    config = loaded.model.config
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "num_layers", None)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "num_heads", None)
    if not isinstance(layers, int) or not isinstance(heads, int):
        return  # an unusual config; the forward pass itself will tell
    needed = layers * heads * rows * cols * 4
    if needed > max_attention_bytes:
        raise ValueError(
            f"the attention for {rows} × {cols} tokens would take {needed / 1e9:.1f} GB "
            f"({layers} layers × {heads} heads × {rows} × {cols} × 4 bytes), over the budget of "
            f"{max_attention_bytes / 1e9:.1f} GB: shorten the input or pass a larger max_attention_bytes"
        )


def _sentence_b_start(encoded) -> int | None:
    """Index of sentence B's first token, from the fast tokenizer's sequence ids."""
    try:
        sequence_ids = encoded.sequence_ids(0)
    except ValueError:  # a slow tokenizer: fall back to token type ids
        type_ids = encoded.get("token_type_ids")
        if type_ids is None:
            return None
        ones = (type_ids[0] == 1).nonzero()
        return int(ones[0]) if len(ones) else None
    return next((index for index, sid in enumerate(sequence_ids) if sid == 1), None)
