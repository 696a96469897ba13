// Where the neuron view's cells go: one line per key, two blocks of d_head cells (q and k, then q⊙k).

/** Height of one key's line, in CSS pixels, in every column of the panel. */
export const LINE = 16;
export const BLOCK_GAP = 12;

/** Cell width for a head size: wide enough to see, narrow enough that 128 dimensions fit a notebook. */
export function cellWidth(dHead: number): number {
  return dHead <= 32 ? 10 : dHead <= 64 ? 6 : 4;
}

/** The layout's line at a height over the panel's lines: -1 for the query, then one per key. */
export function lineAt(y: number): number {
  return Math.floor(y / LINE) - 1;
}

/** Which block and dimension a point over the cells is in: the vectors (q and k) or q⊙k. */
export function cellAt(dHead: number, x: number): { block: "vector" | "product"; dim: number } | null {
  const width = cellWidth(dHead) * dHead;
  if (x >= 0 && x < width) return { block: "vector", dim: Math.floor(x / cellWidth(dHead)) };
  const start = width + BLOCK_GAP;
  if (x >= start && x < start + width) return { block: "product", dim: Math.floor((x - start) / cellWidth(dHead)) };
  return null;
}
