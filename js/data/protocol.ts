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

/** What the page asks of Python. */
export type PageMessage =
  | { type: "layers"; version: number; stack: string; layers: number[] }
  | { type: "qk"; version: number; stack: string; layer: number; head: number }
  | { type: "run"; sentence?: string; sentence_b?: string; target?: string; model?: string };

export const QUANT_LEVELS = 255;
