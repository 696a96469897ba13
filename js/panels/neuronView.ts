import type { HeadQueries } from "../data/queries";
import { prepareCanvas } from "../shared/canvas";
import { signedColor, weightColormap, type Theme } from "../shared/colors";
import { el, on, setOptions, setText } from "../shared/dom";
import { percent, precise, tokenLabel } from "../shared/format";
import { createRepaint } from "../shared/repaint";
import { createTooltip } from "../shared/tooltip";
import { neuronHead } from "../state/queries";
import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "../shared/panel";

/** Height of one key's line, in CSS pixels, in every column of the panel. */
export const LINE = 16;
const BLOCK_GAP = 12;
/** Below this a bias counts as a mask: the key is not attended to at all. */
const MASKED = -1e30;

/** What one key contributes to the focus token's attention. */
export interface KeyLine {
  key: number;
  /** q·k, the scaled score plus bias (the softmax's input), and the softmax weight over every key. */
  dot: number;
  score: number;
  weight: number;
  masked: boolean;
}

export interface NeuronLayout {
  row: number;
  lines: KeyLine[];
  /** |value| of full colour for q and k components, and for q⊙k. */
  vectorMax: number;
  productMax: number;
}

/**
 * The focus row of one head, key by key: dot products, scores, softmax weights
 * (over all keys, as the model computed them), for the keys in `cols` (the visible
 * ones), in order or sorted by weight.
 */
export function neuronLayout(queries: HeadQueries, row: number, cols: ArrayLike<number>, sorted: boolean): NeuronLayout {
  const q = queries.query(row);
  const scores = new Float64Array(queries.cols);
  const dots = new Float64Array(queries.cols);
  let top = -Infinity;
  for (let col = 0; col < queries.cols; col++) {
    const k = queries.key(col);
    let dot = 0;
    for (let d = 0; d < queries.dHead; d++) dot += q[d]! * k[d]!;
    dots[col] = dot;
    scores[col] = dot * queries.scale + queries.biasAt(row, col);
    top = Math.max(top, scores[col]!);
  }
  let total = 0;
  for (let col = 0; col < queries.cols; col++) total += Math.exp(scores[col]! - top);
  let vectorMax = maxAbs(q, 0, q.length);
  let productMax = 0;
  const lines: KeyLine[] = [];
  for (let i = 0; i < cols.length; i++) {
    const key = cols[i]!;
    const k = queries.key(key);
    vectorMax = Math.max(vectorMax, maxAbs(k, 0, k.length));
    for (let d = 0; d < queries.dHead; d++) productMax = Math.max(productMax, Math.abs(q[d]! * k[d]!));
    const masked = queries.biasAt(row, key) <= MASKED;
    lines.push({ key, dot: dots[key]!, score: scores[key]!, weight: Math.exp(scores[key]! - top) / total, masked });
  }
  if (sorted) lines.sort((a, b) => b.weight - a.weight || a.key - b.key);
  return { row, lines, vectorMax, productMax };
}

function maxAbs(values: Float32Array, start: number, end: number): number {
  let max = 0;
  for (let i = start; i < end; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** Cell width for a head size: wide enough to see, narrow enough that 128 dimensions fit a notebook. */
export function cellWidth(dHead: number): number {
  return dHead <= 32 ? 10 : dHead <= 64 ? 6 : 4;
}

/** The query row the panel explains, or a hint saying what to do. */
function queryRow(state: Readonly<ViewState>, view: View): number | string {
  const stack = view.stack;
  if (!stack) return "No attention to show.";
  // Queries and keys belong to word pieces: a word's row has no one query (focus indexes words then).
  if (state.granularity === "words") return "The neuron view explains word pieces: switch “Words” off to see a token's query and keys.";
  if (state.focus === null) return "Click a token to see its query and the keys it meets.";
  const selfAttention = stack.nRows === stack.nCols && stack.name !== "cross";
  if (state.direction !== "attends_to" && !selfAttention) return "Switch to “attends to”: the neuron view explains a query row.";
  return state.focus;
}

/**
 * The neuron view: for the focus token, its query, every key, q⊙k per dimension
 * as coloured cells, and per key the dot product, the scaled score and the
 * softmax weight. Hovering a key sets the shared hover, so the head view and the
 * heatmap mark the same key.
 */
export function createNeuronView(context: PanelContext): Panel {
  const { actions } = context;
  const toggle = el("button", { className: "aw-nv-button", testid: "neuron-toggle", attrs: { type: "button", "aria-expanded": "false" } });
  const headSelect = el("select", { testid: "neuron-head", attrs: { "aria-label": "Head" } });
  const sortButton = el("button", { className: "aw-nv-button", testid: "neuron-sort", attrs: { type: "button", "aria-pressed": "false" } });
  const caption = el("div", { className: "aw-panel-caption", testid: "neuron-caption" });
  const labels = el("div", { className: "aw-nv-labels" });
  const canvas = el("canvas", { className: "aw-nv-cells", testid: "neuron-cells" });
  const numbers = el("div", { className: "aw-nv-numbers" });
  const grid = el("div", { className: "aw-nv-grid" }, [labels, numbers, canvas]);
  const scroller = el("div", { className: "aw-nv-scroll" }, [grid]);
  const body = el("div", { className: "aw-nv-body" }, [el("div", { className: "aw-nv-tools" }, [headSelect, sortButton]), caption, scroller]);
  const element = el("section", { className: "aw-panel aw-neuron-view", testid: "neuron-view" }, [
    el("div", { className: "aw-nv-header" }, [el("h3", { className: "aw-panel-title", text: "Neuron view: queries and keys" }), toggle]),
    body,
  ]);
  const tooltip = createTooltip(element, "neuron-tooltip");
  let sorted = false;
  let shown: { layout: NeuronLayout; queries: HeadQueries; tokens: readonly string[]; queryToken: string } | null = null;
  let drawnKey = "";

  const repaint = createRepaint(paint);

  const lineAt = (y: number): number => Math.floor(y / LINE) - 1; // line 0 is the query
  const setHover = (key: number | null) => {
    const hover = repaint.last?.state.hover;
    if (key === null) {
      if (hover) actions.update({ hover: null });
    } else if (hover?.axis !== "col" || hover.index !== key) {
      actions.update({ hover: { axis: "col", index: key } });
    }
  };
  const keyFromEvent = (event: Event): number | null => {
    const line = (event.target as HTMLElement).closest<HTMLElement>("[data-key]");
    return line ? Number(line.dataset.key) : null;
  };

  const cleanups = [
    on(toggle, "click", () => actions.update({ neuronOpen: !(repaint.last?.state.neuronOpen ?? false) })),
    on(sortButton, "click", () => {
      sorted = !sorted;
      drawnKey = "";
      repaint.now();
    }),
    on(headSelect, "change", () => actions.update({ heads: [Number(headSelect.value)] })),
    on(labels, "mouseover", (event) => setHover(keyFromEvent(event))),
    on(numbers, "mouseover", (event) => setHover(keyFromEvent(event))),
    on(grid, "mouseleave", () => {
      tooltip.hide();
      setHover(null);
    }),
    on(canvas, "mousemove", (event) => {
      if (!shown) return;
      const box = canvas.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      const line = lineAt(y);
      const cell = cellAt(shown.queries.dHead, x);
      const key = line >= 0 ? shown.layout.lines[line]?.key : undefined;
      setHover(key ?? null);
      if (!cell) return tooltip.hide();
      const host = element.getBoundingClientRect();
      tooltip.show(cellLines(shown, line, cell.dim), event.clientX - host.left, event.clientY - host.top);
    }),
  ];

  function paint(state: Readonly<ViewState>, view: View): void {
    const open = state.neuronOpen;
    setText(toggle, open ? "Hide" : "Show queries and keys");
    toggle.setAttribute("aria-expanded", String(open));
    body.hidden = !open;
    if (!open) return;
    const stack = view.stack;
    const nHeads = stack?.nHeads ?? 0;
    setOptions(headSelect, Array.from({ length: nHeads }, (_, head) => ({ value: String(head), label: `head ${head}` })));
    const head = neuronHead(state);
    headSelect.value = String(head);
    setText(sortButton, sorted ? "Sorted by weight" : "In token order");
    sortButton.setAttribute("aria-pressed", String(sorted));

    const row = queryRow(state, view);
    const queries = state.queries;
    const ready =
      queries !== null &&
      queries.version === state.data?.version &&
      queries.stack === state.stack &&
      queries.layer === state.layer &&
      queries.head === head &&
      typeof row === "number" &&
      row < queries.rows;
    if (state.queriesError || typeof row === "string" || !ready || !queries || !stack) {
      setText(caption, state.queriesError || (typeof row === "string" ? row : `Loading the queries and keys of layer ${state.layer}, head ${head}…`));
      scroller.hidden = true;
      shown = null;
      drawnKey = "";
      return;
    }
    scroller.hidden = false;
    const cols = view.current?.cols ?? Int32Array.from({ length: queries.cols }, (_, i) => i);
    const theme = context.theme();
    const key = [queries.version, queries.stack, queries.layer, queries.head, row, sorted, cols.length, state.hideSpecial, state.pairFilter, theme.dark].join("|");
    if (key !== drawnKey) {
      drawnKey = key;
      const layout = neuronLayout(queries, row, cols, sorted);
      shown = { layout, queries, tokens: stack.cols, queryToken: stack.rows[row] ?? "" };
      setText(caption, captionText(queries, stack.rows[row] ?? "", state.layer) + rolloutNote(state));
      drawLabels(labels, shown.layout, shown.tokens, shown.queryToken);
      drawNumbers(numbers, shown.layout, theme);
      drawCells(canvas, shown.layout, queries, theme);
    }
    markHover(state);
  }

  function markHover(state: Readonly<ViewState>): void {
    const hovered = state.hover?.axis === "col" ? state.hover.index : -1;
    for (const column of [labels, numbers]) {
      for (const line of column.querySelectorAll<HTMLElement>("[data-key]")) line.classList.toggle("is-hover", Number(line.dataset.key) === hovered);
    }
  }

  return {
    element,
    draw: repaint.draw,
    destroy() {
      repaint.destroy();
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}

function captionText(queries: HeadQueries, token: string, layer: number): string {
  const scale = Math.abs(queries.scale * Math.sqrt(queries.dHead) - 1) < 1e-6 ? `1/√${queries.dHead}` : precise(queries.scale);
  const keyHead = queries.keyHead !== queries.head ? ` (key head ${queries.keyHead})` : "";
  const bias = queries.bias ? " + bias (mask, position)" : "";
  return `Layer ${layer}, head ${queries.head}${keyHead}: query “${tokenLabel(token)}”, ${queries.dHead} dimensions. weight = softmax(q·k × ${scale}${bias}).`;
}

/** With rollout on, the other panels combine layers; the neuron view explains this layer's own softmax. */
function rolloutNote(state: Readonly<ViewState>): string {
  return state.combine === "rollout" && state.stack !== "cross" ? " This layer's own attention, not the rollout the other panels show." : "";
}

/** Which block and dimension a point over the cells is in: the vectors (q and k) or q⊙k. */
function cellAt(dHead: number, x: number): { block: "vector" | "product"; dim: number } | null {
  const width = cellWidth(dHead) * dHead;
  if (x >= 0 && x < width) return { block: "vector", dim: Math.floor(x / cellWidth(dHead)) };
  const start = width + BLOCK_GAP;
  if (x >= start && x < start + width) return { block: "product", dim: Math.floor((x - start) / cellWidth(dHead)) };
  return null;
}

function cellLines(shown: { layout: NeuronLayout; queries: HeadQueries; tokens: readonly string[]; queryToken: string }, line: number, dim: number): string[] {
  const q = shown.queries.query(shown.layout.row)[dim]!;
  if (line < 0) return [`query “${tokenLabel(shown.queryToken)}” · dimension ${dim}`, `q = ${precise(q)}`];
  const entry = shown.layout.lines[line];
  if (!entry) return [];
  const k = shown.queries.key(entry.key)[dim]!;
  return [`key “${tokenLabel(shown.tokens[entry.key] ?? "")}” · dimension ${dim}`, `q = ${precise(q)}`, `k = ${precise(k)}`, `q×k = ${precise(q * k)}`];
}

function drawLabels(column: HTMLElement, layout: NeuronLayout, tokens: readonly string[], queryToken: string): void {
  const query = el("div", { className: "aw-nv-line aw-nv-query", text: `q · ${tokenLabel(queryToken, 16)}`, title: queryToken });
  const keys = layout.lines.map((line) =>
    el("div", { className: "aw-nv-line", testid: "neuron-key", text: tokenLabel(tokens[line.key] ?? "", 16), title: tokens[line.key] ?? "", attrs: { "data-key": String(line.key) } }),
  );
  column.replaceChildren(query, ...keys);
}

function drawNumbers(column: HTMLElement, layout: NeuronLayout, theme: Theme): void {
  const colormap = weightColormap(theme);
  const header = el("div", { className: "aw-nv-line aw-nv-head" }, [
    el("span", { text: "q·k" }),
    el("span", { text: "score" }),
    el("span", { text: "weight" }),
  ]);
  const rows = layout.lines.map((line) => {
    const bar = el("span", { className: "aw-nv-bar" });
    bar.style.width = `${Math.round(line.weight * 60)}px`;
    bar.style.background = colormap(0.35 + 0.65 * line.weight);
    return el(
      "div",
      {
        className: line.masked ? "aw-nv-line is-masked" : "aw-nv-line",
        testid: "neuron-score",
        attrs: { "data-key": String(line.key), "data-dot": String(line.dot), "data-score": String(line.score), "data-weight": String(line.weight) },
      },
      [
        el("span", { testid: "neuron-dot", text: precise(line.dot) }),
        el("span", { text: line.masked ? "masked" : precise(line.score) }),
        el("span", { className: "aw-nv-weight" }, [bar, el("span", { text: percent(line.weight) })]),
      ],
    );
  });
  column.replaceChildren(header, ...rows);
}

function drawCells(canvas: HTMLCanvasElement, layout: NeuronLayout, queries: HeadQueries, theme: Theme): void {
  const cell = cellWidth(queries.dHead);
  const blockWidth = cell * queries.dHead;
  const width = blockWidth * 2 + BLOCK_GAP;
  const height = LINE * (layout.lines.length + 1);
  const context = prepareCanvas(canvas, width, height);
  if (!context) return;
  const q = queries.query(layout.row);
  const paintVector = (values: (d: number) => number, max: number, x0: number, line: number) => {
    for (let d = 0; d < queries.dHead; d++) {
      context.fillStyle = signedColor(values(d), max);
      context.fillRect(x0 + d * cell, line * LINE + 1, cell - (cell > 4 ? 1 : 0), LINE - 2);
    }
  };
  paintVector((d) => q[d]!, layout.vectorMax, 0, 0);
  context.fillStyle = theme.muted;
  context.font = "11px sans-serif";
  context.textBaseline = "middle";
  context.fillText("← q of the query · below: k, then q⊙k, per key", blockWidth + BLOCK_GAP, LINE / 2);
  layout.lines.forEach((line, index) => {
    const k = queries.key(line.key);
    paintVector((d) => k[d]!, layout.vectorMax, 0, index + 1);
    paintVector((d) => q[d]! * k[d]!, layout.productMax, blockWidth + BLOCK_GAP, index + 1);
  });
}
