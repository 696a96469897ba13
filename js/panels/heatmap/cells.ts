// The heatmap's data: what it shows for a layer, computed from the view, no DOM.
import type { LayerView } from "../../state/view";

export interface HeatmapCells {
  /** Visible rows × visible columns, row-major: the weights drawn. Shared with the layer view's cache: do not modify. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** The largest weight, the top of the colour scale. */
  readonly max: number;
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

