// The heatmap of a long input, read from Python's exact answers (js/data/longAttention.ts)
// instead of 8-bit codes. Long stacks show every token (no filters), so a visible position
// is the token's index.
import { longOf } from "../../data/longAttention";
import { applyMask, binOf, type CellWindow } from "../../shared/raster";
import type { LayerView } from "../../state/view";
import type { HeatmapCells } from "./cells";

/** Cells of the overview used only for the colour scale's top: any pooling keeps the largest weight. */
const OVERVIEW_SIDE = 64;

/**
 * The heatmap's cells for a long input (`screen`: the plot's device pixels, rows × cols):
 * Python's max-pooled tile of the window. Null while the answer is on the way; the panel
 * repaints when it arrives.
 */
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
