"""The page is an untrusted peer: each failure case of issue 8, through ipywidgets' real message path."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import traitlets

import attnwidget.widget.runs as widget_module
from attnwidget import AttentionWidget
from attnwidget.wire.limits import MAX_MESSAGE_BYTES
from helpers.page_peer import listen, page_sends, page_sets

SENTENCE = "He went to the bank to deposit money."
PYTHON_OWNED = ("error", "busy", "has_model", "_data", "notes", "shapes", "models", "sentence", "model", "_request", "theme")


@pytest.fixture
def widget() -> AttentionWidget:
    return AttentionWidget(SENTENCE, model="offline")


def _snapshot(widget: AttentionWidget) -> tuple:
    return (widget.sentence, list(widget.tokens), widget.attention.copy(), widget._data, widget._request)


def _same(before: tuple, widget: AttentionWidget) -> bool:
    sentence, tokens, attention, data, request = before
    return (
        widget.sentence == sentence
        and widget.tokens == tokens
        and np.array_equal(widget.attention, attention)
        and widget._data is data
        and widget._request == request
    )


def _weights(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    weights = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return weights / weights.sum(axis=-1, keepdims=True)


# ---- 1. the user's typing: every run is answered with its request id ----------------------------


def test_a_run_from_the_page_is_answered_with_its_request_id_in_the_same_update_as_the_new_state(
    widget: AttentionWidget, monkeypatch
) -> None:
    wire = listen(widget, monkeypatch)
    page_sends(widget, {"type": "run", "request": 7, "sentence": "The river bank was muddy."})
    answer = [msg["state"] for msg, _ in wire.messages if msg["method"] == "update" and "_request" in msg["state"]]
    assert len(answer) == 1
    assert answer[0]["_request"] == 7 and answer[0]["sentence"] == "The river bank was muddy." and "_data" in answer[0]


def test_a_failed_run_is_answered_with_its_request_id_and_the_error(widget: AttentionWidget, monkeypatch) -> None:
    wire = listen(widget, monkeypatch)
    page_sends(widget, {"type": "run", "request": 8, "sentence": "   "})
    assert wire.updates()["_request"] == 8 and "empty" in wire.updates()["error"]


# ---- 2. an interrupt leaves everything as it was ------------------------------------------------


def _interrupting_extract(*args, **kwargs):
    raise KeyboardInterrupt


def test_an_interrupted_rerun_from_python_leaves_sentence_arrays_data_and_page_as_before(
    widget: AttentionWidget, monkeypatch
) -> None:
    before = _snapshot(widget)
    wire = listen(widget, monkeypatch)
    monkeypatch.setattr(widget_module, "extract", _interrupting_extract)
    with pytest.raises(KeyboardInterrupt):
        widget.sentence = "The river bank was muddy."
    assert _same(before, widget)
    assert set(wire.updates()) == {"busy"} and wire.updates()["busy"] is False


def test_an_interrupted_run_from_the_page_is_answered_and_changes_nothing(widget: AttentionWidget, monkeypatch) -> None:
    before = _snapshot(widget)
    monkeypatch.setattr(widget_module, "extract", _interrupting_extract)
    with pytest.raises(KeyboardInterrupt):
        widget._page.on_message(widget, {"type": "run", "request": 3, "sentence": "Another one."}, [])
    assert widget.sentence == SENTENCE and widget._data is before[3]
    assert widget._request == 3 and "interrupted" in widget.error


# ---- 3. lone surrogates ---------------------------------------------------------------------------


def test_a_lone_surrogate_from_python_is_refused_naming_its_position_in_the_text(widget: AttentionWidget) -> None:
    before = _snapshot(widget)
    with pytest.raises(ValueError, match=r"lone surrogate '\\ud800' at character 4"):
        widget.sentence = "the \ud800 bank"
    with pytest.raises(ValueError, match="at character 0"):
        widget.sentence = "\udfff"
    assert _same(before, widget)


def test_a_lone_surrogate_in_the_constructor_is_refused_naming_its_position() -> None:
    with pytest.raises(ValueError, match="at character 3"):
        AttentionWidget("ok \ud800 bank", model="offline")
    with pytest.raises(ValueError, match="sentence_b has a lone surrogate"):
        AttentionWidget("fine", sentence_b="\ud83d", model="offline")


def test_a_lone_surrogate_from_the_page_is_shown_as_an_error(widget: AttentionWidget) -> None:
    before = _snapshot(widget)
    page_sends(widget, {"type": "run", "request": 1, "sentence": "bank \ud800"})
    assert "at character 5" in widget.error
    assert widget.sentence == SENTENCE and widget._data is before[3]


def test_tokens_with_lone_surrogates_from_tensors_show_the_replacement_character(monkeypatch) -> None:
    widget = AttentionWidget.from_attentions(_weights((1, 1, 3, 3)), ["a", "\ud800", "c"])
    assert widget.tokens == ["a", "\ud800", "c"]  # Python keeps what it was given
    assert widget._data["stacks"]["self"]["rows"] == ["a", "\ufffd", "c"]
    wire = listen(widget, monkeypatch)
    widget.send_state()  # the whole state crosses the wire (the recorder fails on what the comm cannot send)
    assert wire.messages


# ---- 4. NaN and booleans ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trait", "value", "expected"),
    [
        ("threshold", float("nan"), "between 0 and 1, got nan"),
        ("threshold", float("inf"), "between 0 and 1"),
        ("threshold", True, "number between 0 and 1, got bool"),
        ("threshold", None, "number between 0 and 1"),
        ("layer", True, "must be an integer, got bool"),
        ("layer", 1.0, "must be an integer, got float"),
        ("focus", True, "token index"),
        ("heads", [True], "must be an integer, got bool"),
        ("heads", "01", "list of head indices"),
        ("hide_special", 1, "True or False"),
        ("direction", "sideways", "one of ['attends_to', 'attended_by']"),
        ("pair_filter", None, "one of ['all'"),
    ],
)
def test_wrong_types_and_non_finite_numbers_are_refused_from_python(
    widget: AttentionWidget, trait: str, value: object, expected: str
) -> None:
    before = widget.get_state()[trait]
    with pytest.raises(traitlets.TraitError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        setattr(widget, trait, value)
    assert widget.get_state()[trait] == before


# ---- 5. refused values from the page snap back, with a visible error ------------------------------------


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("layer", -1),
        ("layer", 6),
        ("layer", True),
        ("heads", [0, 12]),
        ("heads", [1, 1]),
        ("focus", 99),
        ("threshold", None),
        ("threshold", 1.5),
        ("direction", "up"),
        ("stack", "cross"),
    ],
)
def test_a_refused_value_from_the_page_snaps_back_and_is_reported(
    widget: AttentionWidget, monkeypatch, trait: str, value: object
) -> None:
    python_value = widget.get_state()[trait]
    wire = listen(widget, monkeypatch)
    page_sets(widget, {trait: value})
    assert widget.get_state()[trait] == python_value
    assert wire.updates() == {trait: python_value}  # the page's control returns to Python's value
    ((refusal, _),) = wire.custom("refused")
    assert refusal["message"].startswith("Not applied: ") and trait in refusal["message"]


def test_valid_values_from_the_page_are_applied_and_refused_ones_in_the_same_update_are_not(
    widget: AttentionWidget, monkeypatch
) -> None:
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"layer": 3, "heads": [4, 2], "threshold": float("nan")})
    assert (widget.layer, widget.heads, widget.threshold) == (3, [2, 4], 0.0)
    assert wire.updates() == {"heads": [2, 4], "threshold": 0.0}  # heads as Python keeps them, sorted


# ---- page_runs: the page echoes the run answer it took in, and nothing beyond it -------------------------


def test_the_page_may_echo_an_answered_run_into_page_runs(widget: AttentionWidget, monkeypatch) -> None:
    page_sends(widget, {"type": "run", "request": 3, "sentence": "The river bank was muddy."})
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"page_runs": 3})
    assert widget.page_runs == 3
    assert wire.custom("refused") == []


@pytest.mark.parametrize("value", [4, -1, True, 2.0, "3", None])
def test_page_runs_beyond_the_last_answer_or_not_an_integer_snaps_back(
    widget: AttentionWidget, monkeypatch, value: object
) -> None:
    page_sends(widget, {"type": "run", "request": 3, "sentence": "The river bank was muddy."})
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"page_runs": value})
    assert widget.page_runs == 0
    assert wire.updates() == {"page_runs": 0}
    ((refusal, _),) = wire.custom("refused")
    assert "page_runs must be an integer between 0 and 3" in refusal["message"]


def test_python_assigning_page_runs_follows_the_same_rule(widget: AttentionWidget) -> None:
    with pytest.raises(traitlets.TraitError, match="page_runs must be an integer between 0 and 0"):
        widget.page_runs = 1


# ---- 6. what Python owns, the page cannot set; only offered models are loaded ---------------------------


@pytest.mark.parametrize("trait", PYTHON_OWNED)
def test_the_page_cannot_set_what_python_owns(widget: AttentionWidget, monkeypatch, trait: str) -> None:
    before = widget.get_state()[trait]
    wire = listen(widget, monkeypatch)
    page_sets(widget, {trait: {"busy": True, "has_model": False}.get(trait, "from the page")})
    assert widget.get_state()[trait] == before
    if trait == "_data":  # its buffers travel beside the state
        assert wire.updates()[trait]["version"] == before["version"]
    else:
        assert wire.updates()[trait] == before
    assert "set by Python" in wire.custom("refused")[0][0]["message"]
    widget.sentence = "Python still re-runs."  # a page that tried has_model=False broke this on main
    assert "still" in widget.tokens


def test_the_page_cannot_set_python_only_read_outs(widget: AttentionWidget, monkeypatch) -> None:
    wire = listen(widget, monkeypatch)
    page_sets(widget, {"tokens": ["x"], "col_tokens": ["y"], "no_such_trait": 1})
    assert "bank" in widget.tokens and "bank" in widget.col_tokens
    assert len(wire.custom("refused")) == 1


def test_the_page_may_choose_only_an_offered_model_and_nothing_else_is_loaded(
    widget: AttentionWidget, monkeypatch, tmp_path
) -> None:
    loaded: list = []
    real_load = widget_module.load_model
    monkeypatch.setattr(widget_module, "load_model", lambda spec: loaded.append(spec) or real_load(spec))
    before = _snapshot(widget)
    page_sends(widget, {"type": "run", "request": 5, "model": str(tmp_path), "sentence": SENTENCE})
    assert loaded == []
    assert "is not one of this widget's models" in widget.error and widget._request == 5
    assert _same((*before[:4], 5), widget)


# ---- 7. amplification and malformed messages ----------------------------------------------------------


@pytest.fixture
def streamed() -> AttentionWidget:
    """Layers of 4 × 700 × 700 codes (1.9 MB): each is streamed, in two messages."""
    return AttentionWidget.from_attentions(_weights((3, 4, 700, 700)), [f"t{i}" for i in range(700)])


def test_a_layer_request_is_deduplicated_and_answered_once_per_layer_under_the_message_limit(
    streamed: AttentionWidget, monkeypatch
) -> None:
    wire = listen(streamed, monkeypatch)
    version = streamed._data["version"]
    page_sends(streamed, {"type": "layers", "version": version, "stack": "self", "layers": [1] * 100 + [2, 1, 2]})
    answers = wire.custom("layer")
    assert sorted({content["layer"] for content, _ in answers}) == [1, 2]
    assert sum(content["stop"] - content["start"] for content, _ in answers) == 2 * 4 * 700  # each row once
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES


def test_layers_the_state_already_holds_are_not_sent_again(widget: AttentionWidget, monkeypatch) -> None:
    wire = listen(widget, monkeypatch)
    page_sends(widget, {"type": "layers", "version": widget._data["version"], "stack": "self", "layers": [0, 1, 2]})
    assert wire.messages == []


@pytest.mark.parametrize(
    "content",
    [
        {"type": "layers", "version": 1, "stack": "self", "layers": 5},
        {"type": "layers", "version": "1", "stack": "self", "layers": [0]},
        {"type": "layers", "version": 1, "stack": ["self"], "layers": [0]},
        {"type": "run", "sentence": "no request id"},
        {"type": "run", "request": True},
        {"type": "explode"},
        "not a dict",
        None,
        [1, 2, 3],
    ],
)
def test_a_malformed_message_is_ignored_with_one_log_line(widget: AttentionWidget, monkeypatch, caplog, content) -> None:
    wire = listen(widget, monkeypatch)
    with caplog.at_level(logging.WARNING):
        page_sends(widget, content)
    assert wire.messages == []
    (record,) = [record for record in caplog.records if record.name.startswith("attnwidget")]
    assert record.exc_info is None and "ignored" in record.getMessage()


def test_the_state_message_stays_under_the_limit_and_layers_bring_their_scales_when_scales_are_large(
    monkeypatch,
) -> None:
    weights = _weights((2, 64, 1100, 8))  # scales alone: 2 × 64 × 1100 × 4 bytes = 563 kB
    widget = AttentionWidget.from_attentions(weights, [f"q{i}" for i in range(1100)], col_tokens=list("abcdefgh"))
    state = widget._data["stacks"]["self"]
    assert state["row_scale"] is None and state["layers"] == {}
    wire = listen(widget, monkeypatch)
    widget.send_state("_data")
    page_sends(widget, {"type": "layers", "version": widget._data["version"], "stack": "self", "layers": [1]})
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    codes = np.zeros((64 * 1100, 8), dtype=np.uint8)
    scales = np.zeros(64 * 1100, dtype=np.float32)
    for content, (code_bytes, scale_bytes) in wire.custom("layer"):
        codes[content["start"] : content["stop"]] = np.frombuffer(code_bytes, dtype=np.uint8).reshape(-1, 8)
        scales[content["start"] : content["stop"]] = np.frombuffer(scale_bytes, dtype=np.float32)
    expected_scales = np.array([[max(row) for row in head] for head in weights[1].tolist()], dtype=np.float32)
    assert np.array_equal(scales, expected_scales.reshape(-1))
    read_back = codes.reshape(64, 1100, 8) * (scales.reshape(64, 1100, 1).astype(np.float64) / 255)
    assert (np.abs(read_back - weights[1]) <= expected_scales[..., None] / 510).all()


# ---- 8. constructor and assignment agree; a closed widget does not re-run; short errors ------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"layer": 99}, "layer must be between 0 and 5, got 99"),
        ({"heads": [40, 1]}, "between 0 and 11, got 40"),
        ({"layer": True}, "must be an integer, got bool"),
        ({"threshold": float("nan")}, "between 0 and 1"),
        ({"focus": 500}, "between 0 and 10"),
    ],
)
def test_the_constructor_refuses_what_assignment_refuses(kwargs: dict, expected: str) -> None:
    with pytest.raises(traitlets.TraitError, match=expected):
        AttentionWidget(SENTENCE, model="offline", **kwargs)


def test_from_attentions_refuses_heads_the_tensor_does_not_have() -> None:
    with pytest.raises(traitlets.TraitError, match="between 0 and 0, got 3"):
        AttentionWidget.from_attentions(_weights((2, 1, 3, 3)), ["a", "b", "c"], heads=[3])


def test_the_constructor_applies_valid_view_state_like_assignment() -> None:
    widget = AttentionWidget(SENTENCE, model="offline", layer=4, heads=[5, 2], direction="attended_by", focus=3)
    assert (widget.layer, widget.heads, widget.direction, widget.focus) == (4, [2, 5], "attended_by", 3)


def test_an_error_about_a_huge_list_is_short(widget: AttentionWidget) -> None:
    with pytest.raises(traitlets.TraitError) as raised:
        widget.heads = list(range(100_000))
    assert len(str(raised.value)) < 200 and "100000 items" in str(raised.value)


def test_a_closed_widget_refuses_to_rerun(monkeypatch) -> None:
    widget = AttentionWidget(SENTENCE, model="offline")
    widget.close()
    monkeypatch.setattr(widget_module, "extract", lambda *args, **kwargs: pytest.fail("a closed widget re-ran"))
    with pytest.raises(RuntimeError, match="closed"):
        widget.sentence = "Anything."
    assert widget.sentence == SENTENCE


# ---- 9. budgets -------------------------------------------------------------------------------------------


def test_from_attentions_checks_the_budget_before_converting_anything(monkeypatch) -> None:
    import attnwidget.sources.tensors as tensors

    monkeypatch.setattr(tensors, "attention_array", lambda *args, **kwargs: pytest.fail("converted before the check"))
    attention = torch.zeros((1, 12, 64, 64), dtype=torch.float16)  # 12 × 64 × 64 × 4 = 196,608 bytes as float32
    with pytest.raises(ValueError, match="196.6 kB.*over the budget of 100.0 kB"):
        AttentionWidget.from_attentions(attention, ["t"] * 64, max_attention_bytes=100_000)
    per_layer = tuple(torch.zeros((1, 12, 64, 64)) for _ in range(2))
    with pytest.raises(ValueError, match="over the budget"):
        AttentionWidget.from_attentions(per_layer, ["t"] * 64, max_attention_bytes=100_000)


# ---- 10. one truth: the widget owns its data ------------------------------------------------------------


def test_changing_the_callers_tensor_afterwards_changes_neither_python_nor_the_page() -> None:
    given = torch.from_numpy(_weights((2, 3, 5, 5)))
    original = given.numpy().copy()
    widget = AttentionWidget.from_attentions(given, list("abcde"))
    data = widget._data
    given.zero_()  # as BertViz tutorials do to hide delimiter attention
    assert np.array_equal(widget.attention, original)
    assert widget._data is data


def test_the_attention_python_holds_is_read_only(widget: AttentionWidget) -> None:
    with pytest.raises(ValueError, match="read-only"):
        widget.attention[0, 0, 0, 0] = 1.0


def test_an_empty_model_name_from_python_is_refused_before_loading(widget: AttentionWidget) -> None:
    with pytest.raises(ValueError, match="model is empty"):
        widget.model = " "
    assert widget.model == "offline"


def test_a_run_from_the_page_is_answered_even_when_showing_its_result_fails(widget: AttentionWidget, monkeypatch) -> None:
    def failing_commit(*args, **kwargs):
        raise RuntimeError("could not show it")

    monkeypatch.setattr(widget, "_commit", failing_commit)
    page_sends(widget, {"type": "run", "request": 9, "sentence": "Another one."})
    assert widget._request == 9 and "could not show it" in widget.error
