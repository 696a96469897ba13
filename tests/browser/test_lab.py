"""The widget in a real JupyterLab and a real Chromium: it renders, and the page and the kernel agree.

The fixtures (conftest.py) fail any test whose page logs a console error or an uncaught exception,
or tries to reach anything but the local server.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Locator, Page, expect

FIRST = "He went to the bank to deposit money."
SECOND = "The river bank was muddy after the rain."

SHOW_WIDGET = [
    "from attnwidget import AttentionWidget",
    f"w = AttentionWidget({FIRST!r}, model='offline')\nw",
]

READ_BACK = "import json\nprint(json.dumps({'sentence': w.sentence, 'tokens': w.tokens, 'error': w.error}))"


def _widget(page: Page) -> Locator:
    widget = page.locator(".attnwidget").first
    expect(widget).to_be_visible()
    return widget


def _token(widget: Locator, text: str) -> Locator:
    """The head view's label(s) of one token."""
    return widget.locator("[data-testid=token]", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def _token_texts(widget: Locator) -> list[str]:
    return [text.strip() for text in widget.locator("[data-testid=token]").all_text_contents()]


def _kernel_state(lab) -> dict:
    return json.loads(lab.run_code(READ_BACK))


def test_head_view_renders_and_a_sentence_typed_in_the_page_reruns_the_model(lab, page: Page) -> None:
    lab.run_notebook("head_view", SHOW_WIDGET)
    widget = _widget(page)

    expect(widget.locator("[data-testid=head-view]")).to_be_visible()
    expect(_token(widget, "bank").first).to_be_visible()
    assert "deposit" in _token_texts(widget)
    lab.screenshot(widget, "head-view")

    box = widget.locator("[data-testid=sentence-input]")
    box.fill(SECOND)
    box.press("Enter")

    expect(_token(widget, "river").first).to_be_visible()
    expect(_token(widget, "deposit")).to_have_count(0)
    state = _kernel_state(lab)
    assert state["sentence"] == SECOND
    assert "river" in state["tokens"] and "deposit" not in state["tokens"]
    assert state["error"] == ""
    lab.screenshot(widget, "head-view-new-sentence")


def test_an_empty_sentence_shows_an_error_and_keeps_the_view(lab, page: Page) -> None:
    lab.run_notebook("empty_sentence", SHOW_WIDGET)
    widget = _widget(page)
    expect(_token(widget, "bank").first).to_be_visible()
    before = _token_texts(widget)

    box = widget.locator("[data-testid=sentence-input]")
    box.fill("")
    box.press("Enter")

    error = widget.locator("[data-testid=error]")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"\S"))
    assert _token_texts(widget) == before
    state = _kernel_state(lab)
    assert state["sentence"] == FIRST
    assert "deposit" in state["tokens"]
    lab.screenshot(widget, "head-view-empty-sentence")


def test_two_widgets_share_one_front_end_loaded_once_per_page(lab, page: Page) -> None:
    lab.run_notebook(
        "two_widgets",
        [
            "from attnwidget import AttentionWidget",
            f"a = AttentionWidget({FIRST!r}, model='offline')\na",
            f"b = AttentionWidget({SECOND!r}, model='offline')\nb",
            "print(a._front_end is b._front_end, len(a._esm) < 3000)",
        ],
    )
    widgets = page.locator(".attnwidget")
    expect(widgets).to_have_count(2)
    expect(_token(widgets.nth(0), "deposit").first).to_be_visible()
    expect(_token(widgets.nth(1), "river").first).to_be_visible()
    # One stylesheet and one module for the page, however many widgets it shows.
    assert page.evaluate("() => document.querySelectorAll('style[data-attnwidget]').length") == 1
    assert page.evaluate("() => window.__attnwidgetFrontEnds.size") == 1
    assert "True True" in lab.run_code("print(a._front_end is b._front_end, len(a._esm) < 3000)")
