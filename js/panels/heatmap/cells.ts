// The heatmap's data: what it shows for a layer, computed from the view, no DOM.
import { validHeads } from "../../shared/heads";
import type { LayerView } from "../../state/view";

export interface HeatmapCells {
  /** Visible rows × visible columns, row-major: the weights drawn. Shared with the layer view's cache: do not modify. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** The largest weight, the top of the colour scale. */
  readonly max: number;
  /** A long input: the window already pooled by Python, and each cell's shown value (long.ts). */
  long?: LongHeatmapCells;
}

/** What the heatmap draws for a long input: Python's max-pooled tile of the window, and the colour scale's top. */
export interface LongHeatmapCells {
  /** The window pooled to rows × cols (at most the screen's cells), masked cells NaN. */
  pooled: { values: Float32Array; rows: number; cols: number };
  /** The value shown for a cell: its own weight when the tile has one cell per token, else its pixel's largest. */
  valueAt(r: number, c: number): number;
}

/** Largest value of a cells array, learnt once (from the pooling pass or a scan). */
export const maxima = new WeakMap<Float32Array, number>();

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

/** "Layer 2 · head 5", "Layer 2 · mean of 12 heads". */
export function heatmapCaption(layer: number, heads: readonly number[], nHeads: number): string {
  const valid = validHeads(heads, nHeads);
  if (valid.length === 0) return `Layer ${layer} · no head selected: pick one in the head chips`;
  if (valid.length === 1) return `Layer ${layer} · head ${valid[0]}`;
  return `Layer ${layer} · mean of ${valid.length === nHeads ? "all " : ""}${valid.length} heads`;
}

