import "./analysis.css";
import type { CompareData } from "../data/compare";
import { LayerView } from "../state/view";
import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";
import { prepareCanvas } from "../shared/canvas";
import { differenceColormap } from "../shared/colors";
import { el, on, setText } from "../shared/dom";
import { percent, tokenLabel } from "../shared/format";
import { differenceTable, paintDifferences, paintValues, Raster, rgb, weightTable } from "../shared/raster";
import type { Panel, PanelContext } from "../shared/panel";

const MAX_SIZE = 260;
const MIN_SIZE = 120;
const LABEL_WIDTH = 104;
const RANKED = 10;
const TITLE_HEIGHT = 18;
const COLUMN_LABELS_HEIGHT = 64;
/** Below this many pixels per token the labels would not be readable: the hover read-out names the tokens. */
const MIN_LABEL_CELL = 9;

/** What the compare panel shows for one layer and head selection. */
export interface CompareMatrices {
  rows: number;
  cols: number;
  /** A's mean over the selected heads, B's at the matched layer, and A − B; rows × cols, row-major. */
  a: Float32Array;
  b: Float32Array;
  diff: Float32Array;
  layerB: number;
  headsA: number[];
  headsB: number[];
  /** One scale for A and B, so equal colours mean equal weights; a symmetric one for A − B. */
  weightScale: number;
  differenceScale: number;
}

export function compareMatrices(compare: CompareData, layer: number, heads: readonly number[]): CompareMatrices | null {
  const headsA = heads.filter((head) => head >= 0 && head < compare.a.nHeads);
  if (headsA.length === 0 || layer < 0 || layer >= compare.a.nLayers) return null;
  const layerB = compare.layerOfB(layer);
  const headsB = compare.headsOfB(headsA);
  const a = fullLayer(compare, "a", layer).mean(headsA);
  const b = fullLayer(compare, "b", layerB).mean(headsB);
  if (!a || !b) return null;
  const diff = new Float32Array(a.length);
  let weightScale = 0;
  let differenceScale = 0;
  for (let i = 0; i < a.length; i++) {
    diff[i] = a[i]! - b[i]!;
    weightScale = Math.max(weightScale, a[i]!, b[i]!);
    differenceScale = Math.max(differenceScale, Math.abs(diff[i]!));
  }
  return { rows: compare.a.nRows, cols: compare.a.nCols, a, b, diff, layerB, headsA, headsB, weightScale, differenceScale };
}

function fullLayer(compare: CompareData, which: "a" | "b", layer: number): LayerView {
  const stack = compare[which];
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  return new LayerView(stack, layer, all(stack.nRows), all(stack.nCols), false);
}

/** One token label sized to its cell: `extent` pixels along `axis`. */
function tokenCell(token: string, extent: number, maxLength: number, axis: "width" | "height"): HTMLElement {
  const label = el("div", { className: axis === "width" ? "aw-cmp-col" : "aw-cmp-label", text: tokenLabel(token, maxLength), title: token });
  label.style[axis] = `${extent}px`;
  label.style.lineHeight = `${extent}px`;
  label.style.fontSize = `${Math.min(12, Math.max(8, extent - 2))}px`;
  return label;
}

function headsText(heads: readonly number[], nHeads: number): string {
  if (heads.length === 1) return `head ${heads[0]}`;
  return heads.length === nHeads ? `mean of all ${nHeads} heads` : `mean of ${heads.length} heads`;
}

/** "A: offline · layer 3 · head 5  vs  B: ./tuned · layer 3 · head 5 · token by token · <Python's notes>". */
export function compareCaption(state: Readonly<ViewState>, compare: CompareData, m: CompareMatrices): string {
  const parts = [
    `A: ${state.model} · layer ${state.layer} · ${headsText(m.headsA, compare.a.nHeads)}`,
    `B: ${compare.model} · layer ${m.layerB} · ${headsText(m.headsB, compare.b.nHeads)}`,
  ];
  let text = `${parts.join("  vs  ")} · compared ${compare.level === "words" ? "word by word" : "token by token"}`;
  if (compare.caption) text += ` · ${compare.caption}`;
  if (state.combine === "rollout") text += " · raw attention (rollout applies to the panels above)";
  return text;
}

/**
 * Two models side by side: A, B and A − B for the selected layer and
 * heads, on one weight scale and a symmetric diverging scale, with the heads
 * that changed most (mean Jensen–Shannon divergence) one click away.
 */
export function createCompare(context: PanelContext): Panel {
  const { actions } = context;
  const caption = el("div", { className: "aw-panel-caption", testid: "compare-caption" });
  const figures = (["A", "B", "A − B"] as const).map((title) => {
    const canvas = el("canvas", { className: "aw-cmp-canvas", testid: "compare-canvas" });
    const label = el("div", { className: "aw-cmp-title", text: title });
    const columns = el("div", { className: "aw-cmp-cols" });
    return { title, canvas, columns, figure: el("figure", { className: "aw-cmp-figure" }, [label, columns, canvas]) };
  });
  const rowLabels = el("div", { className: "aw-cmp-labels" });
  const scaleBar = el("div", { className: "aw-cmp-scalebar" });
  const scaleLow = el("span");
  const scaleHigh = el("span");
  const scale = el("div", { className: "aw-cmp-scale", testid: "compare-scale", title: "A − B on a symmetric scale: white in the middle is no difference" }, [scaleLow, scaleBar, scaleHigh]);
  const readout = el("div", { className: "aw-cmp-readout", testid: "compare-readout" });
  const ranking = el("div", { className: "aw-cmp-ranking", testid: "compare-ranking", attrs: { role: "group", "aria-label": "Heads that changed most" } });
  const rankingTitle = el("div", { className: "aw-cmp-ranking-title", text: "Heads that changed most (mean Jensen–Shannon divergence, bits)" });
  const element = el("section", { className: "aw-panel aw-compare", testid: "compare-view" }, [
    el("h3", { className: "aw-panel-title", text: "Compare models" }),
    caption,
    el("div", { className: "aw-cmp-row" }, [rowLabels, ...figures.map((f) => f.figure)]),
    scale,
    readout,
    rankingTitle,
    ranking,
  ]);
  const raster = new Raster();
  let shown: { state: Readonly<ViewState>; compare: CompareData; m: CompareMatrices; size: number } | null = null;
  let rankingOf: CompareData | null = null;
  let paintKey = "";
  let drawnInputs = "";

  const cleanups = [
    ...figures.map((figure) => on(figure.canvas, "mousemove", (event) => showReadout(event))),
    ...figures.map((figure) => on(figure.canvas, "mouseleave", () => setText(readout, "Hover a cell to read A, B and A − B."))),
    on(ranking, "click", (event) => {
      const item = (event.target as HTMLElement).closest<HTMLElement>("[data-layer]");
      if (item) actions.update({ layer: Number(item.dataset.layer), heads: [Number(item.dataset.head)] });
    }),
  ];

  function showReadout(event: MouseEvent): void {
    if (!shown) return;
    const { compare, m, size } = shown;
    const r = Math.floor((event.offsetY / size) * m.rows);
    const c = Math.floor((event.offsetX / size) * m.cols);
    if (r < 0 || c < 0 || r >= m.rows || c >= m.cols) return;
    const i = r * m.cols + c;
    const signed = (value: number) => `${value >= 0 ? "+" : "−"}${percent(Math.abs(value))}`;
    setText(readout, `${compare.a.rows[r]} → ${compare.a.cols[c]}: A ${percent(m.a[i]!)} · B ${percent(m.b[i]!)} · A − B ${signed(m.diff[i]!)}`);
  }

  function draw(state: Readonly<ViewState>, view: View): void {
    const compare = state.compare;
    element.hidden = compare === null;
    if (!compare) {
      shown = null;
      drawnInputs = "";
      return;
    }
    // A hover or a focus change leaves this panel as it is: skip the head means and the layout read.
    const inputs = [compare.version, state.compareRevision, state.layer, state.heads.join(","), state.model, state.combine, context.theme().dark].join("|");
    if (inputs === drawnInputs) return;
    drawnInputs = inputs;
    const layerB = compare.layerOfB(state.layer);
    if (!compare.a.hasLayer(state.layer) || !compare.b.hasLayer(layerB)) {
      setText(caption, `Loading layer ${state.layer} of A and layer ${layerB} of B…`);
      return; // the compare fetcher asks for them; their arrival bumps compareRevision
    }
    const m = compareMatrices(compare, state.layer, state.heads);
    if (!m) {
      setText(caption, "No head selected: pick one in the head chips.");
      return;
    }
    const width = element.clientWidth || 900;
    const size = Math.max(MIN_SIZE, Math.min(MAX_SIZE, Math.floor((width - LABEL_WIDTH - 48) / 3)));
    shown = { state, compare, m, size };
    setText(caption, compareCaption(state, compare, m));
    const key = [compare.version, state.layer, m.headsA.join(","), size, context.theme().dark].join("|");
    if (key !== paintKey) {
      paintKey = key;
      paintFigures(m, size);
      drawLabels(compare, size);
      drawScale(m.differenceScale);
    }
    if (rankingOf !== compare) {
      rankingOf = compare;
      drawRanking(compare);
    }
    const selected = state.heads.length === 1 ? `${state.layer}:${state.heads[0]}` : "";
    for (const item of Array.from(ranking.children) as HTMLElement[]) {
      item.classList.toggle("is-selected", `${item.dataset.layer}:${item.dataset.head}` === selected);
    }
    if (!readout.textContent) setText(readout, "Hover a cell to read A, B and A − B.");
    void (view satisfies View);
  }

  function paintFigures(m: CompareMatrices, size: number): void {
    const theme = context.theme();
    const count = m.rows * m.cols;
    figures.forEach((figure, index) => {
      const ctx = prepareCanvas(figure.canvas, size, size);
      const pixels = raster.pixels(m.cols, m.rows);
      if (!ctx || !pixels) return;
      if (index === 2) paintDifferences(m.diff, count, m.differenceScale, differenceTable(), pixels);
      else paintValues(index === 0 ? m.a : m.b, count, m.weightScale, weightTable(theme), rgb(theme.background), pixels);
      raster.drawTo(ctx, 0, 0, size, size);
    });
  }

  /** Token labels left of the rows and above each figure's columns, when there is room for them. */
  function drawLabels(compare: CompareData, size: number): void {
    const width = size / compare.a.nCols;
    const showColumns = width >= MIN_LABEL_CELL;
    for (const figure of figures) {
      figure.columns.hidden = !showColumns;
      if (showColumns) figure.columns.replaceChildren(...compare.a.cols.map((token) => tokenCell(token, width, 10, "width")));
    }
    const height = size / compare.a.nRows;
    rowLabels.style.paddingTop = `${TITLE_HEIGHT + (showColumns ? COLUMN_LABELS_HEIGHT : 0)}px`;
    rowLabels.hidden = height < MIN_LABEL_CELL;
    if (!rowLabels.hidden) rowLabels.replaceChildren(...compare.a.rows.map((token) => tokenCell(token, height, 14, "height")));
  }

  function drawScale(maxAbs: number): void {
    const stops = Array.from({ length: 9 }, (_, i) => differenceColormap(i / 8)).join(", ");
    scaleBar.style.background = `linear-gradient(to right, ${stops})`;
    setText(scaleLow, `−${percent(maxAbs)} (B larger)`);
    setText(scaleHigh, `+${percent(maxAbs)} (A larger)`);
  }

  function drawRanking(compare: CompareData): void {
    rankingTitle.hidden = compare.ranking.length === 0;
    ranking.replaceChildren(
      ...compare.ranking.slice(0, RANKED).map((entry) => {
        const item = el("button", { testid: "compare-rank", title: "Show this layer and head", attrs: { type: "button" } }, [
          el("span", { className: "aw-cmp-rank-head", text: `layer ${entry.layer} · head ${entry.head}` }),
          el("span", { className: "aw-cmp-rank-value", text: entry.change.toFixed(3) }),
        ]);
        item.dataset.layer = String(entry.layer);
        item.dataset.head = String(entry.head);
        return item;
      }),
    );
  }

  return {
    element,
    draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}
