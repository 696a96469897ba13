"""Attention the user already has: ``extraction_from_tensors`` and the BertViz-compatible views."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from attnwidget.bertviz import head_view, model_view
from attnwidget.core.stack import CROSS, DECODER, ENCODER, Extraction
from attnwidget.sources.forward import extract
from attnwidget.sources.models import LoadedModel
from attnwidget.sources.tensors import extraction_from_tensors

TOKENS = ["[CLS]", "the", "bank", "[SEP]"]
HOSTILE_TOKENS = [
    "<script>alert(1)</script>",
    "\"quoted\" 'single'",
    "line\nbreak\ttab",
    "😀👍🏽",
    "שלום",
    "\u202eevil",  # right-to-left override
    "&amp; <b>bold</b>",
    "",
]


def probabilities(*shape: int, seed: int = 0) -> np.ndarray:
    """Random float32 rows that sum to 1, like real attention."""
    values = np.random.default_rng(seed).random(shape, dtype=np.float32) + 0.01
    return values / values.sum(axis=-1, keepdims=True)


def hf_tuple(layers: int, heads: int, rows: int, cols: int | None = None) -> tuple[torch.Tensor, ...]:
    """What ``model(..., output_attentions=True).attentions`` looks like: one (1, heads, rows, cols) per layer."""
    stacked = torch.from_numpy(probabilities(layers, 1, heads, rows, cols or rows))
    return tuple(stacked.unbind(0))


@pytest.fixture(scope="module")
def offline_attentions(offline: LoadedModel) -> tuple[tuple[torch.Tensor, ...], list[str]]:
    """Real HF attentions and tokens, exactly as the BertViz tutorials get them."""
    encoded = offline.tokenizer("The cat sat on the mat.", "It was tired.", return_tensors="pt")
    with torch.no_grad():
        attentions = offline.model(**encoded, output_attentions=True).attentions
    return attentions, offline.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])


# ---- exactly the numbers given ---------------------------------------------------------------


def test_hf_tuple_is_shown_bit_for_bit(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    extraction = extraction_from_tensors(attentions, tokens)
    expected = torch.stack([layer[0] for layer in attentions]).numpy()
    attention = extraction.main.attention
    assert attention.dtype == np.float32 and attention.flags.c_contiguous
    assert np.array_equal(attention, expected)
    assert extraction.shapes == {"attentions": [6, 1, 12, len(tokens), len(tokens)]}
    assert extraction.model_name == ""
    assert extraction.notes == []


def test_float32_numpy_array_is_used_without_a_copy() -> None:
    given = probabilities(2, 3, 4, 4)
    attention = extraction_from_tensors(given, TOKENS).main.attention
    assert np.shares_memory(attention, given) and np.array_equal(attention, given)


def test_float32_torch_tensor_is_used_without_a_copy() -> None:
    given = torch.from_numpy(probabilities(2, 3, 4, 4))
    attention = extraction_from_tensors(given, TOKENS).main.attention
    assert np.shares_memory(attention, given.numpy()) and np.array_equal(attention, given.numpy())


def test_stacked_five_dimensional_array_is_accepted() -> None:
    given = probabilities(2, 1, 3, 4, 4)
    extraction = extraction_from_tensors(given, TOKENS)
    assert np.array_equal(extraction.main.attention, given[:, 0])
    assert extraction.shapes == {"attentions": [2, 1, 3, 4, 4]}


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_other_float_dtypes_become_float32_values(dtype: type) -> None:
    given = probabilities(2, 3, 4, 4).astype(dtype)
    attention = extraction_from_tensors(given, TOKENS).main.attention
    assert attention.dtype == np.float32
    assert np.array_equal(attention, given.astype(np.float32))


def test_bfloat16_tensors_are_converted_exactly() -> None:
    layers = tuple(layer.to(torch.bfloat16) for layer in hf_tuple(2, 3, 4))
    attention = extraction_from_tensors(layers, TOKENS).main.attention
    assert np.array_equal(attention, torch.stack([layer[0].float() for layer in layers]).numpy())


def test_per_layer_tensors_without_a_batch_dimension_are_accepted() -> None:
    layers = [layer[0] for layer in hf_tuple(2, 3, 4)]
    assert extraction_from_tensors(layers, TOKENS).main.attention.shape == (2, 3, 4, 4)


def test_cross_attention_has_decoder_rows_and_encoder_columns() -> None:
    columns = ["▁Das", "▁Haus", "</s>"]
    extraction = extraction_from_tensors(hf_tuple(2, 3, 4, 3), TOKENS, col_tokens=columns, name=CROSS)
    stack = extraction.stacks[CROSS]
    assert stack.attention.shape == (2, 3, 4, 3)
    assert (stack.row_tokens, stack.col_tokens) == (TOKENS, columns)
    assert stack.col_special == [False, False, True]
    assert extraction.shapes == {"cross_attentions": [2, 1, 3, 4, 3]}


def test_special_tokens_are_guessed_from_their_look() -> None:
    tokens = ["<s>", "He", "<pad>", "</s>"]
    stack = extraction_from_tensors(probabilities(1, 1, 4, 4), tokens).main
    assert stack.row_special == stack.col_special == [True, False, True, True]


def test_hostile_token_strings_are_kept_exactly_as_given() -> None:
    n = len(HOSTILE_TOKENS)
    stack = extraction_from_tensors(probabilities(1, 2, n, n), HOSTILE_TOKENS).main
    assert stack.row_tokens == stack.col_tokens == HOSTILE_TOKENS


def test_sentence_b_start_marks_rows_and_columns(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    b_start = tokens.index("[SEP]") + 1
    stack = extraction_from_tensors(attentions, tokens, sentence_b_start=b_start).main
    assert stack.row_b_start == stack.col_b_start == b_start


def test_lower_triangular_attention_is_recognised_as_causal() -> None:
    given = np.tril(probabilities(1, 2, 4, 4))
    given /= given.sum(axis=-1, keepdims=True)
    assert extraction_from_tensors(given, TOKENS).main.causal is True
    assert extraction_from_tensors(probabilities(1, 2, 4, 4), TOKENS).main.causal is False


# ---- bad input -------------------------------------------------------------------------------------


def test_batch_of_two_in_a_stacked_array_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"batch size 2; pass one example, e\.g\. attention\[:, :1\]"):
        extraction_from_tensors(probabilities(2, 2, 3, 4, 4), TOKENS)


def test_batch_of_two_in_an_hf_tuple_is_refused_with_the_fix() -> None:
    layers = tuple(torch.cat([layer, layer]) for layer in hf_tuple(2, 3, 4))
    fix = r"e\.g\. \[layer\[:1\] for layer in attention\]"
    with pytest.raises(ValueError, match=rf"batch size 2; pass one example, {fix}"):
        extraction_from_tensors(layers, TOKENS)


def test_more_rows_than_tokens_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"attention has 5 rows \(shape \(2, 3, 5, 5\)\) but 4 tokens were given"):
        extraction_from_tensors(probabilities(2, 3, 5, 5), TOKENS)


def test_columns_that_do_not_match_col_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="attention has 4 columns .* but 2 col_tokens were given"):
        extraction_from_tensors(probabilities(2, 3, 4, 4), TOKENS, col_tokens=["a", "b"])


def test_non_square_self_attention_is_refused() -> None:
    with pytest.raises(ValueError, match="attention has 3 columns .* but 4 tokens were given"):
        extraction_from_tensors(probabilities(2, 3, 4, 3), TOKENS)


def test_layers_with_different_head_counts_are_refused() -> None:
    layers = [*hf_tuple(1, 3, 4), *hf_tuple(1, 2, 4)]
    with pytest.raises(ValueError, match="layer 1 has 2 heads, but layer 0 has 3"):
        extraction_from_tensors(layers, TOKENS)


def test_layers_with_different_token_counts_are_refused() -> None:
    layers = [*hf_tuple(1, 3, 4), *hf_tuple(1, 3, 5)]
    with pytest.raises(ValueError, match=r"layer 1 has \(heads, rows, cols\) \(3, 5, 5\), but layer 0 has \(3, 4, 4\)"):
        extraction_from_tensors(layers, TOKENS)


@pytest.mark.parametrize(("bad", "message"), [(np.nan, "NaN values"), (np.inf, "infinite values"), (-np.inf, "infinite values")])
def test_nan_and_infinite_values_are_refused(bad: float, message: str) -> None:
    given = probabilities(2, 3, 4, 4)
    given[1, 2, 3, 0] = bad
    with pytest.raises(ValueError, match=f"{message} \\(in layer 1\\)"):
        extraction_from_tensors(given, TOKENS)


def test_negative_values_are_refused_as_scores_not_probabilities() -> None:
    scores = np.random.default_rng(0).normal(size=(2, 3, 4, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="negative values .*pass softmax weights, not scores"):
        extraction_from_tensors(scores, TOKENS)


def test_rows_that_do_not_sum_to_one_warn_and_add_a_note() -> None:
    given = probabilities(2, 3, 4, 4) * 0.5
    with pytest.warns(UserWarning, match="do not sum to 1") as caught:
        extraction = extraction_from_tensors(given, TOKENS)
    (note,) = extraction.notes
    assert "not attention probabilities" in note and "24 of 24 rows" in note
    assert str(caught[0].message) == note
    assert np.array_equal(extraction.main.attention, given)  # still shown, unchanged


def test_rows_summing_to_one_give_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extraction_from_tensors(probabilities(2, 3, 4, 4), TOKENS)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["[CLS]", "the", 5, "[SEP]"], r"tokens\[2\] is int 5, not a string"),
        (["[CLS]", None, "bank", "[SEP]"], r"tokens\[1\] is NoneType None, not a string"),
        ("[CLS] the bank [SEP]", "tokens must be a list of strings, one per token, got str"),
        (42, "tokens must be a list of strings, one per token, got int"),
        ([], "tokens is empty"),
    ],
)
def test_tokens_that_are_not_a_list_of_strings_are_refused(tokens: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        extraction_from_tensors(probabilities(1, 1, 4, 4), tokens)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attention", "message"),
    [
        (None, "attention is None"),
        ((), "attention is an empty sequence"),
        (probabilities(2, 3), r"or one layer's \(heads, rows, cols\), got \(2, 3\)"),
        (np.array([["a"]]), "attention must hold real numbers, got dtype <U1"),
        (np.zeros((0, 2, 4, 4), dtype=np.float32), "has no layers"),
    ],
    ids=["none", "empty-tuple", "two-dimensional", "strings", "no-layers"],
)
def test_attention_of_the_wrong_form_is_refused(attention: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        extraction_from_tensors(attention, TOKENS)


def test_one_layer_of_heads_as_circuitsvis_takes_it_is_a_single_layer() -> None:
    one_layer = probabilities(3, 4, 4)  # (heads, dest, src)
    stack = extraction_from_tensors(one_layer, TOKENS).main
    assert stack.attention.shape == (1, 3, 4, 4)
    np.testing.assert_array_equal(stack.attention[0], one_layer)


@pytest.mark.parametrize("b_start", [0, 4, -1, 2.5, True])
def test_sentence_b_start_outside_the_tokens_is_refused(b_start: object) -> None:
    with pytest.raises(ValueError, match="sentence_b_start must be"):
        extraction_from_tensors(probabilities(1, 1, 4, 4), TOKENS, sentence_b_start=b_start)  # type: ignore[arg-type]


def test_unknown_stack_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"name must be one of \['self', 'encoder', 'decoder', 'cross'\]"):
        extraction_from_tensors(probabilities(1, 1, 4, 4), TOKENS, name="attn")


# ---- BertViz-compatible head_view and model_view -------------------------------------------------


def test_head_view_with_bertviz_arguments_shows_what_bertviz_would(offline_attentions: tuple) -> None:
    bertviz_util = pytest.importorskip("bertviz.util")
    attentions, tokens = offline_attentions
    b_start = tokens.index("[SEP]") + 1
    widget = head_view(attentions, tokens, sentence_b_start=b_start, layer=2, heads=[3, 1], html_action="widget")
    assert np.array_equal(widget.attention, bertviz_util.format_attention(attentions).numpy())
    assert (widget.layer, widget.heads, widget.tokens) == (2, [1, 3], tokens)
    assert widget.extraction.main.row_b_start == b_start
    assert widget.has_model is False


def test_head_view_include_layers_keeps_those_layers_and_maps_the_layer(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    widget = head_view(attentions, tokens, layer=4, include_layers=[1, 4, 5], html_action="widget")
    expected = torch.stack([attentions[index][0] for index in (1, 4, 5)]).numpy()
    assert np.array_equal(widget.attention, expected)
    assert widget.layer == 1  # model layer 4 is the second kept layer
    assert any("include_layers" in note and "[1, 4, 5]" in note for note in widget.notes)
    assert widget.shapes == {"attentions": [6, 1, 12, len(tokens), len(tokens)]}  # what was passed


def test_head_view_layer_outside_include_layers_is_refused(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    with pytest.raises(ValueError, match=r"layer 0 is not in include_layers: \[1, 2\]"):
        head_view(attentions, tokens, layer=0, include_layers=[1, 2])


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("layer", 6, "layer must be an index between 0 and 5, got 6"),
        ("heads", [12], r"heads has \[12\], but the attention has 12 heads"),
        ("include_layers", [7], r"include_layers has \[7\], but the attention has 6 layers"),
    ],
)
def test_head_view_indices_out_of_range_are_refused(
    offline_attentions: tuple, argument: str, value: object, message: str
) -> None:
    attentions, tokens = offline_attentions
    with pytest.raises(ValueError, match=message):
        head_view(attentions, tokens, **{argument: value})


def test_html_action_widget_gives_the_widget_and_unknown_actions_are_refused(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    widget = head_view(attentions, tokens, html_action="widget")
    assert np.array_equal(widget.attention, torch.stack([layer[0] for layer in attentions]).numpy())
    with pytest.raises(ValueError, match="must be 'view' .*'return' .*'widget' .*got 'html'"):
        head_view(attentions, tokens, html_action="html")


def test_head_view_with_encoder_decoder_arguments_builds_three_stacks(tiny_model) -> None:
    loaded = tiny_model("bart")
    encoded = loaded.tokenizer("He went to the bank.", return_tensors="pt")
    labels = loaded.tokenizer(text_target="Das Haus.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        output = loaded.model(**encoded, labels=labels, output_attentions=True)
    decoder_ids = loaded.model.prepare_decoder_input_ids_from_labels(labels=labels)
    encoder_tokens = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    decoder_tokens = loaded.tokenizer.convert_ids_to_tokens(decoder_ids[0])

    widget = head_view(
        encoder_attention=output.encoder_attentions,
        decoder_attention=output.decoder_attentions,
        cross_attention=output.cross_attentions,
        encoder_tokens=encoder_tokens,
        decoder_tokens=decoder_tokens,
        html_action="widget",
    )

    stacks = widget.extraction.stacks
    assert list(stacks) == [ENCODER, DECODER, CROSS] and widget.stack == ENCODER
    assert np.array_equal(stacks[CROSS].attention, output.cross_attentions[0][0][None].numpy())
    assert (stacks[CROSS].row_tokens, stacks[CROSS].col_tokens) == (decoder_tokens, encoder_tokens)
    assert stacks[DECODER].causal is True
    # The same numbers the extraction of that input and target gives.
    extracted = extract(loaded, "He went to the bank.", target="Das Haus.")
    for name in (ENCODER, DECODER, CROSS):
        np.testing.assert_array_equal(stacks[name].attention, extracted.stacks[name].attention)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "no attention given"),
        ({"attention": hf_tuple(1, 1, 4)}, "'tokens' is required"),
        ({"attention": hf_tuple(1, 1, 4), "tokens": TOKENS, "encoder_tokens": TOKENS}, "not both"),
        ({"encoder_attention": hf_tuple(1, 1, 4)}, "'encoder_tokens' is required with 'encoder_attention'"),
        ({"decoder_attention": hf_tuple(1, 1, 4)}, "'decoder_tokens' is required with 'decoder_attention'"),
        (
            {"cross_attention": hf_tuple(1, 1, 4), "decoder_tokens": TOKENS},
            "'encoder_tokens' is required with 'cross_attention'",
        ),
    ],
    ids=["nothing", "no-tokens", "self-and-encoder-decoder", "no-encoder-tokens", "no-decoder-tokens", "no-encoder"],
)
def test_bertviz_argument_rules_are_kept(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        head_view(**arguments)


def test_model_view_returns_the_same_widget_with_the_chosen_heads(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    widget = model_view(
        attentions, tokens, display_mode="light", include_layers=[0, 5], include_heads=[2, 7], html_action="widget"
    )
    expected = torch.stack([attentions[index][0] for index in (0, 5)]).numpy()[:, [2, 7]]
    assert np.array_equal(widget.attention, expected)
    assert (widget.n_layers, widget.n_heads) == (2, 2)
    assert any("include_heads" in note for note in widget.notes)


def test_model_view_accepts_every_bertviz_argument(offline_attentions: tuple) -> None:
    attentions, tokens = offline_attentions
    widget = model_view(
        attention=attentions,
        tokens=tokens,
        sentence_b_start=None,
        prettify_tokens=False,
        display_mode="dark",
        encoder_attention=None,
        decoder_attention=None,
        cross_attention=None,
        encoder_tokens=None,
        decoder_tokens=None,
        include_layers=None,
        include_heads=None,
        html_action="widget",
    )
    assert np.array_equal(widget.attention, torch.stack([layer[0] for layer in attentions]).numpy())
    assert widget.tokens == tokens
    assert widget.theme == "dark"


def test_widget_from_hostile_tokens_keeps_them_as_text() -> None:
    n = len(HOSTILE_TOKENS)
    widget = head_view(probabilities(1, 2, n, n), HOSTILE_TOKENS, html_action="widget")
    assert widget.tokens == HOSTILE_TOKENS
    assert widget._data["stacks"]["self"]["rows"][0] == "<script>alert(1)</script>"


def test_extraction_from_tensors_is_a_plain_extraction() -> None:
    assert isinstance(extraction_from_tensors(probabilities(1, 1, 4, 4), TOKENS), Extraction)
