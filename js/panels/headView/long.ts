// The head view of a long input, read from Python's exact answers (js/data/longAttention.ts)
// instead of 8-bit codes. Long stacks show every token (no filters), so a visible position
// is the token's index.
import { longOf, TOP_BLOCK_ROWS } from "../../data/longAttention";
import type { LayerView } from "../../state/view";
import type { Line } from "./draw";

/**
 * The head view's lines for a long input: each row's strongest keys (from Python's
 * top keys) at or above `floor`, or, for a hovered column, every row's weight on it.
 * Rows whose answer is on the way have none yet; the panel repaints when it arrives.
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
