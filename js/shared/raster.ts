import { colormapTable, differenceColormap, parseColor, weightColormap, type Theme } from "./colors";

/**
 * Matrices as pixels: max-pooling a window of a row-major matrix down to screen
 * resolution (so a one-token-wide diagonal survives), filling ImageData from a
 * colormap table, and a reusable offscreen canvas to scale the result up crisply.
 * Shared by the heatmap, the token-focus strip and the model-view thumbnails.
 */

/** A rectangle of cells: first row and column, and how many of each. */
export interface CellWindow {
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

/** The source index each of `count` sources falls into when `count` are pooled into `bins` (bins ≤ count). */
export function binOf(index: number, count: number, bins: number): number {
  return Math.floor((index * bins) / count);
}

/** The first source index of bin `bin`. */
export function binStart(bin: number, count: number, bins: number): number {
  return Math.ceil((bin * count) / bins);
}

let colBins = new Int32Array(0);

/**
 * Max-pool `window` of a matrix with `stride` columns to `outRows` × `outCols`
 * (each at most the window's size; bins take whole cells, consecutively).
 * `maskStart[r]`, when given, is the first masked column of source row `r`
 * (the causal upper triangle): an output cell whose every source is masked is NaN.
 * Weights are ≥ 0, so an unmasked cell is the max of its sources.
 */
export function maxPool(
  values: ArrayLike<number>,
  stride: number,
  window: CellWindow,
  outRows: number,
  outCols: number,
  maskStart: Int32Array | null = null,
  out?: Float32Array,
): Float32Array {
  const size = outRows * outCols;
  const target = out && out.length >= size ? out.subarray(0, size) : new Float32Array(size);
  target.fill(0);
  const { r0, c0, rows, cols } = window;
  if (colBins.length < cols) colBins = new Int32Array(Math.max(cols, colBins.length * 2));
  for (let c = 0; c < cols; c++) colBins[c] = binOf(c, cols, outCols);
  for (let r = 0; r < rows; r++) {
    const base = (r0 + r) * stride + c0;
    const row = binOf(r, rows, outRows) * outCols;
    for (let c = 0; c < cols; c++) {
      const value = values[base + c]!;
      const k = row + colBins[c]!;
      if (value > target[k]!) target[k] = value;
    }
  }
  if (maskStart) applyMask(target, window, outRows, outCols, maskStart);
  return target;
}

/** NaN where every source of an output cell is masked: rows are sorted, so the bin's last row decides. */
export function applyMask(target: Float32Array, window: CellWindow, outRows: number, outCols: number, maskStart: Int32Array): void {
  const { r0, c0, rows, cols } = window;
  for (let i = 0; i < outRows; i++) {
    const lastRow = r0 + binStart(i + 1, rows, outRows) - 1;
    const firstMasked = maskStart[lastRow] ?? Number.POSITIVE_INFINITY;
    for (let j = 0; j < outCols; j++) {
      if (c0 + binStart(j, cols, outCols) >= firstMasked) target[i * outCols + j] = Number.NaN;
    }
  }
}

/**
 * Colour `count` values into RGBA pixels: value / scale picks one of the
 * table's 256 colours; NaN (masked, or not arrived) takes `empty`.
 */
export function paintValues(
  values: ArrayLike<number>,
  count: number,
  scale: number,
  table: Uint8ClampedArray,
  empty: readonly [number, number, number],
  pixels: Uint8ClampedArray,
): void {
  const k = scale > 0 ? 255 / scale : 0;
  for (let i = 0; i < count; i++) {
    const value = values[i]!;
    const p = i * 4;
    if (value !== value) {
      pixels[p] = empty[0];
      pixels[p + 1] = empty[1];
      pixels[p + 2] = empty[2];
    } else {
      const t = Math.min(255, Math.max(0, Math.round(value * k))) * 3;
      pixels[p] = table[t]!;
      pixels[p + 1] = table[t + 1]!;
      pixels[p + 2] = table[t + 2]!;
    }
    pixels[p + 3] = 255;
  }
}

/**
 * Colour signed values on a symmetric scale into RGBA pixels: −scale, 0 and
 * +scale take the first, middle and last of the table's 256 colours.
 */
export function paintDifferences(values: ArrayLike<number>, count: number, scale: number, table: Uint8ClampedArray, pixels: Uint8ClampedArray): void {
  const k = scale > 0 ? 127.5 / scale : 0;
  for (let i = 0; i < count; i++) {
    const t = Math.min(255, Math.max(0, Math.round(127.5 + values[i]! * k))) * 3;
    const p = i * 4;
    pixels[p] = table[t]!;
    pixels[p + 1] = table[t + 1]!;
    pixels[p + 2] = table[t + 2]!;
    pixels[p + 3] = 255;
  }
}

const tables = new Map<(t: number) => string, Uint8ClampedArray>();

/** The difference colormap as 256 RGB triples, built once. */
export function differenceTable(): Uint8ClampedArray {
  let table = tables.get(differenceColormap);
  if (!table) tables.set(differenceColormap, (table = colormapTable(differenceColormap)));
  return table;
}

/** The weight colormap of a theme as 256 RGB triples, built once per colormap. */
export function weightTable(theme: Theme): Uint8ClampedArray {
  const colormap = weightColormap(theme);
  let table = tables.get(colormap);
  if (!table) tables.set(colormap, (table = colormapTable(colormap)));
  return table;
}

const resolved = new Map<string, [number, number, number]>();
let probe: CanvasRenderingContext2D | null | undefined;

/**
 * Any CSS colour (a theme may say "white" or "rgba(…)") as RGB, for pixels of
 * masked and empty cells: the canvas normalises it; without one, parse it.
 */
export function rgb(color: string): [number, number, number] {
  let value = resolved.get(color);
  if (value) return value;
  if (probe === undefined) {
    try {
      probe = document.createElement("canvas").getContext("2d");
    } catch {
      probe = null;
    }
  }
  let normalised = color;
  if (probe) {
    probe.fillStyle = "#000000";
    probe.fillStyle = color;
    normalised = String(probe.fillStyle);
  }
  value = parseColor(normalised);
  resolved.set(color, value);
  return value;
}

/**
 * An offscreen canvas that is filled with ImageData at matrix (or pooled)
 * resolution and then drawn scaled up with smoothing off, so every cell is a
 * crisp rectangle. Null where canvases have no 2D context (jsdom).
 */
export class Raster {
  private canvas: HTMLCanvasElement | null = null;
  private context: CanvasRenderingContext2D | null = null;
  private image: ImageData | null = null;

  /** Pixels to fill for a width × height image, or null without a canvas implementation. */
  pixels(width: number, height: number): Uint8ClampedArray | null {
    if (!this.canvas) {
      this.canvas = document.createElement("canvas");
      try {
        this.context = this.canvas.getContext("2d");
      } catch {
        this.context = null;
      }
    }
    if (!this.context) return null;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    if (!this.image || this.image.width !== width || this.image.height !== height) {
      this.image = this.context.createImageData(width, height);
    }
    return this.image.data;
  }

  /** Put the filled pixels on the offscreen canvas and draw them scaled into `target`'s rectangle. */
  drawTo(target: CanvasRenderingContext2D, x: number, y: number, width: number, height: number): void {
    if (!this.context || !this.image || !this.canvas) return;
    this.context.putImageData(this.image, 0, 0);
    const smoothing = target.imageSmoothingEnabled;
    target.imageSmoothingEnabled = false;
    target.drawImage(this.canvas, 0, 0, this.image.width, this.image.height, x, y, width, height);
    target.imageSmoothingEnabled = smoothing;
  }
}

/** A diagonal hatch in `color`, for areas that hold no values (causal upper triangle, layers still loading). */
export function hatchPattern(context: CanvasRenderingContext2D, color: string, spacing = 6): CanvasPattern | string {
  const tile = document.createElement("canvas");
  tile.width = spacing;
  tile.height = spacing;
  const ctx = tile.getContext("2d");
  if (!ctx) return color;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(-1, spacing + 1);
  ctx.lineTo(spacing + 1, -1);
  ctx.stroke();
  return context.createPattern(tile, "repeat") ?? color;
}
