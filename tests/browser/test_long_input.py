"""A long input in a real JupyterLab: every panel draws from Python's on-demand answers.

A tiny random Llama with ``max_attention_bytes`` far below its attention is in
long mode: the page receives no weights and asks for tiles, rows, top keys and
thumbnails. The heatmap's hover value is checked against ``w.attention_layer``.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Locator, Page, expect

SENTENCE = "The bank by the river was closed, so she went to the other bank to deposit her money."

# How many pixels of a canvas differ from its first pixel (the background): > 0 once something is drawn.
DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 4; i < data.length; i += 4) {
    if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3]) drawn++;
  }
  return drawn;
}"""


def _kernel(lab, expression: str):
    return json.loads(lab.run_code(f"import json\nprint(json.dumps({expression}))"))


def _drawn(canvas: Locator) -> int:
    return canvas.evaluate(DRAWN_PIXELS)


def test_a_long_input_draws_every_panel_and_a_hover_shows_pythons_value(lab, page: Page, tiny_model_dir) -> None:
    llama = tiny_model_dir("llama")
    lab.run_notebook(
        "long_input",
        [
            "from attnwidget import AttentionWidget",
            f"w = AttentionWidget({SENTENCE!r}, model={str(llama)!r}, max_attention_bytes=20_000, layer=1)\nw",
        ],
    )
    widget = page.locator(".attnwidget").first
    heatmap = widget.locator("[data-testid=heatmap]")
    expect(heatmap.locator("[data-testid=heatmap-colorbar]")).to_be_visible()  # shown once the tile arrived
    assert _kernel(lab, "[w.is_long_input, len(w.tokens)]")[0] is True
    n = _kernel(lab, "len(w.tokens)")

    # Hover one cell (row 9, column 4): the tooltip's weight is the mean of the heads, as Python computes it.
    plot = heatmap.locator("[data-testid=heatmap-plot]")
    box = plot.bounding_box()
    row, col = 9, 4
    plot.hover(position={"x": (col + 0.5) * box["width"] / n, "y": (row + 0.5) * box["height"] / n})
    tooltip = heatmap.locator("[data-testid=heatmap-tooltip]")
    expect(tooltip).to_contain_text("weight:")
    shown = float(re.search(r"weight: \S+\s+\((\S+)\)", tooltip.inner_text()).group(1))
    expected = _kernel(lab, f"float(w.attention_layer(1)[:, {row}, {col}].mean())")
    assert abs(shown - expected) < 5e-5, (shown, expected)

    # Token focus: click the cell to focus its row; the bars are the row's weights, strongest first.
    plot.click(position={"x": (col + 0.5) * box["width"] / n, "y": (row + 0.5) * box["height"] / n})
    bars = widget.locator("[data-testid=token-focus] [data-testid=focus-bar]")
    expect(bars.first).to_be_visible()
    top_share = float(bars.first.locator(".aw-tf-value").inner_text().split("%")[0]) / 100
    expected_top = _kernel(lab, f"float(w.attention_layer(1)[:, {row}].mean(axis=0).max())")
    assert abs(top_share - expected_top) < 0.001, (top_share, expected_top)
    assert _drawn(widget.locator("[data-testid=focus-strip]")) > 0

    # Head view: lines from the top keys; model view: every thumbnail row drawn.
    widget.locator("[data-testid=heatmap-plot]").hover(position={"x": 1, "y": 1})
    page.mouse.move(0, 0)
    head_canvas = widget.locator("[data-testid=head-view] canvas")
    page.wait_for_function(f"(c) => ({DRAWN_PIXELS})(c) > 0", arg=head_canvas.element_handle(), timeout=10_000)
    thumbs = widget.locator("[data-testid=model-view] canvas")
    expect(thumbs).to_have_count(2)
    for index in range(2):
        page.wait_for_function(f"(c) => ({DRAWN_PIXELS})(c) > 0", arg=thumbs.nth(index).element_handle(), timeout=10_000)
    lab.screenshot(widget, "long_input")
