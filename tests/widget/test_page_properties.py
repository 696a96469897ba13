"""Property-based tests: whatever the page sends, the kernel never raises, stays in step, and answers within bounds.

Values are arbitrary JSON (plus NaN and infinities, which Python's JSON reader accepts),
mixed with near-valid ones (small integers, lists of them, the traits' own words) so
that both sides of every rule are reached. Messages go through ipywidgets' real
``_handle_msg``; the page's copy of the state is simulated by applying everything the
kernel sends back, in order, as the front end does.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnwidget import AttentionWidget
from attnwidget.core.checks import check_text, is_int
from attnwidget.wire import view_state as rules
from attnwidget.wire.limits import MAX_MESSAGE_BYTES, MAX_REQUEST_ID
from helpers.page_peer import listen, page_sends, page_sets

WORDS = [
    "self",
    "encoder",
    "decoder",
    "cross",
    "attends_to",
    "attended_by",
    "all",
    "aa",
    "ab",
    "ba",
    "bb",
    "",
    "none",
    "rollout",
    "tokens",
    "words",
    "a",
    "b",
]
SYNCED = [
    *rules.PAGE_SETTABLE,
    "sentence",
    "sentence_b",
    "target",
    "model",
    "models",
    "has_model",
    "busy",
    "error",
    "notes",
    "shapes",
    "_request",
    "compare_to",
    "_compare",
    "_head_stats",
]

# Text as JSON can carry it: lone surrogates included ("\ud800" is a valid JSON escape).
any_text = st.text(st.characters(categories=["Cs"]) | st.characters(), max_size=20)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=14)
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-0.5, max_value=1.5)
    | st.sampled_from(WORDS)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
near_valid_heads = st.lists(st.integers(min_value=-1, max_value=13), max_size=14)
values = json_values | near_valid_heads

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---- the rules alone --------------------------------------------------------------------------------

SHAPES = {"encoder": rules.StackShape(2, 4, 7, 7), "cross": rules.StackShape(3, 2, 5, 7)}


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from(rules.VIEW_NAMES),
    value=values,
    stack=st.sampled_from(list(SHAPES)),
    direction=st.sampled_from(rules.DIRECTIONS),
)
def test_a_view_value_is_either_canonical_or_refused_with_a_short_valueerror(name, value, stack, direction) -> None:
    try:
        checked = rules.check_view_value(name, value, rules.ViewContext(SHAPES, stack, direction))
    except ValueError as error:
        assert len(str(error)) < 300
        return
    assert rules.check_view_value(name, checked, rules.ViewContext(SHAPES, stack, direction)) == checked
    shape = SHAPES[stack]
    if name == "layer":
        assert type(checked) is int and 0 <= checked < shape.n_layers
    elif name == "heads":
        assert checked == sorted(set(checked)) and all(type(head) is int and 0 <= head < shape.n_heads for head in checked)
    elif name == "threshold":
        assert type(checked) is float and math.isfinite(checked) and 0 <= checked <= 1
    elif name == "focus":
        assert checked is None or (type(checked) is int and 0 <= checked < rules.focus_axis_size(shape, direction))
    elif name == "hide_special":
        assert type(checked) is bool
    elif name == "combine":
        assert checked in rules.COMBINES
    elif name == "granularity":
        assert checked in rules.GRANULARITIES


@PROPERTY_SETTINGS
@given(text=any_text)
def test_text_is_accepted_exactly_when_it_can_be_sent_as_utf8(text: str) -> None:
    try:
        check_text(text, "sentence")
    except ValueError as error:
        position = int(str(error).split("at character ")[1].split(",")[0])
        assert 0xD800 <= ord(text[position]) <= 0xDFFF
        assert text[:position].encode("utf-8") is not None
        return
    assert text.encode("utf-8").decode("utf-8") == text


# ---- state updates from the page --------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair_widget(tiny_model_dir) -> AttentionWidget:
    """Three stacks of different shapes, so every range depends on the stack shown."""
    return AttentionWidget("the bank by the river", target="money in the bank", model=str(tiny_model_dir("bart")))


def _page_after(widget: AttentionWidget, sent: dict, wire) -> dict:
    """The page's state: what it set, then every echo and update from the kernel applied in order."""
    page = dict(sent)
    for msg, buffers in wire.messages:
        if msg["method"] in ("update", "echo_update"):
            state = msg["state"]
            for path, buffer in zip(msg.get("buffer_paths", []), buffers):
                _put(state, path, buffer)  # as the page's widget manager puts binary parts back
            page.update(state)
    return page


def _put(state: Any, path: list, buffer: Any) -> None:
    for key in path[:-1]:
        state = state[key]
    state[path[-1]] = buffer


def _json(value: Any) -> str:
    """Equal for equal values; binary parts (arrays on the wire) compared by their bytes."""
    return json.dumps(
        value, sort_keys=True, default=lambda v: bytes(v).hex() if isinstance(v, (bytes, bytearray, memoryview)) else str(v)
    )


@PROPERTY_SETTINGS
@given(patch=st.dictionaries(st.sampled_from(SYNCED) | st.text(max_size=6), values, min_size=1, max_size=5))
def test_any_state_update_from_the_page_never_raises_and_leaves_page_and_python_in_step(
    pair_widget: AttentionWidget, monkeypatch, patch: dict
) -> None:
    owned = ("sentence", "error", "busy", "has_model", "_request", "compare_to", "_compare")
    owned_before = {name: pair_widget.get_state(name)[name] for name in owned}
    data_version = pair_widget._data["version"]
    shown_before = (pair_widget.combine, pair_widget.granularity)
    with monkeypatch.context() as patched:
        wire = listen(pair_widget, patched)
        page_sets(pair_widget, patch)
    page = _page_after(pair_widget, patch, wire)
    python = pair_widget.get_state([name for name in patch if name in pair_widget.keys])
    for name, value in python.items():
        assert _json(page[name]) == _json(value), f"the page holds {name}={page[name]!r}, Python {value!r}"
    assert {name: pair_widget.get_state(name)[name] for name in owned_before} == owned_before
    if (pair_widget.combine, pair_widget.granularity) == shown_before:
        assert pair_widget._data["version"] == data_version  # only rollout or words re-encode what is shown
    # Python's view state always satisfies the rules, whatever the page sent.
    shapes = pair_widget._stack_shapes()
    for name in rules.VIEW_NAMES:
        value = getattr(pair_widget, name)
        checked = rules.check_view_value(name, value, rules.ViewContext(shapes, pair_widget.stack, pair_widget.direction))
        assert checked == value
    assert type(pair_widget.page_runs) is int and 0 <= pair_widget.page_runs <= pair_widget._request
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES


# ---- custom messages from the page ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def streamed_widget() -> AttentionWidget:
    """Layers of 2 × 800 × 800 codes (1.3 MB, streamed in two parts each)."""
    weights = np.random.default_rng(5).random((3, 2, 800, 800), dtype=np.float32)
    weights /= weights.sum(axis=-1, keepdims=True)
    return AttentionWidget.from_attentions(weights, [f"t{i}" for i in range(800)])


layer_requests = st.fixed_dictionaries(
    {"type": st.just("layers")},
    optional={
        "version": st.sampled_from([1, 2, 0, True, "1", None]) | json_values,
        "stack": st.sampled_from(["self", "x"]) | json_values,
        "layers": st.lists(st.integers(min_value=-2, max_value=4) | scalars, max_size=200) | json_values,
    },
)
run_requests = st.fixed_dictionaries(
    {"type": st.just("run")},
    optional={
        "request": st.integers(min_value=-1, max_value=2**54) | json_values,
        "sentence": any_text | json_values,
        "model": json_values,
        "sentence_b": json_values,
        "target": json_values,
    },
)
compare_requests = st.fixed_dictionaries(
    {"type": st.just("compare")},
    optional={"request": st.integers(min_value=-1, max_value=2**54) | json_values, "model": json_values},
)
analysis_requests = st.fixed_dictionaries(
    {"type": st.sampled_from(["compare_layers", "head_stats"])},
    optional={
        "version": st.sampled_from([1, 2, 0, True, "1", None]) | json_values,
        "stack": st.sampled_from(["self", "a", "b", "x"]) | json_values,
        "layers": st.lists(st.integers(min_value=-2, max_value=4) | scalars, max_size=200) | json_values,
    },
)
messages = layer_requests | run_requests | compare_requests | analysis_requests | json_values


@PROPERTY_SETTINGS
@given(content=messages)
def test_any_message_from_the_page_never_raises_and_is_answered_within_bounds(
    streamed_widget: AttentionWidget, monkeypatch, content: Any
) -> None:
    widget = streamed_widget
    data, error_before = widget._data, widget.error
    with monkeypatch.context() as patched:
        wire = listen(widget, patched)
        page_sends(widget, content)
    layer_bytes = 2 * 800 * (800 + 4)  # one layer's codes and row scales
    assert wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    answered = sum(sum(memoryview(buffer).nbytes for buffer in buffers) for _, buffers in wire.messages)
    assert answered <= widget.n_layers * layer_bytes  # at most the whole stack, once
    assert widget._data is data  # nothing the page sends replaces what Python shows
    kind = content.get("type") if isinstance(content, dict) else None
    request = content.get("request") if kind in ("run", "compare") else None
    if is_int(request) and 0 <= request <= MAX_REQUEST_ID:
        stops_comparing = kind == "compare" and content.get("model") == ""
        assert widget._request == request and bool(widget.error) != stops_comparing  # tensors cannot re-run or compare
    else:
        assert widget.error == error_before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentence=any_text, model=st.sampled_from(["offline", "gpt2", "/tmp", ""]) | json_values)
def test_any_run_message_either_runs_an_offered_model_or_is_refused_keeping_the_view(
    pair_widget: AttentionWidget, sentence: str, model: Any
) -> None:
    before = (pair_widget.sentence, pair_widget._data)
    request = pair_widget._request + 1
    page_sends(pair_widget, {"type": "run", "request": request, "sentence": sentence, "model": model})
    assert pair_widget._request == request
    if pair_widget.error:
        assert (pair_widget.sentence, pair_widget._data) == before
    else:
        assert pair_widget.sentence == sentence and (model is None or model in pair_widget.models)  # None: the current one
        assert pair_widget.attention.shape[-2:] == (len(pair_widget.tokens), len(pair_widget.col_tokens))
