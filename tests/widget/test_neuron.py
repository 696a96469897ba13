"""The neuron view's Python side: ``w.qk``, the ``qk`` page message, and ``neuron_view``."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from attnwidget import AttentionWidget, neuron_view
from attnwidget.sources.models import LoadedModel
from attnwidget.wire import queries as neuron_module

SENTENCE = "He went to the bank to deposit money."


@pytest.fixture(scope="module")
def widget() -> AttentionWidget:
    return AttentionWidget(SENTENCE, model="offline")


def answers_to(widget: AttentionWidget, request: dict, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, list]]:
    sent: list[tuple[dict, list]] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append((content, buffers or [])))
    widget._page.on_message(widget, request, [])
    return sent


def reassemble(messages: list[tuple[dict, list]]) -> dict[str, np.ndarray]:
    """Put the row blocks back together as the page does, checking that every row arrives once."""
    first = messages[0][0]
    widths = {"q": first["d_head"], "k": first["d_head"], "bias": first["cols"]}
    heights = {"q": first["rows"], "k": first["cols"], "bias": first["rows"]}
    arrays: dict[str, np.ndarray] = {}
    seen: dict[str, list[int]] = {}
    for content, buffers in messages:
        part = content["part"]
        block = np.frombuffer(bytes(buffers[0]), dtype=np.float32).reshape(-1, widths[part])
        arrays.setdefault(part, np.full((heights[part], widths[part]), np.nan, dtype=np.float32))
        arrays[part][content["row_start"] : content["row_end"]] = block
        seen.setdefault(part, []).extend(range(content["row_start"], content["row_end"]))
    for part, rows in seen.items():
        assert sorted(rows) == list(range(heights[part])), part
    return arrays


def test_qk_gives_float32_queries_and_keys_whose_softmax_is_the_attention(widget: AttentionWidget) -> None:
    q, k, scale, bias = widget.qk(3, 5)
    n = len(widget.tokens)
    assert q.dtype == k.dtype == np.float32 and q.shape == (n, 32) and k.shape == (n, 32)
    assert scale == pytest.approx(32**-0.5)
    scores = np.array([[sum(float(q[i, d]) * float(k[j, d]) for d in range(32)) for j in range(n)] for i in range(n)])
    scores = scores * scale + (0 if bias is None else bias)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(weights / weights.sum(axis=1, keepdims=True), widget.attention[3, 5], atol=1e-5)


def test_qk_names_the_valid_range(widget: AttentionWidget) -> None:
    with pytest.raises(ValueError, match="layer must be between 0 and 5 and head between 0 and 11"):
        widget.qk(6, 0)


def test_the_page_gets_one_heads_queries_keys_and_bias_exactly(widget: AttentionWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    version = widget._data["version"]
    sent = answers_to(widget, {"type": "qk", "version": version, "stack": "self", "layer": 2, "head": 7}, monkeypatch)
    header = sent[0][0]
    assert {key: header[key] for key in ("type", "version", "stack", "layer", "head", "key_head")} == {
        "type": "qk",
        "version": version,
        "stack": "self",
        "layer": 2,
        "head": 7,
        "key_head": 7,
    }
    q, k, scale, bias = widget.qk(2, 7)
    arrays = reassemble(sent)
    assert header["scale"] == pytest.approx(scale)
    np.testing.assert_array_equal(arrays["q"], q)
    np.testing.assert_array_equal(arrays["k"], k)
    assert ("bias" in arrays) == header["has_bias"] == (bias is not None)


def test_answers_are_split_to_stay_under_the_message_limit(tiny_model, monkeypatch: pytest.MonkeyPatch) -> None:
    gpt2 = AttentionWidget(SENTENCE, model=tiny_model("gpt2"))
    monkeypatch.setattr(neuron_module, "MAX_MESSAGE_BYTES", 100)  # a few rows per message
    request = {"type": "qk", "version": gpt2._data["version"], "stack": "self", "layer": 1, "head": 3}
    sent = answers_to(gpt2, request, monkeypatch)
    assert len(sent) > 3 and all(buffers[0].nbytes <= 100 for _, buffers in sent)
    q, k, _, bias = gpt2.qk(1, 3)
    arrays = reassemble(sent)
    np.testing.assert_array_equal(arrays["q"], q)
    np.testing.assert_array_equal(arrays["k"], k)
    np.testing.assert_array_equal(arrays["bias"], bias)  # the causal mask


def test_a_grouped_query_head_is_answered_with_its_key_head(tiny_model, monkeypatch: pytest.MonkeyPatch) -> None:
    llama = AttentionWidget(SENTENCE, model=tiny_model("llama"))
    request = {"type": "qk", "version": llama._data["version"], "stack": "self", "layer": 0, "head": 3}
    sent = answers_to(llama, request, monkeypatch)
    assert sent[0][0]["key_head"] == 1
    np.testing.assert_array_equal(reassemble(sent)["k"], llama.extraction.queries.stack("self").keys[0, 1])


@pytest.mark.parametrize(
    "request_",
    [
        {"stack": "self", "layer": 6, "head": 0},
        {"stack": "self", "layer": -1, "head": 0},
        {"stack": "self", "layer": 0, "head": 12},
        {"stack": "self", "layer": True, "head": 0},
        {"stack": "self", "layer": "1", "head": 0},
        {"stack": "cross", "layer": 0, "head": 0},
        {"stack": ["self"], "layer": 0, "head": 0},
        {"layer": 0, "head": 0},
    ],
)
def test_bad_requests_from_the_page_are_ignored_with_one_log_line(
    widget: AttentionWidget, request_: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        sent = answers_to(widget, {"type": "qk", "version": widget._data["version"], **request_}, monkeypatch)
    assert sent == []
    assert len(caplog.records) == 1 and "ignored a malformed queries request" in caplog.records[0].getMessage()


def test_a_request_for_replaced_data_is_dropped_silently(
    widget: AttentionWidget, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        sent = answers_to(widget, {"type": "qk", "version": -5, "stack": "self", "layer": 0, "head": 0}, monkeypatch)
    assert sent == [] and caplog.records == []


def test_widgets_without_a_model_answer_that_the_neuron_view_is_not_available(
    widget: AttentionWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    tensors = AttentionWidget.from_attentions(widget.attention, widget.tokens)
    with pytest.raises(ValueError, match="no queries and keys"):
        tensors.qk(0, 0)
    request = {"type": "qk", "version": tensors._data["version"], "stack": "self", "layer": 0, "head": 0}
    (answer,) = answers_to(tensors, request, monkeypatch)
    assert "no queries and keys" in answer[0]["error"] and answer[1] == []


def test_neuron_view_takes_bertviz_show_arguments_and_opens_on_the_head(offline: LoadedModel) -> None:
    shown = neuron_view(offline.model, "bert", offline.tokenizer, "The cat sat.", "It was tired.", layer=4, head=2)
    assert isinstance(shown, AttentionWidget)
    assert shown.neuron_view and shown.layer == 4 and shown.heads == [2]
    assert shown.sentence_b == "It was tired."
    assert shown.qk(4, 2).q.shape == (len(shown.tokens), 32)


def test_neuron_view_names_a_head_out_of_range(offline: LoadedModel) -> None:
    with pytest.raises(ValueError, match="head must be between 0 and 11, got 12"):
        neuron_view(offline.model, "bert", offline.tokenizer, "The cat sat.", head=12)


def test_capture_qk_false_keeps_no_queries_and_says_so() -> None:
    lean = AttentionWidget(SENTENCE, model="offline", capture_qk=False)
    assert lean.extraction.queries is None
    with pytest.raises(ValueError, match="capture_qk=False"):
        lean.qk(0, 0)
    lean.sentence = "The river bank."  # a re-run keeps the choice
    assert lean.extraction.queries is None


def test_bias_row_gives_one_rows_additive_term(tiny_model) -> None:
    gpt2 = AttentionWidget(SENTENCE, model=tiny_model("gpt2"))
    head = gpt2.qk(0, 1)
    row = head.bias_row(2)
    assert (row[:3] == 0).all() and (row[3:] < -1e30).all()  # the causal mask: nothing after token 2
    np.testing.assert_array_equal(row, head.bias[2])


# ---- through ipywidgets' real message path (the page's rules) ----------------------------


def test_the_page_opens_and_closes_the_neuron_view_and_a_non_flag_snaps_back(monkeypatch) -> None:
    from helpers.page_peer import listen, page_sets

    shown = AttentionWidget(SENTENCE, model="offline")
    page_sets(shown, {"neuron_view": True})
    assert shown.neuron_view is True
    wire = listen(shown, monkeypatch)
    page_sets(shown, {"neuron_view": "yes"})
    assert shown.neuron_view is True and wire.updates()["neuron_view"] is True  # the page's toggle snaps back
    ((refusal, _),) = wire.custom("refused")
    assert "neuron_view must be True or False" in refusal["message"]
    page_sets(shown, {"neuron_view": False})
    assert shown.neuron_view is False


def test_a_queries_request_through_the_comm_is_answered_in_messages_under_1_mib(
    widget: AttentionWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attnwidget.wire.limits import MAX_MESSAGE_BYTES
    from helpers.page_peer import listen, page_sends

    wire = listen(widget, monkeypatch)
    page_sends(widget, {"type": "qk", "version": widget._data["version"], "stack": "self", "layer": 5, "head": 0})
    answer = wire.custom("qk")
    assert answer and wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    np.testing.assert_array_equal(reassemble(answer)["q"], widget.qk(5, 0).q)


@pytest.mark.parametrize("content", [{"type": "qk"}, {"type": "qk", "version": "1"}, {"type": "qk", "version": 1, "stack": None}])
def test_a_malformed_queries_message_through_the_comm_is_ignored_with_one_log_line(
    widget: AttentionWidget, content: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from helpers.page_peer import listen, page_sends

    wire = listen(widget, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        page_sends(widget, content)  # page_peer fails the test on any traceback
    assert wire.messages == []
    assert [record.getMessage() for record in caplog.records if "queries request" in record.getMessage()] != []
    assert len(caplog.records) == 1


def test_the_queries_and_keys_python_holds_are_read_only(widget: AttentionWidget) -> None:
    q, k, _, _ = widget.qk(0, 0)
    for array in (q, k):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 1.0
