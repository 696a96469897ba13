// The wire format sent by src/attnwidget/payload.py. Keep the two in step.

export type Dtype = "uint8" | "uint16" | "int32" | "float32" | "float64";

/** A numpy array as ipywidgets delivers it: metadata plus one binary buffer. */
export interface EncodedArray {
  dtype: Dtype;
  shape: number[];
  buffer: DataView;
}

export interface StackPayload {
  name: string;
  rows: string[];
  cols: string[];
  row_special: boolean[];
  col_special: boolean[];
  row_b_start: number | null;
  col_b_start: number | null;
  causal: boolean;
  n_layers: number;
  n_heads: number;
  /**
   * float32 (layers, heads, rows): each row's largest weight. None when the scales alone
   * would make the state message too large: each layer message then brings its rows' scales.
   */
  row_scale: EncodedArray | null;
  /** uint8 codes (heads, rows, cols) of the layers sent with the payload, keyed by layer index. */
  layers: Record<string, EncodedArray>;
  /**
   * A long input (src/attnwidget/longinput.py): no layers and no row scales; the page asks
   * for what it draws with `long` requests instead (js/data/longAttention.ts).
   */
  long?: boolean;
}

export interface Payload {
  version: number;
  model: string;
  stacks: Record<string, StackPayload>;
  /** What the values are: raw attention or rollout, over tokens or words. Absent means raw tokens. */
  combine?: "none" | "rollout";
  granularity?: "tokens" | "words";
}

/** The `_compare` trait: A and B over the same rows and columns, as stacks "a" and "b". */
export interface ComparePayload extends Payload {
  level: "tokens" | "words";
  caption: string;
  /** For each layer of A, the layer of B it is compared with. */
  layer_map: number[];
  /** [layer, head, mean Jensen–Shannon divergence], largest first; empty when head counts differ. */
  change: Array<[number, number, number]>;
}

/** The `_head_stats` trait: head_stats() of the shown stack as columns; null where a statistic does not apply. */
export interface HeadStatsPayload {
  stack: string;
  /** The `_data` version the page asked for. */
  version: number;
  /** One line: what each depth mostly does. */
  summary: string;
  columns: {
    layer: number[];
    head: number[];
    entropy: Array<number | null>;
    distance: Array<number | null>;
    self: Array<number | null>;
    previous: Array<number | null>;
    next: Array<number | null>;
    special: Array<number | null>;
    pattern: string[];
  };
}

/** No message from Python carries more buffer bytes than this (hosted notebooks drop larger ones). */
export const MAX_MESSAGE_BYTES = 2 ** 20;

/**
 * Part of Python's answer to a layer request. The layer's `heads * rows` rows are one
 * flat axis; this message carries rows [start, stop): their uint8 codes (buffer 0) and
 * float32 row scales (buffer 1). The message with `stop === heads * rows` ends the answer.
 */
export interface LayerMessage {
  type: "layer";
  version: number;
  stack: string;
  layer: number;
  dtype: Dtype;
  shape: number[];
  start: number;
  stop: number;
  /** "compare" for layers of the `_compare` payload; absent for `_data`. */
  source?: "compare";
}

/**
 * Python's answer to a queries request (src/attnwidget/neuron.py): one row block
 * of q, k or the bias per message, as its one float32 buffer; or an `error`.
 */
export interface QueriesMessage {
  type: "qk";
  version: number;
  stack: string;
  layer: number;
  head: number;
  error?: string;
  key_head?: number;
  scale?: number;
  rows?: number;
  cols?: number;
  d_head?: number;
  has_bias?: boolean;
  part?: "q" | "k" | "bias";
  row_start?: number;
  row_end?: number;
}

/** Python refused a value the page set: the control is already back at Python's value. */
export interface RefusedMessage {
  type: "refused";
  message: string;
}

/** What a `long` request asks for: a pooled heatmap tile, a token-focus row or column, top keys, thumbnails. */
export type LongKind = "tile" | "line" | "top" | "thumbs";

/**
 * A request about a long input, answered by one `LongMessage` with the same `id`.
 * Python refuses (ignores) any whose answer would exceed MAX_MESSAGE_BYTES
 * (validation.check_long_request): tiles of at most 2^18 cells, top keys for at most
 * 2^17 / count rows, thumbnails of at most 2^18 / heads cells per head.
 */
export interface LongRequest {
  type: "long";
  version: number;
  stack: string;
  id: number;
  what: LongKind;
  layer: number;
  /** The heads averaged (tile, line) or the one head (top); not sent for thumbs. */
  heads?: number[];
  /** [start, stop) of rows and columns (tile), of rows (top). */
  rows?: [number, number];
  cols?: [number, number];
  /** [rows, cols] of screen cells (tile), or the side of every head's thumbnail (thumbs). */
  size?: [number, number] | number;
  axis?: "row" | "col";
  index?: number;
  count?: number;
}

/**
 * Python's answer to a LongRequest: `shape` and float32 values (buffer 0), for `top`
 * int32 keys (buffer 0) and float32 weights (buffer 1); or an `error`.
 */
export interface LongMessage {
  type: "long";
  version: number;
  stack: string;
  id: number;
  what: LongKind;
  shape?: number[];
  /** Top keys: the rows [start, stop) answered. */
  rows?: number[];
  error?: string;
}

export type KernelMessage = LayerMessage | RefusedMessage | QueriesMessage | LongMessage;

/**
 * What the page asks of Python. A run carries a request id; Python answers by setting
 * the `_request` trait to it together with the new state (or `error`). A `qk` request
 * is answered with `QueriesMessage` blocks.
 */
export type PageMessage =
  | { type: "layers"; version: number; stack: string; layers: number[] }
  | { type: "qk"; version: number; stack: string; layer: number; head: number }
  | LongRequest
  | { type: "run"; request: number; sentence?: string; sentence_b?: string; target?: string; model?: string }
  /** A second model among `models` ("" stops comparing); answered like a run, via `_request`. */
  | { type: "compare"; request: number; model: string }
  /** Layers of the comparison's stack "a" or "b"; answered with layer messages whose `source` is "compare". */
  | { type: "compare_layers"; version: number; stack: string; layers: number[] }
  | { type: "head_stats"; version: number; stack: string };

export const QUANT_LEVELS = 255;
