// The heatmap panel: composes cells (what is shown) and long (the same for a long input),
// geometry (where), paint and labels (drawing), dom, events and tooltip.
import { causalMaskStart } from "../../shared/causalMask";
import type { Theme } from "../../shared/colors";
import { setText } from "../../shared/dom";
import { missingLayerText, withAnalysisCaption } from "../../shared/format";
import { validHeads } from "../../shared/heads";
import type { Panel, PanelContext } from "../../shared/panel";
import { Raster, type CellWindow } from "../../shared/raster";
import { createRepaint } from "../../shared/repaint";
import { watchSize } from "../../shared/resize";
import type { LayerView, View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { heatmapCaption, heatmapCells, type HeatmapCells } from "./cells";
import { createHeatmapDom, drawTools, markLabels, placeFigure } from "./dom";
import { wireHeatmapEvents, type HeatmapControl } from "./events";
import { fullWindow, heatmapLayout, longestLabel, sameWindow, windowKey, ZOOM_FROM, type HeatmapLayout } from "./geometry";
import { axisLabels } from "./labels";
import { longHeatmapCells } from "./long";
import { BaseBuffers, drawBase, drawColorbar, drawOverlay, marksOf, themeKey } from "./paint";
import { tooltipLines } from "./tooltip";

/** What one draw shows: derived from the state and view, before anything is drawn. */
interface Frame {
  layer: LayerView;
  view: View;
  theme: Theme;
  /** The matrix's identity: zoom and cached label widths survive only while it stays. */
  shape: string;
  heads: number[];
  caption: string;
  dpr: number;
}

/**
 * The query × key matrix of the selected layer: one head, or the mean of the selected
 * heads. A draw is a pipeline: `frameOf` (state) → `layoutOf` (geometry) → the base
 * canvas, only when what it shows changed → labels, overlay and colour bar. Hover and
 * focus only redraw the transparent overlay, so they touch only the pixels they change.
 */
export function createHeatmap(context: PanelContext): Panel {
  const dom = createHeatmapDom();
  const buffers = new BaseBuffers();
  const barRaster = new Raster();
  const keys = { base: "", labels: "", overlay: "", bar: "", shape: "", longest: "", mask: "" };
  let layer: LayerView | null = null;
  let layout: HeatmapLayout = { gutter: 0, top: 0, plotWidth: 1, plotHeight: 1 };
  let cells: HeatmapCells | null = null;
  let mask: Int32Array | null = null;
  let longest = 1;
  /** The zoomed window, null for the whole matrix; kept across layers and heads while the shape stays. */
  let zoom: CellWindow | null = null;
  let pointer: { r: number; c: number } | null = null;

  const repaint = createRepaint(paint);
  const windowNow = (): CellWindow => zoom ?? fullWindow(layer?.rows.length ?? 0, layer?.cols.length ?? 0);
  const zoomable = () => layer !== null && (layer.rows.length > ZOOM_FROM || layer.cols.length > ZOOM_FROM);
  const control: HeatmapControl = {
    layer: () => layer,
    layout: () => layout,
    zoom: () => zoom,
    window: windowNow,
    zoomable,
    pointer: () => pointer,
    setZoom(next) {
      zoom = next && !sameWindow(next, fullWindow(layer?.rows.length ?? 0, layer?.cols.length ?? 0)) ? next : null;
      repaint.now();
    },
    point(cell) {
      pointer = cell;
      if (repaint.last) overlay(repaint.last.state, repaint.last.view);
    },
    showTooltip: (cell, x, y) => showTooltip(cell, x, y),
    hover: () => repaint.last?.state.hover ?? null,
  };
  const cleanups = wireHeatmapEvents(dom, control, context.actions);
  const bodyWidth = watchSize(dom.body, "width", repaint.schedule);

  function paint(state: Readonly<ViewState>, view: View): void {
    const frame = frameOf(state, view);
    if (!frame) return;
    layoutOf(frame);
    const window = windowNow();
    const rows = frame.layer.rows.length;
    const cols = frame.layer.cols.length;
    if (view.stack!.long) cells = longHeatmapCells(frame.layer, frame.heads, window, [layout.plotHeight * frame.dpr, layout.plotWidth * frame.dpr], mask);
    setText(dom.caption, frame.caption);
    placeFigure(dom, layout, zoomable(), zoom !== null);
    drawTools(dom, zoomable(), zoom, window, rows, cols, layout);
    const baseKey = [state.data?.version, view.stack!.name, frame.layer.layer, frame.layer.ready, cells !== null, frame.heads.join(","), frame.shape,
      windowKey(window), layout.plotWidth, layout.plotHeight, frame.dpr, themeKey(frame.theme)].join("|");
    if (baseKey !== keys.base) {
      keys.base = baseKey;
      drawBase(dom.base, { layout, window, ready: frame.layer.ready, cells, mask, theme: frame.theme }, buffers);
    }
    const labelKey = [frame.shape, windowKey(window), layout.gutter, layout.top, layout.plotWidth, layout.plotHeight].join("|");
    if (labelKey !== keys.labels) {
      keys.labels = labelKey;
      labels(view, window);
    }
    markLabels(dom, marksOf(state, view));
    overlay(state, view);
    colorbar(frame.theme);
  }

  /** State: the layer, the cells and caption to show, or null (and a message) when there is nothing. */
  function frameOf(state: Readonly<ViewState>, view: View): Frame | null {
    layer = view.current;
    const stack = view.stack;
    const empty = (message: string) => {
      dom.caption.textContent = message;
      dom.body.hidden = true;
      cells = null;
      return null;
    };
    if (!layer || !stack) return empty("No attention to show.");
    const rows = layer.rows.length;
    const cols = layer.cols.length;
    if (rows === 0 || cols === 0) return empty("No tokens are visible with the current filter.");
    dom.body.hidden = false;
    // The zoom survives layer and head changes, not a change of the matrix's tokens.
    const shape = `${state.data?.version}|${stack.name}|${rows}x${cols}|${state.hideSpecial}|${state.pairFilter}`;
    if (shape !== keys.shape) {
      keys.shape = shape;
      zoom = null;
      pointer = null;
    }
    if (!zoomable()) zoom = null;
    if (shape !== keys.mask) {
      keys.mask = shape;
      mask = causalMaskStart(layer);
    }
    const heads = validHeads(state.heads, stack.nHeads);
    cells = heatmapCells(layer, heads);
    let caption = layer.ready ? heatmapCaption(layer.layer, heads, stack.nHeads) : missingLayerText(layer.layer, state.layersUnanswered);
    if (rows !== cols || stack.rows !== stack.cols) caption += ` · ${rows} × ${cols}`;
    if (stack.causal) caption += " · causal: each token sees only itself and earlier tokens";
    caption = withAnalysisCaption(caption, state.data, stack.name, layer.layer);
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    return { layer, view, theme: context.theme(), shape, heads, caption, dpr };
  }

  /** Layout: the plot's size for the matrix in the panel's width. */
  function layoutOf(frame: Frame): void {
    if (frame.shape !== keys.longest) {
      keys.longest = frame.shape;
      longest = longestLabel(frame.layer, frame.view.stack!.rows, frame.view.stack!.cols);
    }
    layout = heatmapLayout(bodyWidth.size || dom.body.clientWidth || 360, frame.layer.rows.length, frame.layer.cols.length, longest, frame.dpr);
  }

  function labels(view: View, window: CellWindow): void {
    const stack = view.stack!;
    const current = layer!;
    dom.rowLabelAt.clear();
    dom.colLabelAt.clear();
    const cellHeight = layout.plotHeight / window.rows;
    const cellWidth = layout.plotWidth / window.cols;
    dom.rowLabels.replaceChildren(...axisLabels("row", window.r0, window.rows, cellHeight, current.rows, stack.rows, stack.rowSpecial, dom.rowLabelAt, layout.gutter));
    dom.colLabels.replaceChildren(...axisLabels("col", window.c0, window.cols, cellWidth, current.cols, stack.cols, stack.colSpecial, dom.colLabelAt, layout.top - 3));
  }

  function overlay(state: Readonly<ViewState>, view: View): void {
    const marks = marksOf(state, view);
    const key = [keys.base, marks.focusRow, marks.focusCol, marks.hoverRow, marks.hoverCol, pointer?.r, pointer?.c].join("|");
    if (key === keys.overlay) return;
    keys.overlay = key;
    drawOverlay(dom.overlay, layout, windowNow(), marks, pointer, context.theme());
  }

  function colorbar(theme: Theme): void {
    dom.colorbar.hidden = !cells;
    if (!cells) return;
    const width = Math.max(140, Math.min(layout.plotWidth, 320));
    const key = [themeKey(theme), cells.max, width, layout.gutter].join("|");
    if (key === keys.bar) return;
    keys.bar = key;
    dom.colorbar.style.marginLeft = `${layout.gutter}px`;
    dom.colorbar.style.width = `${width}px`;
    drawColorbar(dom.barCanvas, dom.barTicks, width, cells.max, theme, barRaster);
  }

  function showTooltip(cell: { r: number; c: number }, x: number, y: number): void {
    if (!layer || !repaint.last?.view.stack) return;
    dom.tooltip.show(tooltipLines(layer, repaint.last.view, cell, cells, mask, windowNow(), layout), x + layout.gutter, y + layout.top);
  }

  return {
    element: dom.element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      bodyWidth.disconnect();
      repaint.destroy();
    },
  };
}
