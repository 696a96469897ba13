// Which lines the head view draws: pure, so the drawing logic is tested without a canvas.
import type { LayerView } from "../../state/view";
import type { Line } from "./draw";
import { longHeadViewLines } from "./long";

/** Lines fainter than this are invisible at their opacity; drawing them only costs time. */
export const LINE_FLOOR = 0.01;
/** Per head and row, at most this many lines: the strongest, which carry nearly all of a row's weight. */
export const LINES_PER_ROW = 8;

/**
 * The lines the head view draws: for every selected head and row in the window,
 * its strongest weights at or above the threshold (and the visible floor), or
 * only the hovered token's.
 */
export function headViewLines(
  layer: LayerView,
  heads: readonly number[],
  threshold: number,
  rowWindow: [number, number],
  colWindow: [number, number],
  hover: { axis: "row" | "col"; position: number } | null,
): Line[] {
  const lines: Line[] = [];
  if (!layer.ready) return lines;
  const [r0, r1] = hover?.axis === "row" ? [hover.position, hover.position + 1] : rowWindow;
  const [c0, c1] = hover?.axis === "col" ? [hover.position, hover.position + 1] : colWindow;
  const floor = Math.max(threshold, LINE_FLOOR);
  if (layer.stack.long) return longHeadViewLines(layer, heads, floor, LINES_PER_ROW, rowWindow, colWindow, hover);
  const strongest = new TopLines(LINES_PER_ROW);
  for (const head of heads) {
    for (let r = Math.max(0, r0); r < Math.min(r1, layer.rows.length); r++) {
      strongest.clear();
      for (let c = Math.max(0, c0); c < Math.min(c1, layer.cols.length); c++) {
        const weight = layer.weight(head, r, c);
        if (weight >= floor) strongest.offer(c, weight);
      }
      strongest.forEach((c, weight) => lines.push({ head, r, c, weight }));
    }
  }
  return lines;
}

/** The k largest (column, weight) pairs offered, kept without sorting the whole row. */
class TopLines {
  private readonly cols: Int32Array;
  private readonly weights: Float32Array;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.cols = new Int32Array(capacity);
    this.weights = new Float32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  offer(col: number, weight: number): void {
    if (this.size < this.capacity) {
      this.cols[this.size] = col;
      this.weights[this.size++] = weight;
      return;
    }
    let weakest = 0;
    for (let i = 1; i < this.size; i++) if (this.weights[i]! < this.weights[weakest]!) weakest = i;
    if (weight > this.weights[weakest]!) {
      this.cols[weakest] = col;
      this.weights[weakest] = weight;
    }
  }

  forEach(callback: (col: number, weight: number) => void): void {
    for (let i = 0; i < this.size; i++) callback(this.cols[i]!, this.weights[i]!);
  }
}
