"""attnwidget.plot: figures checked by what they draw, for attention whose values are known."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from attnwidget import AttentionWidget, plot
from attnwidget.export.colormaps import head_colors, hex_to_rgb, weight_colors

TOKENS = ["[CLS]", "Ġbank", "river", "[SEP]"]
# Layer 1, heads 0 and 1: rows sum to 1; their mean has a zero at (2, 1) and its largest weight 0.8 at (3, 3).
KNOWN = np.array(
    [
        [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.6, 0.0, 0.2, 0.2], [0.0, 0.1, 0.1, 0.8]],
        [[0.4, 0.3, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1], [0.5, 0.0, 0.3, 0.2], [0.1, 0.1, 0.0, 0.8]],
    ],
    dtype=np.float32,
)
ATTENTION = np.stack([np.full((2, 4, 4), 0.25, dtype=np.float32), KNOWN])  # (layers, heads, rows, cols)

# d3's Blues at 0 and at 1: what the page's heatmap paints for no weight and for the largest.
BLUES_LIGHTEST, BLUES_DARKEST = (247, 251, 255), (8, 48, 107)


def rendered(figure: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3]


def pixel_of_cell(figure: Figure, pixels: np.ndarray, row: int, col: int) -> tuple[int, int, int]:
    """The colour at the centre of cell (row, col) of the figure's heatmap."""
    ax = figure.axes[0]
    x, y = ax.transData.transform((col, row))
    return tuple(int(channel) for channel in pixels[pixels.shape[0] - round(y), round(x)])


def test_heatmap_pixels_follow_the_mean_of_the_chosen_heads_on_the_pages_colormap() -> None:
    figure = plot.heatmap(ATTENTION, TOKENS, layer=1, heads=[0, 1])
    pixels = rendered(figure)
    mean = [[(KNOWN[0, r, c] + KNOWN[1, r, c]) / 2 for c in range(4)] for r in range(4)]
    largest = max(max(row) for row in mean)
    assert largest == pytest.approx(0.8)

    assert pixel_of_cell(figure, pixels, 3, 3) == BLUES_DARKEST
    assert pixel_of_cell(figure, pixels, 2, 1) == BLUES_LIGHTEST
    table = weight_colors("light")
    for row in range(4):
        for col in range(4):
            level = int(mean[row][col] / largest * 255 + 0.5)
            assert pixel_of_cell(figure, pixels, row, col) == hex_to_rgb(table[level]), (row, col)


def test_heatmap_of_one_head_scales_to_that_heads_largest_weight() -> None:
    figure = plot.heatmap(ATTENTION, TOKENS, layer=1, heads=[1])
    pixels = rendered(figure)
    assert pixel_of_cell(figure, pixels, 3, 3) == BLUES_DARKEST  # 0.8, head 1's largest
    assert pixel_of_cell(figure, pixels, 1, 0) == hex_to_rgb(weight_colors("light")[int(0.7 / 0.8 * 255 + 0.5)])
    assert figure.axes[0].get_title() == "Layer 1 · head 1"


def test_token_focus_bars_are_the_focus_rows_weights_sorted_from_the_strongest() -> None:
    figure = plot.token_focus(ATTENTION, TOKENS, focus="bank", layer=1, heads=[0, 1])
    bars = [patch for patch in figure.axes[0].patches if patch.get_gid() == "weight"]
    expected = sorted(((KNOWN[0, 1, c] + KNOWN[1, 1, c]) / 2 for c in range(4)), reverse=True)
    assert [bar.get_width() for bar in bars] == pytest.approx(expected)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[0] == "[CLS]"  # 0.475, the strongest


def test_token_focus_attended_by_reads_the_focus_column() -> None:
    figure = plot.token_focus(ATTENTION, TOKENS, focus=3, layer=1, heads=[0], direction="attended_by")
    widths = sorted(patch.get_width() for patch in figure.axes[0].patches if patch.get_gid() == "weight")
    assert widths == pytest.approx(sorted(KNOWN[0, :, 3]))


def test_head_view_draws_each_weight_as_a_line_in_its_heads_colour_with_that_opacity() -> None:
    figure = plot.head_view(ATTENTION, TOKENS, layer=1, heads=[0, 1], focus=2)
    palette = head_colors(2)
    for head in (0, 1):
        (lines,) = [c for c in figure.axes[0].collections if isinstance(c, LineCollection) and c.get_gid() == f"head-{head}"]
        colors = lines.get_colors()
        nonzero = [col for col in range(4) if KNOWN[head, 2, col] > 0]
        assert len(lines.get_segments()) == len(nonzero)
        assert [tuple(segment[1]) for segment in lines.get_segments()] == [(1.0, col) for col in nonzero]
        assert colors[:, 3] == pytest.approx([KNOWN[head, 2, col] for col in nonzero])
        assert tuple(round(channel * 255) for channel in colors[0, :3]) == hex_to_rgb(palette[head])


def test_model_view_has_one_thumbnail_per_layer_and_head_each_scaled_to_itself() -> None:
    figure = plot.model_view(ATTENTION, TOKENS)
    images = {ax.images[0].get_gid(): ax.images[0].get_array() for ax in figure.axes if ax.images}
    assert len(images) == 4
    uniform = images["layer-0-head-0"]
    assert np.all(uniform == 255)  # every weight is that head's largest
    head = images["layer-1-head-1"]
    assert head[3, 3] == 255 and head[1, 0] == int(0.7 / 0.8 * 255 + 0.5) and head[3, 2] == 0


@pytest.mark.parametrize(("suffix", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_figures_save_as_png_svg_and_pdf(tmp_path, suffix: str, magic: bytes) -> None:
    path = tmp_path / f"heatmap.{suffix}"
    plot.heatmap(ATTENTION, TOKENS).savefig(path)
    assert path.read_bytes().startswith(magic)


def test_widget_figure_uses_the_widgets_current_view() -> None:
    widget = AttentionWidget.from_attentions(ATTENTION, TOKENS)
    widget.layer, widget.heads, widget.focus = 1, [1], 1
    assert widget.figure("heatmap").axes[0].get_title() == "Layer 1 · head 1"
    bars = [p.get_width() for p in widget.figure("token_focus").axes[0].patches if p.get_gid() == "weight"]
    assert bars == pytest.approx(sorted(KNOWN[1, 1], reverse=True))
    assert widget.figure("heatmap", layer=0).axes[0].get_title() == "Layer 0 · head 1"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot.heatmap(ATTENTION, TOKENS, layer=2), r"layer has \[2\], but the attention has 2 layers"),
        (lambda: plot.heatmap(ATTENTION, TOKENS, heads=[0, 0]), "heads must not repeat"),
        (lambda: plot.heatmap(ATTENTION), "tokens are required"),
        (lambda: plot.token_focus(ATTENTION, TOKENS, focus="lake"), "focus 'lake' is not one of the tokens"),
        (lambda: plot.figure(ATTENTION, "sankey", TOKENS), "view must be one of"),
        (lambda: plot.heatmap(ATTENTION, TOKENS, theme="sepia"), "theme must be one of"),
        (lambda: AttentionWidget.from_attentions(ATTENTION, TOKENS).figure("token_focus"), "no focus token"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_widget_figures_show_rollout_as_the_widget_does_and_say_so() -> None:
    widget = AttentionWidget.from_attentions(ATTENTION, TOKENS)
    widget.combine, widget.layer = "rollout", 1
    # Rollout written as loops: R = (I/2 + mean of heads/2) of layer 1 @ the same of layer 0.
    steps = [
        [[0.5 * (r == c) + 0.5 * float(ATTENTION[layer, :, r, c].mean()) for c in range(4)] for r in range(4)] for layer in (0, 1)
    ]
    rolled = [[sum(steps[1][r][k] * steps[0][k][c] for k in range(4)) for c in range(4)] for r in range(4)]
    largest = max(max(row) for row in rolled)

    figure = widget.figure("heatmap")
    assert figure.axes[0].get_title() == "Rollout of layers 0–1 · Layer 1 · mean of all 2 heads"
    levels = next(image for image in figure.axes[0].images if image.get_gid() == "attention").get_array()
    expected = [[rolled[r][c] / largest * 255 + 0.5 for c in range(4)] for r in range(4)]
    assert np.all(np.abs(np.asarray(levels) - np.floor(expected)) <= 1)  # float32 vs float64 at a rounding edge
    assert widget.figure("heatmap", layer=0).axes[0].get_title().startswith("Rollout of layer 0 · Layer 0")
    assert widget.figure("model_view")._suptitle.get_text() == "Rollout up to each layer"


def test_widget_figures_show_words_as_the_widget_does() -> None:
    # "Ġbank" starts a word and "river" (no mark) continues it: three words.
    widget = AttentionWidget.from_attentions(ATTENTION, TOKENS)
    widget.granularity, widget.layer, widget.heads = "words", 1, [1]
    groups = [[0], [1, 2], [3]]
    head = KNOWN[1]
    words = [[sum(head[i, j] for i in g for j in h) / len(g) for h in groups] for g in groups]  # to: sum, from: mean

    figure = widget.figure("heatmap")
    assert figure.axes[0].get_title() == "Words · Layer 1 · head 1"
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == [
        "[CLS]",
        " bankriver",
        "[SEP]",
    ]  # Ġ read as a space, as the page does
    widget.focus = 1
    bars = [p.get_width() for p in widget.figure("token_focus").axes[0].patches if p.get_gid() == "weight"]
    assert bars == pytest.approx(sorted(words[1], reverse=True), abs=1e-6)
