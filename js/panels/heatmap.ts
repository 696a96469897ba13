import { prepareCanvas } from "../shared/canvas";
import type { Theme } from "../shared/colors";
import { createRepaint } from "../shared/repaint";
import { el, on, setText } from "../shared/dom";
import { missingLayerText, percent, percentTick, precise, tokenLabel, withAnalysisCaption } from "../shared/format";
import { hatchPattern, maxPool, paintValues, Raster, rgb, weightTable, type CellWindow } from "../shared/raster";
import { integerTicks, niceTicks } from "../shared/scale";
import { createTooltip } from "../shared/tooltip";
import type { LayerView, View } from "../state/view";
import type { ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "./panel";
import { panelTitle } from "../shared/snapshot";

/** Token labels are drawn as DOM text for windows of at most this many tokens per axis. */
export const MAX_LABELS = 64;
/** Below this many tokens per axis every cell is large enough: no zoom. */
const ZOOM_FROM = 24;
/** The smallest zoomed window, in cells. */
const MIN_WINDOW = 6;
const MAX_PLOT_HEIGHT = 440;
const MAX_CELL = 36;
/** Labels are 11 px monospace: about this wide per character. */
const CHAR_WIDTH = 6.7;
const LABEL_CHARS = 14;
const TICK_GUTTER = 34;
/** A label needs this many pixels; denser axes label every k-th token. */
const LABEL_SPACING = 11;

export interface HeatmapCells {
  /** Visible rows × visible columns, row-major: the weights drawn. Shared with the layer view's cache: do not modify. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** The largest weight, the top of the colour scale. */
  readonly max: number;
}

const maxima = new WeakMap<Float32Array, number>();

/**
 * What the heatmap draws for a layer: the one head's weights, or the mean over
 * the selected heads. Null while the layer has not arrived or no head is selected.
 */
export function heatmapCells(layer: LayerView, heads: readonly number[]): HeatmapCells | null {
  if (!layer.ready) return null;
  const valid = validHeads(heads, layer.stack.nHeads);
  const values = layer.mean(valid);
  if (!values) return null;
  return {
    values,
    rows: layer.rows.length,
    cols: layer.cols.length,
    // Read lazily: the panel learns it for free from pooling the whole matrix.
    get max() {
      let max = maxima.get(values);
      if (max === undefined) {
        max = 0;
        for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
        maxima.set(values, max);
      }
      return max;
    },
  };
}

export function validHeads(heads: readonly number[], nHeads: number): number[] {
  return heads.filter((head) => head >= 0 && head < nHeads);
}

/**
 * For a causal stack, the first masked visible column of each visible row: the
 * first column whose token comes after the row's token. Null when nothing is masked.
 */
export function causalMaskStart(layer: LayerView): Int32Array | null {
  if (!layer.stack.causal) return null;
  const { rows, cols } = layer;
  const out = new Int32Array(rows.length);
  let c = 0;
  for (let r = 0; r < rows.length; r++) {
    while (c < cols.length && cols[c]! <= rows[r]!) c++;
    out[r] = c;
  }
  return out;
}

/** "Layer 2 · head 5", "Layer 2 · mean of 12 heads". */
export function heatmapCaption(layer: number, heads: readonly number[], nHeads: number): string {
  const valid = validHeads(heads, nHeads);
  if (valid.length === 0) return `Layer ${layer} · no head selected: pick one in the head chips`;
  if (valid.length === 1) return `Layer ${layer} · head ${valid[0]}`;
  return `Layer ${layer} · mean of ${valid.length === nHeads ? "all " : ""}${valid.length} heads`;
}

export interface HeatmapLayout {
  /** Width of the row labels on the left, height of the column labels on top. */
  gutter: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
}

/**
 * Where things go for a rows × cols matrix in `width` CSS pixels. Small matrices
 * get whole device pixels per cell, so every cell is the same crisp size.
 */
export function heatmapLayout(width: number, rows: number, cols: number, longestLabel: number, dpr: number): HeatmapLayout {
  const labels = Math.min(LABEL_CHARS, Math.max(1, longestLabel)) * CHAR_WIDTH + 10;
  const gutter = Math.round(Math.max(TICK_GUTTER, labels));
  const top = Math.round(Math.max(TICK_GUTTER, labels));
  const available = Math.max(40, width - gutter - 2);
  const cell = Math.min(available / Math.max(1, cols), MAX_PLOT_HEIGHT / Math.max(1, rows), MAX_CELL);
  // A non-square matrix (cross-attention) may get taller or wider cells so that its labels fit.
  const roomy = Math.max(cell, LABEL_SPACING + 3);
  const cellHeight = rows !== cols && rows <= MAX_LABELS ? Math.min(MAX_CELL, MAX_PLOT_HEIGHT / Math.max(1, rows), roomy) : cell;
  const cellWidth = rows !== cols && cols <= MAX_LABELS ? Math.min(MAX_CELL, available / Math.max(1, cols), roomy) : cell;
  return { gutter, top, plotWidth: snap(cellWidth, cols, dpr), plotHeight: snap(cellHeight, rows, dpr) };
}

/** The length of `count` cells: whole device pixels per cell when that costs little room (small matrices). */
function snap(cell: number, count: number, dpr: number): number {
  const devicePixels = Math.floor(cell * dpr);
  if (devicePixels >= 1 && devicePixels / (cell * dpr) >= 0.8) return (count * devicePixels) / dpr;
  return Math.max(1, Math.floor(count * cell));
}

/**
 * Zoom a window by `factor` (> 1 zooms in) around a point at fractions `fx`,
 * `fy` of the plot, keeping the cell under that point in place. Clamped to the
 * matrix and to at least MIN_WINDOW cells.
 */
export function zoomAround(window: CellWindow, rows: number, cols: number, factor: number, fx: number, fy: number): CellWindow {
  const size = (current: number, total: number) => {
    const scaled = factor > 1 ? Math.floor(current / factor) : Math.ceil(current / factor);
    return Math.min(total, Math.max(Math.min(total, MIN_WINDOW), scaled));
  };
  const nRows = size(window.rows, rows);
  const nCols = size(window.cols, cols);
  const anchor = (start: number, current: number, next: number, total: number, f: number) =>
    Math.min(total - next, Math.max(0, Math.round(start + f * current - f * next)));
  return {
    r0: anchor(window.r0, window.rows, nRows, rows, fy),
    c0: anchor(window.c0, window.cols, nCols, cols, fx),
    rows: nRows,
    cols: nCols,
  };
}

/** The visible cell under a point of the plot. */
export function cellAt(window: CellWindow, plotWidth: number, plotHeight: number, x: number, y: number): { r: number; c: number } | null {
  if (x < 0 || y < 0 || x >= plotWidth || y >= plotHeight) return null;
  return {
    r: window.r0 + Math.min(window.rows - 1, Math.floor((y / plotHeight) * window.rows)),
    c: window.c0 + Math.min(window.cols - 1, Math.floor((x / plotWidth) * window.cols)),
  };
}

function fullWindow(rows: number, cols: number): CellWindow {
  return { r0: 0, c0: 0, rows, cols };
}

function sameWindow(a: CellWindow, b: CellWindow): boolean {
  return a.r0 === b.r0 && a.c0 === b.c0 && a.rows === b.rows && a.cols === b.cols;
}

function themeKey(theme: Theme): string {
  return `${theme.dark}|${theme.background}|${theme.foreground}|${theme.muted}|${theme.accent}`;
}

function button(text: string, title: string, testid: string): HTMLButtonElement {
  const element = el("button", { className: "aw-hm-zoom", text, title, testid, attrs: { type: "button", "aria-label": title } });
  return element;
}

interface Marks {
  focusRow: number;
  focusCol: number;
  hoverRow: number;
  hoverCol: number;
}

/**
 * The query × key matrix of the selected layer: one head, or the mean of the
 * selected heads. Drawn once per (data, layer, heads, filter, zoom, size, theme)
 * into a base canvas; hover and focus only redraw a transparent overlay.
 */
export function createHeatmap(context: PanelContext): Panel {
  const { actions } = context;
  const caption = el("div", { className: "aw-panel-caption", testid: "heatmap-caption" });
  const zoomOut = button("−", "Zoom out", "heatmap-zoom-out");
  const zoomIn = button("+", "Zoom in", "heatmap-zoom-in");
  const reset = button("Reset zoom", "Show the whole matrix", "heatmap-zoom-reset");
  const zoomInfo = el("span", { className: "aw-muted aw-hm-zoominfo" });
  const tools = el("div", { className: "aw-hm-tools" }, [zoomOut, zoomIn, reset, zoomInfo]);
  const base = el("canvas", { className: "aw-hm-base" });
  const overlay = el("canvas", { className: "aw-hm-overlay" });
  const plot = el("div", { className: "aw-hm-plot", testid: "heatmap-plot" }, [base, overlay]);
  const rowLabels = el("div", { className: "aw-hm-rowlabels", attrs: { "aria-label": "From tokens (rows)" } });
  const colLabels = el("div", { className: "aw-hm-collabels", attrs: { "aria-label": "To tokens (columns)" } });
  const corner = el("div", { className: "aw-hm-corner" }, [el("span", { text: "to →" }), el("span", { text: "from ↓" })]);
  const figure = el("div", { className: "aw-hm-figure" }, [corner, colLabels, rowLabels, plot]);
  const tooltip = createTooltip(figure, "heatmap-tooltip");
  const barCanvas = el("canvas", { className: "aw-hm-bar" });
  const barTicks = el("div", { className: "aw-hm-ticks" });
  const colorbar = el("div", { className: "aw-hm-colorbar", testid: "heatmap-colorbar" }, [barCanvas, barTicks]);
  const body = el("div", { className: "aw-hm-body" }, [tools, figure, colorbar]);
  const element = el("section", { className: "aw-panel aw-heatmap", testid: "heatmap" }, [
    panelTitle("Heatmap"),
    caption,
    body,
  ]);

  const repaint = createRepaint(paint);
  /** The zoomed window, null for the whole matrix; kept across layers and heads while the shape stays. */
  let zoom: CellWindow | null = null;
  let zoomShape = "";
  let layout: HeatmapLayout = { gutter: 0, top: 0, plotWidth: 1, plotHeight: 1 };
  let layer: LayerView | null = null;
  let cells: HeatmapCells | null = null;
  let mask: Int32Array | null = null;
  let maskKey = "";
  let longestKey = "";
  let longest = 1;
  let pointer: { r: number; c: number } | null = null;
  let drag: { x: number; y: number; window: CellWindow; moved: boolean; id: number } | null = null;
  let baseKey = "";
  let labelKey = "";
  let overlayKey = "";
  let barKey = "";
  let pooled = new Float32Array(0);
  const raster = new Raster();
  const barRaster = new Raster();
  let hatch: { color: string; pattern: CanvasPattern | string } | null = null;
  const rowLabelByIndex = new Map<number, HTMLElement>();
  const colLabelByIndex = new Map<number, HTMLElement>();

  const windowNow = (): CellWindow => zoom ?? fullWindow(layer?.rows.length ?? 0, layer?.cols.length ?? 0);
  const zoomable = () => layer !== null && (layer.rows.length > ZOOM_FROM || layer.cols.length > ZOOM_FROM);
  const setZoom = (next: CellWindow | null) => {
    const rows = layer?.rows.length ?? 0;
    const cols = layer?.cols.length ?? 0;
    zoom = next && !sameWindow(next, fullWindow(rows, cols)) ? next : null;
    repaint.now();
  };
  const pointIn = (event: MouseEvent) => {
    const rect = plot.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };

  function showTooltip(cell: { r: number; c: number }, x: number, y: number): void {
    if (!layer || !repaint.last?.view.stack) return;
    const stack = repaint.last.view.stack;
    const row = layer.rows[cell.r]!;
    const col = layer.cols[cell.c]!;
    const lines = [`from: ${tokenLabel(stack.rows[row] ?? "", 40)}  (#${cell.r})`, `to: ${tokenLabel(stack.cols[col] ?? "", 40)}  (#${cell.c})`];
    if (mask && cell.c >= mask[cell.r]!) {
      lines.push("masked: a token cannot attend to later tokens");
    } else if (cells) {
      const weight = cells.values[cell.r * cells.cols + cell.c]!;
      lines.push(`weight: ${percent(weight)}  (${precise(weight)})`);
    } else {
      lines.push(layer.ready ? "no head selected" : "loading…");
    }
    const window = windowNow();
    if (window.rows > layout.plotHeight || window.cols > layout.plotWidth) lines.push("several tokens per pixel: zoom in for single cells");
    tooltip.show(lines, x + layout.gutter, y + layout.top);
  }

  const hoverRow = (index: number) => {
    const hover = repaint.last?.state.hover;
    if (hover?.axis !== "row" || hover.index !== index) actions.update({ hover: { axis: "row", index } });
  };

  const cleanups = [
    on(plot, "pointerdown", (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, window: windowNow(), moved: false, id: event.pointerId };
    }),
    on(plot, "pointermove", (event) => {
      if (!layer) return;
      if (drag) {
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) {
          drag.moved = true;
          if (zoom) plot.setPointerCapture?.(drag.id);
        }
        if (drag.moved && zoom) {
          const { window } = drag;
          const rows = layer.rows.length;
          const cols = layer.cols.length;
          const r0 = Math.min(rows - window.rows, Math.max(0, Math.round(window.r0 - (dy / layout.plotHeight) * window.rows)));
          const c0 = Math.min(cols - window.cols, Math.max(0, Math.round(window.c0 - (dx / layout.plotWidth) * window.cols)));
          if (r0 !== zoom.r0 || c0 !== zoom.c0) setZoom({ ...window, r0, c0 });
          tooltip.hide();
          return;
        }
      }
      const { x, y } = pointIn(event);
      const cell = cellAt(windowNow(), layout.plotWidth, layout.plotHeight, x, y);
      if (!cell) return;
      if (!pointer || pointer.r !== cell.r || pointer.c !== cell.c) {
        pointer = cell;
        if (repaint.last) drawOverlay(repaint.last.state, repaint.last.view);
      }
      showTooltip(cell, x, y);
      hoverRow(layer.rows[cell.r]!);
    }),
    on(plot, "pointerup", (event) => {
      const started = drag;
      drag = null;
      if (started && plot.hasPointerCapture?.(started.id)) plot.releasePointerCapture(started.id);
      // A click is a press and release here without a pan in between.
      if (!started || started.moved || !layer) return;
      const { x, y } = pointIn(event);
      const cell = cellAt(windowNow(), layout.plotWidth, layout.plotHeight, x, y);
      if (cell) actions.update({ focus: layer.rows[cell.r]!, direction: "attends_to" });
    }),
    on(plot, "pointerleave", () => {
      if (drag?.moved) return;
      pointer = null;
      tooltip.hide();
      if (repaint.last) drawOverlay(repaint.last.state, repaint.last.view);
      if (repaint.last?.state.hover) actions.update({ hover: null });
    }),
    on(
      plot,
      "wheel",
      (event) => {
        if (!layer || !zoomable()) return;
        const unit = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.002;
        const factor = Math.exp(-Math.max(-200, Math.min(200, event.deltaY)) * unit);
        const { x, y } = pointIn(event);
        const current = windowNow();
        const next = zoomAround(current, layer.rows.length, layer.cols.length, factor, x / layout.plotWidth, y / layout.plotHeight);
        if (sameWindow(next, current)) return; // fully zoomed out (or in): let the page scroll
        event.preventDefault();
        setZoom(next);
        const cell = cellAt(windowNow(), layout.plotWidth, layout.plotHeight, x, y);
        if (cell) {
          pointer = cell;
          showTooltip(cell, x, y);
        }
      },
      { passive: false },
    ),
    on(zoomIn, "click", () => layer && setZoom(zoomAround(windowNow(), layer.rows.length, layer.cols.length, 2, 0.5, 0.5))),
    on(zoomOut, "click", () => layer && setZoom(zoomAround(windowNow(), layer.rows.length, layer.cols.length, 0.5, 0.5, 0.5))),
    on(reset, "click", () => setZoom(null)),
    on(figure, "mouseover", (event) => {
      const label = (event.target as HTMLElement).closest<HTMLElement>("[data-axis]");
      if (!label) return;
      const axis = label.dataset.axis === "col" ? "col" : "row";
      const index = Number(label.dataset.index);
      const hover = repaint.last?.state.hover;
      if (hover?.axis !== axis || hover.index !== index) actions.update({ hover: { axis, index } });
    }),
    on(figure, "mouseleave", () => {
      if (repaint.last?.state.hover) actions.update({ hover: null });
    }),
    on(figure, "click", (event) => {
      const label = (event.target as HTMLElement).closest<HTMLElement>("[data-axis]");
      if (!label) return;
      const index = Number(label.dataset.index);
      actions.update({ focus: index, direction: label.dataset.axis === "col" ? "attended_by" : "attends_to" });
    }),
  ];
  // The width comes from the observer, so a draw does not force a layout to measure it.
  let measured = 0;
  const resizeObserver =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          const width = entries[entries.length - 1]?.contentRect.width ?? 0;
          if (width > 0 && Math.abs(width - measured) >= 1) {
            measured = width;
            repaint.schedule();
          }
        })
      : null;
  resizeObserver?.observe(body);

  function paint(state: Readonly<ViewState>, view: View): void {
    const theme = context.theme();
    layer = view.current;
    const stack = view.stack;
    if (!layer || !stack) {
      caption.textContent = "No attention to show.";
      body.hidden = true;
      cells = null;
      return;
    }
    body.hidden = false;
    const rows = layer.rows.length;
    const cols = layer.cols.length;
    if (rows === 0 || cols === 0) {
      caption.textContent = "No tokens are visible with the current filter.";
      body.hidden = true;
      return;
    }

    // The zoom survives layer and head changes, not a change of the matrix's tokens.
    const shape = `${state.data?.version}|${stack.name}|${rows}x${cols}|${state.hideSpecial}|${state.pairFilter}`;
    if (shape !== zoomShape) {
      zoomShape = shape;
      zoom = null;
      pointer = null;
    }
    if (!zoomable()) zoom = null;
    const window = windowNow();

    const heads = validHeads(state.heads, stack.nHeads);
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    const width = measured || body.clientWidth || 360;
    if (shape !== longestKey) {
      longestKey = shape;
      longest = longestLabel(layer, stack.rows, stack.cols);
    }
    layout = heatmapLayout(width, rows, cols, longest, dpr);
    cells = heatmapCells(layer, heads);
    if (shape !== maskKey) {
      maskKey = shape;
      mask = causalMaskStart(layer);
    }

    let text = layer.ready ? heatmapCaption(layer.layer, heads, stack.nHeads) : missingLayerText(layer.layer, state.layersUnanswered);
    if (rows !== cols || stack.rows !== stack.cols) text += ` · ${rows} × ${cols}`;
    if (stack.causal) text += " · causal: each token sees only itself and earlier tokens";
    setText(caption, withAnalysisCaption(text, state.data, stack.name, layer.layer));

    // Geometry.
    figure.style.width = `${layout.gutter + layout.plotWidth}px`;
    figure.style.height = `${layout.top + layout.plotHeight}px`;
    plot.style.left = `${layout.gutter}px`;
    plot.style.top = `${layout.top}px`;
    plot.style.width = `${layout.plotWidth}px`;
    plot.style.height = `${layout.plotHeight}px`;
    plot.classList.toggle("is-zoomable", zoomable());
    plot.classList.toggle("is-zoomed", zoom !== null);
    rowLabels.style.cssText = `top:${layout.top}px;width:${layout.gutter}px;height:${layout.plotHeight}px`;
    colLabels.style.cssText = `left:${layout.gutter}px;height:${layout.top}px;width:${layout.plotWidth}px`;
    corner.style.cssText = `width:${layout.gutter}px;height:${layout.top}px`;

    drawTools(window, rows, cols);

    const ready = layer.ready;
    const key = [state.data?.version, stack.name, layer.layer, ready, heads.join(","), shape, windowKey(window), layout.plotWidth, layout.plotHeight, dpr, themeKey(theme)].join("|");
    if (key !== baseKey) {
      baseKey = key;
      drawBase(theme, window);
    }
    const labels = [shape, windowKey(window), layout.gutter, layout.top, layout.plotWidth, layout.plotHeight].join("|");
    if (labels !== labelKey) {
      labelKey = labels;
      drawLabels(view, window);
    }
    markLabels(state, view);
    drawOverlay(state, view);
    drawColorbar(theme);
  }

  function drawTools(window: CellWindow, rows: number, cols: number): void {
    tools.hidden = !zoomable();
    if (tools.hidden) return;
    zoomOut.disabled = zoom === null;
    reset.disabled = zoom === null;
    zoomIn.disabled = window.rows <= Math.min(rows, MIN_WINDOW) && window.cols <= Math.min(cols, MIN_WINDOW);
    if (zoom) {
      setText(zoomInfo, `rows ${window.r0}–${window.r0 + window.rows - 1}, columns ${window.c0}–${window.c0 + window.cols - 1} · drag to pan`);
    } else {
      const perPixel = Math.max(rows / layout.plotHeight, cols / layout.plotWidth);
      setText(
        zoomInfo,
        perPixel > 1
          ? `${perPixel.toFixed(1)} tokens per pixel, each pixel the largest of its cells · scroll over the map to zoom`
          : "scroll over the map to zoom, or use +",
      );
    }
  }

  function drawBase(theme: Theme, window: CellWindow): void {
    const ctx = prepareCanvas(base, layout.plotWidth, layout.plotHeight);
    if (!ctx) return;
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, layout.plotWidth, layout.plotHeight);
    if (!layer?.ready) {
      ctx.fillStyle = pattern(ctx, theme);
      ctx.fillRect(0, 0, layout.plotWidth, layout.plotHeight);
      return;
    }
    if (!cells) return;
    const outRows = Math.min(window.rows, Math.max(1, Math.round(layout.plotHeight * dpr)));
    const outCols = Math.min(window.cols, Math.max(1, Math.round(layout.plotWidth * dpr)));
    if (pooled.length < outRows * outCols) pooled = new Float32Array(outRows * outCols);
    const values = maxPool(cells.values, cells.cols, window, outRows, outCols, mask, pooled);
    if (window.rows === cells.rows && window.cols === cells.cols && !maxima.has(cells.values)) {
      // The whole matrix pooled: its largest value is the matrix's, without another pass over every cell.
      let max = 0;
      for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
      maxima.set(cells.values, max);
    }
    const pixels = raster.pixels(outCols, outRows);
    if (!pixels) return;
    paintValues(values, outRows * outCols, cells.max, weightTable(theme), rgb(theme.background), pixels);
    raster.drawTo(ctx, 0, 0, layout.plotWidth, layout.plotHeight);
    if (mask) {
      // Hatch the masked cells: a staircase, one rectangle per row of the window.
      const cellWidth = layout.plotWidth / window.cols;
      const cellHeight = layout.plotHeight / window.rows;
      // The masked cells form a staircase (rows and columns are in token order): one polygon along its edge.
      ctx.beginPath();
      ctx.moveTo(layout.plotWidth, 0);
      for (let r = 0; r < window.rows; r++) {
        const start = Math.min(window.cols, Math.max(mask[window.r0 + r]!, window.c0) - window.c0);
        ctx.lineTo(start * cellWidth, r * cellHeight);
        ctx.lineTo(start * cellWidth, (r + 1) * cellHeight);
      }
      ctx.lineTo(layout.plotWidth, layout.plotHeight);
      ctx.closePath();
      ctx.fillStyle = pattern(ctx, theme);
      ctx.fill();
    }
  }

  function pattern(ctx: CanvasRenderingContext2D, theme: Theme): CanvasPattern | string {
    if (!hatch || hatch.color !== theme.muted) hatch = { color: theme.muted, pattern: hatchPattern(ctx, withAlpha(theme.muted, 0.45)) };
    return hatch.pattern;
  }

  function drawLabels(view: View, window: CellWindow): void {
    const stack = view.stack!;
    const current = layer!;
    rowLabelByIndex.clear();
    colLabelByIndex.clear();
    const cellHeight = layout.plotHeight / window.rows;
    const cellWidth = layout.plotWidth / window.cols;
    rowLabels.replaceChildren(
      ...axisLabels("row", window.r0, window.rows, cellHeight, current.rows, stack.rows, stack.rowSpecial, rowLabelByIndex, layout.gutter),
    );
    colLabels.replaceChildren(
      ...axisLabels("col", window.c0, window.cols, cellWidth, current.cols, stack.cols, stack.colSpecial, colLabelByIndex, layout.top - 3),
    );
  }

  function markLabels(state: Readonly<ViewState>, view: View): void {
    const marks = marksOf(state, view);
    const mark = (labels: Map<number, HTMLElement>, focus: number, hover: number) => {
      for (const [position, label] of labels) {
        label.classList.toggle("is-focus", position === focus);
        label.classList.toggle("is-hover", position === hover);
      }
    };
    mark(rowLabelByIndex, marks.focusRow, marks.hoverRow);
    mark(colLabelByIndex, marks.focusCol, marks.hoverCol);
  }

  function drawOverlay(state: Readonly<ViewState>, view: View): void {
    const marks = marksOf(state, view);
    const theme = context.theme();
    const window = windowNow();
    const key = [baseKey, marks.focusRow, marks.focusCol, marks.hoverRow, marks.hoverCol, pointer?.r, pointer?.c].join("|");
    if (key === overlayKey) return;
    overlayKey = key;
    const ctx = prepareCanvas(overlay, layout.plotWidth, layout.plotHeight);
    if (!ctx) return;
    const cellWidth = layout.plotWidth / window.cols;
    const cellHeight = layout.plotHeight / window.rows;
    const band = (position: number, axis: "row" | "col") => {
      if (axis === "row") {
        if (position < window.r0 || position >= window.r0 + window.rows) return null;
        const h = Math.max(1, cellHeight);
        return [0, (position - window.r0) * cellHeight + cellHeight / 2 - h / 2, layout.plotWidth, h] as const;
      }
      if (position < window.c0 || position >= window.c0 + window.cols) return null;
      const w = Math.max(1, cellWidth);
      return [(position - window.c0) * cellWidth + cellWidth / 2 - w / 2, 0, w, layout.plotHeight] as const;
    };
    const stroke = (rect: readonly [number, number, number, number] | null, color: string, width: number, dash: number[] = []) => {
      if (!rect) return;
      ctx.setLineDash(dash);
      ctx.lineWidth = width;
      ctx.strokeStyle = color;
      // Just outside the band, so the cells inside stay visible however thin it is.
      ctx.strokeRect(rect[0] - width / 2, rect[1] - width / 2, rect[2] + width, rect[3] + width);
    };
    if (marks.hoverRow >= 0) stroke(band(marks.hoverRow, "row"), theme.foreground, 1, [3, 2]);
    if (marks.hoverCol >= 0) stroke(band(marks.hoverCol, "col"), theme.foreground, 1, [3, 2]);
    if (marks.focusRow >= 0) stroke(band(marks.focusRow, "row"), theme.accent, 2);
    if (marks.focusCol >= 0) stroke(band(marks.focusCol, "col"), theme.accent, 2);
    if (pointer) {
      const size = Math.max(5, Math.min(cellWidth, cellHeight));
      const x = (pointer.c - window.c0 + 0.5) * cellWidth - Math.max(size, cellWidth) / 2;
      const y = (pointer.r - window.r0 + 0.5) * cellHeight - Math.max(size, cellHeight) / 2;
      ctx.setLineDash([]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = theme.background;
      ctx.strokeRect(x, y, Math.max(size, cellWidth), Math.max(size, cellHeight));
      ctx.lineWidth = 1;
      ctx.strokeStyle = theme.foreground;
      ctx.strokeRect(x, y, Math.max(size, cellWidth), Math.max(size, cellHeight));
    }
  }

  function drawColorbar(theme: Theme): void {
    colorbar.hidden = !cells;
    if (!cells) return;
    const width = Math.max(140, Math.min(layout.plotWidth, 320));
    const key = [themeKey(theme), cells.max, width, layout.gutter].join("|");
    if (key === barKey) return;
    barKey = key;
    colorbar.style.marginLeft = `${layout.gutter}px`;
    colorbar.style.width = `${width}px`;
    const ctx = prepareCanvas(barCanvas, width, 10);
    const pixels = barRaster.pixels(256, 1);
    if (ctx && pixels) {
      const ramp = Float32Array.from({ length: 256 }, (_, i) => i / 255);
      paintValues(ramp, 256, 1, weightTable(theme), [0, 0, 0], pixels);
      barRaster.drawTo(ctx, 0, 0, width, 10);
      ctx.strokeStyle = theme.muted;
      ctx.lineWidth = 1;
      ctx.strokeRect(0.5, 0.5, width - 1, 9);
    }
    const max = cells.max;
    // Round ticks, leaving room at the right end for the "max" label.
    const ticks = niceTicks(max, Math.max(2, Math.floor(width / 70))).filter((tick) => tick === 0 || (tick / max) * width + 18 < width - 72);
    barTicks.replaceChildren(
      ...ticks.map((tick) => {
        const label = el("span", { className: "aw-hm-tick", text: percentTick(tick) });
        label.style.left = `${(tick / (max || 1)) * 100}%`;
        return label;
      }),
      el("span", { className: "aw-hm-tick is-max", text: `max ${percent(max)}`, title: precise(max) }),
    );
  }

  return {
    element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      resizeObserver?.disconnect();
      repaint.destroy();
    },
  };
}

function windowKey(window: CellWindow): string {
  return `${window.r0},${window.c0},${window.rows},${window.cols}`;
}

function marksOf(state: Readonly<ViewState>, view: View): Marks {
  const focus = state.focus;
  return {
    focusRow: focus !== null && state.direction === "attends_to" ? view.visibleRow(focus) : -1,
    focusCol: focus !== null && state.direction === "attended_by" ? view.visibleCol(focus) : -1,
    hoverRow: state.hover?.axis === "row" ? view.visibleRow(state.hover.index) : -1,
    hoverCol: state.hover?.axis === "col" ? view.visibleCol(state.hover.index) : -1,
  };
}

function longestLabel(layer: LayerView, rows: readonly string[], cols: readonly string[]): number {
  // Only windows of up to MAX_LABELS tokens are labelled; a long input still gets label room for when it is zoomed.
  let longest = 1;
  const scan = (indices: Int32Array, labels: readonly string[]) => {
    for (let i = 0; i < indices.length; i++) longest = Math.max(longest, tokenLabel(labels[indices[i]!] ?? "", LABEL_CHARS).length);
  };
  scan(layer.rows, rows);
  scan(layer.cols, cols);
  return longest;
}

/**
 * The labels of one axis for the window: token text (thinned when cells are
 * small) for up to MAX_LABELS tokens, position ticks beyond that.
 */
function axisLabels(
  axis: "row" | "col",
  start: number,
  count: number,
  cell: number,
  indices: Int32Array,
  tokens: readonly string[],
  special: readonly boolean[],
  byPosition: Map<number, HTMLElement>,
  band: number,
): HTMLElement[] {
  const place = (label: HTMLElement, position: number, size: number) => {
    const offset = (position - start + 0.5) * cell - size / 2;
    if (axis === "row") {
      label.style.top = `${offset}px`;
      label.style.height = `${size}px`;
      label.style.lineHeight = `${size}px`;
    } else {
      // Rotated a quarter turn about its bottom-left corner: text runs upwards from the plot.
      label.style.left = `${offset + size}px`;
      label.style.width = `${band}px`;
      label.style.height = `${size}px`;
      label.style.lineHeight = `${size}px`;
    }
  };
  if (count > MAX_LABELS) {
    // Position numbers, horizontal, kept inside the axis.
    const length = count * cell;
    const size = axis === "row" ? 14 : 32;
    return integerTicks(start, count, Math.max(2, length / (axis === "row" ? 40 : 64))).map((position) => {
      const label = el("span", { className: "aw-hm-tick-label", text: String(position), title: `token position ${position}` });
      const offset = Math.min(length - size, Math.max(0, (position - start + 0.5) * cell - size / 2));
      if (axis === "row") label.style.cssText = `top:${offset}px;height:${size}px;line-height:${size}px`;
      else label.style.cssText = `left:${offset}px;width:${size}px`;
      return label;
    });
  }
  const step = cell >= LABEL_SPACING ? 1 : Math.ceil(LABEL_SPACING / cell);
  const size = Math.max(cell, LABEL_SPACING);
  const labels: HTMLElement[] = [];
  for (let position = start; position < start + count; position += step) {
    const index = indices[position]!;
    const text = tokens[index] ?? "";
    const label = el("span", {
      className: `aw-hm-label${special[index] ? " is-special" : ""}`,
      testid: axis === "row" ? "heatmap-row-label" : "heatmap-col-label",
      text: tokenLabel(text, LABEL_CHARS),
      title: text,
    });
    label.dataset.axis = axis;
    label.dataset.index = String(index);
    label.style.fontSize = `${Math.min(12, Math.max(9, Math.floor(size) - 2))}px`;
    place(label, position, size);
    byPosition.set(position, label);
    labels.push(label);
  }
  return labels;
}

/** A CSS colour at some opacity, for canvas strokes (canvas needs a concrete colour). */
function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = rgb(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
