"""TransformerLens caches and CircuitsVis arrays: tiny models built from a config (no download)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnwidget import AttentionWidget

transformer_lens = pytest.importorskip("transformer_lens")
from transformer_lens.model_bridge.sources.native import boot  # noqa: E402  (TransformerLens 4.x)

N_LAYERS, N_HEADS, D_HEAD = 2, 4, 8
TOKENS = ["<s>", "He", " went", " to", " the", " bank"]


def tiny_bridge(positional_embedding: str = "standard"):
    config = dict(
        n_layers=N_LAYERS,
        d_model=32,
        n_ctx=64,
        d_head=D_HEAD,
        n_heads=N_HEADS,
        d_vocab=50,
        act_fn="gelu",
        positional_embedding_type=positional_embedding,
        normalization_type="LN",
        seed=0,
    )
    return boot(config)


def run_with_cache(positional_embedding: str = "standard"):
    _, cache = tiny_bridge(positional_embedding).run_with_cache(torch.tensor([[1, 7, 3, 9, 4, 5]]))
    return cache


@pytest.fixture(scope="module")
def cache():
    return run_with_cache()


def test_from_cache_shows_every_layers_pattern(cache) -> None:
    widget = AttentionWidget.from_cache(cache, TOKENS)
    assert widget.attention.shape == (N_LAYERS, N_HEADS, 6, 6)
    for layer in range(N_LAYERS):
        expected = cache[f"blocks.{layer}.attn.hook_pattern"][0].numpy()
        np.testing.assert_array_equal(widget.attention[layer], expected)
    assert widget.tokens == TOKENS


def test_from_cache_works_without_the_batch_dimension(cache) -> None:
    unbatched = run_with_cache().remove_batch_dim()  # changes the cache in place
    assert unbatched["blocks.1.attn.hook_pattern"].ndim == 3
    widget = AttentionWidget.from_cache(unbatched, TOKENS)
    np.testing.assert_array_equal(widget.attention[1], cache["blocks.1.attn.hook_pattern"][0].numpy())
    np.testing.assert_array_equal(widget.qk(1, 0).q, cache["blocks.1.attn.hook_q"][0, :, 0].numpy())


def test_the_neuron_view_uses_the_caches_queries_and_keys(cache) -> None:
    widget = AttentionWidget.from_cache(cache, TOKENS)
    q, k, scale, bias = widget.qk(1, 2)
    np.testing.assert_array_equal(q, cache["blocks.1.attn.hook_q"][0, :, 2].numpy())
    np.testing.assert_array_equal(k, cache["blocks.1.attn.hook_k"][0, :, 2].numpy())
    assert scale == pytest.approx(D_HEAD**-0.5)
    # Recomputed here, row by row: the softmax of the cached q and k is the cached pattern.
    for row in range(6):
        scores = np.array([np.dot(q[row], k[col]) * scale + bias[row, col] for col in range(6)], dtype=np.float64)
        weights = np.exp(scores - scores.max())
        np.testing.assert_allclose(weights / weights.sum(), widget.attention[1, 2, row], atol=1e-5)


def test_rotary_queries_without_hook_rot_q_are_not_passed_off_as_the_scores() -> None:
    widget = AttentionWidget.from_cache(run_with_cache("rotary"), TOKENS)
    assert widget.attention.shape == (N_LAYERS, N_HEADS, 6, 6)  # the patterns are still shown
    with pytest.raises(ValueError, match="not available for this ActivationCache: the softmax of its q and k differs"):
        widget.qk(0, 0)


def test_a_cache_of_rotated_queries_is_used_after_the_rotation(cache) -> None:
    # A faithful stand-in for TransformerLens 3's HookedTransformer cache with rotary embeddings:
    # hook_q is before the rotation, hook_rot_q after it; only the rotated ones reproduce the pattern.
    rotated = dict(cache.items())
    for layer in range(N_LAYERS):
        for what in ("q", "k"):
            rotated[f"blocks.{layer}.attn.hook_rot_{what}"] = cache[f"blocks.{layer}.attn.hook_{what}"]
            rotated[f"blocks.{layer}.attn.hook_{what}"] = torch.randn_like(cache[f"blocks.{layer}.attn.hook_{what}"])
    widget = AttentionWidget.from_cache(rotated, TOKENS)
    np.testing.assert_array_equal(widget.qk(0, 1).q, cache["blocks.0.attn.hook_q"][0, :, 1].numpy())


def test_a_cache_without_patterns_or_with_a_batch_is_refused_clearly(cache) -> None:
    with pytest.raises(ValueError, match="no attention patterns"):
        AttentionWidget.from_cache({"blocks.0.hook_resid_pre": torch.zeros(1, 6, 32)}, TOKENS)
    batched = {name: torch.cat([value, value]) for name, value in cache.items() if "hook_pattern" in name}
    with pytest.raises(ValueError, match="batch size 2"):
        AttentionWidget.from_cache(batched, TOKENS)
    with pytest.raises(ValueError, match="must be a TransformerLens ActivationCache"):
        AttentionWidget.from_cache([1, 2], TOKENS)


def test_from_attentions_takes_circuitsvis_one_layer_arrays(cache) -> None:
    pattern = cache["blocks.0.attn.hook_pattern"][0]  # (heads, dest, src), as circuitsvis.attention_patterns takes it
    widget = AttentionWidget.from_attentions(pattern, TOKENS)
    assert widget.attention.shape == (1, N_HEADS, 6, 6)
    np.testing.assert_array_equal(widget.attention[0], pattern.numpy())


def test_from_attentions_given_a_cache_reads_it_as_from_cache_does(cache) -> None:
    widget = AttentionWidget.from_attentions(cache, TOKENS)  # it used to fail with "dtype <U30"
    assert widget.attention.shape == (N_LAYERS, N_HEADS, 6, 6)


def test_from_cache_checks_the_budget_before_converting_a_pattern(cache, monkeypatch) -> None:
    import attnwidget.sources.lens as lens

    monkeypatch.setattr(lens, "_one_example", lambda *args, **kwargs: pytest.fail("converted before the check"))
    # 2 layers × 4 heads × 6 × 6 × 4 bytes = 1,152 bytes as float32
    with pytest.raises(ValueError, match=r"1.2 kB \(2 layers × 4 heads × 6 × 6 × 4 bytes\), over the budget of 1.0 kB"):
        AttentionWidget.from_cache(cache, TOKENS, max_attention_bytes=1000)
    with pytest.raises(ValueError, match="over the budget"):
        AttentionWidget.from_attentions(cache, TOKENS, max_attention_bytes=1000)


def test_the_widget_keeps_its_own_copy_of_the_caches_patterns() -> None:
    cache = run_with_cache()
    original = cache["blocks.0.attn.hook_pattern"][0].numpy().copy()
    widget = AttentionWidget.from_cache(cache, TOKENS)
    cache["blocks.0.attn.hook_pattern"].zero_()
    np.testing.assert_array_equal(widget.attention[0], original)
    assert not widget.attention.flags.writeable


def test_a_circuitsvis_array_over_the_budget_is_refused_before_converting(monkeypatch) -> None:
    import attnwidget.sources.tensors as tensors

    monkeypatch.setattr(tensors, "attention_array", lambda *args, **kwargs: pytest.fail("converted before the check"))
    pattern = torch.zeros((12, 64, 64), dtype=torch.float16)  # (heads, dest, src): 196,608 bytes as float32
    with pytest.raises(ValueError, match="196.6 kB.*1 layers × 12 heads.*over the budget of 100.0 kB"):
        AttentionWidget.from_attentions(pattern, ["t"] * 64, max_attention_bytes=100_000)
