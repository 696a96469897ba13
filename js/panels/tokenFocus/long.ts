// The token focus of a long input, read from Python's exact answers (js/data/longAttention.ts)
// instead of 8-bit codes. Long stacks show every token (no filters), so a visible position
// is the token's index.
import { longOf } from "../../data/longAttention";
import type { LayerView } from "../../state/view";
import type { Axis } from "./target";

/**
 * The focus token's row or column for a long input, the heads' mean; null while the
 * answer is on the way (the panel repaints when it arrives).
 */
export function longFocusDistribution(layer: LayerView, heads: readonly number[], axis: Axis, position: number): Float32Array | null {
  const long = longOf(layer.stack);
  if (!long || heads.length === 0) return null;
  return long.line(layer.layer, heads, axis, position);
}
