"""The neuron view in a real JupyterLab: pick a head and a token, read the cells, check them against w.qk."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

SENTENCE = "He went to the bank to deposit money."
SHOW_WIDGET = [
    "from attnwidget import AttentionWidget",
    f"w = AttentionWidget({SENTENCE!r}, model='offline', layer=2)\nw",
]


def _kernel(lab, expression: str):
    return json.loads(lab.run_code(f"import json\nprint(json.dumps({expression}))"))


def _screenshot(page: Page, name: str) -> None:
    """Pictures of the widget and of the panel, to look at, when ATTNWIDGET_SCREENSHOTS names a directory."""
    directory = os.environ.get("ATTNWIDGET_SCREENSHOTS")
    if directory:
        widget = page.locator(".attnwidget").first
        widget.screenshot(path=str(Path(directory) / f"{name}.png"))
        widget.locator("[data-testid=neuron-view]").screenshot(path=str(Path(directory) / f"{name}-panel.png"))


def test_the_neuron_view_shows_the_dot_products_python_computes(lab, page: Page) -> None:
    lab.run_notebook("neuron_view", SHOW_WIDGET)
    widget = page.locator(".attnwidget").first
    panel = widget.locator("[data-testid=neuron-view]")
    expect(widget.locator("[data-testid=heatmap]")).to_be_visible()

    panel.locator("[data-testid=neuron-toggle]").click()
    panel.locator("[data-testid=neuron-head]").select_option("5")
    widget.locator("[data-testid=heatmap-row-label]", has_text=re.compile(r"^\s*bank\s*$")).click()

    expect(panel.locator("[data-testid=neuron-caption]")).to_contain_text("Layer 2, head 5: query “bank”, 32 dimensions")
    keys = panel.locator("[data-testid=neuron-score]")
    expect(keys).to_have_count(11)
    # The key "deposit" (token 7): its dot product, score and weight as the page shows them.
    deposit = panel.locator("[data-testid=neuron-score][data-key='7']")
    shown_dot = float(deposit.get_attribute("data-dot"))
    shown_weight = float(deposit.get_attribute("data-weight"))
    q, k, _scale = _kernel(lab, "[w.qk(2, 5).q.tolist(), w.qk(2, 5).k.tolist(), w.qk(2, 5).scale]")
    expected_dot = sum(a * b for a, b in zip(q[5], k[7]))
    assert abs(shown_dot - expected_dot) < 1e-4
    assert abs(float(deposit.locator("[data-testid=neuron-dot]").inner_text()) - expected_dot) < 1e-3
    assert abs(shown_weight - _kernel(lab, "float(w.attention[2, 5, 5, 7])")) < 1e-5
    _kernel(lab, "w.heads")  # the page's head choice reached Python
    assert _kernel(lab, "[w.heads, w.focus, w.neuron_view]") == [[5], 5, True]

    # One cell: dimension 3 of the key "deposit" (line 8: the query is line 0), read from its tooltip.
    cells = panel.locator("[data-testid=neuron-cells]")
    cells.scroll_into_view_if_needed()
    cells.hover(position={"x": 3 * 10 + 5, "y": 8 * 16 + 8})
    tooltip = panel.locator("[data-testid=neuron-tooltip]")
    expect(tooltip).to_contain_text("key “deposit” · dimension 3")
    text = tooltip.inner_text()
    q_value = float(re.search(r"q = (\S+)", text).group(1))
    k_value = float(re.search(r"k = (\S+)", text).group(1))
    assert abs(q_value - q[5][3]) < 1e-3 and abs(k_value - k[7][3]) < 1e-3

    # Hovering the key marks it in the heatmap and the head view through the shared hover.
    expect(widget.locator("[data-testid=heatmap-col-label].is-hover", has_text="deposit")).to_be_visible()
    _screenshot(page, "neuron_view")


WIDE_HEADS = [
    "import torch\n"
    "from transformers import AutoTokenizer, BertConfig, BertModel\n"
    "from attnwidget import neuron_view\n"
    "from attnwidget.sources.models import resolve_model_path\n"
    "tokenizer = AutoTokenizer.from_pretrained(resolve_model_path('offline'))\n"
    "torch.manual_seed(0)\n"
    "config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=256, num_attention_heads=2,\n"
    "                    num_hidden_layers=1, intermediate_size=64, attn_implementation='eager')\n"
    "model = BertModel(config).eval()\n"
    "text = ' '.join(['the river bank was muddy after the rain'] * 16)",
    "w = neuron_view(model, 'bert', tokenizer, text, head=1)\nw.focus = 40\nw",
]


def test_128_dimensions_and_128_tokens_stay_readable_by_scrolling(lab, page: Page) -> None:
    lab.run_notebook("neuron_view_wide", WIDE_HEADS)
    panel = page.locator(".attnwidget").first.locator("[data-testid=neuron-view]")
    expect(panel.locator("[data-testid=neuron-caption]")).to_contain_text("128 dimensions")
    assert _kernel(lab, "len(w.tokens)") == 130  # 128 words and [CLS], [SEP]
    expect(panel.locator("[data-testid=neuron-score]")).to_have_count(130)
    box = panel.locator("[data-testid=neuron-cells]").bounding_box()
    assert box["width"] >= 2 * 128 * 4  # every dimension keeps a visible cell, side by side
    line = panel.locator("[data-testid=neuron-key]").first.bounding_box()
    assert line["height"] >= 14  # a line stays legible
    scroller = panel.locator(".aw-nv-scroll")
    size = scroller.evaluate("e => [e.scrollHeight, e.clientHeight, e.scrollWidth, e.clientWidth]")
    assert size[0] > size[1]  # the keys scroll
    _screenshot(page, "neuron_view_128")
    scroller.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    expect(panel.locator("[data-testid=neuron-key]").last).to_be_in_viewport()
