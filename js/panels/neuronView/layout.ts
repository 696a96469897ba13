// The neuron view's numbers: the focus row of one head, key by key, as the model computed its softmax.
import type { HeadQueries } from "../../data/queries";

/** Below this a bias counts as a mask: the key is not attended to at all. */
const MASKED = -1e30;

/** What one key contributes to the focus token's attention. */
export interface KeyLine {
  key: number;
  /** q·k, the scaled score plus bias (the softmax's input), and the softmax weight over every key. */
  dot: number;
  score: number;
  weight: number;
  masked: boolean;
}

export interface NeuronLayout {
  row: number;
  lines: KeyLine[];
  /** |value| of full colour for q and k components, and for q⊙k. */
  vectorMax: number;
  productMax: number;
}

/**
 * The focus row of one head, key by key: dot products, scores, softmax weights
 * (over all keys, as the model computed them), for the keys in `cols` (the visible
 * ones), in order or sorted by weight.
 */
export function neuronLayout(queries: HeadQueries, row: number, cols: ArrayLike<number>, sorted: boolean): NeuronLayout {
  const q = queries.query(row);
  const scores = new Float64Array(queries.cols);
  const dots = new Float64Array(queries.cols);
  let top = -Infinity;
  for (let col = 0; col < queries.cols; col++) {
    const k = queries.key(col);
    let dot = 0;
    for (let d = 0; d < queries.dHead; d++) dot += q[d]! * k[d]!;
    dots[col] = dot;
    scores[col] = dot * queries.scale + queries.biasAt(row, col);
    top = Math.max(top, scores[col]!);
  }
  let total = 0;
  for (let col = 0; col < queries.cols; col++) total += Math.exp(scores[col]! - top);
  let vectorMax = maxAbs(q, 0, q.length);
  let productMax = 0;
  const lines: KeyLine[] = [];
  for (let i = 0; i < cols.length; i++) {
    const key = cols[i]!;
    const k = queries.key(key);
    vectorMax = Math.max(vectorMax, maxAbs(k, 0, k.length));
    for (let d = 0; d < queries.dHead; d++) productMax = Math.max(productMax, Math.abs(q[d]! * k[d]!));
    const masked = queries.biasAt(row, key) <= MASKED;
    lines.push({ key, dot: dots[key]!, score: scores[key]!, weight: Math.exp(scores[key]! - top) / total, masked });
  }
  if (sorted) lines.sort((a, b) => b.weight - a.weight || a.key - b.key);
  return { row, lines, vectorMax, productMax };
}

function maxAbs(values: Float32Array, start: number, end: number): number {
  let max = 0;
  for (let i = start; i < end; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}
