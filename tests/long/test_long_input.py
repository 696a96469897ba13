"""Inputs over ``max_attention_bytes``: the widget keeps queries and keys and answers the page exactly.

Every answer (heatmap tile, token-focus line, top keys, model-view thumbnails, a
whole layer) is compared with the model's own attention, materialised by a
normal widget of the same model and text, and pooled by loops written here.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import traitlets

from attnwidget import AttentionWidget
from attnwidget.sources.models import LoadedModel
from attnwidget.wire.limits import MAX_MESSAGE_BYTES
from helpers.pooling import max_pool_by_loop

SENTENCE = "The bank by the river was closed, so she went to the other bank to deposit her money."
TINY_BUDGET = 1024  # bytes: far below a tiny model's attention, so every input is long


@pytest.fixture(scope="module")
def llama(tiny_model) -> LoadedModel:
    return tiny_model("llama")


@pytest.fixture(scope="module")
def pair(llama: LoadedModel) -> tuple[AttentionWidget, AttentionWidget]:
    """The same model and text twice: in long mode, and materialised (the reference)."""
    return AttentionWidget(SENTENCE, model=llama, max_attention_bytes=TINY_BUDGET), AttentionWidget(SENTENCE, model=llama)


def answers_to(widget: AttentionWidget, request: dict, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, list]]:
    sent: list[tuple[dict, list]] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append((content, buffers or [])))
    widget._page.on_message(widget, {"type": "long", "version": widget._data["version"], "stack": "self", "id": 7, **request}, [])
    return sent


def one_answer(widget: AttentionWidget, request: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, list[np.ndarray]]:
    sent = answers_to(widget, request, monkeypatch)
    assert len(sent) == 1
    header, buffers = sent[0]
    assert sum(buffer.nbytes for buffer in buffers) <= MAX_MESSAGE_BYTES
    dtypes = [np.int32, np.float32] if header["what"] == "top" else [np.float32]
    arrays = [np.frombuffer(bytes(b), dtype=d).reshape(header["shape"]) for b, d in zip(buffers, dtypes)]
    return header, arrays


# ---- the data model -----------------------------------------------------------------------


def test_an_input_over_the_budget_is_kept_as_queries_and_keys_and_the_page_is_told(pair) -> None:
    long, full = pair
    assert long.is_long_input and not full.is_long_input
    assert long.tokens == full.tokens and long.n_layers == 2 and long.n_heads == 4
    stack = long._data["stacks"]["self"]
    assert stack["long"] is True and stack["layers"] == {} and stack["row_scale"] is None
    assert full._data["stacks"]["self"]["long"] is False
    assert any("long input" in note for note in long.notes)


def test_w_attention_of_a_long_input_points_to_attention_layer(pair) -> None:
    long, _ = pair
    with pytest.raises(ValueError, match=r"max_attention_bytes.*w\.attention_layer\(layer\)"):
        _ = long.attention


def test_attention_layer_materialises_one_layer_exactly_when_it_fits(llama, pair) -> None:
    _, full = pair
    one_layer = AttentionWidget(SENTENCE, model=llama, max_attention_bytes=full.attention[0].nbytes)
    assert one_layer.is_long_input  # two layers do not fit, one does
    for layer in range(2):
        np.testing.assert_allclose(one_layer.attention_layer(layer), full.attention[layer], atol=1e-5)
        np.testing.assert_array_equal(full.attention_layer(layer), full.attention[layer])  # normal inputs too
    assert not one_layer.attention_layer(1).flags.writeable


def test_attention_layer_over_the_budget_or_out_of_range_says_why(pair) -> None:
    long, _ = pair
    with pytest.raises(ValueError, match=r"one layer's attention would take .* over the budget"):
        long.attention_layer(0)
    with pytest.raises(ValueError, match="layer must be between 0 and 1"):
        long.attention_layer(2)


def test_qk_of_a_long_input_is_refused_with_the_reason(pair) -> None:
    with pytest.raises(ValueError, match="not available for an input over max_attention_bytes"):
        pair[0].qk(0, 0)


# ---- the page's requests, answered exactly ---------------------------------------------------


@pytest.mark.parametrize(
    ("heads", "rows", "cols", "size"),
    [([0], (0, 23), (0, 23), (10, 7)), ([1, 3], (4, 20), (2, 19), (16, 17)), ([0, 1, 2, 3], (0, 23), (0, 23), (64, 64))],
    ids=["one-head-pooled", "zoomed-two-heads", "every-head-one-value-per-cell"],
)
def test_a_heatmap_tile_is_the_max_pooled_mean_of_the_models_attention(pair, heads, rows, cols, size, monkeypatch) -> None:
    long, full = pair
    n = len(full.tokens)
    rows, cols = (rows[0], min(rows[1], n)), (cols[0], min(cols[1], n))
    request = {"what": "tile", "layer": 1, "heads": heads, "rows": list(rows), "cols": list(cols), "size": list(size)}
    header, [tile] = one_answer(long, request, monkeypatch)
    assert header["id"] == 7 and header["what"] == "tile" and header["rows"] == list(rows)
    mean = full.attention[1, heads].mean(axis=0)
    np.testing.assert_allclose(tile, max_pool_by_loop(mean[slice(*rows), slice(*cols)], *size), atol=1e-5)


@pytest.mark.parametrize("axis", ["row", "col"])
def test_a_token_focus_line_is_the_models_row_or_column(pair, axis, monkeypatch) -> None:
    long, full = pair
    index = 5
    _, [line] = one_answer(long, {"what": "line", "layer": 0, "heads": [1, 2], "axis": axis, "index": index}, monkeypatch)
    mean = full.attention[0, [1, 2]].mean(axis=0)
    np.testing.assert_allclose(line, mean[index] if axis == "row" else mean[:, index], atol=1e-5)


def test_top_keys_are_each_rows_strongest_keys(pair, monkeypatch) -> None:
    long, full = pair
    header, [keys, weights] = one_answer(
        long, {"what": "top", "layer": 1, "heads": [2], "rows": [3, 20], "count": 4}, monkeypatch
    )
    assert keys.shape == (17, 4) and header["rows"] == [3, 20]
    for offset, row in enumerate(range(3, 20)):
        expected = sorted(full.attention[1, 2, row], reverse=True)[:4]
        np.testing.assert_allclose(weights[offset], expected, atol=1e-5)
        np.testing.assert_allclose(full.attention[1, 2, row, keys[offset]], weights[offset], atol=1e-5)


def test_thumbnails_are_every_head_of_the_layer_pooled(pair, monkeypatch) -> None:
    long, full = pair
    _, [thumbs] = one_answer(long, {"what": "thumbs", "layer": 0, "size": 8}, monkeypatch)
    assert thumbs.shape == (4, 8, 8)
    for head in range(4):
        np.testing.assert_allclose(thumbs[head], max_pool_by_loop(full.attention[0, head], 8, 8), atol=1e-5)


BAD_REQUESTS = [
    {"what": "tile", "layer": 0, "heads": [0], "rows": [0, 5], "cols": [0, 5], "size": [1024, 1024]},  # 4 MiB
    {"what": "tile", "layer": 0, "heads": [0], "rows": [5, 5], "cols": [0, 5], "size": [4, 4]},  # empty
    {"what": "tile", "layer": 0, "heads": [0], "rows": [0, 999], "cols": [0, 5], "size": [4, 4]},  # past the end
    {"what": "tile", "layer": 0, "heads": [], "rows": [0, 5], "cols": [0, 5], "size": [4, 4]},  # no head
    {"what": "tile", "layer": 0, "heads": [0], "rows": [0, 5], "cols": [0, 5], "size": [4, True]},
    {"what": "line", "layer": 2, "heads": [0], "axis": "row", "index": 0},
    {"what": "line", "layer": 0, "heads": [0], "axis": "diagonal", "index": 0},
    {"what": "line", "layer": 0, "heads": [0, 0], "axis": "row", "index": 0},
    {"what": "top", "layer": 0, "heads": [0, 1], "rows": [0, 5], "count": 4},  # one head at a time
    {"what": "top", "layer": 0, "heads": [0], "rows": [0, 5], "count": 33},
    {"what": "thumbs", "layer": 0, "size": 1000},
    {"what": "everything", "layer": 0},
    {"what": "tile", "layer": 0, "id": "7"},
]


@pytest.mark.parametrize("request_", BAD_REQUESTS, ids=range(len(BAD_REQUESTS)))
def test_malformed_or_oversized_requests_are_ignored_with_one_log_line(pair, request_, monkeypatch, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        sent = answers_to(pair[0], request_, monkeypatch)
    assert sent == []
    assert len(caplog.records) == 1 and "ignored a malformed long-input request" in caplog.records[0].getMessage()


def test_a_long_request_to_a_normal_input_is_answered_with_an_error(pair, monkeypatch) -> None:
    sent = answers_to(pair[1], {"what": "line", "layer": 0, "heads": [0], "axis": "row", "index": 0}, monkeypatch)
    assert len(sent) == 1 and "ask for layers" in sent[0][0]["error"]


def test_a_layer_request_to_a_long_input_is_ignored_with_one_log_line(pair, monkeypatch, caplog) -> None:
    long = pair[0]
    sent: list = []
    monkeypatch.setattr(long, "send", lambda content, buffers=None: sent.append(content))
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        long._page.on_message(long, {"type": "layers", "version": long._data["version"], "stack": "self", "layers": [0]}, [])
    assert sent == [] and len(caplog.records) == 1


def test_a_request_through_the_comm_is_answered_under_1_mib(pair, monkeypatch) -> None:
    from helpers.page_peer import listen, page_sends

    long, full = pair
    wire = listen(long, monkeypatch)
    page_sends(
        long,
        {
            "type": "long",
            "version": long._data["version"],
            "stack": "self",
            "id": 1,
            "what": "line",
            "layer": 1,
            "heads": [0],
            "axis": "row",
            "index": 3,
        },
    )
    answer = wire.custom("long")
    assert len(answer) == 1 and wire.largest_message_bytes() <= MAX_MESSAGE_BYTES
    np.testing.assert_allclose(np.frombuffer(bytes(answer[0][1][0]), dtype=np.float32), full.attention[1, 0, 3], atol=1e-5)


# ---- 2,048 tokens: long mode against the model's own materialised attention ---------------------

N = 2048


@pytest.fixture(scope="module")
def long_llama(llama: LoadedModel) -> tuple[LoadedModel, str, np.ndarray]:
    """The tiny Llama's tokenizer on a 2-layer × 4-head model that takes 2,048 positions, its text and attention."""
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=llama.model.config.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=N,
        attn_implementation="eager",
    )
    model = LlamaModel(config).eval()
    with torch.no_grad():
        for layer in model.layers:
            layer.self_attn.q_proj.weight.mul_(8.0)  # sharp rows: pooling and top keys meet real peaks
    loaded = LoadedModel(model, llama.tokenizer, "long-llama")
    words = "the bank river money deposit closed went other so she her by was to".split()
    text = " ".join(words[(i * 7) % len(words)] for i in range(N))
    ids = llama.tokenizer(text, return_tensors="pt", truncation=True, max_length=N)["input_ids"]
    assert ids.shape[1] == N
    with torch.no_grad():
        attentions = model(input_ids=ids, output_attentions=True).attentions
    return loaded, text, np.stack([layer[0].numpy() for layer in attentions])


def test_at_2048_tokens_every_answer_equals_the_models_attention(long_llama, monkeypatch) -> None:
    loaded, text, attention = long_llama
    widget = AttentionWidget(text, model=loaded, max_attention_bytes=2**20)
    assert widget.is_long_input and len(widget.tokens) == N
    _, [tile] = one_answer(
        widget, {"what": "tile", "layer": 1, "heads": [0, 3], "rows": [0, N], "cols": [0, N], "size": [300, 256]}, monkeypatch
    )
    np.testing.assert_allclose(tile, max_pool_by_loop(attention[1, [0, 3]].mean(axis=0), 300, 256), atol=1e-5)
    _, [line] = one_answer(widget, {"what": "line", "layer": 0, "heads": [2], "axis": "row", "index": 1500}, monkeypatch)
    np.testing.assert_allclose(line, attention[0, 2, 1500], atol=1e-5)
    _, [column] = one_answer(widget, {"what": "line", "layer": 0, "heads": [1], "axis": "col", "index": 9}, monkeypatch)
    np.testing.assert_allclose(column, attention[0, 1, :, 9], atol=1e-5)
    _, [keys, weights] = one_answer(widget, {"what": "top", "layer": 1, "heads": [1], "rows": [0, N], "count": 8}, monkeypatch)
    expected = -np.sort(-attention[1, 1], axis=1)[:, :8]
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(attention[1, 1], keys, axis=1), weights, atol=1e-5)
    _, [thumbs] = one_answer(widget, {"what": "thumbs", "layer": 0, "size": 32}, monkeypatch)
    for head in range(4):
        np.testing.assert_allclose(thumbs[head], max_pool_by_loop(attention[0, head], 32, 32), atol=1e-5)


def test_the_flash_kernel_gives_the_row_normalisers_free_and_the_models_output_unchanged(long_llama) -> None:
    from attnwidget.long.capture import capture_queries_keys_long
    from attnwidget.long.stack import logsumexp_all

    loaded, text, _ = long_llama
    model = loaded.model
    ids = loaded.tokenizer(text, return_tensors="pt", truncation=True, max_length=N)["input_ids"]
    with torch.no_grad(), capture_queries_keys_long(model) as capture:
        ours = model(input_ids=ids).last_hidden_state
    model.set_attn_implementation("sdpa")
    try:
        with torch.no_grad():
            theirs = model(input_ids=ids).last_hidden_state
    finally:
        model.set_attn_implementation("eager")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    flash = capture.row_logsumexp()
    assert flash is not None and flash.shape == (2, 4, N)
    np.testing.assert_allclose(flash, logsumexp_all(capture.result()), atol=1e-5)


def test_save_html_and_figures_of_a_long_input_say_they_need_the_weights(pair, tmp_path) -> None:
    long, _ = pair
    with pytest.raises(ValueError, match="save_html writes every layer's weights.*over max_attention_bytes"):
        long.save_html(tmp_path / "long.html")
    assert not (tmp_path / "long.html").exists()
    with pytest.raises(ValueError, match=r"w\.attention_layer\(layer\)"):
        long.figure("heatmap")


def test_analyses_that_read_every_weight_are_refused_or_empty_for_a_long_input(llama, monkeypatch, caplog) -> None:
    from helpers.page_peer import page_sets

    long = AttentionWidget(SENTENCE, model=llama, max_attention_bytes=TINY_BUDGET)
    with pytest.raises(traitlets.TraitError, match=r"combine='rollout' reads every weight.*not available for a long input"):
        long.combine = "rollout"
    page_sets(long, {"granularity": "words"})  # from the page: refused, snapped back, nothing raised
    assert long.granularity == "tokens"
    with caplog.at_level(logging.WARNING, logger="attnwidget"):
        long._page.on_message(long, {"type": "head_stats", "version": long._data["version"], "stack": "self"}, [])
    assert long._head_stats["columns"]["layer"] == [] and caplog.records == []  # no rows: the Heads table stays hidden
