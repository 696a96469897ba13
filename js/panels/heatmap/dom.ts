// The heatmap's elements, and the DOM updates of a draw that are not canvas pixels.
import { el, setText } from "../../shared/dom";
import { panelTitle } from "../../shared/snapshot";
import type { CellWindow } from "../../shared/raster";
import { createTooltip, type Tooltip } from "../../shared/tooltip";
import { MIN_WINDOW, type HeatmapLayout } from "./geometry";
import type { Marks } from "./paint";

export interface HeatmapDom {
  element: HTMLElement;
  caption: HTMLElement;
  body: HTMLElement;
  tools: HTMLElement;
  zoomOut: HTMLButtonElement;
  zoomIn: HTMLButtonElement;
  reset: HTMLButtonElement;
  zoomInfo: HTMLElement;
  figure: HTMLElement;
  corner: HTMLElement;
  plot: HTMLElement;
  base: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  rowLabels: HTMLElement;
  colLabels: HTMLElement;
  colorbar: HTMLElement;
  barCanvas: HTMLCanvasElement;
  barTicks: HTMLElement;
  tooltip: Tooltip;
  /** Labels on screen by visible position, to mark the hovered and focused ones. */
  rowLabelAt: Map<number, HTMLElement>;
  colLabelAt: Map<number, HTMLElement>;
}

function button(text: string, title: string, testid: string): HTMLButtonElement {
  return el("button", { className: "aw-hm-zoom", text, title, testid, attrs: { type: "button", "aria-label": title } });
}

export function createHeatmapDom(): HeatmapDom {
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
  return {
    element, caption, body, tools, zoomOut, zoomIn, reset, zoomInfo, figure, corner, plot, base, overlay,
    rowLabels, colLabels, colorbar, barCanvas, barTicks, tooltip, rowLabelAt: new Map(), colLabelAt: new Map(),
  };
}

/** Size and place the figure's parts for a layout. */
export function placeFigure(dom: HeatmapDom, layout: HeatmapLayout, zoomable: boolean, zoomed: boolean): void {
  dom.figure.style.width = `${layout.gutter + layout.plotWidth}px`;
  dom.figure.style.height = `${layout.top + layout.plotHeight}px`;
  const plot = dom.plot.style;
  plot.left = `${layout.gutter}px`;
  plot.top = `${layout.top}px`;
  plot.width = `${layout.plotWidth}px`;
  plot.height = `${layout.plotHeight}px`;
  dom.plot.classList.toggle("is-zoomable", zoomable);
  dom.plot.classList.toggle("is-zoomed", zoomed);
  dom.rowLabels.style.cssText = `top:${layout.top}px;width:${layout.gutter}px;height:${layout.plotHeight}px`;
  dom.colLabels.style.cssText = `left:${layout.gutter}px;height:${layout.top}px;width:${layout.plotWidth}px`;
  dom.corner.style.cssText = `width:${layout.gutter}px;height:${layout.top}px`;
}

/** The zoom buttons and the line saying what the window shows. */
export function drawTools(dom: HeatmapDom, zoomable: boolean, zoom: CellWindow | null, window: CellWindow, rows: number, cols: number, layout: HeatmapLayout): void {
  dom.tools.hidden = !zoomable;
  if (!zoomable) return;
  dom.zoomOut.disabled = zoom === null;
  dom.reset.disabled = zoom === null;
  dom.zoomIn.disabled = window.rows <= Math.min(rows, MIN_WINDOW) && window.cols <= Math.min(cols, MIN_WINDOW);
  if (zoom) {
    setText(dom.zoomInfo, `rows ${window.r0}–${window.r0 + window.rows - 1}, columns ${window.c0}–${window.c0 + window.cols - 1} · drag to pan`);
    return;
  }
  const perPixel = Math.max(rows / layout.plotHeight, cols / layout.plotWidth);
  setText(
    dom.zoomInfo,
    perPixel > 1 ? `${perPixel.toFixed(1)} tokens per pixel, each pixel the largest of its cells · scroll over the map to zoom` : "scroll over the map to zoom, or use +",
  );
}

/** Highlight the labels of the hovered and focused row and column. */
export function markLabels(dom: HeatmapDom, marks: Marks): void {
  const mark = (labels: Map<number, HTMLElement>, focus: number, hover: number) => {
    for (const [position, label] of labels) {
      label.classList.toggle("is-focus", position === focus);
      label.classList.toggle("is-hover", position === hover);
    }
  };
  mark(dom.rowLabelAt, marks.focusRow, marks.hoverRow);
  mark(dom.colLabelAt, marks.focusCol, marks.hoverCol);
}
