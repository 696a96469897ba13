import type { LayerView } from "../state/view";

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
