"""save_html: one self-contained file holding every layer, whose text can never become markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import attnwidget
from attnwidget import AttentionWidget
from attnwidget.export.html import script_json
from helpers.standalone_reading import buffer, embedded, scripts_of

HOSTILE = "</script><script>alert(1)</script>"


def softmax_attention(layers: int, heads: int, n: int, seed: int = 0) -> np.ndarray:
    scores = np.random.default_rng(seed).normal(size=(layers, heads, n, n)) * 3
    weights = np.exp(scores)
    return (weights / weights.sum(-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def widget() -> AttentionWidget:
    w = AttentionWidget("He went to the bank to deposit money.", model="offline")
    w.layer, w.heads, w.focus = 3, [0, 5], 5
    return w


def test_a_token_that_looks_like_markup_stays_one_json_string(tmp_path: Path) -> None:
    tokens = ["[CLS]", HOSTILE, "<!--", "&amp;", "[SEP]"]
    path = attnwidget.save_html(softmax_attention(2, 2, 5), tmp_path / "hostile.html", tokens=tokens)
    html = path.read_text(encoding="utf-8")

    assert HOSTILE not in html and "<script>alert" not in html
    scripts = scripts_of(html)
    assert [attrs.get("id") for attrs, _ in scripts] == ["attnwidget-state", "attnwidget-buffers", None]
    state, _ = embedded(html)
    assert state["traits"]["_data"]["stacks"]["self"]["rows"][1:4] == [HOSTILE, "<!--", "&amp;"]


def test_script_json_escapes_everything_that_could_end_a_script() -> None:
    text = script_json({"token": "</script><!-- & \u2028"})
    assert not re.search(r"[<>&\u2028]", text)
    assert json.loads(text) == {"token": "</script><!-- & \u2028"}


def test_every_layer_is_embedded_and_reads_back_as_the_codes_of_the_attention(widget: AttentionWidget, tmp_path: Path) -> None:
    state, blob = embedded(widget.save_html(tmp_path / "bank.html").read_text(encoding="utf-8"))
    stack = state["traits"]["_data"]["stacks"]["self"]
    assert sorted(stack["layers"], key=int) == [str(layer) for layer in range(widget.n_layers)]

    attention = widget.attention
    scales = buffer(blob, stack["row_scale"])
    np.testing.assert_array_equal(scales, attention.max(axis=-1))
    for layer in (0, 3, 5):
        codes = buffer(blob, stack["layers"][str(layer)])
        for head in (0, 11):
            for row in (0, 5):
                expected = [int(value / scales[layer, head, row] * 255 + 0.5) for value in attention[layer, head, row]]
                assert codes[head, row].tolist() == expected


def test_a_streamed_widget_still_saves_every_layer_and_every_row_scale(tmp_path: Path) -> None:
    # 2 × 4 × 32,768 rows: 1 MiB of codes and 1 MiB of row scales, so the widget's own state carries
    # neither every layer nor the row scales (the page would fetch them), but the file must.
    rows, cols = 32_768, 4
    attention = softmax_attention(2, 4, cols)[:, :, :1, :].repeat(rows, axis=2)
    attention[:, :, ::7, :] = softmax_attention(2, 4, cols, seed=1)[:, :, :1, :]  # rows that differ
    widget = AttentionWidget.from_attentions(attention, [f"r{i}" for i in range(rows)], col_tokens=list("abcd"))
    assert widget._data["stacks"]["self"]["row_scale"] is None
    assert len(widget._data["stacks"]["self"]["layers"]) < 2

    state, blob = embedded(widget.save_html(tmp_path / "long.html").read_text(encoding="utf-8"))
    stack = state["traits"]["_data"]["stacks"]["self"]
    assert sorted(stack["layers"], key=int) == ["0", "1"]
    scales = buffer(blob, stack["row_scale"])
    np.testing.assert_array_equal(scales, attention.max(axis=-1))
    for layer in (0, 1):
        codes = buffer(blob, stack["layers"][str(layer)])
        for head, row in ((0, 0), (3, 7), (2, rows - 1)):
            expected = [int(value / scales[layer, head, row] * 255 + 0.5) for value in attention[layer, head, row]]
            assert codes[head, row].tolist() == expected


def test_the_file_opens_on_the_widgets_view_with_no_sentence_box(widget: AttentionWidget, tmp_path: Path) -> None:
    state, _ = embedded(widget.save_html(tmp_path / "bank.html").read_text(encoding="utf-8"))
    traits = state["traits"]
    assert (traits["layer"], traits["heads"], traits["focus"]) == (3, [0, 5], 5)
    assert traits["has_model"] is False and traits["model"] == widget.model
    assert traits["theme"] == "auto"


def test_nothing_in_the_file_can_be_fetched(widget: AttentionWidget, tmp_path: Path) -> None:
    html = widget.save_html(tmp_path / "bank.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html
    assert not re.search(r"""\b(src|href)=["']?(https?:)?//""", html)
    for attrs, _ in scripts_of(html):
        assert "src" not in attrs


def test_long_inputs_are_compressed_and_stay_small(tmp_path: Path) -> None:
    n = 128
    attention = softmax_attention(6, 12, n)
    path = attnwidget.save_html(attention, tmp_path / "long.html", tokens=[f"t{i}" for i in range(n)])
    state, blob = embedded(path.read_text(encoding="utf-8"))
    assert state["compression"] == "gzip"
    codes_bytes = attention.size  # one byte per weight
    assert len(blob) >= codes_bytes
    # base64 of the compressed codes plus ~100 kB of front end: well under the raw codes' base64 size.
    assert path.stat().st_size < codes_bytes * 4 / 3


def test_forced_theme_is_recorded(widget: AttentionWidget, tmp_path: Path) -> None:
    state, _ = embedded(widget.save_html(tmp_path / "dark.html", theme="dark").read_text(encoding="utf-8"))
    assert state["traits"]["theme"] == "dark"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w, p: attnwidget.save_html(w.attention, p), "tokens are required"),
        (lambda w, p: attnwidget.save_html(w, p, tokens=["a"]), "carries its own tokens"),
        (lambda w, p: w.save_html(p, theme="sepia"), "theme must be one of"),
        (lambda w, p: w.save_html(p / "missing-dir" / "x.html"), "cannot write"),
    ],
)
def test_bad_calls_say_what_is_wrong(widget: AttentionWidget, tmp_path: Path, call, message: str) -> None:
    with pytest.raises((TypeError, ValueError, OSError), match=message):
        call(widget, tmp_path)


def loop_rollout_then_words(attention: np.ndarray, groups: list[list[int]]) -> list[np.ndarray]:
    """Per layer: rollout of the head means (residual 0.5) as loops, then read as words (to: sum, from: mean)."""
    n = attention.shape[-1]
    running = [[float(r == c) for c in range(n)] for r in range(n)]
    shown = []
    for layer in attention:
        step = [[0.5 * (r == c) + 0.5 * float(layer[:, r, c].mean()) for c in range(n)] for r in range(n)]
        running = [[sum(step[r][k] * running[k][c] for k in range(n)) for c in range(n)] for r in range(n)]
        shown.append(np.array([[sum(running[i][j] for i in g for j in h) / len(g) for h in groups] for g in groups]))
    return shown


def test_a_rollout_over_words_is_saved_as_the_widget_shows_it_with_the_toggles_fixed(tmp_path: Path) -> None:
    tokens = ["[CLS]", "the", "bank", "##s", "[SEP]"]
    attention = softmax_attention(3, 2, 5, seed=3)
    widget = AttentionWidget.from_attentions(attention, tokens)
    widget.combine, widget.granularity = "rollout", "words"
    state, blob = embedded(widget.save_html(tmp_path / "rollout.html").read_text(encoding="utf-8"))
    traits = state["traits"]
    assert (traits["combine"], traits["granularity"], traits["_static"]) == ("rollout", "words", True)
    data = traits["_data"]
    assert (data["combine"], data["granularity"]) == ("rollout", "words")  # the panels' captions read these
    stack = data["stacks"]["self"]
    assert stack["rows"] == ["[CLS]", "the", "banks", "[SEP]"]

    expected = loop_rollout_then_words(attention, [[0], [1], [2, 3], [4]])
    scales = buffer(blob, stack["row_scale"])
    for layer in range(3):
        values = buffer(blob, stack["layers"][str(layer)]) * scales[layer][..., None] / 255
        # Words are linear, so the mean of the heads' rollout is the rollout of the mean, read as words.
        assert np.allclose(values.mean(axis=0), expected[layer], atol=1 / 255)


def test_the_file_holds_the_head_table_of_the_shown_stack(widget: AttentionWidget, tmp_path: Path) -> None:
    state, _ = embedded(widget.save_html(tmp_path / "bank.html").read_text(encoding="utf-8"))
    stats = state["traits"]["_head_stats"]
    assert stats["stack"] == "self" and stats["version"] == state["traits"]["_data"]["version"]
    table = widget.head_stats()
    assert stats["columns"]["layer"] == table["layer"].tolist() and stats["columns"]["pattern"] == table["pattern"].tolist()
    assert stats["summary"] == widget.layer_summary


def test_a_comparison_is_saved_with_every_layer_of_both_models(tmp_path: Path) -> None:
    widget = AttentionWidget("The bank by the river.", model="offline", compare_to="offline")
    state, blob = embedded(widget.save_html(tmp_path / "compare.html").read_text(encoding="utf-8"))
    traits = state["traits"]
    assert traits["compare_to"] == "offline"
    compare = traits["_compare"]
    assert compare["caption"] == widget._compare["caption"] and compare["layer_map"] == widget.comparison.layer_map
    for name, stack in (("a", widget.comparison.a), ("b", widget.comparison.b)):
        saved = compare["stacks"][name]
        assert sorted(saved["layers"], key=int) == [str(layer) for layer in range(stack.n_layers)]
        np.testing.assert_array_equal(buffer(blob, saved["row_scale"]), stack.attention.max(axis=-1))


def test_an_array_saved_as_rollout_says_so(tmp_path: Path) -> None:
    path = attnwidget.save_html(softmax_attention(2, 2, 4), tmp_path / "a.html", tokens=list("abcd"), combine="rollout")
    state, _ = embedded(path.read_text(encoding="utf-8"))
    assert state["traits"]["combine"] == "rollout" and state["traits"]["_data"]["combine"] == "rollout"
