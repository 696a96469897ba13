"""The linked panels in a real JupyterLab: a click in any panel moves every panel and Python, and back."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

SENTENCE = "He went to the bank to deposit money."
SHOW_WIDGET = [
    "from attnwidget import AttentionWidget",
    f"w = AttentionWidget({SENTENCE!r}, model='offline')\nw",
]


def _widget(page: Page) -> Locator:
    widget = page.locator(".attnwidget").first
    expect(widget.locator("[data-testid=heatmap]")).to_be_visible()
    return widget


def _kernel(lab, expression: str):
    return json.loads(lab.run_code(f"import json\nprint(json.dumps({expression}))"))


def _kernel_agrees(lab, expression: str, expected: object, timeout: float = 15.0) -> None:
    """Read the kernel until it shows what the page did.

    ipywidgets keeps one comm update in flight and queues the next until the kernel is idle, so a
    cell run right after two quick changes in the page may be answered before the second arrives.
    """
    deadline = time.monotonic() + timeout
    while (value := _kernel(lab, expression)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert value == expected


def _selected_heads(widget: Locator) -> list[int]:
    chips = widget.locator("[data-testid=head-chips] .is-selected")
    return [int(head) for head in chips.evaluate_all("chips => chips.map(chip => chip.dataset.head)")]


def test_clicking_a_heatmap_row_focuses_that_token_in_the_focus_panel_and_in_python(lab, page: Page) -> None:
    lab.run_notebook("heatmap_focus", SHOW_WIDGET)
    widget = _widget(page)

    widget.locator("[data-testid=heatmap-row-label]", has_text=re.compile(r"^\s*bank\s*$")).click()

    expect(widget.locator("[data-testid=focus-token]")).to_have_text(re.compile(r"bank"))
    expect(widget.locator("[data-testid=focus-bar]").first).to_be_visible()
    _kernel_agrees(lab, "[w.focus, w.tokens[w.focus], w.direction]", [5, "bank", "attends_to"])
    expect(widget.locator("[data-testid=head-view] .is-focus", has_text="bank").first).to_be_visible()


def test_clicking_a_model_view_thumbnail_selects_that_layer_and_head_everywhere(lab, page: Page) -> None:
    lab.run_notebook("thumbnail", SHOW_WIDGET)
    widget = _widget(page)

    widget.locator("[data-testid=thumbnail][data-layer='2'][data-head='3']").click()

    expect(widget.locator("[data-testid=layer-select]")).to_have_value("2")
    expect(widget.locator("[data-testid=head-chips] .is-selected")).to_have_count(1)
    assert _selected_heads(widget) == [3]
    expect(widget.locator("[data-testid=heatmap-caption]")).to_contain_text("head 3")
    _kernel_agrees(lab, "[w.layer, w.heads]", [2, [3]])


def test_view_state_set_from_python_moves_the_page(lab, page: Page) -> None:
    lab.run_notebook("from_python", SHOW_WIDGET)
    widget = _widget(page)

    lab.run_code("w.layer = 4\nw.heads = [1, 7]\nw.focus = 7")

    expect(widget.locator("[data-testid=layer-select]")).to_have_value("4")
    expect(widget.locator("[data-testid=head-chips] .is-selected")).to_have_count(2)
    assert _selected_heads(widget) == [1, 7]
    expect(widget.locator("[data-testid=focus-token]")).to_have_text(re.compile(r"deposit"))
    expect(widget.locator("[data-testid=heatmap-caption]")).to_contain_text("2 heads")


def test_out_of_range_layer_from_python_raises_and_the_page_is_unchanged(lab, page: Page) -> None:
    lab.run_notebook("out_of_range", SHOW_WIDGET)
    widget = _widget(page)

    output = lab.run_code("try:\n    w.layer = 6\nexcept Exception as error:\n    print(type(error).__name__, error)")

    assert "TraitError" in output and "between 0 and 5" in output
    expect(widget.locator("[data-testid=layer-select]")).to_have_value("0")


def test_arrow_keys_move_the_focus_token_and_the_layer(lab, page: Page) -> None:
    lab.run_notebook("keyboard", SHOW_WIDGET)
    widget = _widget(page)

    widget.locator("[data-testid=heatmap-row-label]", has_text=re.compile(r"^\s*bank\s*$")).click()
    widget.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")

    expect(widget.locator("[data-testid=focus-token]")).to_have_text(re.compile(r"^\s*to\s*$"))
    expect(widget.locator("[data-testid=layer-select]")).to_have_value("1")
    _kernel_agrees(lab, "[w.focus, w.layer]", [6, 1])


# JupyterLab's sidebar and margins take about 370 px: these give a widget about 700 and 1200 px wide.
@pytest.mark.parametrize("width", [1070, 1570])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_panel_renders_at_narrow_and_wide_widths_in_both_themes(lab, page: Page, width: int, theme: str) -> None:
    page.set_viewport_size({"width": width, "height": 2000})
    lab.run_notebook(f"layout_{theme}_{width}", SHOW_WIDGET)
    widget = _widget(page)
    if theme == "dark":  # switched live: the widget must repaint in the new theme
        page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1)
    widget.locator("[data-testid=heatmap-row-label]", has_text=re.compile(r"^\s*bank\s*$")).click()

    for panel in ("head-view", "heatmap", "token-focus", "model-view"):
        box = widget.locator(f"[data-testid={panel}]").bounding_box()
        assert box is not None and box["width"] > 150 and box["height"] > 100, f"{panel} is squeezed: {box}"
    widget_box = widget.bounding_box()
    assert widget_box is not None
    for panel in ("head-view", "heatmap", "token-focus", "model-view"):
        box = widget.locator(f"[data-testid={panel}]").bounding_box()
        assert box["x"] + box["width"] <= widget_box["x"] + widget_box["width"] + 1, f"{panel} overflows the widget"
    lab.screenshot(widget, f"widget-{theme}-{width}")
