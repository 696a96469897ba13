import type { AttentionData } from "../data/attention";
import type { CompareData } from "../data/compare";
import type { HeadStatsPayload } from "../data/protocol";
import type { HeadQueries } from "../data/queries";

export type Direction = "attends_to" | "attended_by";
export type PairFilter = "all" | "aa" | "ab" | "ba" | "bb";
/** A token under the pointer: a row ("from") or a column ("to") of the stack. */
export interface Hover {
  axis: "row" | "col";
  index: number;
}

/** Everything every panel draws from. Keys with a Python twin are listed in traits.ts. */
export interface ViewState {
  data: AttentionData | null;
  /** Bumps when a layer arrives, so panels waiting for it repaint. */
  dataRevision: number;
  stack: string;
  layer: number;
  heads: number[];
  focus: number | null;
  direction: Direction;
  hover: Hover | null;
  pairFilter: PairFilter;
  hideSpecial: boolean;
  threshold: number;
  sentence: string;
  sentenceB: string;
  target: string;
  model: string;
  models: string[];
  hasModel: boolean;
  busy: boolean;
  /** A layer request went unanswered (no kernel: a saved notebook rendered as static HTML). */
  layersUnanswered: boolean;
  /** A run was sent from the page and Python has not answered yet. */
  pending: boolean;
  error: string;
  /** Python refused a value set in the page (shown for a few seconds beside `error`). */
  notice: string;
  notes: string[];
  shapes: Record<string, number[]>;
  /** What the values are (rollout or raw, tokens or words), a second model, head statistics. */
  combine: "none" | "rollout";
  granularity: "tokens" | "words";
  compareTo: string;
  compare: CompareData | null;
  /** Bumped when a layer of the comparison arrives (they come on demand, under 1 MiB per message). */
  compareRevision: number;
  headStats: HeadStatsPayload | null;
  /** A saved file (no kernel): rollout and words stay as saved, nobody could recompute them. */
  savedFile: boolean;
  /** The neuron view is open (Python's `neuron_view`). */
  neuronOpen: boolean;
  /** The shown head's queries and keys, once every block has arrived; set by state/queries.ts. */
  queries: HeadQueries | null;
  queriesError: string;
}

export const initialViewState: ViewState = {
  data: null,
  dataRevision: 0,
  stack: "self",
  layer: 0,
  heads: [],
  focus: null,
  direction: "attends_to",
  hover: null,
  pairFilter: "all",
  hideSpecial: false,
  threshold: 0,
  sentence: "",
  sentenceB: "",
  target: "",
  model: "",
  models: [],
  hasModel: true,
  busy: false,
  layersUnanswered: false,
  pending: false,
  error: "",
  notice: "",
  notes: [],
  shapes: {},
  combine: "none",
  granularity: "tokens",
  compareTo: "",
  compare: null,
  compareRevision: 0,
  headStats: null,
  savedFile: false,
  neuronOpen: false,
  queries: null,
  queriesError: "",
};
