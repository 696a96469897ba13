"""Extraction from the real pretrained all-MiniLM-L6-v2 ("offline"), and every bad input.

The central check recomputes each head's attention from the model's own query
and key projections, so a mix-up of layers, heads, rows or columns anywhere
between the forward pass and the numpy array cannot pass.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from attnwidget import AttentionWidget
from attnwidget.core.stack import SELF, Extraction
from attnwidget.sources.forward import extract, stack_layers
from attnwidget.sources.models import LoadedModel, load_model
from attnwidget.sources.tensors import extraction_from_tensors

SENTENCE = "He went to the bank to deposit money."


@pytest.fixture(scope="module")
def extraction(offline: LoadedModel) -> Extraction:
    return extract(offline, SENTENCE)


@pytest.fixture(scope="module")
def input_ids(offline: LoadedModel) -> list[int]:
    return offline.tokenizer(SENTENCE)["input_ids"]


# ---- what comes out ------------------------------------------------------------------------


def test_one_self_attention_matrix_per_layer_and_head(extraction: Extraction, input_ids: list[int]) -> None:
    n = len(input_ids)
    assert list(extraction.stacks) == [SELF]
    attention = extraction.main.attention
    assert attention.shape == (6, 12, n, n)
    assert attention.dtype == np.float32 and attention.flags.c_contiguous


def test_shapes_are_the_ones_the_tutorials_print(extraction: Extraction, input_ids: list[int]) -> None:
    n = len(input_ids)
    assert extraction.shapes == {
        "input_ids": [1, n],
        "last_hidden_state": [1, n, 384],
        "hidden_states": [7, 1, n, 384],
        "attentions": [6, 1, 12, n, n],
    }
    assert extraction.model_name == "offline"


def test_every_row_is_a_probability_distribution(extraction: Extraction) -> None:
    attention = extraction.main.attention
    assert (attention >= 0).all()
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)


def test_tokens_are_exactly_the_tokenizers_own(extraction: Extraction, offline: LoadedModel, input_ids: list[int]) -> None:
    expected = offline.tokenizer.convert_ids_to_tokens(input_ids)
    assert extraction.main.row_tokens == expected == extraction.main.col_tokens
    assert expected[0] == "[CLS]" and expected[-1] == "[SEP]" and "bank" in expected


def test_only_cls_and_sep_are_flagged_special(extraction: Extraction) -> None:
    stack = extraction.main
    flagged = [token for token, special in zip(stack.row_tokens, stack.row_special) if special]
    assert flagged == ["[CLS]", "[SEP]"]
    assert stack.col_special == stack.row_special


def test_a_bidirectional_encoder_is_not_marked_causal(extraction: Extraction) -> None:
    assert extraction.main.causal is False
    assert extraction.notes == []


def test_layers_are_the_models_own_arrays_not_a_copy(offline: LoadedModel) -> None:
    encoded = offline.tokenizer(SENTENCE, return_tensors="pt")
    with torch.no_grad():
        returned = offline.model(**encoded, output_attentions=True).attentions
    layers = stack_layers(returned, offline.name)
    assert len(layers) == len(returned)
    for layer, tensor in zip(layers, returned):
        assert np.shares_memory(layer, tensor.numpy())  # a view of the model's memory
        np.testing.assert_array_equal(layer, tensor[0].numpy())


def test_the_whole_attention_block_is_built_only_when_asked_for(offline: LoadedModel) -> None:
    widget = AttentionWidget(SENTENCE, model=offline)
    stack = widget.extraction.main
    assert "attention" not in vars(stack)  # the ready path quantised layer by layer
    whole = widget.attention
    assert whole.shape == (len(stack.layers), *stack.layers[0].shape) and whole.dtype == np.float32
    for index, layer in enumerate(stack.layers):
        np.testing.assert_array_equal(whole[index], layer)
    assert widget.attention is whole  # built once
    widget.close()


def test_attention_given_as_one_array_is_given_back_without_a_copy() -> None:
    given = np.full((2, 3, 4, 4), 0.25, dtype=np.float32)
    stack = extraction_from_tensors(given, ["a", "b", "c", "d"]).main
    np.testing.assert_array_equal(stack.attention, given)
    assert all(np.shares_memory(stack.attention, layer) for layer in stack.layers)  # no second block


def test_attention_equals_softmax_of_the_models_own_queries_and_keys(offline: LoadedModel) -> None:
    """softmax(QKᵀ/√d + mask) from each layer's input, for every layer and head."""
    model, tokenizer = offline.model, offline.tokenizer
    encoded = tokenizer(SENTENCE, return_tensors="pt")
    with torch.no_grad():
        hidden_states = model(**encoded, output_hidden_states=True).hidden_states
    extracted = extract(offline, SENTENCE).main.attention
    heads = model.config.num_attention_heads
    head_size = model.config.hidden_size // heads
    # BERT's additive mask: 0 where attending is allowed, a huge negative number elsewhere.
    mask = (1.0 - encoded["attention_mask"][:, None, None, :].float()) * torch.finfo(torch.float32).min

    def split_heads(projected: torch.Tensor) -> torch.Tensor:  # (1, n, hidden) -> (1, heads, n, head_size)
        return projected.view(1, -1, heads, head_size).transpose(1, 2)

    with torch.no_grad():
        for index, layer in enumerate(model.encoder.layer):
            projections = layer.attention.self  # BertSelfAttention: query, key, value Linear modules
            query = split_heads(projections.query(hidden_states[index]))
            key = split_heads(projections.key(hidden_states[index]))
            scores = query @ key.transpose(-1, -2) / math.sqrt(head_size) + mask
            expected = torch.softmax(scores, dim=-1)[0].numpy()
            np.testing.assert_allclose(extracted[index], expected, atol=1e-5, err_msg=f"layer {index}")


def test_sentence_pair_boundary_follows_token_type_ids(offline: LoadedModel) -> None:
    extraction = extract(offline, "The cat sat.", sentence_b="It was tired.")
    type_ids = offline.tokenizer("The cat sat.", "It was tired.")["token_type_ids"]
    stack = extraction.main
    assert stack.row_b_start == stack.col_b_start == type_ids.index(1)
    assert stack.row_tokens[stack.row_b_start - 1] == "[SEP]" and stack.row_tokens[stack.row_b_start] == "it"


def test_a_single_sentence_has_no_pair_boundary(extraction: Extraction) -> None:
    assert extraction.main.row_b_start is None and extraction.main.col_b_start is None


# ---- long inputs -----------------------------------------------------------------------------


def test_input_longer_than_512_tokens_is_truncated_with_a_note(offline: LoadedModel) -> None:
    text = "the bank " * 300
    full_length = len(offline.tokenizer(text)["input_ids"])
    assert full_length > 512
    extraction = extract(offline, text)
    assert extraction.main.attention.shape == (6, 12, 512, 512)
    assert extraction.main.row_tokens[-1] == "[SEP]"  # truncation keeps the closing special token
    assert extraction.notes == [f"showing the first 512 of {full_length} tokens (offline accepts at most 512)"]


def test_attention_over_the_memory_budget_is_refused_before_the_forward_pass(offline: LoadedModel) -> None:
    def forward_must_not_run(*_args: object) -> None:
        raise AssertionError("the forward pass ran although the budget check should have stopped it")

    hook = offline.model.register_forward_pre_hook(forward_must_not_run)
    try:
        with pytest.raises(ValueError, match=r"over the budget .*max_attention_bytes") as raised:
            extract(offline, SENTENCE, max_attention_bytes=10_000)
    finally:
        hook.remove()
    assert "6 layers × 12 heads" in str(raised.value)


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", ["", "   ", "\n\t "])
def test_empty_or_blank_sentence_is_refused(offline: LoadedModel, sentence: str) -> None:
    with pytest.raises(ValueError, match="sentence is empty"):
        extract(offline, sentence)


@pytest.mark.parametrize("sentence", [None, 42, b"bytes", ["a", "list"]])
def test_sentence_that_is_not_a_string_is_refused(offline: LoadedModel, sentence: object) -> None:
    with pytest.raises(ValueError, match=f"sentence must be a string, got {type(sentence).__name__}"):
        extract(offline, sentence)  # type: ignore[arg-type]


def test_blank_second_sentence_is_refused(offline: LoadedModel) -> None:
    with pytest.raises(ValueError, match="sentence_b is empty"):
        extract(offline, SENTENCE, sentence_b=" ")


def test_target_is_refused_for_an_encoder_only_model(offline: LoadedModel) -> None:
    with pytest.raises(ValueError, match="target= is for encoder-decoder models"):
        extract(offline, SENTENCE, target="Er ging zur Bank.")


def test_missing_local_path_fails_at_once_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config lookup (which would mean hub retries) happens for a path that does not exist."""
    import transformers

    def no_lookup(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a missing local path reached transformers")

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", no_lookup)
    missing = tmp_path / "no-such-model"
    with pytest.raises(OSError, match="does not exist") as raised:
        extract(str(missing), SENTENCE)
    assert str(missing) in str(raised.value)


def test_a_file_given_as_model_path_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "config.json"
    file.write_text("{}")
    with pytest.raises(OSError, match="is a file"):
        load_model(str(file))


@pytest.mark.parametrize("model", ["", "   "])
def test_empty_model_name_is_refused(model: str) -> None:
    with pytest.raises(ValueError, match="model name is empty"):
        load_model(model)


def test_model_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError, match="model must be a Hugging Face id"):
        load_model(42)  # type: ignore[arg-type]


def test_model_that_returns_no_attention_weights_is_refused(offline: LoadedModel) -> None:
    from transformers import AutoModel

    path = offline.model.config._name_or_path
    sdpa_model = AutoModel.from_pretrained(path, attn_implementation="sdpa").eval()
    unpatched = LoadedModel(model=sdpa_model, tokenizer=offline.tokenizer, name="sdpa-minilm")
    with pytest.raises(ValueError, match="'sdpa-minilm' returned no attention weights.*attn_implementation='eager'"):
        extract(unpatched, SENTENCE)


def test_a_model_tokenizer_pair_loaded_with_sdpa_is_switched_to_eager(offline: LoadedModel) -> None:
    from transformers import AutoModel

    path = offline.model.config._name_or_path
    sdpa_model = AutoModel.from_pretrained(path, attn_implementation="sdpa")
    extraction = extract((sdpa_model, offline.tokenizer), SENTENCE)
    np.testing.assert_allclose(extraction.main.attention, extract(offline, SENTENCE).main.attention, atol=1e-6)


def test_vision_model_is_refused_naming_what_was_expected(tmp_path: Path) -> None:
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, image_size=16, patch_size=8
    )
    ViTModel(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"'vit' model that reads pixel_values, not text.*expected a text Transformer"):
        load_model(str(tmp_path))


def test_model_kind_outside_every_text_mapping_is_refused_before_loading_weights(tmp_path: Path) -> None:
    from transformers import BertConfig, VisionEncoderDecoderConfig, ViTConfig

    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(ViTConfig(), BertConfig())
    config.save_pretrained(tmp_path)  # a config only: failing later would be an OSError about weights
    with pytest.raises(ValueError, match=r"'vision-encoder-decoder' model, which attnwidget cannot show"):
        load_model(str(tmp_path))
