"""The widget's analysis traits: combine, granularity, head statistics and a second model.

What the page receives is decoded here and checked against computations written
in the test (numpy recurrences and loops), not the code that produced it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import traitlets

from attnwidget import AttentionWidget
from attnwidget.wire.encoding import decode_array, dequantize_rows
from attnwidget.wire.limits import MAX_MESSAGE_BYTES
from attnwidget.wire.payload import payload_bytes
from helpers.page_peer import listen, page_sends, page_sets

SENTENCE = "The unbelievably slow bank approved the tokenization."


def shown_layer(payload: dict, stack: str, layer: int) -> np.ndarray:
    """Decode one layer of a `_data`-like payload back to float weights (heads, rows, cols)."""
    encoded = payload["stacks"][stack]
    codes = decode_array(encoded["layers"][str(layer)])
    return dequantize_rows(codes, decode_array(encoded["row_scale"])[layer])


def tolerance(payload: dict, stack: str, layer: int) -> np.ndarray:
    """The 8-bit encoding's stated error: row maximum / 510."""
    return decode_array(payload["stacks"][stack]["row_scale"])[layer][..., None] / 510 + 1e-6


@pytest.fixture()
def widget() -> AttentionWidget:
    return AttentionWidget(SENTENCE, model="offline")


def test_rollout_toggle_sends_rollout_up_to_each_layer(widget: AttentionWidget) -> None:
    raw = widget.attention.astype(np.float64)
    widget.combine = "rollout"
    n = raw.shape[2]
    running = np.eye(n)
    for layer in range(raw.shape[0]):
        mixed = 0.5 * np.eye(n) + 0.5 * raw[layer].mean(axis=0)  # rows already sum to 1
        running = mixed @ running
        shown = shown_layer(widget._data, "self", layer)
        # The mean of every head is the rollout; each head is its own step on top of the layers below.
        assert np.allclose(shown.mean(axis=0), running, atol=2e-3)
        assert np.all(np.abs(shown - shown_layer_expected(raw, layer)) <= tolerance(widget._data, "self", layer))
    assert widget.attention.shape == raw.shape and np.array_equal(widget.attention, raw.astype(np.float32))


def shown_layer_expected(raw: np.ndarray, layer: int) -> np.ndarray:
    n = raw.shape[2]
    below = np.eye(n)
    for lower in range(layer):
        below = (0.5 * np.eye(n) + 0.5 * raw[lower].mean(axis=0)) @ below
    return np.stack([(0.5 * np.eye(n) + 0.5 * head) @ below for head in raw[layer]])


def test_words_toggle_lists_words_and_sends_word_attention(widget: AttentionWidget) -> None:
    tokens = list(widget.tokens)
    assert "##bly" in tokens and "##ization" in tokens  # the sentence does split into pieces
    widget.focus = 3
    widget.granularity = "words"
    assert widget.tokens == ["[CLS]", "the", "unbelievably", "slow", "bank", "approved", "the", "tokenization", ".", "[SEP]"]
    assert widget.focus is None
    groups: list[list[int]] = []
    for index, token in enumerate(tokens):
        if token.startswith("##"):
            groups[-1].append(index)
        else:
            groups.append([index])
    raw = widget.attention
    shown = shown_layer(widget._data, "self", 2)
    for head in (0, 7):
        for wi, rows in enumerate(groups):
            for wj, cols in enumerate(groups):
                expected = sum(float(raw[2, head, i, j]) for i in rows for j in cols) / len(rows)
                assert shown[head, wi, wj] == pytest.approx(expected, abs=float(tolerance(widget._data, "self", 2)[head, wi, 0]))
    widget.granularity = "tokens"
    assert widget.tokens == tokens


def test_toggles_refuse_unknown_values_and_accept_page_changes(widget: AttentionWidget) -> None:
    with pytest.raises(traitlets.TraitError):
        widget.combine = "sum"
    with pytest.raises(traitlets.TraitError):
        widget.granularity = "letters"
    widget.set_state({"combine": "rollout", "granularity": "words"})  # as the page's changes arrive
    assert widget.combine == "rollout" and widget.granularity == "words"
    assert widget._data["stacks"]["self"]["rows"][2] == "unbelievably"


def test_head_stats_table_and_layer_summary_are_sent_when_the_page_asks(widget: AttentionWidget) -> None:
    table = widget.head_stats()
    assert len(table) == 6 * 12
    raw = widget.attention
    row = table[(table["layer"] == 4) & (table["head"] == 5)].iloc[0]
    n = raw.shape[2]
    entropy = sum(-sum(p * math.log2(p) for p in raw[4, 5, i] if p > 0) for i in range(n)) / n
    assert row.entropy == pytest.approx(entropy, abs=1e-4)
    assert widget.layer_summary.startswith("layer")

    assert widget._head_stats == {}  # not part of building the widget
    version = widget._data["version"]
    page_says(widget, {"type": "head_stats", "version": version - 1, "stack": "self"})
    page_says(widget, {"type": "head_stats", "version": version, "stack": "nope"})
    assert widget._head_stats == {}  # stale and unknown requests are dropped
    page_says(widget, {"type": "head_stats", "version": version, "stack": "self"})
    sent = widget._head_stats
    json.dumps(sent, allow_nan=False)  # the page's JSON has no NaN
    assert sent["version"] == version and sent["summary"] == widget.layer_summary
    assert sent["columns"]["pattern"] == list(table["pattern"])


def page_says(widget: AttentionWidget, content: dict) -> None:
    page_sends(widget, content)


def test_compare_to_the_same_model_changes_nothing(widget: AttentionWidget) -> None:
    widget.compare_to = "offline"
    compare = widget._compare
    assert compare["level"] == "tokens" and compare["layer_map"] == list(range(6))
    assert all(value == 0 for _, _, value in compare["change"])
    assert len(compare["change"]) == 72
    widget.compare_to = ""
    assert widget._compare == {}


def test_compare_ranks_the_heads_that_changed_most(tiny_model_dir) -> None:
    bert = str(tiny_model_dir("bert"))
    widget = AttentionWidget(SENTENCE, model=bert, compare_to="offline")
    compare = widget._compare
    # 2 layers × 4 heads against 6 × 12: layers by relative depth, B's heads averaged, no per-head ranking.
    assert compare["layer_map"] == [0, 5]
    assert "relative depth" in compare["caption"] and "mean of all its heads" in compare["caption"]
    assert compare["change"] == []
    assert payload_bytes(compare) <= MAX_MESSAGE_BYTES

    other = AttentionWidget(SENTENCE, model="offline")
    other.compare_to = "offline"
    same = AttentionWidget(SENTENCE, model=bert, compare_to=bert)
    assert same._compare["change"][0][2] == 0
    widget.close(), other.close(), same.close()


def test_different_tokenizers_compare_word_by_word(tiny_model_dir) -> None:
    widget = AttentionWidget("the bank approved the loan", model=str(tiny_model_dir("bert")))
    widget.compare_to = str(tiny_model_dir("roberta"))
    compare = widget._compare
    assert compare["level"] == "words"
    assert "different tokenizers" in compare["caption"]
    a, b = compare["stacks"]["a"], compare["stacks"]["b"]
    assert len(a["rows"]) == len(b["rows"]) == 7  # <s>/[CLS], five words, </s>/[SEP]
    comparison = widget.comparison
    assert comparison is not None
    for layer, head, value in compare["change"][:2]:
        p, q = comparison.a.attention[layer, head], comparison.b.attention[comparison.layer_map[layer], head]
        rows = []
        for i in range(p.shape[0]):
            m = [(x + y) / 2 for x, y in zip(p[i], q[i])]
            kl = lambda u, m=m: sum(x * math.log2(x / y) for x, y in zip(u, m) if x > 0)  # noqa: E731
            rows.append((kl(p[i]) + kl(q[i])) / 2)
        assert value == pytest.approx(sum(rows) / len(rows), abs=1e-5)


def test_a_failed_second_model_keeps_the_first_view_and_sets_error(widget: AttentionWidget, tmp_path) -> None:
    data = widget._data
    with pytest.raises(OSError):
        widget.compare_to = str(tmp_path / "missing")
    assert widget.error and widget.compare_to == "" and widget._data is data and widget._compare == {}

    widget.error = ""
    page_sends(widget, {"type": "compare", "request": 1, "model": str(tmp_path / "missing")})
    assert "is not one of this widget's models" in widget.error and widget._compare == {} and widget._request == 1
    widget.models = ["offline", str(tmp_path / "missing")]
    page_sends(widget, {"type": "compare", "request": 2, "model": str(tmp_path / "missing")})
    assert "does not exist" in widget.error and widget._data is data and widget._request == 2
    page_sends(widget, {"type": "compare", "request": 3, "model": 5})
    assert "model 5 is not one of" in widget.error and widget._request == 3


def test_a_new_sentence_reruns_the_second_model(widget: AttentionWidget) -> None:
    widget.compare_to = "offline"
    widget.sentence = "A river bank."
    assert widget._compare["stacks"]["b"]["rows"] == widget._data["stacks"]["self"]["rows"]


def test_encoder_decoder_rollout_leaves_cross_attention_raw_and_words_follow_each_stack(tiny_model_dir) -> None:
    widget = AttentionWidget("the bank by the river", target="money in the bank", model=str(tiny_model_dir("bart")))
    raw_cross = widget.extraction.stacks["cross"].attention
    widget.combine = "rollout"
    assert widget._data["combine"] == "rollout"
    shown = shown_layer(widget._data, "cross", 0)
    assert np.all(np.abs(shown - raw_cross[0]) <= tolerance(widget._data, "cross", 0))
    widget.granularity = "words"
    widget.stack = "cross"
    assert len(widget.tokens) == len(widget._data["stacks"]["cross"]["rows"])
    assert len(widget.col_tokens) == len(widget._data["stacks"]["encoder"]["rows"])
    for stack in ("encoder", "decoder", "cross"):
        sums = shown_layer(widget._data, stack, 0).sum(axis=2)
        assert np.allclose(sums, 1, atol=0.02), stack


def test_a_causal_model_stays_causal_as_rollout_and_as_words(tiny_model_dir) -> None:
    widget = AttentionWidget(
        "the riverbank was unbelievably muddy", model=str(tiny_model_dir("gpt2")), combine="rollout", granularity="words"
    )
    stack = widget._data["stacks"]["self"]
    assert stack["causal"] is True
    shown = shown_layer(widget._data, "self", widget.n_layers - 1)
    n = shown.shape[1]
    assert all(shown[h, i, j] == 0 for h in range(shown.shape[0]) for i in range(n) for j in range(i + 1, n))


def test_a_second_model_from_the_page_comes_by_message_among_the_offered_models(widget: AttentionWidget) -> None:
    page_sets(widget, {"compare_to": "offline"})  # Python's trait: refused, nothing loaded
    assert widget.compare_to == "" and widget._compare == {}
    page_sends(widget, {"type": "compare", "request": 7, "model": "/somewhere/else"})
    assert "is not one of this widget's models" in widget.error and widget._compare == {}
    page_sends(widget, {"type": "compare", "request": 8, "model": "offline"})
    assert widget.compare_to == "offline" and widget._compare["model"] == "offline"
    assert widget._request == 8 and widget.error == ""
    page_sends(widget, {"type": "compare", "request": 9, "model": ""})
    assert widget.compare_to == "" and widget._compare == {} and widget._request == 9


def test_a_long_comparison_stays_under_the_message_limit_and_its_layers_come_on_demand(monkeypatch) -> None:
    sentence = " ".join(["the bank by the river approved a loan"] * 40)  # ~290 tokens: 12 × 290² codes > 1 MiB a layer
    widget = AttentionWidget(sentence, model="offline", layer=3)
    wire = listen(widget, monkeypatch)
    page_sends(widget, {"type": "compare", "request": 1, "model": "offline"})
    assert widget._request == 1 and widget.error == ""
    compare = widget._compare
    heads, n = widget.n_heads, len(widget.tokens)
    assert heads * n * n > MAX_MESSAGE_BYTES
    assert compare["stacks"]["a"]["layers"] == {} and compare["stacks"]["b"]["layers"] == {}  # too large to travel eagerly

    for stack in ("a", "b"):
        page_sends(widget, {"type": "compare_layers", "version": compare["version"], "stack": stack, "layers": [3, 3]})
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    answers = [(content, buffers) for content, buffers in wire.custom("layer") if content.get("source") == "compare"]
    assert len(answers) > 2  # each layer in parts
    for stack in ("a", "b"):
        codes = np.zeros((heads * n, n), dtype=np.uint8)
        scales = np.zeros(heads * n, dtype=np.float32)
        parts = [(content, buffers) for content, buffers in answers if content["stack"] == stack]
        assert {content["layer"] for content, _ in parts} == {3}
        assert sum(content["stop"] - content["start"] for content, _ in parts) == heads * n  # every row once
        for content, (code_bytes, scale_bytes) in parts:
            codes[content["start"] : content["stop"]] = np.frombuffer(code_bytes, dtype=np.uint8).reshape(-1, n)
            scales[content["start"] : content["stop"]] = np.frombuffer(scale_bytes, dtype=np.float32)
        weights = codes.astype(np.float64) * scales[:, None] / 255
        expected = widget.attention[3].reshape(heads * n, n)  # the same model: B is A's attention
        assert np.all(np.abs(weights - expected) <= expected.max(axis=1, keepdims=True) / 510 + 1e-6), stack

    wire.clear()
    page_sends(widget, {"type": "compare_layers", "version": compare["version"] - 1, "stack": "a", "layers": [0]})
    assert wire.messages == []  # a request for a replaced comparison is dropped
    widget.close()


@pytest.mark.parametrize("family", ["bert", "roberta", "albert", "gpt2", "llama"])
def test_words_come_out_whole_for_every_tokenizer_family(tiny_model_dir, family: str) -> None:
    sentence = "the riverbank approved unbelievable loans"
    widget = AttentionWidget(sentence, model=str(tiny_model_dir(family)), granularity="words")
    stack = widget._data["stacks"]["self"]  # labels as the page shows them: Ġ and ▁ read as spaces
    words = [label.strip().lower() for label, special in zip(stack["rows"], stack["row_special"]) if not special]
    assert words == sentence.split()
    widget.close()


def test_models_with_different_special_tokens_compare_over_the_words_of_the_text(tiny_model_dir) -> None:
    sentence = "the bank approved the loan"
    widget = AttentionWidget(sentence, model=str(tiny_model_dir("bert")), compare_to=str(tiny_model_dir("gpt2")))
    comparison = widget.comparison
    assert comparison is not None and comparison.level == "words"
    assert "special tokens left out" in widget._compare["caption"]
    assert [label.strip() for label in widget._compare["stacks"]["b"]["rows"]] == sentence.split()
    # A's word rows without [CLS] and [SEP], renormalised: computed here from the raw token attention.
    raw = widget.attention[0, 1]  # [CLS] the bank approved the loan [SEP]: one token per word
    for i in range(1, 6):
        kept = [float(raw[i, j]) for j in range(1, 6)]
        for j in range(5):
            assert comparison.a.attention[0, 1, i - 1, j] == pytest.approx(kept[j] / sum(kept), abs=1e-5)
    widget.close()


def test_the_page_switches_to_words_and_focuses_a_word_in_one_update(widget: AttentionWidget, monkeypatch) -> None:
    n_tokens = len(widget.tokens)
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"granularity": "words", "focus": 2})  # focus is checked against the words it leads to
    assert widget.granularity == "words" and widget.focus == 2 and widget.tokens[2] == "unbelievably"
    page_sets(widget, {"focus": n_tokens - 1})  # a token index past the last word: refused, snapped back
    assert widget.focus == 2 and len(widget.tokens) < n_tokens
    assert [content for content, _ in wire.custom("refused")]
    page_sets(widget, {"combine": "sum"})
    assert widget.combine == "none"


def test_rollout_of_a_long_input_keeps_the_state_under_the_message_limit(monkeypatch) -> None:
    sentence = " ".join(["the bank by the river approved a loan"] * 40)
    widget = AttentionWidget(sentence, model="offline", layer=4)
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"combine": "rollout"})
    assert widget._data["combine"] == "rollout"
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    # Layer 4 of what the page gets is the rollout of layers 0–4: it needs no other layer to show it.
    version = widget._data["version"]
    page_sends(widget, {"type": "layers", "version": version, "stack": "self", "layers": [4]})
    heads, n = widget.n_heads, len(widget.tokens)
    codes = np.zeros((heads * n, n), dtype=np.uint8)
    scales = np.zeros(heads * n, dtype=np.float32)
    for content, (code_bytes, scale_bytes) in wire.custom("layer"):
        codes[content["start"] : content["stop"]] = np.frombuffer(code_bytes, dtype=np.uint8).reshape(-1, n)
        scales[content["start"] : content["stop"]] = np.frombuffer(scale_bytes, dtype=np.float32)
    shown_mean = (codes.astype(np.float64) * scales[:, None] / 255).reshape(heads, n, n).mean(axis=0)
    expected = np.eye(n)
    for layer in range(5):  # the recurrence, written here: R_l = rownorm(0.5 I + 0.5 mean_h A_l) @ R_{l-1}
        step = 0.5 * np.eye(n) + 0.5 * widget.attention[layer].astype(np.float64).mean(axis=0)
        expected = (step / step.sum(axis=1, keepdims=True)) @ expected
    assert np.abs(shown_mean - expected).max() < 2e-3
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    widget.close()
