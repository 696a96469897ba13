import type { StackData } from "../data/attention";
import { prepareCanvas } from "../shared/canvas";
import type { Theme } from "../shared/colors";
import { createRepaint } from "../shared/repaint";
import { el, on, setText } from "../shared/dom";
import { missingLayerText, percent, precise, tokenLabel, withAnalysisCaption } from "../shared/format";
import { hatchPattern, paintValues, Raster, rgb, weightTable } from "../shared/raster";
import type { LayerView, View } from "../state/view";
import type { Direction, Hover, ViewState } from "../state/viewState";
import { validHeads } from "./heatmap";
import type { Panel, PanelContext } from "../shared/panel";
import { panelTitle } from "../shared/snapshot";
import { longFocusDistribution } from "./longPanels";

/** Bars shown before "show N more". */
export const TOP_BARS = 10;
const STRIP_GUTTER = 26;
const STRIP_MAX_HEIGHT = 180;

export type Axis = "row" | "col";

/** Self-attention: rows and columns are the same tokens, so a token index means the same on both axes. */
export function isSelfAttention(stack: StackData): boolean {
  if (stack.name === "cross" || stack.nRows !== stack.nCols) return false;
  return stack.rows === stack.cols || stack.rows.every((token, i) => token === stack.cols[i]);
}

export function axisOf(direction: Direction): Axis {
  return direction === "attends_to" ? "row" : "col";
}

export interface FocusTarget {
  /** Stack index of the token on `axis`. */
  index: number;
  axis: Axis;
  /** Its position among the visible rows (axis "row") or columns. */
  position: number;
  /** Shown because it is hovered, not because it was clicked. */
  preview: boolean;
}

/**
 * The token the panel is about: the hovered one (a preview) or else the focus
 * token, on the axis of the direction ("attends to" reads its row, "attended
 * by" its column). A token on the other axis maps to the same index in
 * self-attention; in cross-attention it has no counterpart. `ignoredHover` is
 * a hover that must not preview: one this panel set from its own bars (the list
 * must not change under the pointer), or one older than the last focus change
 * (after a click or an arrow key the focus shows until the pointer moves on).
 */
export function focusTarget(state: Readonly<ViewState>, view: View, ignoredHover: Hover | null = null): FocusTarget | { hint: string } {
  const stack = view.stack;
  if (!stack) return { hint: "No attention to show." };
  const axis = axisOf(state.direction);
  const self = isSelfAttention(stack);
  const hover = state.hover && !sameHover(state.hover, ignoredHover) ? state.hover : null;
  const candidates: Array<{ index: number; axis: Axis; preview: boolean }> = [];
  if (hover) candidates.push({ index: hover.index, axis: hover.axis, preview: true });
  if (state.focus !== null) candidates.push({ index: state.focus, axis, preview: false });
  for (const candidate of candidates) {
    if (candidate.axis !== axis && !self) continue; // a decoder token has no column in cross-attention
    const position = axis === "row" ? view.visibleRow(candidate.index) : view.visibleCol(candidate.index);
    if (position < 0) {
      if (candidate.preview) continue;
      return { hint: "The focus token is hidden by the current filter: click a visible token." };
    }
    return { index: candidate.index, axis, position, preview: candidate.preview };
  }
  return { hint: "Click a token to focus it." };
}

/**
 * The focus token's weights in one layer, the mean over `heads`: its row (what
 * it attends to, one value per visible column) or its column (how much each
 * visible row attends to it). Null while the layer has not arrived.
 */
export function focusDistribution(layer: LayerView, heads: readonly number[], axis: Axis, position: number): Float32Array | null {
  if (layer.stack.long) return longFocusDistribution(layer, validHeads(heads, layer.stack.nHeads), axis, position);
  const codes = layer.stack.codes(layer.layer);
  const valid = validHeads(heads, layer.stack.nHeads);
  if (!codes || valid.length === 0) return null;
  const { nRows, nCols } = layer.stack;
  const { rows, cols } = layer;
  if (axis === "row") {
    const out = new Float32Array(cols.length);
    const row = rows[position];
    if (row === undefined) return out;
    for (const head of valid) {
      const factor = layer.rowFactor(head, position) / valid.length;
      if (factor === 0) continue;
      const base = (head * nRows + row) * nCols;
      for (let c = 0; c < cols.length; c++) out[c]! += codes[base + cols[c]!]! * factor;
    }
    return out;
  }
  const out = new Float32Array(rows.length);
  const col = cols[position];
  if (col === undefined) return out;
  for (const head of valid) {
    for (let r = 0; r < rows.length; r++) {
      const code = codes[(head * nRows + rows[r]!) * nCols + col]!;
      if (code !== 0) out[r]! += (code * layer.rowFactor(head, r)) / valid.length;
    }
  }
  return out;
}

export interface FocusBar {
  /** Stack index of the token the bar is about (a column for "attends to", a row for "attended by"). */
  index: number;
  /** Its visible position. */
  position: number;
  weight: number;
  /** What the bar shows: the share of the row over the visible tokens, or the weight itself for a column. */
  share: number;
}

/**
 * The bars of the token-focus list, largest first. "Attends to" shares sum to
 * 1 over the visible tokens; `total` is how much of the row's weight the visible
 * tokens hold (1 unless a pair filter hides some). "Attended by" bars are the
 * weights each token gives the focus token.
 */
export function focusBars(layer: LayerView, heads: readonly number[], axis: Axis, position: number): { bars: FocusBar[]; total: number } | null {
  const values = focusDistribution(layer, heads, axis, position);
  if (!values) return null;
  const indices = axis === "row" ? layer.cols : layer.rows;
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  const divide = axis === "row" && total > 0 ? total : 1;
  const bars: FocusBar[] = Array.from(values, (weight, i) => ({ index: indices[i]!, position: i, weight, share: weight / divide }));
  bars.sort((a, b) => b.share - a.share || a.position - b.position);
  return { bars, total };
}

/** The focus token's distribution in every layer: one entry per layer, null for layers not arrived yet. */
export function focusStrip(view: View, heads: readonly number[], axis: Axis, position: number): Array<Float32Array | null> {
  const count = view.stack?.nLayers ?? 0;
  return Array.from({ length: count }, (_, index) => {
    const layer = view.layer(index);
    return layer?.ready ? focusDistribution(layer, heads, axis, position) : null;
  });
}

/**
 * For one token: where its attention goes (or where attention to it comes
 * from) in the selected layer and heads, as sorted bars, and the same for
 * every layer as a strip.
 */
export function createTokenFocus(context: PanelContext): Panel {
  const { actions } = context;
  const token = el("span", { className: "aw-tf-token", testid: "focus-token" });
  const toggle = el("div", { className: "aw-tf-toggle", testid: "direction-toggle", attrs: { role: "group", "aria-label": "Direction" } }, [
    directionButton("attends_to", "attends to"),
    directionButton("attended_by", "attended by"),
  ]);
  const head = el("div", { className: "aw-tf-head" }, [token, toggle]);
  const caption = el("div", { className: "aw-panel-caption", testid: "focus-caption" });
  const list = el("ol", { className: "aw-tf-bars", testid: "focus-bars" });
  const more = el("button", { className: "aw-tf-more", testid: "focus-more", attrs: { type: "button" } });
  const stripTitle = el("div", { className: "aw-tf-strip-title" });
  const strip = el("canvas", { className: "aw-tf-strip", testid: "focus-strip", attrs: { role: "img" } });
  // Layer numbers are text beside the canvas: a canvas font set makes Chromium resolve the font
  // against the document's style on every draw (3 ms a hover in JupyterLab's trace).
  const stripLabels = el("div", { className: "aw-tf-strip-labels", attrs: { "aria-hidden": "true" } });
  const stripBox = el("div", { className: "aw-tf-stripbox" }, [stripTitle, el("div", { className: "aw-tf-stripplot" }, [strip, stripLabels])]);
  const element = el("section", { className: "aw-panel aw-token-focus", testid: "token-focus" }, [
    panelTitle("Token focus"),
    head,
    caption,
    list,
    more,
    stripBox,
  ]);

  const repaint = createRepaint(paint);
  let ownHover: Hover | null = null;
  /** The hover when the focus last changed: it stays ignored until the pointer moves to another token. */
  let staleHover: Hover | null = null;
  let lastFocus: string | null = null;
  let expanded = false;
  let expandedFor = "";
  let listKey = "";
  let stripKey = "";
  let stripLayers = 0;
  let stripRowHeight = 1;
  const raster = new Raster();
  let scratch = new Float32Array(0);

  const barFrom = (event: Event) => (event.target as HTMLElement).closest<HTMLElement>("[data-testid=focus-bar]");
  const cleanups = [
    on(toggle, "click", (event) => {
      const target = (event.target as HTMLElement).closest<HTMLElement>("[data-direction]");
      if (!target || !repaint.last) return;
      const direction = target.dataset.direction as Direction;
      if (direction === repaint.last.state.direction) return;
      const stack = repaint.last.view.stack;
      // A cross-attention focus token is a decoder row: it has no column to switch to.
      if (stack && !isSelfAttention(stack) && repaint.last.state.focus !== null) actions.update({ direction, focus: null });
      else actions.update({ direction });
    }),
    on(list, "mouseover", (event) => {
      const bar = barFrom(event);
      if (!bar) return;
      const hover: Hover = { axis: bar.dataset.axis === "row" ? "row" : "col", index: Number(bar.dataset.index) };
      ownHover = hover;
      const current = repaint.last?.state.hover;
      if (current?.axis !== hover.axis || current.index !== hover.index) actions.update({ hover });
    }),
    on(list, "mouseleave", () => {
      ownHover = null;
      if (repaint.last?.state.hover) actions.update({ hover: null });
    }),
    on(list, "click", (event) => {
      const bar = barFrom(event);
      if (!bar || !repaint.last?.view.stack) return;
      const index = Number(bar.dataset.index);
      const axis = bar.dataset.axis === "row" ? "row" : "col";
      ownHover = null;
      // In self-attention keep reading the same way; in cross-attention a column token can only be "attended by".
      if (isSelfAttention(repaint.last.view.stack)) actions.update({ focus: index, hover: null });
      else actions.update({ focus: index, direction: axis === "row" ? "attends_to" : "attended_by", hover: null });
    }),
    on(more, "click", () => {
      expanded = !expanded;
      repaint.now();
    }),
    on(strip, "click", (event) => {
      const layer = stripLayerAt(event);
      if (layer !== null) actions.update({ layer });
    }),
    on(strip, "mousemove", (event) => {
      const layer = stripLayerAt(event);
      strip.title = layer === null ? "" : `Layer ${layer}: click to show it`;
    }),
  ];
  // The strip's width comes from the observer, so a draw does not force a layout to measure it.
  let measured = 0;
  const resizeObserver =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          const width = entries[entries.length - 1]?.contentRect.width ?? 0;
          if (width <= 0 || Math.abs(width - measured) < 1) return;
          measured = width;
          repaint.schedule();
        })
      : null;
  resizeObserver?.observe(stripBox);

  function stripLayerAt(event: MouseEvent): number | null {
    const rect = strip.getBoundingClientRect();
    const layer = Math.floor((event.clientY - rect.top) / stripRowHeight);
    return layer >= 0 && layer < stripLayers ? layer : null;
  }

  function paint(state: Readonly<ViewState>, view: View): void {
    for (const button of Array.from(toggle.children) as HTMLElement[]) {
      const pressed = button.dataset.direction === state.direction;
      button.classList.toggle("is-selected", pressed);
      button.setAttribute("aria-pressed", String(pressed));
    }
    const stack = view.stack;
    const layer = view.current;
    const focusNow = `${state.focus}|${state.direction}`;
    if (lastFocus !== null && focusNow !== lastFocus) staleHover = state.hover;
    lastFocus = focusNow;
    if (!sameHover(state.hover, staleHover)) staleHover = null;
    const target = focusTarget(state, view, sameHover(state.hover, ownHover) ? ownHover : staleHover);
    if (!stack || !layer || "hint" in target) {
      setText(token, "");
      setText(caption, "hint" in target ? target.hint : "No attention to show.");
      delete caption.dataset.notes; // the notes are no longer on screen
      element.classList.add("is-empty");
      list.replaceChildren();
      listKey = "";
      more.hidden = true;
      stripBox.hidden = true;
      return;
    }
    element.classList.remove("is-empty");
    const heads = validHeads(state.heads, stack.nHeads);
    const labels = target.axis === "row" ? stack.rows : stack.cols;
    setText(token, tokenLabel(labels[target.index] ?? "", 40));
    token.title = labels[target.index] ?? "";
    token.classList.toggle("is-preview", target.preview);
    const focusId = `${state.data?.version}|${stack.name}|${target.axis}|${target.index}`;
    if (!target.preview && focusId !== expandedFor) {
      expandedFor = focusId;
      expanded = false;
    }

    const arrived = stack.long ? state.dataRevision : 0; // a long input's rows arrive after the draw that asks
    const key = [focusId, target.preview, layer.layer, layer.ready, arrived, heads.join(","), state.hideSpecial, state.pairFilter, expanded, state.hover?.axis, state.hover?.index].join("|");
    if (key !== listKey) {
      listKey = key;
      drawList(state, view, target, heads);
    }
    drawStrip(state, view, target, heads, context.theme());
  }

  function drawList(state: Readonly<ViewState>, view: View, target: FocusTarget, heads: number[]): void {
    const stack = view.stack!;
    const layer = view.current!;
    const result = layer.ready ? focusBars(layer, heads, target.axis, target.position) : null;
    const notes: string[] = [];
    const what = heads.length === 1 ? `head ${heads[0]}` : `mean of ${heads.length} heads`;
    if (!layer.ready) notes.push(missingLayerText(layer.layer, state.layersUnanswered));
    else if (heads.length === 0) notes.push("No head selected: pick one in the head chips.");
    else if (target.axis === "row") {
      const hidden = layer.cols.length < stack.nCols;
      notes.push(`Layer ${layer.layer} · ${what} · where its attention goes${hidden ? ", as shares of the visible tokens" : ""}.`);
      if (hidden && !layer.renormalised && result) notes.push(`The visible tokens get ${percent(result.total)} of its attention.`);
      if (stack.causal) notes.push("Causal: a token only attends to itself and earlier tokens.");
    } else {
      notes.push(`Layer ${layer.layer} · ${what} · how much of each token's attention it gets.`);
      if (stack.causal) notes.push("Causal: only this token and later ones attend to it.");
    }
    if (target.preview) notes.push("Preview of the hovered token: click to keep it.");
    if (notes[0]) notes[0] = withAnalysisCaption(notes[0], state.data, stack.name, layer.layer);
    // Only when the text changes: new elements on every hover would make Chromium re-layerise the whole page.
    if (caption.dataset.notes !== notes.join("\n")) {
      caption.dataset.notes = notes.join("\n");
      caption.replaceChildren(...notes.map((note) => el("div", { text: note })));
    }

    if (!result) {
      list.replaceChildren();
      more.hidden = true;
      return;
    }
    const bars = result.bars;
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

  function drawStrip(state: Readonly<ViewState>, view: View, target: FocusTarget, heads: number[], theme: Theme): void {
    const stack = view.stack!;
    stripBox.hidden = stack.nLayers < 1 || heads.length === 0;
    if (stripBox.hidden) return;
    const width = Math.max(80, Math.floor(measured || stripBox.clientWidth || 240));
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    const ready = Array.from({ length: stack.nLayers }, (_, l) => (stack.hasLayer(l) ? 1 : 0)).join("");
    const key = [state.data?.version, stack.name, target.axis, target.index, heads.join(","), state.hideSpecial, state.pairFilter, ready, stack.long && state.dataRevision, view.current?.layer, width, dpr, theme.dark, theme.background, theme.accent].join("|");
    if (key === stripKey) return;
    stripKey = key;
    setText(stripTitle, `Across layers (each row scaled to its largest weight)${target.axis === "row" ? "" : ", attention it receives"}: click a row to show that layer.`);

    const rows = focusStrip(view, heads, target.axis, target.position);
    const nLayers = rows.length;
    const n = target.axis === "row" ? (view.current?.cols.length ?? 0) : (view.current?.rows.length ?? 0);
    const rowHeight = Math.max(4, Math.min(14, Math.floor(STRIP_MAX_HEIGHT / Math.max(1, nLayers))));
    stripLayers = nLayers;
    stripRowHeight = rowHeight;
    const height = nLayers * rowHeight;
    strip.setAttribute("aria-label", `${target.axis === "row" ? "Attention from" : "Attention to"} the focus token in each of ${nLayers} layers`);
    const ctx = prepareCanvas(strip, width, height);
    if (!ctx || n === 0) return;
    const plotWidth = width - STRIP_GUTTER;
    const outCols = Math.min(n, Math.max(1, Math.round(plotWidth * dpr)));
    const size = nLayers * outCols;
    if (scratch.length < size) scratch = new Float32Array(size);
    const cells = scratch.subarray(0, size);
    cells.fill(0);
    rows.forEach((values, l) => {
      if (!values) return;
      let max = 0;
      for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
      if (max <= 0) return;
      // Max-pool to the canvas width, so a single strong token stays visible.
      for (let i = 0; i < values.length; i++) {
        const k = l * outCols + Math.floor((i * outCols) / n);
        const value = values[i]! / max;
        if (value > cells[k]!) cells[k] = value;
      }
    });
    const pixels = raster.pixels(outCols, nLayers);
    if (pixels) {
      paintValues(cells, size, 1, weightTable(theme), rgb(theme.background), pixels);
      raster.drawTo(ctx, STRIP_GUTTER, 0, plotWidth, height);
    }
    let hatch: CanvasPattern | string | null = null;
    rows.forEach((values, l) => {
      if (values) return;
      hatch ??= hatchPattern(ctx, theme.muted);
      ctx.fillStyle = theme.background;
      ctx.fillRect(STRIP_GUTTER, l * rowHeight, plotWidth, rowHeight);
      ctx.fillStyle = hatch;
      ctx.fillRect(STRIP_GUTTER, l * rowHeight, plotWidth, rowHeight);
    });
    const current = view.current?.layer ?? -1;
    placeStripLabels(nLayers, rowHeight, current);
    if (current >= 0 && current < nLayers) {
      ctx.strokeStyle = theme.accent;
      ctx.lineWidth = 2;
      ctx.strokeRect(STRIP_GUTTER + 1, current * rowHeight + 1, plotWidth - 2, rowHeight - 2);
    }
  }

  /** Every few layers' number (all that fit) and the current layer's, in bold, beside their rows. */
  let labelsKey = "";
  function placeStripLabels(nLayers: number, rowHeight: number, current: number): void {
    const fontSize = Math.min(11, Math.max(9, rowHeight));
    const labelEvery = Math.ceil((fontSize + 1) / rowHeight);
    const shown = Array.from({ length: nLayers }, (_, l) => l).filter((l) => l === current || (l % labelEvery === 0 && Math.abs(l - current) >= labelEvery));
    // The same numbers for another current layer (every layer's, when they all fit) only move the bold.
    const key = `${rowHeight}|${shown.join(",")}`;
    if (key !== labelsKey) {
      labelsKey = key;
      const height = nLayers * rowHeight;
      stripLabels.style.width = `${STRIP_GUTTER - 6}px`;
      stripLabels.replaceChildren(
        ...shown.map((l) => {
          const middle = Math.min(height - fontSize / 2, Math.max(fontSize / 2, l * rowHeight + rowHeight / 2));
          const span = el("span", { className: "aw-tf-strip-label", text: String(l) });
          span.dataset.layer = String(l);
          span.style.top = `${middle - fontSize / 2}px`;
          span.style.fontSize = `${fontSize}px`;
          return span;
        }),
      );
    }
    for (const span of stripLabels.children as HTMLCollectionOf<HTMLElement>) span.classList.toggle("is-current", Number(span.dataset.layer) === current);
  }

  return {
    element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      resizeObserver?.disconnect();
      repaint.destroy();
    },
  };
}

function sameHover(a: Hover | null, b: Hover | null): boolean {
  return a !== null && b !== null && a.axis === b.axis && a.index === b.index;
}

function directionButton(direction: Direction, text: string): HTMLButtonElement {
  const button = el("button", { className: "aw-tf-dir", text, attrs: { type: "button", "aria-pressed": "false" } });
  button.dataset.direction = direction;
  return button;
}

function barRow(): HTMLElement {
  return el("li", { className: "aw-tf-bar", testid: "focus-bar" }, [
    el("span", { className: "aw-tf-label" }, [el("span", { className: "aw-tf-name" }), el("span", { className: "aw-tf-pos" })]),
    el("span", { className: "aw-tf-track" }, [el("span", { className: "aw-tf-fill" })]),
    el("span", { className: "aw-tf-value" }),
  ]);
}
