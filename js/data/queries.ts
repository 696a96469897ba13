import { toDataView } from "./decode";
import type { QueriesMessage } from "./protocol";

export type QueryPart = "q" | "k" | "bias";

/** Row limits of what one head may hold: far beyond any model the widget runs, tiny next to memory. */
const MAX_ROWS = 1 << 16;
const MAX_D_HEAD = 4096;

function isCount(value: unknown, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * One head's queries and keys, put together from Python's row blocks (see
 * src/attnwidget/neuron.py): `q` (rows × dHead), `k` (cols × dHead), the additive
 * `bias` (rows × cols) or null, and the scale: the softmax's input is
 * `q·k * scale + bias`.
 */
export class HeadQueries {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly bias: Float32Array | null;
  private readonly missing: Record<QueryPart, number>;

  constructor(
    readonly version: number,
    readonly stack: string,
    readonly layer: number,
    readonly head: number,
    readonly keyHead: number,
    readonly scale: number,
    readonly rows: number,
    readonly cols: number,
    readonly dHead: number,
    hasBias: boolean,
  ) {
    this.q = new Float32Array(rows * dHead);
    this.k = new Float32Array(cols * dHead);
    this.bias = hasBias ? new Float32Array(rows * cols) : null;
    this.missing = { q: rows, k: cols, bias: hasBias ? rows : 0 };
  }

  /** The head a header describes, or an error naming what is wrong with it. */
  static fromHeader(message: QueriesMessage): HeadQueries {
    const { rows, cols, d_head: dHead, scale, key_head: keyHead } = message;
    if (!isCount(rows, MAX_ROWS) || !isCount(cols, MAX_ROWS) || !isCount(dHead, MAX_D_HEAD) || dHead === 0) {
      throw new Error(`queries of an unexpected size: rows ${String(rows)}, cols ${String(cols)}, d_head ${String(dHead)}`);
    }
    if (typeof scale !== "number" || !Number.isFinite(scale) || !isCount(keyHead, MAX_ROWS)) {
      throw new Error("queries without a finite scale or a key head");
    }
    return new HeadQueries(message.version, message.stack, message.layer, message.head, keyHead, scale, rows, cols, dHead, message.has_bias === true);
  }

  get complete(): boolean {
    return this.missing.q === 0 && this.missing.k === 0 && this.missing.bias === 0;
  }

  /** Copy one row block in; a block that does not fit is refused with an error. */
  add(part: QueryPart, rowStart: number, rowEnd: number, buffer: DataView | ArrayBuffer): void {
    const target = part === "q" ? this.q : part === "k" ? this.k : this.bias;
    const width = part === "bias" ? this.cols : this.dHead;
    const height = part === "k" ? this.cols : this.rows;
    if (!target || !isCount(rowStart, height) || !isCount(rowEnd, height) || rowEnd <= rowStart) {
      throw new Error(`a ${String(part)} block of rows ${String(rowStart)}–${String(rowEnd)} does not fit`);
    }
    const view = toDataView(buffer);
    const length = (rowEnd - rowStart) * width;
    if (view.byteLength !== length * 4) throw new Error(`a ${part} block of ${view.byteLength} bytes, expected ${length * 4}`);
    for (let i = 0; i < length; i++) target[rowStart * width + i] = view.getFloat32(i * 4, true);
    this.missing[part] -= rowEnd - rowStart;
  }

  /** The query of one row, and key `col`'s vector (views, no copy). */
  query(row: number): Float32Array {
    return this.q.subarray(row * this.dHead, (row + 1) * this.dHead);
  }

  key(col: number): Float32Array {
    return this.k.subarray(col * this.dHead, (col + 1) * this.dHead);
  }

  biasAt(row: number, col: number): number {
    return this.bias ? this.bias[row * this.cols + col]! : 0;
  }
}

export function queriesKey(version: number, stack: string, layer: number, head: number): string {
  return `${version}|${stack}|${layer}|${head}`;
}
