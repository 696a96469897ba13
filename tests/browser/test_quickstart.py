"""notebooks/quickstart.ipynb, the notebook `scripts/lab.sh` opens, runs top to bottom in a real JupyterLab."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

QUICKSTART = Path(__file__).parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_runs_and_the_page_follows_python(lab, page: Page) -> None:
    lab.open_notebook(lab.copy_notebook(QUICKSTART))
    outputs = lab.run_all()  # raises if any cell raised

    shape = next(text for text in outputs if text.startswith("("))
    assert re.fullmatch(r"\(6, 12, \d+, \d+\)\n", shape), shape
    assert outputs[-1] == f"(3, {list(range(12))})\n"

    widget = page.locator(".attnwidget").first
    expect(widget.locator("[data-testid=head-view]")).to_be_visible()
    # The cells after the display changed the sentence and the layer from Python: the page follows.
    expect(widget.locator("[data-testid=token]", has_text=re.compile(r"^\s*river\s*$")).first).to_be_visible()
    expect(widget.locator("[data-testid=layer-select]")).to_have_value("3")
    lab.screenshot(widget, "quickstart")
