import type { StackData } from "./attention";
import { toDataView } from "./decode";
import type { LongMessage, LongRequest } from "./protocol";

/**
 * A long input's attention as the page reads it: exactly what a panel draws,
 * asked of Python (src/attnwidget/longinput.py) on first use and cached. Each
 * getter returns the answer, or null after sending the request once; the answer
 * arrives through `receive` and the panels repaint (js/state/longFetcher.ts).
 */

/** Values in one answer: Python refuses requests whose answer exceeds 1 MiB of float32. */
export const MAX_ANSWER_VALUES = 2 ** 18;
export const MAX_TILE_SIDE = 1024;
export const MAX_THUMB_SIDE = 128;
/**
 * Top keys are asked for in aligned blocks of rows, so scrolling the head view reuses them; small
 * blocks keep the first paint's requests short (a causal head's first rows read few keys).
 */
export const TOP_BLOCK_ROWS = 1024;
/** Answers kept on the page; the oldest go first. */
const MAX_CACHED_BYTES = 96 * 2 ** 20;
/**
 * Requests Python works on at once. The rest wait on the page, the newest sent first, so a sweep
 * of hovers never queues seconds of work in the kernel ahead of what is on screen now.
 */
export const MAX_IN_FLIGHT = 4;
/** What is sent first: the heatmap (first paint), then the focus row, the head view's keys, the thumbnails (slowest). */
const URGENCY: Record<LongRequest["what"], number> = { tile: 3, line: 2, top: 1, thumbs: 0 };
/** Requests waiting to be sent; the oldest are dropped (a panel that still needs one asks again when it draws). */
export const MAX_WAITING = 32;

/** A row-major matrix of float32 values. */
export interface Grid {
  values: Float32Array;
  rows: number;
  cols: number;
}

/** The strongest keys of rows [start, start + rows): `keys` and `weights` are rows × count, strongest first. */
export interface TopKeys {
  start: number;
  rows: number;
  count: number;
  keys: Int32Array;
  weights: Float32Array;
}

type Answer = Grid | Float32Array | TopKeys;
type Ask = Omit<LongRequest, "type" | "version" | "stack" | "id">;

export class LongAttention {
  private readonly answers = new Map<string, { answer: Answer; bytes: number }>();
  private readonly asked = new Map<number, string>();
  private readonly failed = new Map<string, string>();
  private readonly waiting = new Map<string, Ask>();
  /** The heatmap's last tiles (its window, and the overview when zoomed), by everything but the layer. */
  private readonly shownTiles = new Map<string, Ask>();
  private cachedBytes = 0;
  private nextId = 1;
  /** When the oldest unanswered request was sent (performance.now()), or null. */
  waitingSince: number | null = null;

  constructor(
    readonly version: number,
    readonly stack: StackData,
    private readonly send: (request: LongRequest) => void,
  ) {}

  /** The heads' mean over rows × cols max-pooled to at most size cells (Python's pooling rule), or null. */
  tile(layer: number, heads: readonly number[], rows: [number, number], cols: [number, number], size: [number, number]): Grid | null {
    return this.get({ what: "tile", layer, heads: [...heads], rows, cols, size: fitCells(size[0], size[1]) }) as Grid | null;
  }

  /** The heads' mean weights of row `index` (axis "row") or column `index` ("col"), or null. */
  line(layer: number, heads: readonly number[], axis: "row" | "col", index: number): Float32Array | null {
    return this.get({ what: "line", layer, heads: [...heads], axis, index }) as Float32Array | null;
  }

  /** The `count` strongest keys of the block of rows holding `row`, for one head, or null. */
  top(layer: number, head: number, count: number, row: number): TopKeys | null {
    const start = Math.floor(row / TOP_BLOCK_ROWS) * TOP_BLOCK_ROWS;
    const rows: [number, number] = [start, Math.min(this.stack.nRows, start + TOP_BLOCK_ROWS)];
    return this.get({ what: "top", layer, heads: [head], rows, count }) as TopKeys | null;
  }

  /** Every head of `layer` max-pooled to side × side (fewer for short inputs): heads × side × side, or null. */
  thumbnails(layer: number, side: number): Grid | null {
    const fit = Math.max(1, Math.min(side, MAX_THUMB_SIDE, Math.floor(Math.sqrt(MAX_ANSWER_VALUES / this.stack.nHeads))));
    return this.get({ what: "thumbs", layer, size: fit }) as Grid | null;
  }

  /** An error Python answered for one of the requests, or "". */
  get error(): string {
    return this.failed.values().next().value ?? "";
  }

  /** Take in an answer; true when it is one this cache asked for and could read. */
  receive(message: LongMessage, buffers: Array<DataView | ArrayBuffer>): boolean {
    if (message.version !== this.version || message.stack !== this.stack.name) return false;
    const key = this.asked.get(message.id);
    if (key === undefined) return false;
    this.asked.delete(message.id);
    this.waitingSince = this.asked.size > 0 ? performance.now() : null;
    try {
      if (typeof message.error === "string") this.failed.set(key, message.error);
      else this.store(key, readAnswer(message, buffers));
    } finally {
      this.pump(); // Python has room for the next request, even after an answer that could not be read
    }
    return true;
  }

  private get(ask: Ask): Answer | null {
    const key = JSON.stringify(ask);
    const cached = this.answers.get(key);
    if (cached) {
      this.answers.delete(key); // most recently used last
      this.answers.set(key, cached);
      return cached.answer;
    }
    if (this.failed.has(key) || [...this.asked.values()].includes(key)) return null;
    if (ask.what === "tile") this.shownTiles.set(JSON.stringify({ ...ask, layer: -1 }), ask);
    while (this.shownTiles.size > 2) this.shownTiles.delete(this.shownTiles.keys().next().value!);
    this.waiting.delete(key); // asked again: now the newest
    this.waiting.set(key, ask);
    while (this.waiting.size > MAX_WAITING) this.waiting.delete(this.waiting.keys().next().value!);
    this.pump();
    return null;
  }

  /** Send the newest waiting requests while Python has fewer than MAX_IN_FLIGHT; when idle, prefetch. */
  private pump(): void {
    while (this.asked.size < MAX_IN_FLIGHT) {
      const next = this.newestWaiting() ?? this.prefetch();
      if (!next) return;
      const id = this.nextId++;
      this.asked.set(id, next[0]);
      this.waitingSince ??= performance.now();
      this.send({ type: "long", version: this.version, stack: this.stack.name, id, ...next[1] });
    }
  }

  /** The waiting request to send next: the most urgent kind, and of that kind the newest. */
  private newestWaiting(): [string, Ask] | null {
    let best: [string, Ask] | null = null;
    for (const entry of this.waiting) {
      if (!best || URGENCY[entry[1].what] >= URGENCY[best[1].what]) best = entry;
    }
    if (best) this.waiting.delete(best[0]);
    return best;
  }

  /** With nothing else to do, the heatmap's tiles for the other layers, one at a time: a layer change then finds them here. */
  private prefetch(): [string, Ask] | null {
    if (this.asked.size > 0) return null;
    for (const shown of this.shownTiles.values()) {
      for (let offset = 1; offset < this.stack.nLayers; offset++) {
        const ask = { ...shown, layer: (shown.layer + offset) % this.stack.nLayers };
        const key = JSON.stringify(ask);
        if (!this.answers.has(key) && !this.failed.has(key)) return [key, ask];
      }
    }
    return null;
  }

  private store(key: string, answer: Answer): void {
    const bytes = answer instanceof Float32Array ? answer.byteLength : "keys" in answer ? answer.keys.byteLength * 2 : answer.values.byteLength;
    this.answers.set(key, { answer, bytes });
    this.cachedBytes += bytes;
    for (const [oldest, entry] of this.answers) {
      if (this.cachedBytes <= MAX_CACHED_BYTES || oldest === key) break;
      this.answers.delete(oldest);
      this.cachedBytes -= entry.bytes;
    }
  }
}

/** Screen cells scaled down to what one answer may hold, keeping their proportions. */
export function fitCells(rows: number, cols: number): [number, number] {
  let r = Math.max(1, Math.min(MAX_TILE_SIDE, Math.round(rows)));
  let c = Math.max(1, Math.min(MAX_TILE_SIDE, Math.round(cols)));
  if (r * c > MAX_ANSWER_VALUES) {
    const shrink = Math.sqrt(MAX_ANSWER_VALUES / (r * c));
    r = Math.max(1, Math.floor(r * shrink));
    c = Math.max(1, Math.floor(c * shrink));
  }
  return [r, c];
}

/** The arrays of an answer, checked against its shape: a malformed answer throws, naming what is wrong. */
function readAnswer(message: LongMessage, buffers: Array<DataView | ArrayBuffer>): Answer {
  const shape = message.shape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3 || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`a ${String(message.what)} answer with shape ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const floats = (buffer: DataView | ArrayBuffer | undefined, what: string): Float32Array => {
    if (!buffer) throw new Error(`a ${message.what} answer without its ${what}`);
    const view = toDataView(buffer);
    if (view.byteLength !== count * 4) throw new Error(`a ${message.what} answer of ${view.byteLength} bytes, expected ${count * 4}`);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  };
  if (message.what === "line") return floats(buffers[0], "values");
  if (message.what === "top") {
    const keys = ints(buffers[0], count, message.what);
    const [rows = 0, width = 0] = shape;
    const start = message.rows?.[0] ?? 0;
    return { start, rows, count: width, keys, weights: floats(buffers[1], "weights") };
  }
  const values = floats(buffers[0], "values");
  const [a = 0, b = 0, c] = shape;
  return c === undefined ? { values, rows: a, cols: b } : { values, rows: b, cols: c };
}

function ints(buffer: DataView | ArrayBuffer | undefined, count: number, what: string): Int32Array {
  if (!buffer) throw new Error(`a ${what} answer without its keys`);
  const view = toDataView(buffer);
  if (view.byteLength !== count * 4) throw new Error(`a ${what} answer of ${view.byteLength} bytes of keys, expected ${count * 4}`);
  return Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
}

/** The long-input cache of each long stack the page holds (set by js/state/longFetcher.ts). */
const caches = new WeakMap<StackData, LongAttention>();

export function attachLong(stack: StackData, long: LongAttention): void {
  caches.set(stack, long);
}

export function longOf(stack: StackData): LongAttention | null {
  return stack.long ? (caches.get(stack) ?? null) : null;
}
