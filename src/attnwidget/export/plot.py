"""Publication figures of attention with matplotlib (``pip install "attnwidget[plot]"``).

Each function takes a widget, or an attention array with its tokens (what
``AttentionWidget.from_attentions`` accepts: a Hugging Face tuple or a
``(layers, heads, rows, cols)`` array), plus the widget's view arguments, and
returns a ``matplotlib.figure.Figure`` that saves to PNG, SVG or PDF::

    from attnwidget import plot
    plot.heatmap(outputs.attentions, tokens, layer=3, heads=[0, 5]).savefig("bank.pdf")
    w.figure("token_focus")          # the widget's current layer, heads and focus

Colours are the page's (``export/colormaps.py``): weights on the Blues map (Inferno with
``theme="dark"``) scaled to the largest weight shown, as the page's heatmap does,
and one colour per head from the page's palette. Figures are built without pyplot,
so scripts and the command line need no display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.shown import analysis_caption
from ..core.checks import check_indices
from ..core.stack import AttentionStack, PerLayer
from ..core.tokens import display_tokens, token_index
from ..sources.tensors import extraction_from_tensors
from .colormaps import head_colors, hex_to_rgb, weight_colors
from .view import SavedView, view_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

VIEWS = ("heatmap", "token_focus", "head_view", "model_view")
DIRECTIONS = ("attends_to", "attended_by")
LEVELS = 255  # the page maps a weight to one of 256 colours: round(255 * weight / largest)
MAX_TICK_LABELS = 64  # more tokens than this: label every k-th, as the page does when zoomed out

# The page's fixed colours (js/styles.css fallbacks), for the figure's frame and text.
_FRAME = {
    "light": {"background": "#ffffff", "text": "#1f2328", "muted": "#656d76", "accent": "#0969da"},
    "dark": {"background": "#1e1e1e", "text": "#e6edf3", "muted": "#9198a1", "accent": "#4493f8"},
}


@dataclass(frozen=True)
class AttentionInput(PerLayer):
    """What every figure reads: one float32 (heads, rows, cols) array per layer, and the row and column labels.

    Per layer, as ``AttentionStack.layers`` keeps them: a figure of a widget builds no
    full-size copy of its attention.
    """

    layers: Sequence[np.ndarray]
    rows: list[str]
    cols: list[str]
    # A widget's values may be rollout and/or words (its `combine` and `granularity`); the titles say so.
    stack: str = "self"
    combine: str = "none"
    granularity: str = "tokens"

    def caption(self, layer: int | None) -> str:
        """What the values of ``layer`` (None: of every layer) are, as the page's captions say it; "" for raw tokens."""
        return analysis_caption(self.combine, self.granularity, self.stack, layer)

    def titled(self, text: str, layer: int) -> str:
        """A figure's title with the caption in front."""
        caption = self.caption(layer)
        return f"{caption} · {text}" if caption else text

    def mean(self, layer: int, heads: list[int]) -> np.ndarray:
        """The matrix the page shows for a layer and a selection of heads: their mean."""
        return self.layers[layer][heads].mean(axis=0)


def attention_input(source: Any, tokens: Sequence[str] | None = None, col_tokens: Sequence[str] | None = None) -> AttentionInput:
    """A widget's shown stack, an ``AttentionStack``, an ``AttentionInput`` as it is, or an array and its tokens
    checked as ``from_attentions`` does."""
    if isinstance(source, AttentionInput):
        if tokens is not None or col_tokens is not None:
            raise TypeError("an AttentionInput carries its own labels: pass only it")
        return source
    if isinstance(source, AttentionStack):
        return AttentionInput(source.layers, display_tokens(source.row_tokens), display_tokens(source.col_tokens))
    saved = view_of(source)
    if saved is not None:
        if tokens is not None or col_tokens is not None:
            raise TypeError("a widget carries its own tokens: pass only the widget")
        # What the page shows: rollout and/or words when `combine` / `granularity` ask for them.
        labels = display_tokens if saved.prettify_tokens else list
        view = saved.view
        shown = saved.shown.weights(view["stack"], "a figure")
        return AttentionInput(
            shown.layers, labels(shown.row_tokens), labels(shown.col_tokens), shown.name, view["combine"], view["granularity"]
        )
    if tokens is None:
        raise TypeError("tokens are required with an attention array")
    extraction = extraction_from_tensors(source, list(tokens), col_tokens=None if col_tokens is None else list(col_tokens))
    stack = extraction.weights(extraction.main.name, "a figure")
    return AttentionInput(stack.layers, display_tokens(stack.row_tokens), display_tokens(stack.col_tokens))


# ---- the figures ------------------------------------------------------------------------------------


def heatmap(
    source: Any,
    tokens: Sequence[str] | None = None,
    *,
    col_tokens: Sequence[str] | None = None,
    layer: int = 0,
    heads: Sequence[int] | None = None,
    theme: str = "light",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """The query × key matrix of one head, or the mean of ``heads``, with a colour bar."""
    data = attention_input(source, tokens, col_tokens)
    layer, chosen = _layer(layer, data), _heads(heads, data)
    matrix = data.mean(layer, chosen)
    largest = float(matrix.max())
    n_rows, n_cols = matrix.shape
    side = min(12.0, max(3.5, 0.28 * max(n_rows, n_cols) + 2))
    figure, ax = _figure(theme, figsize or (side + 1.2, side))
    image = ax.imshow(
        page_levels(matrix, largest), cmap=_weight_cmap(theme), vmin=0, vmax=LEVELS, interpolation="nearest", aspect="auto"
    )
    image.set_gid("attention")
    _token_ticks(ax, data.rows, "y")
    _token_ticks(ax, data.cols, "x")
    ax.set_ylabel("from (query)")
    ax.set_xlabel("to (key)")
    ax.set_title(data.titled(f"Layer {layer} · {_heads_label(chosen, data.n_heads)}", layer), color=_FRAME[theme]["text"])
    colorbar = figure.colorbar(_weight_scale(theme, largest), ax=ax, fraction=0.046, pad=0.03)
    colorbar.ax.yaxis.set_major_formatter(_percent())
    _style(figure, theme)
    return figure


def token_focus(
    source: Any,
    tokens: Sequence[str] | None = None,
    *,
    focus: int | str,
    col_tokens: Sequence[str] | None = None,
    layer: int = 0,
    heads: Sequence[int] | None = None,
    direction: str = "attends_to",
    top: int | None = None,
    theme: str = "light",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """What the ``focus`` token attends to (or is attended by), as bars sorted from the strongest."""
    data = attention_input(source, tokens, col_tokens)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    attends_to = direction == "attends_to"
    layer, chosen = _layer(layer, data), _heads(heads, data)
    focus_labels, other_labels = (data.rows, data.cols) if attends_to else (data.cols, data.rows)
    index = token_index(focus, focus_labels)
    matrix = data.mean(layer, chosen)
    values = matrix[index, :] if attends_to else matrix[:, index]
    order = np.argsort(-values, kind="stable")[: top if top is not None else len(values)]
    figure, ax = _figure(theme, figsize or (6.0, max(2.0, 0.28 * len(order) + 1.2)))
    bars = ax.barh(range(len(order)), values[order], color=_FRAME[theme]["accent"], height=0.7)
    for bar in bars:
        bar.set_gid("weight")
    ax.set_yticks(range(len(order)), [other_labels[i] for i in order])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_percent())
    verb = "attends to" if attends_to else "is attended by"
    title = f"What {focus_labels[index]!r} {verb} · layer {layer} · {_heads_label(chosen, data.n_heads)}"
    ax.set_title(data.titled(title, layer), color=_FRAME[theme]["text"])
    _style(figure, theme)
    return figure


def head_view(
    source: Any,
    tokens: Sequence[str] | None = None,
    *,
    col_tokens: Sequence[str] | None = None,
    layer: int = 0,
    heads: Sequence[int] | None = None,
    focus: int | str | None = None,
    threshold: float = 0.0,
    theme: str = "light",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """BertViz's head view: the tokens twice, a line per weight, one colour per head, opacity = weight."""
    from matplotlib.collections import LineCollection

    data = attention_input(source, tokens, col_tokens)
    layer, chosen = _layer(layer, data), _heads(heads, data)
    rows = range(len(data.rows)) if focus is None else [token_index(focus, data.rows)]
    n_tokens = max(len(data.rows), len(data.cols))
    figure, ax = _figure(theme, figsize or (4.5, max(2.5, 0.3 * n_tokens + 1)))
    palette = head_colors(data.n_heads)
    for head in chosen:
        weights = data.layers[layer][head]
        segments, colors = [], []
        red, green, blue = (channel / 255 for channel in hex_to_rgb(palette[head]))
        for row in rows:
            for col in range(len(data.cols)):
                weight = float(weights[row, col])
                if weight > threshold:
                    segments.append([(0.0, row), (1.0, col)])
                    colors.append((red, green, blue, min(1.0, weight)))
        lines = LineCollection(segments, colors=colors, linewidths=2.0)
        lines.set_gid(f"head-{head}")
        ax.add_collection(lines)
    _column_labels(ax, data.rows, x=-0.03, align="right", theme=theme)
    _column_labels(ax, data.cols, x=1.03, align="left", theme=theme)
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(n_tokens - 0.5, -0.5)
    ax.axis("off")
    ax.set_title(data.titled(f"Layer {layer} · {_heads_label(chosen, data.n_heads)}", layer), color=_FRAME[theme]["text"])
    _style(figure, theme)
    return figure


def model_view(
    source: Any,
    tokens: Sequence[str] | None = None,
    *,
    col_tokens: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    theme: str = "light",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Every layer × head as a small heatmap, each scaled to its own largest weight (as the page's model view)."""
    data = attention_input(source, tokens, col_tokens)
    chosen_layers = list(range(data.n_layers)) if layers is None else check_indices(layers, data.n_layers, "layers", "layers")
    chosen = _heads(heads, data)
    cell = 1.1
    figure = _new_figure(theme, figsize or (cell * len(chosen) + 0.8, cell * len(chosen_layers) + 0.6))
    grid = figure.add_gridspec(len(chosen_layers), len(chosen), wspace=0.08, hspace=0.08)
    palette = head_colors(data.n_heads)
    cmap = _weight_cmap(theme)
    for i, layer in enumerate(chosen_layers):
        for j, head in enumerate(chosen):
            ax = figure.add_subplot(grid[i, j])
            matrix = data.layers[layer][head]
            image = ax.imshow(page_levels(matrix, float(matrix.max())), cmap=cmap, vmin=0, vmax=LEVELS, interpolation="nearest")
            image.set_gid(f"layer-{layer}-head-{head}")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(str(head), color=palette[head], fontsize=9, fontweight="bold")
            if j == 0:
                ax.set_ylabel(str(layer), rotation=0, labelpad=10, fontsize=9)
    if data.caption(None):
        figure.suptitle(data.caption(None), color=_FRAME[theme]["text"])
    figure.supxlabel("head", color=_FRAME[theme]["muted"])
    figure.supylabel("layer", color=_FRAME[theme]["muted"])
    _style(figure, theme)
    return figure


def figure(source: Any, view: str = "heatmap", tokens: Sequence[str] | None = None, **options: Any) -> Figure:
    """One of :data:`VIEWS` by name (what the command line and ``w.figure`` call)."""
    makers: dict[str, Callable[..., Figure]] = {
        "heatmap": heatmap,
        "token_focus": token_focus,
        "head_view": head_view,
        "model_view": model_view,
    }
    if view not in makers:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    return makers[view](source, tokens, **options)


def view_options(saved: SavedView, view: str) -> dict[str, Any]:
    """A saved view's settings as arguments of :func:`figure` for ``view``."""
    settings = saved.view
    theme = saved.theme if saved.theme in ("light", "dark") else "light"
    heads = settings["heads"] or None
    if view == "model_view":
        return {"heads": heads, "theme": theme}
    options: dict[str, Any] = {"layer": settings["layer"], "heads": heads, "theme": theme}
    if view == "token_focus":
        if settings["focus"] is None:
            raise ValueError("the widget has no focus token: click a token first, or set w.focus")
        options.update(focus=settings["focus"], direction=settings["direction"])
    elif view == "head_view":
        options.update(focus=settings["focus"], threshold=settings["threshold"])
    return options


# ---- shared pieces ------------------------------------------------------------------------------------


def page_levels(matrix: np.ndarray, largest: float) -> np.ndarray:
    """Each weight as the page's colour index: round(255 × weight / largest)."""
    if largest <= 0:
        return np.zeros(matrix.shape, dtype=np.int32)
    return np.clip(np.floor(matrix / largest * LEVELS + 0.5), 0, LEVELS).astype(np.int32)


def _layer(layer: int, data: AttentionInput) -> int:
    return check_indices([layer], data.n_layers, "layer", "layers")[0]


def _heads(heads: Sequence[int] | None, data: AttentionInput) -> list[int]:
    return list(range(data.n_heads)) if heads is None else sorted(check_indices(heads, data.n_heads, "heads", "heads"))


def _heads_label(chosen: list[int], n_heads: int) -> str:
    if len(chosen) == 1:
        return f"head {chosen[0]}"
    return f"mean of all {n_heads} heads" if len(chosen) == n_heads else f"mean of heads {', '.join(map(str, chosen))}"


def _new_figure(theme: str, size: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    if theme not in _FRAME:
        raise ValueError(f"theme must be one of {tuple(_FRAME)}, got {theme!r}")
    return Figure(figsize=size, layout="constrained", facecolor=_FRAME[theme]["background"])


def _figure(theme: str, size: tuple[float, float]) -> tuple[Figure, Axes]:
    figure = _new_figure(theme, size)
    ax = figure.add_subplot()
    ax.set_facecolor(_FRAME[theme]["background"])
    return figure, ax


def _style(figure: Figure, theme: str) -> None:
    """The page's text colours on every axis label, tick and spine (matplotlib's defaults are for light pages)."""
    text, muted = _FRAME[theme]["text"], _FRAME[theme]["muted"]
    for ax in figure.axes:
        for label in (ax.xaxis.label, ax.yaxis.label):
            label.set_color(muted)
        ax.tick_params(colors=muted, labelcolor=text)
        for spine in ax.spines.values():
            spine.set_color(muted)


def _weight_cmap(theme: str) -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap(weight_colors(theme), name=f"attnwidget-{theme}")


def _weight_scale(theme: str, largest: float) -> Any:
    """The colour bar's scale: 0 to the largest weight shown, in the page's colours."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    return ScalarMappable(norm=Normalize(0, largest if largest > 0 else 1), cmap=_weight_cmap(theme))


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1, decimals=0)


def _token_ticks(ax: Axes, labels: list[str], axis: str) -> None:
    step = max(1, -(-len(labels) // MAX_TICK_LABELS))
    positions = list(range(0, len(labels), step))
    if axis == "x":
        ax.set_xticks(positions, [labels[i] for i in positions], rotation=90)
    else:
        ax.set_yticks(positions, [labels[i] for i in positions])


def _column_labels(ax: Axes, labels: list[str], *, x: float, align: str, theme: str) -> None:
    for index, label in enumerate(labels):
        ax.text(x, index, label, ha=align, va="center", fontsize=9, color=_FRAME[theme]["text"], family="monospace")
