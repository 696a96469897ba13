// One head's thumbnail values: its visible matrix max-pooled to the thumbnail's cells.
import { applyMask, binOf } from "../../shared/raster";
import type { LayerView } from "../../state/view";
import { longThumbnailValues } from "./long";

let rowMaxima = new Uint8Array(0);
let colBins = new Int32Array(0);

/**
 * One head's visible matrix max-pooled to outRows × outCols, straight from the
 * 8-bit codes: within a row every code shares one factor, so the row's max code
 * per bin times the factor is the max weight, and a thin diagonal survives.
 * Cells whose sources are all causally masked are NaN. Null until the layer arrives.
 */
export function thumbnailValues(
  layer: LayerView,
  head: number,
  outRows: number,
  outCols: number,
  mask: Int32Array | null = null,
): Float32Array | null {
  if (layer.stack.long) return longThumbnailValues(layer, head, outRows, outCols, mask);
  const codes = layer.stack.codes(layer.layer);
  if (!codes) return null;
  const { rows, cols } = layer;
  const { nRows, nCols } = layer.stack;
  const R = rows.length;
  const C = cols.length;
  const out = new Float32Array(outRows * outCols);
  if (R === 0 || C === 0) return out;
  if (rowMaxima.length < outCols) rowMaxima = new Uint8Array(outCols);
  if (colBins.length < C) colBins = new Int32Array(C);
  for (let c = 0; c < C; c++) colBins[c] = binOf(c, C, outCols);
  const contiguous = C === nCols;
  for (let r = 0; r < R; r++) {
    const factor = layer.rowFactor(head, r);
    if (factor === 0) continue;
    rowMaxima.fill(0, 0, outCols);
    const base = (head * nRows + rows[r]!) * nCols;
    if (contiguous) {
      for (let c = 0; c < C; c++) {
        const code = codes[base + c]!;
        const j = colBins[c]!;
        if (code > rowMaxima[j]!) rowMaxima[j] = code;
      }
    } else {
      for (let c = 0; c < C; c++) {
        const code = codes[base + cols[c]!]!;
        const j = colBins[c]!;
        if (code > rowMaxima[j]!) rowMaxima[j] = code;
      }
    }
    const target = binOf(r, R, outRows) * outCols;
    for (let j = 0; j < outCols; j++) {
      const value = rowMaxima[j]! * factor;
      if (value > out[target + j]!) out[target + j] = value;
    }
  }
  if (mask) applyMask(out, { r0: 0, c0: 0, rows: R, cols: C }, outRows, outCols, mask);
  return out;
}
