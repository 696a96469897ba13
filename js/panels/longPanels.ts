import { longOf, TOP_BLOCK_ROWS } from "../data/longAttention";
import { applyMask, binOf, type CellWindow } from "../shared/raster";
import type { LayerView } from "../state/view";
import type { HeatmapCells } from "./heatmap/cells";
import type { Line } from "./headView";

/**
 * What each panel draws for a long input, read from Python's exact answers
 * (js/data/longAttention.ts) instead of 8-bit codes. Each returns null while
 * its answer is on the way; the panels repaint when it arrives. Long stacks show
 * every token (no filters), so a visible position is the token's index.
 */

/** What the heatmap draws for a long input: Python's max-pooled tile of the window, and the colour scale's top. */
export interface LongHeatmapCells {
  /** The window pooled to rows × cols (at most the screen's cells), masked cells NaN. */
  pooled: { values: Float32Array; rows: number; cols: number };
  /** The value shown for a cell: its own weight when the tile has one cell per token, else its pixel's largest. */
  valueAt(r: number, c: number): number;
}

/** Cells of the overview used only for the colour scale's top: any pooling keeps the largest weight. */
const OVERVIEW_SIDE = 64;

/** The heatmap's cells for a long input (`screen`: the plot's device pixels, rows × cols), or null while on the way. */
export function longHeatmapCells(
  layer: LayerView,
  heads: readonly number[],
  window: CellWindow,
  screen: [number, number],
  mask: Int32Array | null,
): HeatmapCells | null {
  const long = longOf(layer.stack);
  if (!long || heads.length === 0) return null;
  const { nRows, nCols } = layer.stack;
  const rows: [number, number] = [window.r0, window.r0 + window.rows];
  const cols: [number, number] = [window.c0, window.c0 + window.cols];
  const size: [number, number] = [Math.min(window.rows, Math.max(1, Math.round(screen[0]))), Math.min(window.cols, Math.max(1, Math.round(screen[1])))];
  const tile = long.tile(layer.layer, heads, rows, cols, size);
  const whole = window.rows === nRows && window.cols === nCols;
  const overview = whole ? tile : long.tile(layer.layer, heads, [0, nRows], [0, nCols], [Math.min(nRows, OVERVIEW_SIDE), Math.min(nCols, OVERVIEW_SIDE)]);
  if (!tile || !overview) return null;
  let max = 0;
  for (let i = 0; i < overview.values.length; i++) if (overview.values[i]! > max) max = overview.values[i]!;
  const values = tile.values.slice(); // masked cells become NaN (hatched), as with codes
  if (mask) applyMask(values, window, tile.rows, tile.cols, mask);
  const valueAt = (r: number, c: number) =>
    tile.values[binOf(r - window.r0, window.rows, tile.rows) * tile.cols + binOf(c - window.c0, window.cols, tile.cols)]!;
  return { values, rows: nRows, cols: nCols, max, long: { pooled: { values, rows: tile.rows, cols: tile.cols }, valueAt } };
}

/** The token-focus panel's distribution for a long input: the focus token's row or column, the heads' mean. */
export function longFocusDistribution(layer: LayerView, heads: readonly number[], axis: "row" | "col", position: number): Float32Array | null {
  const long = longOf(layer.stack);
  if (!long || heads.length === 0) return null;
  return long.line(layer.layer, heads, axis, position);
}

/**
 * The head view's lines for a long input: each row's strongest keys (from Python's
 * top keys) at or above `floor`, or, for a hovered column, every row's weight on it.
 */
export function longHeadViewLines(
  layer: LayerView,
  heads: readonly number[],
  floor: number,
  perRow: number,
  rowWindow: [number, number],
  colWindow: [number, number],
  hover: { axis: "row" | "col"; position: number } | null,
): Line[] {
  const long = longOf(layer.stack);
  const lines: Line[] = [];
  if (!long) return lines;
  const { nRows, nCols } = layer.stack;
  const [r0, r1] = hover?.axis === "row" ? [hover.position, hover.position + 1] : [Math.max(0, rowWindow[0]), Math.min(nRows, rowWindow[1])];
  const [c0, c1] = [Math.max(0, colWindow[0]), Math.min(nCols, colWindow[1])];
  for (const head of heads) {
    if (hover?.axis === "col") {
      const column = long.line(layer.layer, [head], "col", hover.position);
      for (let r = r0; column && r < r1; r++) if (column[r]! >= floor) lines.push({ head, r, c: hover.position, weight: column[r]! });
      continue;
    }
    for (let r = r0; r < r1; r++) {
      const top = long.top(layer.layer, head, perRow, r);
      if (!top) {
        r = (Math.floor(r / TOP_BLOCK_ROWS) + 1) * TOP_BLOCK_ROWS - 1; // the block is on the way: on to the next one
        continue;
      }
      const base = (r - top.start) * top.count;
      for (let k = 0; k < top.count; k++) {
        const c = top.keys[base + k]!;
        const weight = top.weights[base + k]!;
        if (weight >= floor && c >= c0 && c < c1) lines.push({ head, r, c, weight });
      }
    }
  }
  return lines;
}

/** One head's model-view thumbnail for a long input, outRows × outCols (masked cells NaN), from the layer's thumbnails. */
export function longThumbnailValues(layer: LayerView, head: number, outRows: number, outCols: number, mask: Int32Array | null): Float32Array | null {
  const long = longOf(layer.stack);
  if (!long) return null;
  const grid = long.thumbnails(layer.layer, Math.max(outRows, outCols));
  if (!grid) return null;
  // Python's side may be smaller (many heads share one answer): each screen cell reads the cell covering it.
  const out = new Float32Array(outRows * outCols);
  const offset = head * grid.rows * grid.cols;
  for (let i = 0; i < outRows; i++) {
    const source = offset + Math.floor((i * grid.rows) / outRows) * grid.cols;
    for (let j = 0; j < outCols; j++) out[i * outCols + j] = grid.values[source + Math.floor((j * grid.cols) / outCols)]!;
  }
  if (mask) applyMask(out, { r0: 0, c0: 0, rows: layer.stack.nRows, cols: layer.stack.nCols }, outRows, outCols, mask);
  return out;
}
