import type { ComparePayload, Payload } from "../data/protocol";
import type { ViewState } from "./viewState";

/**
 * The Python traits mirrored in the store, by store key. One `storeKey: "python_name",`
 * pair per line: a Python test reads this table to check it against the package's.
 */
export const TRAITS = {
  stack: "stack",
  layer: "layer",
  heads: "heads",
  focus: "focus",
  direction: "direction",
  pairFilter: "pair_filter",
  hideSpecial: "hide_special",
  threshold: "threshold",
  sentence: "sentence",
  sentenceB: "sentence_b",
  target: "target",
  model: "model",
  models: "models",
  hasModel: "has_model",
  busy: "busy",
  error: "error",
  notes: "notes",
  shapes: "shapes",
  combine: "combine",
  granularity: "granularity",
  compareTo: "compare_to",
  headStats: "_head_stats",
  neuronOpen: "neuron_view",
} as const satisfies Partial<Record<keyof ViewState, string>>;

/** A store key with a Python twin. */
export type SyncedKey = keyof typeof TRAITS;
export type TraitName = (typeof TRAITS)[SyncedKey];

/** A Python `Dict` trait before Python has filled it. */
type EmptyDict = Record<string, never>;

/**
 * The mirrored traits by Python name, typed as the store holds them; Python's validators
 * keep them so. `_head_stats` is `{}` until Python first answers: its readers check its
 * version and stack, so `{}` reads as none.
 */
type MirroredTraits = { [K in SyncedKey as (typeof TRAITS)[K]]: ViewState[K] };

/** Every synced trait the page reads or writes, by Python name (src/attnwidget/widget.py). */
export interface Traits extends MirroredTraits {
  _data: Payload | EmptyDict;
  _compare: ComparePayload | EmptyDict;
  /** The page's run request the current state answers. */
  _request: number;
  /** Where the page echoes `_request` once it has taken the answer in. */
  page_runs: number;
  theme: "light" | "dark" | "auto";
  /** Set only in a saved file's embedded state (src/attnwidget/standalone.py). */
  _static?: boolean;
  /** `IPY_MODEL_<id>` of the shared front-end model that js/loader.ts loads. */
  _front_end: string | null;
}
