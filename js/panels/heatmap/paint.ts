// The heatmap's canvases: the base (the matrix, redrawn only when what it shows changes), the
// overlay (hover and focus bands, redrawn alone on hover) and the colour bar.
import { prepareCanvas } from "../../shared/canvas";
import type { Theme } from "../../shared/colors";
import { el } from "../../shared/dom";
import { percent, percentTick, precise } from "../../shared/format";
import { hatchPattern, maxPool, paintValues, Raster, rgb, weightTable, type CellWindow } from "../../shared/raster";
import { niceTicks } from "../../shared/scale";
import type { View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { maxima, type HeatmapCells } from "./cells";
import type { HeatmapLayout } from "./geometry";

/** Visible positions of the focused and hovered row and column, -1 for none. */
export interface Marks {
  focusRow: number;
  focusCol: number;
  hoverRow: number;
  hoverCol: number;
}

export function marksOf(state: Readonly<ViewState>, view: View): Marks {
  const focus = state.focus;
  return {
    focusRow: focus !== null && state.direction === "attends_to" ? view.visibleRow(focus) : -1,
    focusCol: focus !== null && state.direction === "attended_by" ? view.visibleCol(focus) : -1,
    hoverRow: state.hover?.axis === "row" ? view.visibleRow(state.hover.index) : -1,
    hoverCol: state.hover?.axis === "col" ? view.visibleCol(state.hover.index) : -1,
  };
}

export function themeKey(theme: Theme): string {
  return `${theme.dark}|${theme.background}|${theme.foreground}|${theme.muted}|${theme.accent}`;
}

/** Buffers the base canvas reuses from one draw to the next. */
export class BaseBuffers {
  pooled = new Float32Array(0);
  readonly raster = new Raster();
  private hatch: { color: string; pattern: CanvasPattern | string } | null = null;

  /** The diagonal hatching of masked or missing cells, in the theme's muted colour. */
  pattern(ctx: CanvasRenderingContext2D, theme: Theme): CanvasPattern | string {
    if (!this.hatch || this.hatch.color !== theme.muted) {
      this.hatch = { color: theme.muted, pattern: hatchPattern(ctx, withAlpha(theme.muted, 0.45)) };
    }
    return this.hatch.pattern;
  }
}

export interface BaseInput {
  layout: HeatmapLayout;
  window: CellWindow;
  ready: boolean;
  cells: HeatmapCells | null;
  mask: Int32Array | null;
  theme: Theme;
}

/** The matrix max-pooled to the canvas's device pixels, hatched where masked or still loading. */
export function drawBase(canvas: HTMLCanvasElement, input: BaseInput, buffers: BaseBuffers): void {
  const { layout, window, cells, mask, theme } = input;
  const ctx = prepareCanvas(canvas, layout.plotWidth, layout.plotHeight);
  if (!ctx) return;
  const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, layout.plotWidth, layout.plotHeight);
  if (!input.ready) {
    ctx.fillStyle = buffers.pattern(ctx, theme);
    ctx.fillRect(0, 0, layout.plotWidth, layout.plotHeight);
    return;
  }
  if (!cells) return;
  const outRows = Math.min(window.rows, Math.max(1, Math.round(layout.plotHeight * dpr)));
  const outCols = Math.min(window.cols, Math.max(1, Math.round(layout.plotWidth * dpr)));
  if (buffers.pooled.length < outRows * outCols) buffers.pooled = new Float32Array(outRows * outCols);
  const values = maxPool(cells.values, cells.cols, window, outRows, outCols, mask, buffers.pooled);
  if (window.rows === cells.rows && window.cols === cells.cols && !maxima.has(cells.values)) {
    // The whole matrix pooled: its largest value is the matrix's, without another pass over every cell.
    let max = 0;
    for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
    maxima.set(cells.values, max);
  }
  const pixels = buffers.raster.pixels(outCols, outRows);
  if (!pixels) return;
  paintValues(values, outRows * outCols, cells.max, weightTable(theme), rgb(theme.background), pixels);
  buffers.raster.drawTo(ctx, 0, 0, layout.plotWidth, layout.plotHeight);
  if (mask) hatchMasked(ctx, layout, window, mask, buffers.pattern(ctx, theme));
}

/** The masked cells form a staircase (rows and columns are in token order): one polygon along its edge. */
function hatchMasked(ctx: CanvasRenderingContext2D, layout: HeatmapLayout, window: CellWindow, mask: Int32Array, fill: CanvasPattern | string): void {
  const cellWidth = layout.plotWidth / window.cols;
  const cellHeight = layout.plotHeight / window.rows;
  ctx.beginPath();
  ctx.moveTo(layout.plotWidth, 0);
  for (let r = 0; r < window.rows; r++) {
    const start = Math.min(window.cols, Math.max(mask[window.r0 + r]!, window.c0) - window.c0);
    ctx.lineTo(start * cellWidth, r * cellHeight);
    ctx.lineTo(start * cellWidth, (r + 1) * cellHeight);
  }
  ctx.lineTo(layout.plotWidth, layout.plotHeight);
  ctx.closePath();
  ctx.fillStyle = fill;
  ctx.fill();
}

/** Hover bands (dashed), focus bands (accent) and the cell under the pointer, on a transparent canvas. */
export function drawOverlay(
  canvas: HTMLCanvasElement,
  layout: HeatmapLayout,
  window: CellWindow,
  marks: Marks,
  pointer: { r: number; c: number } | null,
  theme: Theme,
): void {
  const ctx = prepareCanvas(canvas, layout.plotWidth, layout.plotHeight);
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

/** The colour ramp from 0 to the shown matrix's largest weight, with round ticks. */
export function drawColorbar(bar: HTMLCanvasElement, ticks: HTMLElement, width: number, max: number, theme: Theme, raster: Raster): void {
  const ctx = prepareCanvas(bar, width, 10);
  const pixels = raster.pixels(256, 1);
  if (ctx && pixels) {
    const ramp = Float32Array.from({ length: 256 }, (_, i) => i / 255);
    paintValues(ramp, 256, 1, weightTable(theme), [0, 0, 0], pixels);
    raster.drawTo(ctx, 0, 0, width, 10);
    ctx.strokeStyle = theme.muted;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, width - 1, 9);
  }
  // Round ticks, leaving room at the right end for the "max" label.
  const values = niceTicks(max, Math.max(2, Math.floor(width / 70))).filter((tick) => tick === 0 || (tick / max) * width + 18 < width - 72);
  ticks.replaceChildren(
    ...values.map((tick) => {
      const label = el("span", { className: "aw-hm-tick", text: percentTick(tick) });
      label.style.left = `${(tick / (max || 1)) * 100}%`;
      return label;
    }),
    el("span", { className: "aw-hm-tick is-max", text: `max ${percent(max)}`, title: precise(max) }),
  );
}

/** A CSS colour at some opacity, for canvas strokes (canvas needs a concrete colour). */
function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = rgb(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
