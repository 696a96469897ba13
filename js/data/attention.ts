import { decodeArray } from "./decode";
import type { Payload, StackPayload } from "./protocol";
import { QUANT_LEVELS } from "./protocol";

/**
 * One kind of attention (self, encoder, decoder or cross) as the page holds it:
 * 8-bit codes per layer, cached as they arrive, and each row's scale.
 */
export class StackData {
  readonly name: string;
  readonly rows: readonly string[];
  readonly cols: readonly string[];
  readonly rowSpecial: readonly boolean[];
  readonly colSpecial: readonly boolean[];
  readonly rowBStart: number | null;
  readonly colBStart: number | null;
  readonly causal: boolean;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nRows: number;
  readonly nCols: number;
  private readonly scales: Float32Array;
  private readonly layers = new Map<number, Uint8Array>();
  /** Layers arriving in several messages: their codes so far and the chunks received. */
  private readonly partial = new Map<number, { codes: Uint8Array; starts: Set<number>; received: number }>();

  constructor(payload: StackPayload) {
    this.name = payload.name;
    this.rows = payload.rows;
    this.cols = payload.cols;
    this.rowSpecial = payload.row_special;
    this.colSpecial = payload.col_special;
    this.rowBStart = payload.row_b_start;
    this.colBStart = payload.col_b_start;
    this.causal = payload.causal;
    this.nLayers = payload.n_layers;
    this.nHeads = payload.n_heads;
    this.nRows = payload.rows.length;
    this.nCols = payload.cols.length;
    // Without row_scale, every layer message brings the scales of its rows.
    const scales = payload.row_scale ? decodeArray(payload.row_scale) : new Float32Array(this.nLayers * this.nHeads * this.nRows);
    if (!(scales instanceof Float32Array) || scales.length !== this.nLayers * this.nHeads * this.nRows) {
      throw new Error(`row_scale of stack ${this.name} does not match its layers, heads and rows`);
    }
    this.scales = scales;
    for (const [key, encoded] of Object.entries(payload.layers)) {
      this.setLayer(Number(key), decodeArray(encoded));
    }
  }

  hasLayer(layer: number): boolean {
    return this.layers.has(layer);
  }

  missingLayers(): number[] {
    return Array.from({ length: this.nLayers }, (_, layer) => layer).filter((layer) => !this.layers.has(layer));
  }

  /** Store one layer's codes, shape (heads, rows, cols). */
  setLayer(layer: number, codes: ArrayLike<number>): void {
    if (!(codes instanceof Uint8Array)) throw new Error(`layer ${layer} of stack ${this.name} is not uint8`);
    if (codes.length !== this.nHeads * this.nRows * this.nCols) {
      throw new Error(`layer ${layer} of stack ${this.name} has ${codes.length} values, expected ${this.nHeads}×${this.nRows}×${this.nCols}`);
    }
    if (layer < 0 || layer >= this.nLayers) throw new Error(`layer ${layer} is out of range for stack ${this.name}`);
    this.layers.set(layer, codes);
  }

  /**
   * Store rows [start, stop) of a layer's flat (heads × rows) axis: codes (stop - start) × cols
   * bytes and, when given, their float32 scales. Returns true when this completes the layer.
   */
  setChunk(layer: number, start: number, stop: number, codes: DataView, scales: DataView | null): boolean {
    const total = this.nHeads * this.nRows;
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) throw new Error(`layer ${layer} is out of range for stack ${this.name}`);
    if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop <= start || stop > total) {
      throw new Error(`rows ${start}–${stop} are out of range for a layer of ${total} rows`);
    }
    const rows = stop - start;
    if (codes.byteLength !== rows * this.nCols || (scales !== null && scales.byteLength !== rows * 4)) {
      throw new Error(`layer ${layer} rows ${start}–${stop}: ${codes.byteLength} bytes of codes do not match ${rows}×${this.nCols}`);
    }
    if (this.layers.has(layer)) return false; // asked twice (e.g. by two views): the first answer stays
    if (scales !== null) {
      const offset = layer * total + start;
      for (let row = 0; row < rows; row++) this.scales[offset + row] = scales.getFloat32(row * 4, true);
    }
    const bytes = new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
    if (start === 0 && stop === total) {
      this.setLayer(layer, bytes);
      return true;
    }
    const partial = this.partial.get(layer) ?? { codes: new Uint8Array(total * this.nCols), starts: new Set<number>(), received: 0 };
    this.partial.set(layer, partial);
    if (!partial.starts.has(start)) {
      partial.codes.set(bytes, start * this.nCols);
      partial.starts.add(start);
      partial.received += rows;
    }
    if (partial.received < total) return false;
    this.partial.delete(layer);
    this.setLayer(layer, partial.codes);
    return true;
  }

  /** The codes of one layer, (heads, rows, cols) row-major, or undefined until it arrives. */
  codes(layer: number): Uint8Array | undefined {
    return this.layers.get(layer);
  }

  /** Multiply a code by this to get the weight of row `row` of `head` in `layer`. */
  codeScale(layer: number, head: number, row: number): number {
    return (this.scales[(layer * this.nHeads + head) * this.nRows + row] ?? 0) / QUANT_LEVELS;
  }

  /** One dequantised weight, or NaN while its layer has not arrived. */
  value(layer: number, head: number, row: number, col: number): number {
    const codes = this.layers.get(layer);
    if (!codes) return Number.NaN;
    const code = codes[(head * this.nRows + row) * this.nCols + col] ?? 0;
    return code * this.codeScale(layer, head, row);
  }
}

/** Everything one `_data` payload holds. */
export class AttentionData {
  readonly version: number;
  readonly model: string;
  readonly stacks: ReadonlyMap<string, StackData>;
  /** Whether the values are attention rollout (self-attention stacks) and over words. */
  readonly combine: "none" | "rollout";
  readonly granularity: "tokens" | "words";

  constructor(payload: Payload) {
    this.version = payload.version;
    this.model = payload.model;
    this.combine = payload.combine === "rollout" ? "rollout" : "none";
    this.granularity = payload.granularity === "words" ? "words" : "tokens";
    const stacks = new Map<string, StackData>();
    for (const [name, stack] of Object.entries(payload.stacks)) stacks.set(name, new StackData(stack));
    if (stacks.size === 0) throw new Error("the attention data holds no stacks");
    this.stacks = stacks;
  }

  stack(name: string): StackData {
    return this.stacks.get(name) ?? (this.stacks.values().next().value as StackData);
  }
}
