// What the neuron view explains: the query row from the state, and the caption that says so.
import type { HeadQueries } from "../../data/queries";
import { precise, tokenLabel } from "../../shared/format";
import type { View } from "../../state/view";
import type { ViewState } from "../../state/viewState";

/** The query row the panel explains, or a hint saying what to do. */
export function queryRow(state: Readonly<ViewState>, view: View): number | string {
  const stack = view.stack;
  if (!stack) return "No attention to show.";
  // Queries and keys belong to word pieces: a word's row has no one query (focus indexes words then).
  if (state.granularity === "words") return "The neuron view explains word pieces: switch “Words” off to see a token's query and keys.";
  if (state.focus === null) return "Click a token to see its query and the keys it meets.";
  const selfAttention = stack.nRows === stack.nCols && stack.name !== "cross";
  if (state.direction !== "attends_to" && !selfAttention) return "Switch to “attends to”: the neuron view explains a query row.";
  return state.focus;
}

export function captionText(queries: HeadQueries, token: string, layer: number): string {
  const scale = Math.abs(queries.scale * Math.sqrt(queries.dHead) - 1) < 1e-6 ? `1/√${queries.dHead}` : precise(queries.scale);
  const keyHead = queries.keyHead !== queries.head ? ` (key head ${queries.keyHead})` : "";
  const bias = queries.bias ? " + bias (mask, position)" : "";
  return `Layer ${layer}, head ${queries.head}${keyHead}: query “${tokenLabel(token)}”, ${queries.dHead} dimensions. weight = softmax(q·k × ${scale}${bias}).`;
}

/** With rollout on, the other panels combine layers; the neuron view explains this layer's own softmax. */
export function rolloutNote(state: Readonly<ViewState>): string {
  return state.combine === "rollout" && state.stack !== "cross" ? " This layer's own attention, not the rollout the other panels show." : "";
}
