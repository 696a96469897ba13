"""Attention from queries and keys, block by block, equals the model's materialised attention.

A random Llama-style decoder (grouped-query attention, rotary, causal) at 2,048
tokens: every value computed blockwise (rows, pooled tiles, top keys, a whole
layer) is checked against the attention the model itself returned, within 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnwidget.core.queries import StackQueries
from attnwidget.long.blockwise import Head, attention_layer, attention_row, pooled_tile, row_logsumexp, top_keys
from attnwidget.long.capture import capture_queries_keys_long
from attnwidget.sources.capture import capture_queries_keys
from helpers.pooling import max_pool_by_loop

N = 2048


@pytest.fixture(scope="module")
def model_and_ids() -> tuple[torch.nn.Module, torch.Tensor]:
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=100,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=4096,
        attn_implementation="eager",
    )
    model = LlamaModel(config).eval()
    with torch.no_grad():
        # Larger query weights than the random init: sharper rows, so pooling and top keys are tested on peaks.
        for layer in model.layers:
            layer.self_attn.q_proj.weight.mul_(8.0)
    ids = torch.randint(0, 100, (1, N), generator=torch.Generator().manual_seed(1))
    return model, ids


@pytest.fixture(scope="module")
def long_decoder(model_and_ids) -> tuple[StackQueries, np.ndarray]:
    """The eager capture: queries and keys beside the attention the model materialised."""
    model, ids = model_and_ids
    with torch.no_grad(), capture_queries_keys(model) as capture:
        output = model(input_ids=ids, output_attentions=True)
    attention = np.stack([layer[0].numpy() for layer in output.attentions])
    return capture.result({"self": output.attentions}).stack("self"), attention


def test_a_whole_layer_computed_blockwise_is_the_models_attention(long_decoder) -> None:
    queries, attention = long_decoder
    for layer in range(2):
        np.testing.assert_allclose(attention_layer(queries, layer, max_bytes=2**30), attention[layer], atol=1e-5)


def test_a_layer_over_the_budget_is_refused_with_what_it_would_take(long_decoder) -> None:
    queries, _ = long_decoder
    with pytest.raises(ValueError, match=r"4 heads × 2048 × 2048 × 4 bytes.*ask for rows, tiles or top keys"):
        attention_layer(queries, 0, max_bytes=2**20)


@pytest.mark.parametrize("block", [512, 300])
def test_rows_from_the_log_sum_exp_are_exact(long_decoder, block: int) -> None:
    queries, attention = long_decoder
    head = Head(queries, 1, 3)
    lse = row_logsumexp(head, block=block)
    for row in (0, 1, 777, N - 1):
        np.testing.assert_allclose(attention_row(head, lse, row), attention[1, 3, row], atol=1e-5)


@pytest.mark.parametrize(
    ("rows", "cols", "out"),
    [((0, N), (0, N), (300, 300)), ((100, 1700), (37, 1999), (123, 257)), ((1000, 1010), (0, 40), (10, 40))],
    ids=["whole-matrix", "zoomed", "one-value-per-cell"],
)
def test_heatmap_tiles_are_exactly_max_pooled(long_decoder, rows, cols, out) -> None:
    queries, attention = long_decoder
    head = Head(queries, 0, 1)
    lse = row_logsumexp(head)
    tile = pooled_tile(head, lse, slice(*rows), slice(*cols), *out, block=300)
    expected = max_pool_by_loop(attention[0, 1, slice(*rows), slice(*cols)], *out)
    np.testing.assert_allclose(tile, expected, atol=1e-5)


def test_top_keys_are_each_rows_strongest(long_decoder) -> None:
    queries, attention = long_decoder
    head = Head(queries, 1, 0)
    keys, weights = top_keys(head, row_logsumexp(head), count=8, block=300)
    assert keys.shape == weights.shape == (N, 8)
    for row in (0, 5, 1024, N - 1):
        expected = np.sort(attention[1, 0, row])[::-1][:8]
        np.testing.assert_allclose(weights[row], expected, atol=1e-5)
        np.testing.assert_allclose(attention[1, 0, row, keys[row]], weights[row], atol=1e-5)
    assert (np.diff(weights, axis=1) <= 0).all()  # strongest first


def test_long_inputs_capture_the_same_queries_and_keys_without_materialising_weights(model_and_ids, long_decoder) -> None:
    model, ids = model_and_ids
    eager, attention = long_decoder
    with torch.no_grad(), capture_queries_keys_long(model) as capture:
        output = model(input_ids=ids)
    assert output.attentions is None and model.config._attn_implementation == "eager"  # restored after the pass
    fused = capture.result()
    assert fused.causal and all(bias is None for bias in fused.biases)  # the mask is a flag, not n × n floats
    assert fused.scales == eager.scales
    np.testing.assert_allclose(fused.queries, eager.queries, atol=1e-5)
    np.testing.assert_allclose(fused.keys, eager.keys, atol=1e-5)
    np.testing.assert_allclose(attention_layer(fused, 1, max_bytes=2**30), attention[1], atol=1e-5)
    head = Head(fused, 0, 2)
    lse = row_logsumexp(head, block=300)
    keys, weights = top_keys(head, lse, count=4, block=300)
    for row in (1, 2, 700, N - 1):  # rows 1 and 2 see fewer than 4 keys: the rest weigh 0
        np.testing.assert_allclose(weights[row], np.sort(attention[0, 2, row])[::-1][:4], atol=1e-5)
        np.testing.assert_allclose(attention[0, 2, row, keys[row]], weights[row], atol=1e-5)
    # Blocks above the diagonal are skipped, not computed: the tile still matches the model's attention.
    tile = pooled_tile(head, lse, slice(0, N), slice(0, N), 97, 131, block=300)
    np.testing.assert_allclose(tile, max_pool_by_loop(attention[0, 2], 97, 131), atol=1e-5)
