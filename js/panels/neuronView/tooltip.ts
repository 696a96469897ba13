// What the neuron view's tooltip says about the cell under the pointer.
import type { HeadQueries } from "../../data/queries";
import { precise, tokenLabel } from "../../shared/format";
import type { NeuronLayout } from "./layout";

/** What the panel shows: the layout of one head's focus row, its queries and keys, and the tokens. */
export interface Shown {
  layout: NeuronLayout;
  queries: HeadQueries;
  tokens: readonly string[];
  queryToken: string;
}

/** The tooltip's lines for dimension `dim` of `line` (-1: the query). */
export function cellLines(shown: Shown, line: number, dim: number): string[] {
  const q = shown.queries.query(shown.layout.row)[dim]!;
  if (line < 0) return [`query “${tokenLabel(shown.queryToken)}” · dimension ${dim}`, `q = ${precise(q)}`];
  const entry = shown.layout.lines[line];
  if (!entry) return [];
  const k = shown.queries.key(entry.key)[dim]!;
  return [`key “${tokenLabel(shown.tokens[entry.key] ?? "")}” · dimension ${dim}`, `q = ${precise(q)}`, `k = ${precise(k)}`, `q×k = ${precise(q * k)}`];
}
