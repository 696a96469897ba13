"""The widget in the other hosts we can run: Notebook 7, Voilà and marimo.

In each, the widget renders and two interactions reach Python: a layer picked in the page, and a
sentence typed and submitted. Notebook 7 and Voilà are served by the JupyterLab test server (one
server for all three); the notebook's own cell reports what Python sees into a file, since Voilà
has no cell to run code in. In marimo, a cell that reads the widget must be re-executed after both.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

FIRST = "He went to the bank to deposit money."
SECOND = "The river bank was muddy after the rain."
PROBE_TIMEOUT_S = 60.0


def probed_notebook(probe: str) -> list[str]:
    """Cells showing the widget, and writing what Python sees to `probe` whenever the page changes it."""
    return [
        "import json, pathlib\nfrom attnwidget import AttentionWidget\n"
        f"w = AttentionWidget({FIRST!r}, model='offline')\n"
        "def report(change=None):\n"
        f"    pathlib.Path({probe!r}).write_text(json.dumps({{'layer': w.layer, 'sentence': w.sentence, 'tokens': w.tokens}}))\n"
        "w.observe(report, names=['layer', 'tokens'])\n"
        "w",
    ]


def python_sees(path: Path, expected: dict) -> dict:
    """Wait until the probe file shows `expected` (a subset of what Python reported)."""
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    seen: dict = {}
    while time.monotonic() < deadline:
        if path.exists():
            try:
                seen = json.loads(path.read_text())
            except json.JSONDecodeError:
                seen = {}  # caught mid-write
            if all(seen.get(key) == value for key, value in expected.items()):
                return seen
        time.sleep(0.2)
    raise AssertionError(f"Python did not see {expected} within {PROBE_TIMEOUT_S}s; last report: {seen}")


def change_layer(widget: Locator) -> None:
    expect(widget.locator("[data-testid=heatmap]")).to_be_visible(timeout=180_000)
    widget.locator("[data-testid=layer-select]").select_option("3")


def submit_sentence(widget: Locator) -> None:
    box = widget.locator("[data-testid=sentence-input]")
    box.fill(SECOND)
    box.press("Enter")
    expect(widget.locator("[data-testid=token]", has_text=re.compile(r"^\s*river\s*$")).first).to_be_visible()


def assert_page_and_python_in_step(widget: Locator, probe: Path) -> None:
    """A layer picked in the page reaches Python, and a sentence typed there re-runs the model."""
    change_layer(widget)
    assert python_sees(probe, {"layer": 3})["sentence"] == FIRST
    submit_sentence(widget)
    assert "river" in python_sees(probe, {"sentence": SECOND})["tokens"]


@pytest.mark.host("notebook")
def test_notebook_7_renders_and_the_page_reaches_python(lab, page: Page, lab_server) -> None:
    path = lab.write_notebook("notebook7", probed_notebook("probe-notebook7.json"))
    page.goto(f"/notebooks/{path}")
    page.wait_for_function(
        """() => { const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const kernel = panel && panel.sessionContext && panel.sessionContext.session
                     && panel.sessionContext.session.kernel;
                   return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'; }""",
        timeout=180_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    widget = page.locator(".attnwidget").first
    probe = lab_server.root_dir / "probe-notebook7.json"

    assert_page_and_python_in_step(widget, probe)


@pytest.mark.host("voila")
def test_voila_renders_and_the_page_reaches_python(lab, page: Page, lab_server) -> None:
    path = lab.write_notebook("voila", probed_notebook("probe-voila.json"))
    page.goto(f"/voila/render/{path}")
    widget = page.locator(".attnwidget").first
    probe = lab_server.root_dir / "probe-voila.json"

    assert_page_and_python_in_step(widget, probe)


@pytest.mark.host("marimo")
def test_marimo_reexecutes_cells_reading_the_widget_after_page_changes(marimo_server: str, host_page: Page) -> None:
    host_page.goto(marimo_server)
    widget = host_page.locator(".attnwidget").first
    probe = host_page.get_by_text(re.compile(r"^probe: "))
    expect(probe).to_have_text(f"probe: layer 0 · sentence {FIRST}", timeout=180_000)

    change_layer(widget)
    expect(probe).to_have_text(f"probe: layer 3 · sentence {FIRST}")
    submit_sentence(widget)
    expect(probe).to_have_text(f"probe: layer 3 · sentence {SECOND}")
