"""head_view / model_view behave as BertViz's do: they display where BertViz displays, return its HTML, take its options."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from IPython.display import HTML
from nbclient import NotebookClient

from attnwidget.bertviz import head_view, model_view
from helpers.standalone_reading import embedded

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TOKENS = ["[CLS]", "the</w>", "Ġcat", "▁sat", "[SEP]"]


def attention(layers: int = 2, heads: int = 3, n: int = 5) -> tuple[torch.Tensor, ...]:
    """What Hugging Face returns: one (1, heads, n, n) tensor per layer, rows summing to 1."""
    weights = torch.rand(layers, 1, heads, n, n, generator=torch.Generator().manual_seed(0))
    return tuple(weights / weights.sum(-1, keepdim=True))


def test_view_displays_the_widget_and_returns_none(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects, **_: shown.extend(objects))
    assert head_view(attention(), TOKENS) is None
    assert model_view(attention(), TOKENS) is None
    assert [type(obj).__name__ for obj in shown] == ["AttentionWidget", "AttentionWidget"]


def test_the_widget_keeps_its_own_copy_of_the_callers_tensors() -> None:
    given = attention()
    original = torch.stack(given).squeeze(1).numpy().copy()
    widget = head_view(given, TOKENS, html_action="widget")
    for layer in given:
        layer.zero_()  # as BertViz tutorials do to hide delimiter attention
    assert np.array_equal(widget.attention, original)
    assert not widget.attention.flags.writeable


def test_return_gives_html_whose_data_is_the_standalone_file(tmp_path: Path) -> None:
    html = head_view(attention(), TOKENS, layer=1, heads=[2], html_action="return")
    assert isinstance(html, HTML)
    path = tmp_path / "head_view.html"
    with open(path, "w") as file:  # BertViz's README recipe
        file.write(html.data)
    state, _ = embedded(path.read_text())
    assert (state["traits"]["layer"], state["traits"]["heads"]) == (1, [2])
    assert state["traits"]["_data"]["stacks"]["self"]["n_layers"] == 2


def test_display_mode_forces_the_theme_and_defaults_to_dark_as_in_bertviz() -> None:
    assert model_view(attention(), TOKENS, html_action="widget").theme == "dark"
    assert model_view(attention(), TOKENS, display_mode="light", html_action="widget").theme == "light"
    assert head_view(attention(), TOKENS, html_action="widget").theme == "auto"
    with pytest.raises(ValueError, match="display_mode must be 'dark' or 'light', got 'sepia'"):
        model_view(attention(), TOKENS, display_mode="sepia")


def test_prettify_tokens_strips_markers_like_bertviz_and_false_keeps_them() -> None:
    pretty = head_view(attention(), TOKENS, html_action="widget")._data["stacks"]["self"]["rows"]
    raw = head_view(attention(), TOKENS, prettify_tokens=False, html_action="widget")._data["stacks"]["self"]["rows"]
    assert pretty == ["[CLS]", "the", " cat", " sat", "[SEP]"]
    assert raw == TOKENS


@pytest.mark.parametrize("b_start", [torch.tensor(3), np.int64(3), np.array(3)], ids=["tensor-0d", "numpy-int", "numpy-0d"])
def test_sentence_b_start_may_be_a_scalar_tensor_or_numpy_integer(b_start: object) -> None:
    widget = head_view(attention(), TOKENS, sentence_b_start=b_start, html_action="widget")
    assert widget.extraction.main.row_b_start == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"heads": [1, 1]}, r"heads must not repeat an index, got \[1, 1\]"),
        ({"include_layers": [0, 0]}, r"include_layers must not repeat"),
    ],
)
def test_repeated_indices_are_a_value_error(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        head_view(attention(), TOKENS, **arguments)


# ---- in a real kernel: the ported patterns show a view wherever BertViz's would -------------------

SETUP = textwrap.dedent(
    """
    import torch
    from attnwidget import head_view, model_view
    weights = torch.rand(2, 1, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    attention = tuple(weights / weights.sum(-1, keepdim=True))
    tokens = ["[CLS]", "the", "cat", "sat", "[SEP]"]
    """
)
PATTERNS = {
    "top level": "head_view(attention, tokens)",
    "inside a function": "def show(layer):\n    head_view(attention, tokens, layer=layer)\n\nshow(1)",
    "in a loop": "for layer in range(2):\n    model_view(attention, tokens, include_layers=[layer])",
    "followed by print": "head_view(attention, tokens)\nprint('shown above')",
}
EXPECTED_VIEWS = {"top level": 1, "inside a function": 1, "in a loop": 2, "followed by print": 1}


@pytest.fixture(scope="module")
def executed_patterns() -> dict[str, list[dict]]:
    """Each pattern's outputs, from one kernel running them as notebook cells."""
    cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(code) for code in PATTERNS.values()]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return {name: cell.outputs for name, cell in zip(PATTERNS, notebook.cells[1:])}


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_ported_bertviz_pattern_displays_a_view(executed_patterns: dict[str, list[dict]], pattern: str) -> None:
    outputs = executed_patterns[pattern]
    views = [output for output in outputs if WIDGET_VIEW in output.get("data", {})]
    assert len(views) == EXPECTED_VIEWS[pattern], json.dumps(outputs, indent=1)[:2000]
    assert all(output["output_type"] == "display_data" for output in views)  # displayed, not a returned value
    assert not [output for output in outputs if output["output_type"] == "execute_result"]
    if pattern == "followed by print":
        assert outputs[-1]["output_type"] == "stream" and outputs[-1]["text"] == "shown above\n"
