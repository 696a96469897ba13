"""AttentionWidget: the state Python and the page share, re-runs, and the layer protocol."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from attnwidget import AttentionWidget
from attnwidget.wire.encoding import decode_array, dequantize_rows
from attnwidget.wire.payload import EAGER_BYTES
from helpers.page_peer import page_sends

SENTENCE = "He went to the bank to deposit money."


@pytest.fixture(scope="module")
def widget() -> AttentionWidget:
    return AttentionWidget(SENTENCE, model="offline")


def sent_messages(widget: AttentionWidget, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, list]]:
    """Capture what the widget sends to the page as custom messages."""
    sent: list[tuple[dict, list]] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append((content, buffers or [])))
    return sent


_requests = iter(range(1, 10**6))


def page_says(widget: AttentionWidget, content: dict) -> None:
    """Deliver a custom message as the page sends it; run messages get a fresh request id."""
    if content.get("type") == "run":
        content = {"request": next(_requests), **content}
    page_sends(widget, content)


def test_exposes_tokens_attention_and_shapes_like_the_tutorials(widget: AttentionWidget) -> None:
    assert widget.tokens[0] == "[CLS]" and widget.tokens[-1] == "[SEP]"
    assert "bank" in widget.tokens
    n = len(widget.tokens)
    assert widget.attention.shape == (6, 12, n, n)
    assert widget.attention.dtype == np.float32
    assert widget.shapes["input_ids"] == [1, n]
    assert widget.shapes["attentions"] == [6, 1, 12, n, n]
    assert widget.heads == list(range(12))
    assert widget.error == ""


def test_small_inputs_send_every_layer_with_the_state(widget: AttentionWidget) -> None:
    stack = widget._data["stacks"]["self"]
    assert sorted(stack["layers"], key=int) == [str(layer) for layer in range(6)]
    assert stack["rows"][5] == "bank"


def test_sent_layer_reads_back_within_the_stated_precision(widget: AttentionWidget) -> None:
    stack = widget._data["stacks"]["self"]
    codes = decode_array(stack["layers"]["2"])
    scales = decode_array(stack["row_scale"])[2]
    restored = dequantize_rows(codes, scales)
    assert np.all(np.abs(restored - widget.attention[2]) <= scales[..., None] / 510 + 1e-7)


@pytest.mark.parametrize(
    ("trait", "value", "expected"),
    [
        ("layer", 6, "between 0 and 5"),
        ("layer", -1, "between 0 and 5"),
        ("heads", [0, 12], "between 0 and 11"),
        ("heads", [1, 1], "must not repeat"),
        ("focus", 99, "between 0 and 10"),
        ("stack", "cross", "must be one of ['self']"),
    ],
)
def test_out_of_range_view_state_from_python_names_the_valid_range(
    widget: AttentionWidget, trait: str, value: object, expected: str
) -> None:
    before = widget.get_state()[trait]
    with pytest.raises(traitlets.TraitError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        setattr(widget, trait, value)
    assert widget.get_state()[trait] == before


def test_view_state_set_from_python_is_kept() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    widget.layer = 3
    widget.heads = [7, 2]
    widget.focus = 5
    widget.direction = "attended_by"
    assert (widget.layer, widget.heads, widget.focus, widget.direction) == (3, [2, 7], 5, "attended_by")


def test_setting_the_sentence_from_python_reruns_the_model() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    version = widget._data["version"]
    widget.sentence = "The river bank was muddy."
    assert "river" in widget.tokens
    assert widget.attention.shape[-1] == len(widget.tokens)
    assert widget._data["version"] == version + 1


def test_a_bad_sentence_from_python_raises_and_keeps_the_last_view() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    tokens, data = widget.tokens, widget._data
    with pytest.raises(ValueError, match="empty"):
        widget.sentence = "   "
    assert widget.sentence == SENTENCE
    assert widget.tokens == tokens and widget._data is data


def test_a_sentence_from_the_page_reruns_the_model() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    page_says(widget, {"type": "run", "sentence": "The river bank was muddy."})
    assert widget.sentence == "The river bank was muddy."
    assert "river" in widget.tokens
    assert widget.error == "" and widget.busy is False


def test_a_bad_sentence_from_the_page_sets_error_and_keeps_the_last_view() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    tokens, data = widget.tokens, widget._data
    page_says(widget, {"type": "run", "sentence": "  "})
    assert "empty" in widget.error
    assert widget.tokens == tokens and widget._data is data and widget.sentence == SENTENCE
    page_says(widget, {"type": "run", "sentence": "Fine again."})
    assert widget.error == ""


def test_a_model_that_fails_to_load_from_the_page_keeps_the_previous_model(tmp_path) -> None:
    missing = str(tmp_path / "no-such-model")
    widget = AttentionWidget(SENTENCE, model="offline", models=["offline", missing])
    page_says(widget, {"type": "run", "model": missing, "sentence": SENTENCE})
    assert missing in widget.error and "does not exist" in widget.error
    assert widget.model == "offline"
    assert "bank" in widget.tokens


def test_busy_is_set_while_python_works_and_cleared_after() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    seen: list[bool] = []
    widget.observe(lambda change: seen.append(change["new"]), "busy")
    page_says(widget, {"type": "run", "sentence": "Another sentence."})
    assert seen == [True, False]


def test_long_inputs_send_the_shown_layer_first_and_the_rest_on_request(monkeypatch) -> None:
    words = " ".join(["the bank by the river holds money"] * 30)  # ~212 tokens: 6×12×n² codes > 1 MiB
    widget = AttentionWidget(words, model="offline", layer=2)
    n = len(widget.tokens)
    assert 6 * 12 * n * n > EAGER_BYTES
    assert list(widget._data["stacks"]["self"]["layers"]) == ["2"]

    sent = sent_messages(widget, monkeypatch)
    version = widget._data["version"]
    page_says(widget, {"type": "layers", "version": version, "stack": "self", "layers": [4]})
    ((content, buffers),) = sent
    assert content == {
        "type": "layer",
        "version": version,
        "stack": "self",
        "layer": 4,
        "dtype": "uint8",
        "shape": [12, n, n],
        "start": 0,
        "stop": 12 * n,
    }
    codes = np.frombuffer(buffers[0], dtype=np.uint8).reshape(12, n, n)
    scales = decode_array(widget._data["stacks"]["self"]["row_scale"])[4]
    assert np.array_equal(np.frombuffer(buffers[1], dtype=np.float32).reshape(12, n), scales)
    assert np.allclose(dequantize_rows(codes, scales), widget.attention[4], atol=1 / 510)


def test_requests_for_replaced_data_or_missing_layers_are_ignored(monkeypatch) -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    sent = sent_messages(widget, monkeypatch)
    version = widget._data["version"]
    page_says(widget, {"type": "layers", "version": version - 1, "stack": "self", "layers": [0]})
    page_says(widget, {"type": "layers", "version": version, "stack": "nope", "layers": [0]})
    page_says(widget, {"type": "layers", "version": version, "stack": "self", "layers": [99, "1"]})
    assert sent == []


def test_stream_false_keeps_every_layer_in_the_state_for_static_export() -> None:
    words = " ".join(["the bank by the river holds money"] * 60)
    widget = AttentionWidget(words, model="offline", stream=False)
    assert len(widget._data["stacks"]["self"]["layers"]) == 6


def test_a_rerun_keeps_the_layer_and_heads_the_user_chose() -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    widget.layer, widget.heads = 4, [1, 3]
    widget.sentence = "Something else entirely."
    assert (widget.layer, widget.heads) == (4, [1, 3])


def test_widget_from_tensors_has_no_sentence_box_and_cannot_rerun() -> None:
    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 4)).astype(np.float32)
    weights /= weights.sum(-1, keepdims=True)
    widget = AttentionWidget.from_attentions(weights, ["<s>", "a", "b", "</s>"])
    assert widget.has_model is False
    assert np.array_equal(widget.attention, weights)
    page_says(widget, {"type": "run", "sentence": "anything"})
    assert "no model" in widget.error


def test_tokens_follow_the_shown_stack_of_an_encoder_decoder(tiny_model_dir) -> None:
    widget = AttentionWidget("the bank by the river", target="money in the bank", model=str(tiny_model_dir("bart")))
    assert widget.stack == "encoder"
    source = widget.tokens
    assert widget.col_tokens == source

    widget.stack = "cross"

    assert widget.col_tokens == source
    assert widget.tokens != source
    assert widget.attention.shape[2:] == (len(widget.tokens), len(widget.col_tokens))


def test_a_closed_widget_is_freed_with_its_attention() -> None:
    import gc
    import weakref

    widget = AttentionWidget(SENTENCE, model="offline")
    attention = weakref.ref(widget.attention)
    widget.close()
    del widget
    gc.collect()
    assert attention() is None, "something still holds the closed widget's attention array"
