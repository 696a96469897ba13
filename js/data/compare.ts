import { StackData } from "./attention";
import type { ComparePayload } from "./protocol";

/** One ranked head: how much its attention differs between the two models (mean JS divergence, bits). */
export interface HeadChange {
  layer: number;
  head: number;
  change: number;
}

/** The `_compare` trait as the page holds it: A and B over the same rows and columns. */
export class CompareData {
  readonly version: number;
  /** The second model's name. */
  readonly model: string;
  readonly a: StackData;
  readonly b: StackData;
  readonly level: "tokens" | "words";
  readonly caption: string;
  readonly layerMap: readonly number[];
  readonly ranking: readonly HeadChange[];

  constructor(payload: ComparePayload) {
    const a = payload.stacks["a"];
    const b = payload.stacks["b"];
    if (!a || !b) throw new Error("the comparison lacks stack a or b");
    this.version = payload.version;
    this.model = payload.model;
    this.a = new StackData(a);
    this.b = new StackData(b);
    if (this.a.nRows !== this.b.nRows || this.a.nCols !== this.b.nCols) {
      throw new Error(`A is ${this.a.nRows}×${this.a.nCols} and B ${this.b.nRows}×${this.b.nCols}: they must align`);
    }
    if (payload.layer_map.length !== this.a.nLayers || payload.layer_map.some((layer) => !(layer >= 0 && layer < this.b.nLayers))) {
      throw new Error("the comparison's layer map does not fit the two models' depths");
    }
    this.level = payload.level === "words" ? "words" : "tokens";
    this.caption = String(payload.caption ?? "");
    this.layerMap = payload.layer_map;
    this.ranking = (payload.change ?? []).map(([layer, head, change]) => ({ layer, head, change }));
  }

  /** B's layer compared with A's `layer`. */
  layerOfB(layer: number): number {
    return this.layerMap[Math.min(Math.max(layer, 0), this.layerMap.length - 1)] ?? 0;
  }

  /** B's heads for A's selection: the same heads when the counts agree, else all of B's. */
  headsOfB(heads: readonly number[]): number[] {
    if (this.a.nHeads === this.b.nHeads) return heads.filter((head) => head < this.b.nHeads);
    return Array.from({ length: this.b.nHeads }, (_, head) => head);
  }
}

/** `_compare` as store fields: {} from Python means no comparison; a broken one becomes an error. */
export function decodeCompare(payload: ComparePayload | Record<string, never> | undefined): { compare: CompareData | null } | { error: string } {
  if (!payload || !("stacks" in payload)) return { compare: null };
  try {
    return { compare: new CompareData(payload as ComparePayload) };
  } catch (error) {
    return { error: `could not read the comparison: ${(error as Error).message}` };
  }
}
