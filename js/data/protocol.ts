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
  /** float32 (layers, heads, rows): each row's largest weight. */
  row_scale: EncodedArray;
  /** uint8 codes (heads, rows, cols) of the layers sent with the payload, keyed by layer index. */
  layers: Record<string, EncodedArray>;
}

export interface Payload {
  version: number;
  model: string;
  stacks: Record<string, StackPayload>;
  /** What the values are (issue #10): raw attention or rollout, over tokens or words. Absent means raw tokens. */
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

/** Python's answer to a layer request; the codes arrive as the message's one buffer. */
export interface LayerMessage {
  type: "layer";
  version: number;
  stack: string;
  layer: number;
  dtype: Dtype;
  shape: number[];
}

/** What the page asks of Python. */
export type PageMessage =
  | { type: "layers"; version: number; stack: string; layers: number[] }
  | { type: "run"; sentence?: string; sentence_b?: string; target?: string; model?: string }
  | { type: "compare"; model: string }
  | { type: "head_stats"; version: number; stack: string };

export const QUANT_LEVELS = 255;
