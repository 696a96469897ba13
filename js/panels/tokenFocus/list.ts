// The selected layer's part of the panel: the caption's notes and the sorted bars.
import type { StackData } from "../../data/attention";
import { el, setText } from "../../shared/dom";
import { missingLayerText, percent, precise, tokenLabel, withAnalysisCaption } from "../../shared/format";
import type { LayerView, View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { focusBars, type FocusBar } from "./distribution";
import { barRow, type TokenFocusDom } from "./dom";
import type { Axis, FocusTarget } from "./target";

/** Bars shown before "show N more". */
export const TOP_BARS = 10;

/** The caption and the bars of the selected layer for the target, the top TOP_BARS unless `expanded`. */
export function drawList(dom: TokenFocusDom, state: Readonly<ViewState>, view: View, target: FocusTarget, heads: number[], expanded: boolean): void {
  const stack = view.stack!;
  const layer = view.current!;
  const result = layer.ready ? focusBars(layer, heads, target.axis, target.position) : null;
  drawNotes(dom.caption, focusNotes(state, stack, layer, target, heads, result?.total ?? null));
  if (!result) {
    dom.list.replaceChildren();
    dom.more.hidden = true;
    return;
  }
  drawBars(dom, state, stack, layer, target, result.bars, expanded);
}

/** What the caption says: the layer and heads, how to read the bars, and why some are missing. */
function focusNotes(state: Readonly<ViewState>, stack: StackData, layer: LayerView, target: FocusTarget, heads: number[], total: number | null): string[] {
  const notes: string[] = [];
  const what = heads.length === 1 ? `head ${heads[0]}` : `mean of ${heads.length} heads`;
  if (!layer.ready) notes.push(missingLayerText(layer.layer, state.layersUnanswered));
  else if (heads.length === 0) notes.push("No head selected: pick one in the head chips.");
  else if (target.axis === "row") {
    const hidden = layer.cols.length < stack.nCols;
    notes.push(`Layer ${layer.layer} · ${what} · where its attention goes${hidden ? ", as shares of the visible tokens" : ""}.`);
    if (hidden && !layer.renormalised && total !== null) notes.push(`The visible tokens get ${percent(total)} of its attention.`);
    if (stack.causal) notes.push("Causal: a token only attends to itself and earlier tokens.");
  } else {
    notes.push(`Layer ${layer.layer} · ${what} · how much of each token's attention it gets.`);
    if (stack.causal) notes.push("Causal: only this token and later ones attend to it.");
  }
  if (target.preview) notes.push("Preview of the hovered token: click to keep it.");
  if (notes[0]) notes[0] = withAnalysisCaption(notes[0], state.data, stack.name, layer.layer);
  return notes;
}

function drawNotes(caption: HTMLElement, notes: string[]): void {
  // Only when the text changes: new elements on every hover would make Chromium re-layerise the whole page.
  if (caption.dataset.notes !== notes.join("\n")) {
    caption.dataset.notes = notes.join("\n");
    caption.replaceChildren(...notes.map((note) => el("div", { text: note })));
  }
}

function drawBars(dom: TokenFocusDom, state: Readonly<ViewState>, stack: StackData, layer: LayerView, target: FocusTarget, bars: FocusBar[], expanded: boolean): void {
  const { list, more } = dom;
  const shown = expanded ? bars : bars.slice(0, TOP_BARS);
  const largest = Math.max(1e-9, bars[0]?.share ?? 0);
  const barAxis: Axis = target.axis === "row" ? "col" : "row";
  const tokens = barAxis === "col" ? stack.cols : stack.rows;
  const special = barAxis === "col" ? stack.colSpecial : stack.rowSpecial;
  const hover = state.hover?.axis === barAxis ? state.hover.index : -1;
  const repeats = new Map<string, number>();
  for (const index of barAxis === "col" ? layer.cols : layer.rows) repeats.set(tokens[index] ?? "", (repeats.get(tokens[index] ?? "") ?? 0) + 1);
  // Reuse the rows already there: a hover preview rewrites text, not elements.
  while (list.children.length > shown.length) list.lastElementChild!.remove();
  while (list.children.length < shown.length) list.append(barRow());
  shown.forEach((bar, i) => {
    const row = list.children[i] as HTMLElement;
    const [label, track, value] = Array.from(row.children) as HTMLElement[];
    const text = tokens[bar.index] ?? "";
    row.dataset.axis = barAxis;
    row.dataset.index = String(bar.index);
    row.classList.toggle("is-special", Boolean(special[bar.index]));
    row.classList.toggle("is-hover", bar.index === hover);
    row.classList.toggle("is-self", bar.index === target.index);
    const [name, where] = Array.from(label!.children) as HTMLElement[];
    setText(name!, tokenLabel(text, 20));
    // The same word twice: its position tells them apart.
    setText(where!, (repeats.get(text) ?? 0) > 1 ? ` #${bar.position}` : "");
    label!.title = `${text} (#${bar.position})`;
    (track!.firstElementChild as HTMLElement).style.width = `${(bar.share / largest) * 100}%`;
    setText(value!, percent(bar.share));
    value!.title = precise(bar.share);
  });
  const rest = bars.length - TOP_BARS;
  more.hidden = rest <= 0;
  setText(more, expanded ? `show the top ${TOP_BARS} only` : `show ${rest} more`);
  more.setAttribute("aria-expanded", String(expanded));
}
