"""Every supported model family, through the real loading code, on tiny random models.

The models (see conftest.py) are saved to disk and loaded back with
``load_model(path)``, so these tests cover what a user's local directory or hub
id goes through: the auto classes, eager attention, the family's own tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from attnwidget.core.stack import CROSS, DECODER, ENCODER, SELF, AttentionStack
from attnwidget.core.tokens import display_tokens
from attnwidget.sources.forward import extract
from attnwidget.sources.models import LoadedModel

TinyModel = Callable[[str], LoadedModel]
Family = Any  # conftest.Family: name, kind, layers, heads, decoder_layers, decoder_heads, word_start

SENTENCE = "He went to the bank to deposit money."
SENTENCE_B = "The river bank was muddy."
SHORT_A, SHORT_B = "He went to the bank.", "The river bank."  # fits every tiny model as a pair
TARGET = "Das Haus ist klein."
LONG = "The quick brown fox jumps over the lazy dog. " * 12


def assert_rows_are_distributions(stack: AttentionStack) -> None:
    assert (stack.attention >= 0).all()
    np.testing.assert_allclose(stack.attention.sum(axis=-1), 1.0, atol=1e-5, err_msg=stack.name)


# ---- encoder-only and decoder-only: one "self" stack ------------------------------------------


def test_self_attention_has_the_models_layers_heads_and_tokens(tiny_model: TinyModel, self_attention_family: Family) -> None:
    expected = self_attention_family
    loaded = tiny_model(expected.name)
    input_ids = loaded.tokenizer(SENTENCE)["input_ids"]
    n = len(input_ids)

    extraction = extract(loaded, SENTENCE)

    assert list(extraction.stacks) == [SELF]
    stack = extraction.main
    assert stack.attention.shape == (expected.layers, expected.heads, n, n)
    assert stack.row_tokens == stack.col_tokens == loaded.tokenizer.convert_ids_to_tokens(input_ids)
    assert extraction.shapes["attentions"] == [expected.layers, 1, expected.heads, n, n]
    assert extraction.shapes["input_ids"] == [1, n]
    assert extraction.notes == []
    assert_rows_are_distributions(stack)


def test_encoders_attend_both_ways(tiny_model: TinyModel, encoder_family: Family) -> None:
    stack = extract(tiny_model(encoder_family.name), SENTENCE).main
    assert stack.causal is False
    assert np.triu(stack.attention, k=1).any()


def test_decoders_are_causal_with_zeros_above_the_diagonal(tiny_model: TinyModel, decoder_family: Family) -> None:
    stack = extract(tiny_model(decoder_family.name), SENTENCE).main
    assert stack.causal is True
    assert not np.triu(stack.attention, k=1).any()
    n = stack.attention.shape[-1]
    at_or_before = np.tril(np.ones((n, n), dtype=bool))
    assert (stack.attention[..., at_or_before] > 0).all()  # and every earlier token gets some weight


def test_gpt2_input_starts_with_the_first_word_and_has_no_special_tokens(tiny_model: TinyModel) -> None:
    stack = extract(tiny_model("gpt2"), SENTENCE).main
    assert stack.row_tokens[0] == "He"  # GPT-2 adds no BOS
    assert not any(stack.row_special)


def test_llama_input_starts_with_bos_flagged_special(tiny_model: TinyModel) -> None:
    stack = extract(tiny_model("llama"), SENTENCE).main
    assert stack.row_tokens[0] == "<s>"
    assert stack.row_special[0] and not any(stack.row_special[1:])


def test_a_single_token_input_works_for_a_decoder(tiny_model: TinyModel) -> None:
    stack = extract(tiny_model("gpt2"), "He").main
    assert stack.attention.shape == (2, 4, 1, 1)
    assert stack.attention[..., 0, 0] == pytest.approx(1.0)


def test_albert_shares_one_layer_but_returns_attention_for_every_pass(tiny_model: TinyModel) -> None:
    loaded = tiny_model("albert")
    assert loaded.model.config.num_hidden_groups == 1
    attention = extract(loaded, SENTENCE).main.attention
    assert attention.shape[0] == 3
    assert not np.array_equal(attention[0], attention[1])  # the same weights, different inputs


def test_labels_are_readable_without_raw_word_start_marks(tiny_model: TinyModel, word_start_family: Family) -> None:
    loaded = tiny_model(word_start_family.name)
    target = TARGET if loaded.is_encoder_decoder else None
    extraction = extract(loaded, SENTENCE, target=target)
    for stack in extraction.stacks.values():
        raw = stack.row_tokens + stack.col_tokens
        assert any(word_start_family.word_start in token for token in raw)  # the marks were there
        labels = display_tokens(raw)
        assert not any("Ġ" in label or "▁" in label for label in labels)
    words = "".join(display_tokens(extraction.main.row_tokens))
    assert "went" in words and "bank" in words


# ---- sentence pairs -------------------------------------------------------------------------


def test_pair_boundary_marks_where_sentence_b_begins(tiny_model: TinyModel, self_attention_family: Family) -> None:
    loaded = tiny_model(self_attention_family.name)
    stack = extract(loaded, SHORT_A, sentence_b=SHORT_B).main
    b_start = stack.row_b_start
    assert b_start is not None and b_start == stack.col_b_start
    assert len(stack.row_tokens) == len(loaded.tokenizer(SHORT_A, SHORT_B)["input_ids"])
    ids = loaded.tokenizer.convert_tokens_to_ids(stack.row_tokens)
    a_ids = loaded.tokenizer(SHORT_A, add_special_tokens=False)["input_ids"]
    b_ids = loaded.tokenizer(SHORT_B, add_special_tokens=False)["input_ids"]
    assert ids[b_start : b_start + len(b_ids)] == b_ids  # sentence B, as the tokenizer spells it alone
    assert set(a_ids) <= set(ids[:b_start]) and not stack.row_special[b_start]


def test_bert_pair_boundary_is_where_token_type_ids_turn_to_one(tiny_model: TinyModel) -> None:
    loaded = tiny_model("bert")
    type_ids = loaded.tokenizer(SENTENCE, SENTENCE_B)["token_type_ids"]
    assert extract(loaded, SENTENCE, sentence_b=SENTENCE_B).main.row_b_start == type_ids.index(1)


def test_roberta_pair_boundary_is_found_without_token_type_ids(tiny_model: TinyModel) -> None:
    loaded = tiny_model("roberta")
    assert "token_type_ids" not in loaded.tokenizer(SENTENCE, SENTENCE_B)
    stack = extract(loaded, SENTENCE, sentence_b=SENTENCE_B).main
    assert stack.row_tokens[stack.row_b_start - 2 : stack.row_b_start + 1] == ["</s>", "</s>", "The"]


@pytest.mark.parametrize("family", ["bert", "roberta", "gpt2"])
def test_pair_blocks_tile_the_full_matrix(tiny_model: TinyModel, family: str) -> None:
    stack = extract(tiny_model(family), SENTENCE, sentence_b=SENTENCE_B).main
    b = stack.row_b_start
    full = stack.attention
    blocks = [[full[..., :b, :b], full[..., :b, b:]], [full[..., b:, :b], full[..., b:, b:]]]
    np.testing.assert_array_equal(np.block(blocks), full)
    assert sum(block.size for row in blocks for block in row) == full.size


def test_decoder_pair_sentence_a_never_attends_to_sentence_b(tiny_model: TinyModel) -> None:
    stack = extract(tiny_model("llama"), SENTENCE, sentence_b=SENTENCE_B).main
    b = stack.row_b_start
    assert not stack.attention[..., :b, b:].any()
    assert stack.attention[..., b:, :b].all()


# ---- truncation --------------------------------------------------------------------------------


def test_long_input_is_truncated_to_the_model_limit_with_a_note(
    tiny_model: TinyModel, self_attention_family: Family, max_positions: int
) -> None:
    loaded = tiny_model(self_attention_family.name)
    full_length = len(loaded.tokenizer(LONG)["input_ids"])
    extraction = extract(loaded, LONG)
    assert extraction.main.attention.shape[-2:] == (max_positions, max_positions)
    assert extraction.notes == [
        f"showing the first {max_positions} of {full_length} tokens ({loaded.name} accepts at most {max_positions})"
    ]


def test_roberta_limit_leaves_out_the_position_rows_reserved_for_padding(tiny_model: TinyModel, max_positions: int) -> None:
    loaded = tiny_model("roberta")
    assert loaded.model.config.max_position_embeddings == max_positions + 2
    assert loaded.max_tokens == max_positions


@pytest.mark.parametrize("family", ["bert", "roberta", "llama"])
def test_long_pair_is_truncated_with_a_note_saying_how(tiny_model: TinyModel, family: str, max_positions: int) -> None:
    loaded = tiny_model(family)
    full_length = len(loaded.tokenizer(LONG, SENTENCE_B)["input_ids"])
    extraction = extract(loaded, LONG, sentence_b=SENTENCE_B)
    stack = extraction.main
    assert stack.attention.shape[-1] == max_positions
    assert stack.row_b_start is not None  # the short sentence B survives: the longer one is cut
    expected = f"showing {max_positions} of {full_length} tokens: the longer sentence is cut"
    assert extraction.notes[0].startswith(expected)


def test_long_source_is_truncated_with_a_note(tiny_model: TinyModel, encoder_decoder_family: Family, max_positions: int) -> None:
    loaded = tiny_model(encoder_decoder_family.name)
    full_length = len(loaded.tokenizer(LONG)["input_ids"])
    extraction = extract(loaded, LONG, target=TARGET)
    assert extraction.stacks[ENCODER].attention.shape[-1] == max_positions
    assert extraction.stacks[CROSS].attention.shape[-1] == max_positions
    limit = f"({loaded.name} accepts at most {max_positions})"
    assert extraction.notes == [f"showing the first {max_positions} of {full_length} source tokens {limit}"]


# ---- encoder-decoders ---------------------------------------------------------------------------


def test_encoder_decoder_gives_encoder_decoder_and_cross_stacks(tiny_model: TinyModel, encoder_decoder_family: Family) -> None:
    expected = encoder_decoder_family
    loaded = tiny_model(expected.name)
    source = len(loaded.tokenizer(SENTENCE)["input_ids"])
    target = len(loaded.tokenizer(text_target=TARGET)["input_ids"])  # shifted right: same length

    extraction = extract(loaded, SENTENCE, target=TARGET)

    assert list(extraction.stacks) == [ENCODER, DECODER, CROSS]
    encoder, decoder, cross = extraction.stacks.values()
    assert encoder.attention.shape == (expected.layers, expected.heads, source, source)
    assert decoder.attention.shape == (expected.decoder_layers, expected.decoder_heads, target, target)
    assert cross.attention.shape == (expected.decoder_layers, expected.decoder_heads, target, source)
    assert (encoder.causal, decoder.causal, cross.causal) == (False, True, False)
    assert not np.triu(decoder.attention, k=1).any()
    assert cross.row_tokens == decoder.row_tokens and cross.col_tokens == encoder.row_tokens
    assert cross.row_special == decoder.row_special and cross.col_special == encoder.row_special
    for stack in (encoder, decoder, cross):
        assert_rows_are_distributions(stack)
    assert extraction.shapes == {
        "input_ids": [1, source],
        "decoder_input_ids": [1, target],
        "encoder_last_hidden_state": [1, source, 32],
        "logits": [1, target, loaded.model.config.vocab_size],
        "encoder_attentions": [expected.layers, 1, expected.heads, source, source],
        "decoder_attentions": [expected.decoder_layers, 1, expected.decoder_heads, target, target],
        "cross_attentions": [expected.decoder_layers, 1, expected.decoder_heads, target, source],
    }
    assert extraction.notes == []


@pytest.mark.parametrize(("family", "start"), [("t5", "<pad>"), ("bart", "</s>"), ("marian", "<pad>")])
def test_decoder_tokens_are_the_target_shifted_behind_the_start_token(tiny_model: TinyModel, family: str, start: str) -> None:
    loaded = tiny_model(family)
    labels = loaded.tokenizer(text_target=TARGET)["input_ids"]
    decoder = extract(loaded, SENTENCE, target=TARGET).stacks[DECODER]
    assert decoder.row_tokens == [start, *loaded.tokenizer.convert_ids_to_tokens(labels[:-1])]
    assert decoder.row_special[0] is True


def test_missing_target_is_generated_greedily_with_a_note(tiny_model: TinyModel, encoder_decoder_family: Family) -> None:
    loaded = tiny_model(encoder_decoder_family.name)
    extraction = extract(loaded, SENTENCE)
    assert list(extraction.stacks) == [ENCODER, DECODER, CROSS]
    (note,) = extraction.notes
    assert note.startswith("target generated by greedy decoding: ")
    decoder = extraction.stacks[DECODER]
    n_target = len(decoder.row_tokens)
    assert 1 <= n_target <= 20  # the start token plus at most 19 generated tokens the decoder read
    start_id = loaded.model.generation_config.decoder_start_token_id
    assert decoder.row_tokens[0] == loaded.tokenizer.convert_ids_to_tokens(start_id)
    assert extraction.stacks[CROSS].attention.shape[-2:] == (n_target, len(extraction.stacks[ENCODER].row_tokens))
    assert extraction.shapes["decoder_input_ids"] == [1, n_target]


def test_generated_target_gives_the_same_attention_as_passing_its_tokens(tiny_model: TinyModel) -> None:
    """The decoder input after generation is what teacher forcing on that output would feed."""
    import torch

    loaded = tiny_model("marian")
    extraction = extract(loaded, SENTENCE)
    decoder_ids = loaded.tokenizer.convert_tokens_to_ids(extraction.stacks[DECODER].row_tokens)
    encoded = loaded.tokenizer(SENTENCE, return_tensors="pt")
    with torch.no_grad():
        output = loaded.model(**encoded, decoder_input_ids=torch.tensor([decoder_ids]), output_attentions=True)
    expected = output.cross_attentions[-1][0].numpy()
    np.testing.assert_allclose(extraction.stacks[CROSS].attention[-1], expected, atol=1e-6)


def test_sentence_pair_is_refused_for_encoder_decoders(tiny_model: TinyModel, encoder_decoder_family: Family) -> None:
    with pytest.raises(ValueError, match="encoder-decoder model.*pass the decoder's text as target="):
        extract(tiny_model(encoder_decoder_family.name), SENTENCE, sentence_b=SENTENCE_B)


def test_blank_target_is_refused(tiny_model: TinyModel) -> None:
    with pytest.raises(ValueError, match="target is empty"):
        extract(tiny_model("t5"), SENTENCE, target="  ")


def test_target_is_refused_for_decoder_only_models(tiny_model: TinyModel, decoder_family: Family) -> None:
    with pytest.raises(ValueError, match="target= is for encoder-decoder models"):
        extract(tiny_model(decoder_family.name), SENTENCE, target=TARGET)


def test_encoder_decoder_budget_counts_all_three_stacks(tiny_model: TinyModel) -> None:
    loaded = tiny_model("bart")
    with pytest.raises(ValueError, match=r"over the budget") as raised:
        extract(loaded, SENTENCE, target=TARGET, max_attention_bytes=5_000)
    assert str(raised.value).count("layers ×") in (1, 3)  # encoder alone, or encoder + decoder + cross


# ---- (model, tokenizer) pairs the user loaded ------------------------------------------------------


def test_a_user_loaded_model_with_a_head_works_and_reports_its_logits(tiny_model_dir) -> None:
    from transformers import AutoTokenizer, GPT2LMHeadModel

    directory = tiny_model_dir("gpt2")
    pair = (GPT2LMHeadModel.from_pretrained(directory), AutoTokenizer.from_pretrained(directory))
    extraction = extract(pair, SENTENCE)
    n = extraction.main.attention.shape[-1]
    assert extraction.shapes["logits"] == [1, n, pair[0].config.vocab_size]
    assert extraction.main.causal is True


def test_an_encoder_decoder_without_a_language_model_head_needs_a_target(tiny_model_dir) -> None:
    from transformers import AutoTokenizer, T5Model

    directory = tiny_model_dir("t5")
    pair = (T5Model.from_pretrained(directory), AutoTokenizer.from_pretrained(directory))
    with pytest.raises(ValueError, match="cannot generate a target .*pass target="):
        extract(pair, SENTENCE)
    extraction = extract(pair, SENTENCE, target=TARGET)
    assert "last_hidden_state" in extraction.shapes and list(extraction.stacks) == [ENCODER, DECODER, CROSS]
