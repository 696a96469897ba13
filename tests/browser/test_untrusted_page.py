"""In a real JupyterLab: what the user types survives a run in flight, and a refused value snaps back visibly."""

from __future__ import annotations

import json

from playwright.sync_api import Locator, Page, expect

FIRST = "He went to the bank to deposit money."

# A model that takes 3 s for sentences starting with "Slow", so a run is surely in flight while the user types.
SLOW_WIDGET = [
    "import time\n"
    "import attnwidget.widget.runs as widget_module\n"
    "_extract = widget_module.extract\n"
    "def slow_extract(model, sentence, **kwargs):\n"
    "    if sentence.startswith('Slow'):\n"
    "        time.sleep(3)\n"
    "    return _extract(model, sentence, **kwargs)\n"
    "widget_module.extract = slow_extract",
    f"from attnwidget import AttentionWidget\nw = AttentionWidget({FIRST!r}, model='offline')\nw",
]


def _widget(page: Page) -> Locator:
    widget = page.locator(".attnwidget").first
    expect(widget).to_be_visible()
    return widget


def _kernel(lab, expression: str):
    return json.loads(lab.run_code(f"import json\nprint(json.dumps({expression}))"))


def _tokens(widget: Locator) -> list[str]:
    return [text.strip() for text in widget.locator("[data-testid=token]").all_text_contents()]


def _screenshot_top(page: Page, widget: Locator, name: str) -> None:
    """The widget's controls, status line and first panels (the whole widget is taller than the window)."""
    from .conftest import SCREENSHOTS

    widget.locator(".aw-toolbar").scroll_into_view_if_needed()
    box = widget.bounding_box()
    assert box is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), clip={**box, "height": min(box["height"], 420)})


def _record_box(page: Page) -> None:
    """Record every value the sentence box shows, every 10 ms, in window.boxValues."""
    page.evaluate(
        """() => {
          const box = document.querySelector('.attnwidget [data-testid=sentence-input]');
          window.boxValues = [];
          window.boxTimer = setInterval(() => window.boxValues.push(box.value), 10);
        }"""
    )


def _recorded_box(page: Page) -> list[str]:
    return page.evaluate("() => { clearInterval(window.boxTimer); return window.boxValues; }")


def test_typing_while_a_run_is_in_flight_keeps_what_the_user_typed(lab, page: Page) -> None:
    lab.run_notebook("typing_in_flight", SLOW_WIDGET)
    widget = _widget(page)
    box = widget.locator("[data-testid=sentence-input]")
    expect(widget.locator("[data-testid=token]", has_text="deposit").first).to_be_visible()

    box.fill("Slow the river bank flooded.")
    box.press("Enter")
    box.fill("")
    box.press_sequentially("The next sent", delay=30)  # typed while Python is still running the model
    _record_box(page)
    expect(widget.locator("[data-testid=token]", has_text="flooded").first).to_be_visible(timeout=20_000)
    box.press_sequentially("ence", delay=30)

    assert set(_recorded_box(page)) <= {
        "The next sent",
        "The next sente",
        "The next senten",
        "The next sentenc",
        "The next sentence",
    }
    expect(box).to_have_value("The next sentence")
    assert _kernel(lab, "w.sentence") == "Slow the river bank flooded."
    _screenshot_top(page, widget, "typing-kept-while-run-in-flight")

    box.press("Enter")
    expect(widget.locator("[data-testid=token]", has_text="next").first).to_be_visible()
    expect(box).to_have_value("The next sentence")


def test_a_burst_of_submissions_never_shows_an_older_sentence_in_the_box(lab, page: Page) -> None:
    lab.run_notebook("burst", SLOW_WIDGET)
    widget = _widget(page)
    box = widget.locator("[data-testid=sentence-input]")
    expect(widget.locator("[data-testid=token]", has_text="deposit").first).to_be_visible()

    expect(page.locator(".attnwidget")).to_have_count(1)
    box.fill("Slow one about a boat.")
    box.press("Enter")
    expect(widget.locator("[data-testid=status]")).to_contain_text("Running the model")
    box.fill("Slow two about a river.")
    expect(box).to_have_value("Slow two about a river.")
    box.press("Enter")
    _record_box(page)
    expect(widget.locator("[data-testid=token]", has_text="river").first).to_be_visible(timeout=30_000)

    assert set(_recorded_box(page)) == {"Slow two about a river."}
    assert "boat" not in _tokens(widget)
    assert _kernel(lab, "w.sentence") == "Slow two about a river."


def test_a_value_python_refuses_snaps_back_in_the_page_with_a_visible_error(lab, page: Page) -> None:
    lab.run_notebook("refused_value", SLOW_WIDGET)
    widget = _widget(page)
    expect(widget.locator("[data-testid=token]", has_text="deposit").first).to_be_visible()
    layer = widget.locator("[data-testid=layer-select]")
    tokens_before = _tokens(widget)

    # A misbehaving page: a layer the model does not have, chosen through the real control.
    layer.evaluate(
        "(select) => { select.add(new Option('-1', '-1')); select.value = '-1'; select.dispatchEvent(new Event('change')); }"
    )

    error = widget.locator("[data-testid=error]")
    expect(error).to_contain_text("Not applied: layer must be between 0 and 5, got -1")
    expect(layer).to_have_value("0")
    assert _tokens(widget) == tokens_before  # the labels stay: the page is back at layer 0
    assert _kernel(lab, "w.layer") == 0
    _screenshot_top(page, widget, "refused-value-snapped-back")
    expect(error).to_be_hidden(timeout=10_000)  # shown for a moment, then gone
