"""Queries and keys captured in the forward pass reproduce the model's own attention.

The neuron view's correctness test: for every family, stack, layer and head,
``softmax(q · kᵀ · scale + bias)`` computed here, row by row, from nothing but the
captured tensors equals the attention the model returned, within 1e-4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from attnwidget.core.queries import StackQueries
from attnwidget.core.stack import Extraction
from attnwidget.sources.capture import capture_queries_keys
from attnwidget.sources.forward import extract
from attnwidget.sources.models import LoadedModel

TinyModel = Callable[[str], LoadedModel]
Family = Any

SENTENCE = "He went to the bank to deposit money."
SENTENCE_B = "The river bank."
TARGET = "Das Haus ist klein."


def softmax_of_scores(q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None) -> np.ndarray:
    """The attention weights of one head, one row at a time in float64."""
    rows = np.empty((q.shape[0], k.shape[0]))
    for row in range(q.shape[0]):
        scores = np.array([float(np.dot(q[row].astype(np.float64), key)) for key in k.astype(np.float64)]) * scale
        if bias is not None:
            scores = scores + bias[row]
        scores = np.exp(scores - scores.max())
        rows[row] = scores / scores.sum()
    return rows


def log_weights_from_scores(q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None) -> np.ndarray:
    """log softmax in float64: tells apart scores whose softmax is nearly uniform (tiny random models)."""
    scores = (q.astype(np.float64) @ k.astype(np.float64).T) * scale
    if bias is not None:
        scores = scores + bias
    top = scores.max(axis=-1, keepdims=True)
    return scores - top - np.log(np.exp(scores - top).sum(axis=-1, keepdims=True))


def assert_queries_reproduce_attention(extraction: Extraction) -> None:
    assert extraction.queries is not None and not extraction.queries.unavailable, extraction.queries
    assert set(extraction.queries.stacks) == set(extraction.stacks)
    for name, stack in extraction.stacks.items():
        captured = extraction.queries.stack(name)
        assert captured.n_layers == stack.n_layers and captured.n_heads == stack.n_heads
        assert captured.queries.shape[2] == len(stack.row_tokens) and captured.keys.shape[2] == len(stack.col_tokens)
        for layer in range(stack.n_layers):
            for head in range(stack.n_heads):
                q, k, scale, bias = captured.head(layer, head)
                recomputed = softmax_of_scores(q, k, scale, bias)
                where = f"{name} layer {layer} head {head}"
                np.testing.assert_allclose(recomputed, stack.attention[layer, head], atol=1e-4, err_msg=where)
                # Where weights are close to uniform, their logarithms still tell a wrong scale or bias.
                returned = stack.attention[layer, head].astype(np.float64)
                kept = returned > 1e-20  # not masked
                log_recomputed = log_weights_from_scores(q, k, scale, bias)
                np.testing.assert_allclose(log_recomputed[kept], np.log(returned[kept]), atol=5e-6, err_msg=where)


def test_self_attention_families_queries_reproduce_attention(tiny_model: TinyModel, self_attention_family: Family) -> None:
    loaded = tiny_model(self_attention_family.name)
    assert_queries_reproduce_attention(extract(loaded, SENTENCE, capture_qk=True))


def test_sentence_pairs_queries_reproduce_attention(tiny_model: TinyModel, self_attention_family: Family) -> None:
    loaded = tiny_model(self_attention_family.name)
    assert_queries_reproduce_attention(extract(loaded, "He went to the bank.", sentence_b=SENTENCE_B, capture_qk=True))


def test_encoder_decoder_families_queries_reproduce_all_three_stacks(
    tiny_model: TinyModel, encoder_decoder_family: Family
) -> None:
    loaded = tiny_model(encoder_decoder_family.name)
    extraction = extract(loaded, SENTENCE, target=TARGET, capture_qk=True)
    assert set(extraction.stacks) == {"encoder", "decoder", "cross"}
    assert_queries_reproduce_attention(extraction)


def test_the_offline_minilm_queries_reproduce_attention(offline: LoadedModel) -> None:
    extraction = extract(offline, SENTENCE, sentence_b="The river bank was muddy.", capture_qk=True)
    assert_queries_reproduce_attention(extraction)
    assert extraction.queries.stack("self").d_head == 32  # 384 hidden / 12 heads


def test_t5_keeps_its_relative_position_bias_beside_the_scores(tiny_model: TinyModel) -> None:
    extraction = extract(tiny_model("t5"), SENTENCE, target=TARGET, capture_qk=True)
    encoder = extraction.queries.stack("encoder")
    assert encoder.scales[0] == 1.0  # T5 does not scale its scores
    bias = encoder.biases[0]
    assert bias is not None and bias.shape[0] == encoder.n_heads  # one learned bias per head
    assert not np.allclose(bias[0], bias[0, 0, 0])  # depends on the distance, not a constant
    # Every layer reuses the bias the first layer computed, stored once.
    assert all(layer_bias is bias for layer_bias in encoder.biases)


def test_causal_models_mask_the_future_in_the_bias(tiny_model: TinyModel) -> None:
    head = extract(tiny_model("gpt2"), SENTENCE, capture_qk=True).queries.stack("self").head(0, 0)
    assert head.bias is not None
    future = np.triu(np.ones_like(head.bias, dtype=bool), k=1)
    assert (head.bias[future] < -1e30).all() and (head.bias[~future] == 0).all()


def test_grouped_query_attention_maps_each_query_head_to_its_key_head(tiny_model: TinyModel) -> None:
    captured: StackQueries = extract(tiny_model("llama"), SENTENCE, capture_qk=True).queries.stack("self")
    assert captured.queries.shape[1] == 4 and captured.keys.shape[1] == 2  # the tiny Llama has 2 key/value heads
    assert [captured.key_head(head) for head in range(4)] == [0, 0, 1, 1]


def test_llama_queries_are_captured_after_the_rotary_embedding(tiny_model: TinyModel) -> None:
    loaded = tiny_model("llama")
    ids = loaded.tokenizer(SENTENCE, return_tensors="pt")["input_ids"]
    attention = loaded.model.layers[0].self_attn
    projected = {}
    hook = attention.q_proj.register_forward_hook(lambda _m, _i, out: projected.setdefault("q", out))
    try:
        extraction = extract(loaded, SENTENCE, capture_qk=True)
    finally:
        hook.remove()
    d_head = attention.head_dim
    unrotated = projected["q"][0].view(ids.shape[1], -1, d_head).transpose(0, 1).numpy()
    captured = extraction.queries.stack("self").queries[0]
    np.testing.assert_allclose(captured[:, 0], unrotated[:, 0], atol=1e-6)  # position 0 is not rotated
    assert not np.allclose(captured[:, 1:], unrotated[:, 1:], atol=1e-3)  # later positions are


def test_a_model_without_the_attention_function_is_not_available_with_a_reason() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with capture_queries_keys(model) as capture:
        model(torch.zeros(1, 2))
    result = capture.result({"self": ()})
    assert result.unavailable.startswith("the neuron view is not available for Sequential")
    with pytest.raises(ValueError, match="not available for Sequential"):
        result.stack("self")


def test_sdpa_attention_is_not_available_but_extraction_still_works(offline: LoadedModel) -> None:
    from transformers import AutoModel

    sdpa = AutoModel.from_pretrained(offline.model.name_or_path, attn_implementation="sdpa")
    ids = offline.tokenizer(SENTENCE, return_tensors="pt")
    with torch.no_grad(), capture_queries_keys(sdpa) as capture:
        output = sdpa(**ids, output_attentions=False)
    assert "not available for BertModel" in capture.result({"self": output.attentions or (None,)}).unavailable


def test_capture_restores_the_models_attention_function(tiny_model: TinyModel) -> None:
    import transformers.models.gpt2.modeling_gpt2 as gpt2

    original = gpt2.eager_attention_forward
    extract(tiny_model("gpt2"), SENTENCE, capture_qk=True)
    assert gpt2.eager_attention_forward is original


def test_without_capture_qk_there_are_no_queries(tiny_model: TinyModel) -> None:
    assert extract(tiny_model("bert"), SENTENCE).queries is None
