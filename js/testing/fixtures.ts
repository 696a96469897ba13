/**
 * Shared test fixtures: attention stacks built from known weights, encoded the
 * way Python's encoding.py does it (8-bit codes, each row scaled by its max),
 * so tests go through the real decoding and view code.
 */
import { vi } from "vitest";
import { AttentionData, StackData } from "../data/attention";
import type { EncodedArray, Payload, StackPayload } from "../data/protocol";
import { QUANT_LEVELS } from "../data/protocol";
import type { Panel, PanelContext } from "../shared/panel";
import type { Theme } from "../shared/colors";
import type { Actions } from "../state/sync";
import { ViewDeriver, type View } from "../state/view";
import { initialViewState, type ViewState } from "../state/viewState";

// jsdom has no 2D canvas and says so on every call; panels already handle a null context, so make it quietly null.
if (typeof HTMLCanvasElement !== "undefined") {
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
}

/** weights[layer][head][row][col]. */
export type Weights = number[][][][];

export interface StackSpec {
  weights: Weights;
  name?: string;
  rows?: string[];
  cols?: string[];
  /** Special flags of the rows (and of the columns, unless colSpecial is given). */
  special?: boolean[];
  colSpecial?: boolean[];
  /** Where sentence B starts, on both axes unless colBStart is given. */
  bStart?: number | null;
  colBStart?: number | null;
  causal?: boolean;
  /** Layers left out of the payload, as if still streaming from Python. */
  missing?: number[];
}

/** The largest error 8-bit row-scaled codes allow for a row whose max is `rowMax`. */
export const quantError = (rowMax = 1) => rowMax / (2 * QUANT_LEVELS) + 1e-6;

function encoded(array: Uint8Array | Float32Array, dtype: "uint8" | "float32", shape: number[]): EncodedArray {
  return { dtype, shape, buffer: new DataView(array.buffer, array.byteOffset, array.byteLength) };
}

/** Codes and row scales of one layer, as payload.py sends them. */
export function encodeLayer(layer: number[][][]): { codes: Uint8Array; scales: Float32Array } {
  const heads = layer.length;
  const rows = layer[0]?.length ?? 0;
  const cols = layer[0]?.[0]?.length ?? 0;
  const codes = new Uint8Array(heads * rows * cols);
  const scales = new Float32Array(heads * rows);
  layer.forEach((head, h) =>
    head.forEach((row, r) => {
      const max = Math.max(0, ...row);
      scales[h * rows + r] = max;
      row.forEach((weight, c) => (codes[(h * rows + r) * cols + c] = max > 0 ? Math.round((weight / max) * QUANT_LEVELS) : 0));
    }),
  );
  return { codes, scales };
}

export function encodeStack(spec: StackSpec): StackPayload {
  const { weights } = spec;
  const nLayers = weights.length;
  const nHeads = weights[0]?.length ?? 0;
  const nRows = weights[0]?.[0]?.length ?? 0;
  const nCols = weights[0]?.[0]?.[0]?.length ?? 0;
  const rows = spec.rows ?? Array.from({ length: nRows }, (_, i) => `r${i}`);
  const cols = spec.cols ?? (nRows === nCols ? rows : Array.from({ length: nCols }, (_, i) => `c${i}`));
  const special = spec.special ?? rows.map(() => false);
  const scales = new Float32Array(nLayers * nHeads * nRows);
  const layers: Record<string, EncodedArray> = {};
  weights.forEach((layer, l) => {
    const { codes, scales: layerScales } = encodeLayer(layer);
    scales.set(layerScales, l * nHeads * nRows);
    if (!spec.missing?.includes(l)) layers[String(l)] = encoded(codes, "uint8", [nHeads, nRows, nCols]);
  });
  return {
    name: spec.name ?? "self",
    rows,
    cols,
    row_special: special,
    col_special: spec.colSpecial ?? (nRows === nCols ? special : cols.map(() => false)),
    row_b_start: spec.bStart ?? null,
    col_b_start: spec.colBStart !== undefined ? spec.colBStart : (spec.bStart ?? null),
    causal: spec.causal ?? false,
    n_layers: nLayers,
    n_heads: nHeads,
    row_scale: encoded(scales, "float32", [nLayers, nHeads, nRows]),
    layers,
  };
}

export function makeStack(spec: StackSpec): StackData {
  return new StackData(encodeStack(spec));
}

export function makePayload(specs: StackSpec | StackSpec[], version = 1): Payload {
  const list = Array.isArray(specs) ? specs : [specs];
  return { version, model: "test", stacks: Object.fromEntries(list.map((spec) => [spec.name ?? "self", encodeStack(spec)])) };
}

/** `payload` as Python sends an input over max_attention_bytes: tokens, no layers, no row scales. */
export function asLongInput(payload: Payload): Payload {
  for (const stack of Object.values(payload.stacks)) Object.assign(stack, { long: true, layers: {}, row_scale: null });
  return payload;
}

export function makeData(specs: StackSpec | StackSpec[], version = 1): AttentionData {
  return new AttentionData(makePayload(specs, version));
}

/** A full view state over `data`, every head selected, with `patch` on top. */
export function makeState(data: AttentionData, patch: Partial<ViewState> = {}): ViewState {
  const stack = data.stack(patch.stack ?? [...data.stacks.keys()][0]!);
  return {
    ...initialViewState,
    data,
    stack: stack.name,
    heads: Array.from({ length: stack.nHeads }, (_, head) => head),
    ...patch,
  };
}

/** The state and its derived view, as a panel's draw receives them. */
export function makeView(specs: StackSpec | StackSpec[] | AttentionData, patch: Partial<ViewState> = {}): { state: ViewState; view: View } {
  const data = specs instanceof AttentionData ? specs : makeData(specs);
  const state = makeState(data, patch);
  return { state, view: new ViewDeriver().derive(state) };
}

/** A deterministic pseudo-random generator (mulberry32), so fixtures are the same every run. */
export function random(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Attention-like weights: every row a distribution; causal rows see only columns up to their own. */
export function randomWeights(layers: number, heads: number, rows: number, cols = rows, options: { seed?: number; causal?: boolean } = {}): Weights {
  const next = random(options.seed ?? 1);
  return Array.from({ length: layers }, () =>
    Array.from({ length: heads }, () =>
      Array.from({ length: rows }, (_, r) => {
        const raw = Array.from({ length: cols }, (_, c) => (options.causal && c > r ? 0 : next() ** 3 + 0.01));
        const sum = raw.reduce((a, b) => a + b, 0);
        return raw.map((value) => value / sum);
      }),
    ),
  );
}

export const lightTheme: Theme = { dark: false, foreground: "#1f2328", muted: "#6e7781", background: "#ffffff", accent: "#0969da" };

/** A panel context whose actions are spies; `update` also records the patches. */
export function makeContext(
  theme: Theme = lightTheme,
): PanelContext & { actions: Actions & { update: ReturnType<typeof vi.fn>; run: ReturnType<typeof vi.fn>; compare: ReturnType<typeof vi.fn> } } {
  return { actions: { update: vi.fn(), run: vi.fn(), compare: vi.fn() }, theme: () => theme };
}

/** Create a panel, attach it to the document and draw it once. */
export function mount<P extends Panel>(panel: P, state: ViewState, view: View): P {
  document.body.append(panel.element);
  panel.draw(state, view);
  return panel;
}

/** The sum of a row of numbers. */
export const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);
