"""The file save_html writes, opened from file:// in Chromium with every other request blocked."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from attnwidget import AttentionWidget
from attnwidget.export.html import script_json
from helpers.standalone_reading import embedded, scripts_of

SENTENCE = "He went to the bank to deposit money."
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def widget() -> AttentionWidget:
    return AttentionWidget(SENTENCE, model="offline")


def open_file(page: Page, path: Path) -> Locator:
    page.goto(path.as_uri())
    widget = page.locator(".attnwidget")
    expect(widget.locator("[data-testid=heatmap]")).to_be_visible()
    return widget


def bar_values(widget: Locator) -> dict[str, float]:
    """The token-focus bars as {token: percent}, read from the page."""
    rows = widget.locator("[data-testid=focus-bar]:visible").evaluate_all(
        "bars => bars.map(bar => [bar.querySelector('.aw-tf-name').textContent, bar.querySelector('.aw-tf-value').textContent])"
    )
    return {name.strip(): float(value.strip().rstrip("%")) for name, value in rows if name.strip()}


def test_the_file_responds_offline_to_layer_heads_and_focus(widget: AttentionWidget, file_page: Page, tmp_path: Path) -> None:
    path = widget.save_html(tmp_path / "bank.html")
    view = open_file(file_page, path)
    expect(view.locator("[data-testid=sentence-input]")).to_be_hidden()
    expect(view.locator("[data-testid=model-select]")).to_be_hidden()

    view.locator("[data-testid=layer-select]").select_option("3")
    chips = view.locator("[data-testid=head-chips] [data-head]")
    chips.nth(4).click()
    chips.nth(4).click()  # a double click shows that head alone
    expect(view.locator("[data-testid=head-chips] .is-selected")).to_have_count(1)
    view.locator("[data-testid=heatmap-row-label]", has_text=re.compile(r"^\s*bank\s*$")).click()

    expect(view.locator("[data-testid=heatmap-caption]")).to_contain_text("head 4")
    expect(view.locator("[data-testid=focus-token]")).to_have_text(re.compile(r"bank"))
    shown = bar_values(view)
    # What "bank" attends to in layer 3, head 4, computed here from the float32 attention.
    weights = widget.attention[3, 4, widget.tokens.index("bank")]
    strongest = int(np.argmax(weights))
    assert shown[widget.tokens[strongest]] == pytest.approx(100 * weights[strongest], abs=0.15)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    file_page.screenshot(path=str(SCREENSHOTS / "standalone-file.png"), full_page=True)


def test_a_panel_downloads_as_a_png_of_what_it_shows(widget: AttentionWidget, browser, tmp_path: Path) -> None:
    from PIL import Image

    context = browser.new_context(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
    try:
        page = context.new_page()
        view = open_file(page, widget.save_html(tmp_path / "bank.html"))
        panel = view.locator("[data-testid=heatmap]")
        with page.expect_download() as download:
            panel.locator("[data-testid=download-png]").click()
        assert download.value.suggested_filename == "attnwidget-heatmap.png"
        path = tmp_path / "heatmap.png"
        download.value.save_as(path)
        panel_width = panel.bounding_box()["width"]
    finally:
        context.close()
    image = Image.open(path).convert("RGB")
    assert abs(image.size[0] - 2 * panel_width) <= 2  # drawn at twice the panel's size, for print
    colors = {color for _count, color in image.getcolors(maxcolors=1_000_000)}
    # The heatmap's largest weight (layer 0, mean of all heads) is drawn in Blues' darkest colour.
    assert (8, 48, 107) in colors


def test_a_hostile_token_is_shown_as_text(file_page: Page, tmp_path: Path) -> None:
    hostile = "</script><script>window.pwned = 1</script>"
    attention = np.full((1, 2, 3, 3), 1 / 3, dtype=np.float32)
    path = AttentionWidget.from_attentions(attention, ["[CLS]", hostile, "[SEP]"]).save_html(tmp_path / "x.html")
    view = open_file(file_page, path)
    label = view.locator("[data-testid=heatmap-row-label][data-index='1']")
    expect(label).to_have_attribute("title", hostile)  # the full text, as text; the label is shortened
    expect(label).to_contain_text("</script>")
    assert file_page.evaluate("() => window.pwned") is None


def test_a_forced_dark_theme_paints_dark_in_a_light_os(widget: AttentionWidget, file_page: Page, tmp_path: Path) -> None:
    file_page.emulate_media(color_scheme="light")
    view = open_file(file_page, widget.save_html(tmp_path / "dark.html", theme="dark"))
    background = view.evaluate("root => getComputedStyle(root).backgroundColor")
    assert background == "rgb(30, 30, 30)"


def test_a_layer_missing_from_a_page_with_no_kernel_says_it_was_not_saved(
    widget: AttentionWidget, file_page: Page, tmp_path: Path
) -> None:
    """What nbconvert's HTML of a streamed widget is: the state holds only the layer shown, and no kernel answers."""
    html = widget.save_html(tmp_path / "full.html").read_text(encoding="utf-8")
    state, _ = embedded(html)
    layers = state["traits"]["_data"]["stacks"]["self"]["layers"]
    state["traits"]["_data"]["stacks"]["self"]["layers"] = {"0": layers["0"]}  # as stream=True saves it
    original = next(text for attrs, text in scripts_of(html) if attrs.get("id") == "attnwidget-state")
    path = tmp_path / "streamed.html"
    path.write_text(html.replace(original, script_json(state)), encoding="utf-8")

    view = open_file(file_page, path)
    view.locator("[data-testid=layer-select]").select_option("3")
    expect(view.locator("[data-testid=status]")).to_have_text("Loading layer 3…")
    not_saved = "layer 3 was not saved with this notebook: use `stream=False` or `w.save_html()`"
    expect(view.locator("[data-testid=status]")).to_have_text(not_saved, timeout=10_000)
    expect(view.locator("[data-testid=heatmap-caption]")).to_contain_text(not_saved)


def test_a_file_saved_as_rollout_over_words_shows_them_fixed_with_its_heads_table(file_page: Page, tmp_path: Path) -> None:
    widget = AttentionWidget("The unbelievably tokenized bank.", model="offline", combine="rollout", granularity="words")
    widget.layer = 3
    view = open_file(file_page, widget.save_html(tmp_path / "rollout.html"))
    expect(view.locator("[data-testid=heatmap-caption]")).to_contain_text("Rollout of layers 0–3 · words")
    assert "unbelievably" in widget.tokens and not any(token.startswith("##") for token in widget.tokens)
    expect(view.locator("[data-testid=heatmap-row-label]")).to_have_count(len(widget.tokens))  # words, not pieces
    for toggle in ("combine-toggle", "granularity-toggle"):
        expect(view.locator(f"[data-testid={toggle}]")).to_have_attribute("aria-pressed", "true")
        expect(view.locator(f"[data-testid={toggle}]")).to_be_disabled()
    # The Heads table came with the file: no kernel is asked for it.
    expect(view.locator("[data-testid=head-stats] tbody tr")).to_have_count(widget.n_layers * widget.n_heads)
