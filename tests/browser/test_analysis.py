"""Analysis in a real JupyterLab: rollout, words, a second model and the Heads table, driven from the page.

Every step is checked in the page and read back from the kernel.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Locator, Page, expect

SENTENCE = "The unbelievably slow bank approved the tokenization."

# A second model whose attention really differs: the offline model with layer 3's queries scaled up
# (sharper attention in that layer and everything above it), saved beside the notebook.
SETUP = [
    "import copy, tempfile, torch\n"
    "from attnwidget import AttentionWidget, load_model\n"
    "base = load_model('offline')\n"
    "sharper = copy.deepcopy(base.model)\n"
    "with torch.no_grad():\n"
    "    sharper.encoder.layer[3].attention.self.query.weight.mul_(4.0)\n"
    "second = tempfile.mkdtemp(prefix='sharper-')\n"
    "sharper.save_pretrained(second); base.tokenizer.save_pretrained(second)",
    f"w = AttentionWidget({SENTENCE!r}, model='offline', models=['offline', second])\nw",
]

READ_BACK = (
    "import json\nprint(json.dumps({'combine': w.combine, 'granularity': w.granularity, 'tokens': w.tokens,"
    " 'compare_to': w.compare_to, 'second': second, 'layer': w.layer, 'heads': w.heads, 'error': w.error}))"
)


def _kernel(lab) -> dict:
    return json.loads(lab.run_code(READ_BACK))


def _tokens(widget: Locator) -> list[str]:
    return [text.strip() for text in widget.locator("[data-testid=head-view] [data-testid=token]").all_text_contents()]


def test_rollout_words_comparison_and_head_table_from_the_page(lab, page: Page) -> None:
    lab.run_notebook("analysis", SETUP)
    widget = page.locator(".attnwidget").first
    expect(widget).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 1000})

    # Combine layers: the captions say rollout and Python knows.
    widget.locator("[data-testid=combine-toggle]").click()
    expect(widget.locator("[data-testid=combine-toggle]")).to_have_attribute("aria-pressed", "true")
    expect(widget.locator("[data-testid=heatmap-caption]")).to_contain_text("Rollout of layer")
    assert _kernel(lab)["combine"] == "rollout"

    # Words: "tokenization" is one token again, in the page and in Python.
    assert "##ization" in _tokens(widget)
    widget.locator("[data-testid=granularity-toggle]").click()
    expect(
        widget.locator("[data-testid=head-view] [data-testid=token]", has_text=re.compile(r"^\s*tokenization\s*$")).first
    ).to_be_visible()
    assert "##ization" not in _tokens(widget)
    state = _kernel(lab)
    assert state["granularity"] == "words" and "tokenization" in state["tokens"] and "##ization" not in state["tokens"]
    widget.locator("[data-testid=combine-toggle]").click()  # back to raw attention for the comparison
    expect(widget.locator("[data-testid=heatmap-caption]")).not_to_contain_text("Rollout")

    # A second model chosen in the page: A, B and A − B, and the heads that changed most.
    second = state["second"]
    widget.locator("[data-testid=compare-select]").select_option(second)
    compare = widget.locator("[data-testid=compare-view]")
    expect(compare).to_be_visible()
    expect(compare.locator("[data-testid=compare-canvas]")).to_have_count(3)
    expect(compare.locator("[data-testid=compare-caption]")).to_contain_text("word by word")
    first_ranked = compare.locator("[data-testid=compare-rank]").first
    expect(first_ranked).to_contain_text("layer 3")  # the layer whose queries were changed moves most
    assert _kernel(lab)["compare_to"] == second
    first_ranked.click()
    expect(compare.locator("[data-testid=compare-caption]")).to_contain_text("A: offline · layer 3 · head")
    lab.screenshot(compare, "compare-view")

    # The Heads table: a click selects that layer and head everywhere, Python included.
    table = widget.locator("[data-testid=head-stats]")
    expect(table.locator("[data-testid=layer-summary]")).to_contain_text("layer")
    row = table.locator("[data-testid=head-stats-row][data-layer='4'][data-head='7']")
    row.click()
    expect(row).to_have_class(re.compile(r"\bis-selected\b"))
    expect(widget.locator("[data-testid=layer-select]")).to_have_value("4")
    state = _kernel(lab)
    assert state["layer"] == 4 and state["heads"] == [7] and state["error"] == ""
    expect(widget.locator("[data-testid=thumbnail][data-pattern]").first).to_be_attached()
    lab.screenshot(table, "head-stats")
    widget.locator("[data-testid=analysis-bar]").scroll_into_view_if_needed()
    lab.screenshot(None, "analysis-page")
