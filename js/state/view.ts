import type { StackData } from "../data/attention";
import type { PairFilter, ViewState } from "./viewState";

/**
 * What the panels show of one layer: the visible rows and columns (special
 * tokens hidden, one block of a sentence pair) and their weights. When special
 * tokens are hidden each row is renormalised over the visible columns, so rows
 * still read as distributions.
 */
export class LayerView {
  private readonly normalisers = new Map<number, Float32Array>();
  private meanKey = "";
  private meanMatrix: Float32Array | null = null;

  constructor(
    readonly stack: StackData,
    readonly layer: number,
    /** Visible row indices into the stack's rows. */
    readonly rows: Int32Array,
    /** Visible column indices into the stack's columns. */
    readonly cols: Int32Array,
    readonly renormalised: boolean,
  ) {}

  get ready(): boolean {
    return this.stack.hasLayer(this.layer);
  }

  /** Multiply a code at visible row `r` of `head` by this to get its shown weight. */
  rowFactor(head: number, r: number): number {
    const row = this.rows[r] ?? 0;
    const factor = this.stack.codeScale(this.layer, head, row);
    if (!this.renormalised) return factor;
    const sum = this.rowSums(head)[r] ?? 0;
    return sum > 0 ? factor / sum : 0;
  }

  /** The shown weight of visible row `r`, visible column `c`, one head. */
  weight(head: number, r: number, c: number): number {
    const codes = this.stack.codes(this.layer);
    if (!codes) return Number.NaN;
    const { nRows, nCols } = this.stack;
    const code = codes[(head * nRows + (this.rows[r] ?? 0)) * nCols + (this.cols[c] ?? 0)] ?? 0;
    return code * this.rowFactor(head, r);
  }

  /** Visible rows × visible columns, the mean over `heads`; computed once per head set. */
  mean(heads: readonly number[]): Float32Array | null {
    const codes = this.stack.codes(this.layer);
    if (!codes || heads.length === 0) return null;
    const key = heads.join(",");
    if (key === this.meanKey && this.meanMatrix) return this.meanMatrix;
    const { nRows, nCols } = this.stack;
    const R = this.rows.length;
    const C = this.cols.length;
    const out = new Float32Array(R * C);
    const contiguous = C === nCols; // every column visible: read rows straight through
    const cols = this.cols;
    const count = heads.length;
    // Row by row, so the output row stays in cache; four heads per pass, so it is read and written a quarter as often.
    for (let r = 0; r < R; r++) {
      const target = r * C;
      const row = this.rows[r] ?? 0;
      let i = 0;
      for (; i + 4 <= count; i += 4) {
        const h0 = heads[i]!, h1 = heads[i + 1]!, h2 = heads[i + 2]!, h3 = heads[i + 3]!;
        const f0 = this.rowFactor(h0, r) / count, f1 = this.rowFactor(h1, r) / count;
        const f2 = this.rowFactor(h2, r) / count, f3 = this.rowFactor(h3, r) / count;
        const b0 = (h0 * nRows + row) * nCols, b1 = (h1 * nRows + row) * nCols;
        const b2 = (h2 * nRows + row) * nCols, b3 = (h3 * nRows + row) * nCols;
        if (contiguous) {
          for (let c = 0; c < C; c++) {
            out[target + c] = codes[b0 + c]! * f0 + codes[b1 + c]! * f1 + codes[b2 + c]! * f2 + codes[b3 + c]! * f3 + out[target + c]!;
          }
        } else {
          for (let c = 0; c < C; c++) {
            const k = cols[c]!;
            out[target + c] = codes[b0 + k]! * f0 + codes[b1 + k]! * f1 + codes[b2 + k]! * f2 + codes[b3 + k]! * f3 + out[target + c]!;
          }
        }
      }
      for (; i < count; i++) {
        const head = heads[i]!;
        const factor = this.rowFactor(head, r) / count;
        if (factor === 0) continue;
        const base = (head * nRows + row) * nCols;
        if (contiguous) {
          for (let c = 0; c < C; c++) out[target + c] = codes[base + c]! * factor + out[target + c]!;
        } else {
          for (let c = 0; c < C; c++) out[target + c] = codes[base + cols[c]!]! * factor + out[target + c]!;
        }
      }
    }
    this.meanKey = key;
    this.meanMatrix = out;
    return out;
  }

  private rowSums(head: number): Float32Array {
    let sums = this.normalisers.get(head);
    if (sums) return sums;
    const codes = this.stack.codes(this.layer);
    sums = new Float32Array(this.rows.length);
    if (codes) {
      const { nRows, nCols } = this.stack;
      for (let r = 0; r < this.rows.length; r++) {
        const base = (head * nRows + (this.rows[r] ?? 0)) * nCols;
        let sum = 0;
        for (let c = 0; c < this.cols.length; c++) sum += codes[base + (this.cols[c] ?? 0)] ?? 0;
        sums[r] = (sum * this.stack.codeScale(this.layer, head, this.rows[r] ?? 0));
      }
    }
    this.normalisers.set(head, sums);
    return sums;
  }
}

/** What every panel draws from, derived once per frame from the state. */
export interface View {
  stack: StackData | null;
  /** The selected layer, as shown. */
  current: LayerView | null;
  /** Any layer of the same stack with the same visible tokens (focus strip, model view). */
  layer(layer: number): LayerView | null;
  /** Position of a stack row / column among the visible ones, -1 when hidden. */
  visibleRow(row: number): number;
  visibleCol(col: number): number;
}

/**
 * Derives views and caches their layers across frames, so a head or focus
 * change reuses the mean and the row sums already computed.
 */
export class ViewDeriver {
  private cacheKey = "";
  private layers = new Map<number, LayerView>();
  private selection: { rows: Int32Array; cols: Int32Array; rowPos: Int32Array; colPos: Int32Array } | null = null;

  derive(state: Readonly<ViewState>): View {
    const stack = state.data?.stack(state.stack) ?? null;
    if (!stack || !state.data) return emptyView;
    // A long input shows every token: Python's tiles and rows are over contiguous tokens, not a filtered subset.
    const renormalised = state.hideSpecial && !stack.long;
    const pairFilter = stack.long ? "all" : state.pairFilter;
    const key = `${state.data.version}|${stack.name}|${renormalised}|${pairFilter}`;
    if (key !== this.cacheKey) {
      this.cacheKey = key;
      this.layers = new Map();
      this.selection = visibleSelection(stack, renormalised, pairFilter);
    }
    const selection = this.selection!;
    const layer = (index: number): LayerView | null => {
      if (index < 0 || index >= stack.nLayers) return null;
      let view = this.layers.get(index);
      if (!view || (!view.ready && stack.hasLayer(index))) {
        view = new LayerView(stack, index, selection.rows, selection.cols, renormalised);
        this.layers.set(index, view);
      }
      return view;
    };
    return {
      stack,
      current: layer(Math.min(state.layer, stack.nLayers - 1)),
      layer,
      visibleRow: (row) => selection.rowPos[row] ?? -1,
      visibleCol: (col) => selection.colPos[col] ?? -1,
    };
  }
}

const emptyView: View = { stack: null, current: null, layer: () => null, visibleRow: () => -1, visibleCol: () => -1 };

/** Which rows and columns survive hiding special tokens and a pair filter. */
export function visibleSelection(stack: StackData, hideSpecial: boolean, pairFilter: PairFilter) {
  // "ab" keeps sentence A's rows and sentence B's columns, and so on.
  const rowBlock = pairFilter === "all" || stack.rowBStart === null ? "all" : pairFilter.charAt(0);
  const colBlock = pairFilter === "all" || stack.colBStart === null ? "all" : pairFilter.charAt(1);
  const rows = pick(stack.nRows, stack.rowSpecial, hideSpecial, rowBlock, stack.rowBStart);
  const cols = pick(stack.nCols, stack.colSpecial, hideSpecial, colBlock, stack.colBStart);
  return { rows, cols, rowPos: positions(rows, stack.nRows), colPos: positions(cols, stack.nCols) };
}

function pick(n: number, special: readonly boolean[], hideSpecial: boolean, block: string, bStart: number | null): Int32Array {
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (hideSpecial && special[i]) continue;
    if (block === "a" && bStart !== null && i >= bStart) continue;
    if (block === "b" && bStart !== null && i < bStart) continue;
    kept.push(i);
  }
  return Int32Array.from(kept);
}

function positions(indices: Int32Array, n: number): Int32Array {
  const out = new Int32Array(n).fill(-1);
  indices.forEach((index, position) => (out[index] = position));
  return out;
}
