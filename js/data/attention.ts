import { decodeArray, decodeBuffer } from "./decode";
import type { Dtype, Payload, StackPayload } from "./protocol";
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
    const scales = decodeArray(payload.row_scale);
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

  setLayerFromBuffer(layer: number, dtype: Dtype, shape: number[], buffer: DataView): void {
    this.setLayer(layer, decodeBuffer(dtype, shape, buffer));
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
