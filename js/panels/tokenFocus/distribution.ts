// What the panel shows of the focus token: its weights in a layer, as bars, and in every layer.
import { validHeads } from "../../shared/heads";
import type { LayerView, View } from "../../state/view";
import { longFocusDistribution } from "./long";
import type { Axis } from "./target";

/**
 * The focus token's weights in one layer, the mean over `heads`: its row (what
 * it attends to, one value per visible column) or its column (how much each
 * visible row attends to it). Null while the layer has not arrived.
 */
export function focusDistribution(layer: LayerView, heads: readonly number[], axis: Axis, position: number): Float32Array | null {
  if (layer.stack.long) return longFocusDistribution(layer, validHeads(heads, layer.stack.nHeads), axis, position);
  const codes = layer.stack.codes(layer.layer);
  const valid = validHeads(heads, layer.stack.nHeads);
  if (!codes || valid.length === 0) return null;
  const { nRows, nCols } = layer.stack;
  const { rows, cols } = layer;
  if (axis === "row") {
    const out = new Float32Array(cols.length);
    const row = rows[position];
    if (row === undefined) return out;
    for (const head of valid) {
      const factor = layer.rowFactor(head, position) / valid.length;
      if (factor === 0) continue;
      const base = (head * nRows + row) * nCols;
      for (let c = 0; c < cols.length; c++) out[c]! += codes[base + cols[c]!]! * factor;
    }
    return out;
  }
  const out = new Float32Array(rows.length);
  const col = cols[position];
  if (col === undefined) return out;
  for (const head of valid) {
    for (let r = 0; r < rows.length; r++) {
      const code = codes[(head * nRows + rows[r]!) * nCols + col]!;
      if (code !== 0) out[r]! += (code * layer.rowFactor(head, r)) / valid.length;
    }
  }
  return out;
}

export interface FocusBar {
  /** Stack index of the token the bar is about (a column for "attends to", a row for "attended by"). */
  index: number;
  /** Its visible position. */
  position: number;
  weight: number;
  /** What the bar shows: the share of the row over the visible tokens, or the weight itself for a column. */
  share: number;
}

/**
 * The bars of the token-focus list, largest first. "Attends to" shares sum to
 * 1 over the visible tokens; `total` is how much of the row's weight the visible
 * tokens hold (1 unless a pair filter hides some). "Attended by" bars are the
 * weights each token gives the focus token.
 */
export function focusBars(layer: LayerView, heads: readonly number[], axis: Axis, position: number): { bars: FocusBar[]; total: number } | null {
  const values = focusDistribution(layer, heads, axis, position);
  if (!values) return null;
  const indices = axis === "row" ? layer.cols : layer.rows;
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  const divide = axis === "row" && total > 0 ? total : 1;
  const bars: FocusBar[] = Array.from(values, (weight, i) => ({ index: indices[i]!, position: i, weight, share: weight / divide }));
  bars.sort((a, b) => b.share - a.share || a.position - b.position);
  return { bars, total };
}

/** The focus token's distribution in every layer: one entry per layer, null for layers not arrived yet. */
export function focusStrip(view: View, heads: readonly number[], axis: Axis, position: number): Array<Float32Array | null> {
  const count = view.stack?.nLayers ?? 0;
  return Array.from({ length: count }, (_, index) => {
    const layer = view.layer(index);
    return layer?.ready ? focusDistribution(layer, heads, axis, position) : null;
  });
}
