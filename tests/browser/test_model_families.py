"""Model families in a real JupyterLab: attention kinds, sentence pairs and switching models from the page.

The models are the tiny random ones tests/conftest.py saves to disk, loaded through the real loading code.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Locator, Page, expect


def _widget(page: Page) -> Locator:
    widget = page.locator(".attnwidget").first
    expect(widget.locator("[data-testid=heatmap]")).to_be_visible()
    return widget


def _panel_texts(widget: Locator) -> dict[str, str]:
    """What the panels say, to see that every one of them followed a control."""
    return {
        "head": " ".join(widget.locator("[data-testid=head-view] [data-testid=token]").all_text_contents()),
        "heatmap": widget.locator("[data-testid=heatmap-caption]").inner_text(),
        "model": widget.locator("[data-testid=model-view-caption]").inner_text(),
        "focus": widget.locator("[data-testid=token-focus]").inner_text(),
    }


def test_the_attention_kind_selector_switches_every_panel_to_cross_attention(lab, page: Page, tiny_model_dir) -> None:
    bart = tiny_model_dir("bart")
    lab.run_notebook(
        "encoder_decoder",
        [
            "from attnwidget import AttentionWidget",
            f"w = AttentionWidget('the bank by the river', target='money in the bank', model={str(bart)!r})\nw",
        ],
    )
    widget = _widget(page)
    stack = widget.locator("[data-testid=stack-select]")
    expect(stack).to_be_visible()
    expect(widget.locator("[data-testid=target-input]")).to_be_visible()
    before = _panel_texts(widget)

    stack.select_option("cross")

    expect(widget.locator("[data-testid=heatmap-caption]")).not_to_have_text(before["heatmap"])
    after = _panel_texts(widget)
    assert after["head"] != before["head"], "the head view still shows encoder tokens"
    assert after["model"] != before["model"], "the model view did not follow"
    kernel = json.loads(lab.run_code("import json\nprint(json.dumps([w.stack, list(w.attention.shape)]))"))
    assert kernel[0] == "cross"
    rows, cols = kernel[1][2:]
    assert rows != cols or rows > 0


def test_the_pair_filter_shows_one_block_in_every_panel(lab, page: Page) -> None:
    lab.run_notebook(
        "pairs",
        [
            "from attnwidget import AttentionWidget",
            "w = AttentionWidget('The bank was closed.', sentence_b='So he kept the money.', model='offline')\nw",
        ],
    )
    widget = _widget(page)
    head_tokens = widget.locator("[data-testid=head-view] .aw-hv-left [data-testid=token]")
    all_rows = head_tokens.count()

    widget.locator("[data-testid=pair-filter]").select_option("ab")

    expect(head_tokens).not_to_have_count(all_rows)
    left = [text.strip() for text in head_tokens.all_text_contents()]
    right = [t.strip() for t in widget.locator("[data-testid=head-view] .aw-hv-right [data-testid=token]").all_text_contents()]
    assert "bank" in left and "money" not in left, left
    assert "money" in right and "bank" not in right, right
    heatmap_rows = [t.strip() for t in widget.locator("[data-testid=heatmap-row-label]").all_text_contents()]
    assert heatmap_rows == left
    assert json.loads(lab.run_code("import json\nprint(json.dumps(w.pair_filter))")) == "ab"


def test_the_model_selector_switches_between_two_local_models(lab, page: Page, tiny_model_dir) -> None:
    gpt2 = str(tiny_model_dir("gpt2"))
    lab.run_notebook(
        "switch_models",
        [
            "from attnwidget import AttentionWidget",
            f"w = AttentionWidget('the bank by the river', model='offline', models=['offline', {gpt2!r}])\nw",
        ],
    )
    widget = _widget(page)
    expect(widget.locator("[data-testid=head-chips] [data-head]")).to_have_count(12)

    widget.locator("[data-testid=model-select]").select_option(gpt2)

    expect(widget.locator("[data-testid=model-select]")).to_have_value(gpt2)
    expect(widget.locator("[data-testid=head-chips] [data-head]")).to_have_count(4)
    widget.locator("[data-testid=head-view] .aw-hv-left [data-testid=token]").last.click()
    expect(widget.locator("[data-testid=token-focus]")).to_contain_text(re.compile("earlier", re.IGNORECASE))
    assert json.loads(lab.run_code("import json\nprint(json.dumps(w.model))")) == gpt2
