// Where the heatmap's parts go: the plot's size for a matrix, the zoom window, the cell under a point.
import { tokenLabel } from "../../shared/format";
import type { CellWindow } from "../../shared/raster";
import type { LayerView } from "../../state/view";

/** Token labels are drawn as DOM text for windows of at most this many tokens per axis. */
export const MAX_LABELS = 64;
/** Below this many tokens per axis every cell is large enough: no zoom. */
export const ZOOM_FROM = 24;
/** The smallest zoomed window, in cells. */
export const MIN_WINDOW = 6;
const MAX_PLOT_HEIGHT = 440;
const MAX_CELL = 36;
/** Labels are 11 px monospace: about this wide per character. */
const CHAR_WIDTH = 6.7;
export const LABEL_CHARS = 14;
const TICK_GUTTER = 34;
/** A label needs this many pixels; denser axes label every k-th token. */
export const LABEL_SPACING = 11;

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

export function fullWindow(rows: number, cols: number): CellWindow {
  return { r0: 0, c0: 0, rows, cols };
}

export function sameWindow(a: CellWindow, b: CellWindow): boolean {
  return a.r0 === b.r0 && a.c0 === b.c0 && a.rows === b.rows && a.cols === b.cols;
}

export function windowKey(window: CellWindow): string {
  return `${window.r0},${window.c0},${window.rows},${window.cols}`;
}

export function longestLabel(layer: LayerView, rows: readonly string[], cols: readonly string[]): number {
  // Only windows of up to MAX_LABELS tokens are labelled; a long input still gets label room for when it is zoomed.
  let longest = 1;
  const scan = (indices: Int32Array, labels: readonly string[]) => {
    for (let i = 0; i < indices.length; i++) longest = Math.max(longest, tokenLabel(labels[indices[i]!] ?? "", LABEL_CHARS).length);
  };
  scan(layer.rows, rows);
  scan(layer.cols, cols);
  return longest;
}

