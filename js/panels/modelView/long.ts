// The model view of a long input, read from Python's exact answers (js/data/longAttention.ts)
// instead of 8-bit codes. Long stacks show every token (no filters).
import { longOf } from "../../data/longAttention";
import { applyMask } from "../../shared/raster";
import type { LayerView } from "../../state/view";

/**
 * One head's thumbnail for a long input, outRows × outCols (masked cells NaN), from the
 * layer's thumbnails; null while they are on the way (the panel repaints when they arrive).
 */
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
