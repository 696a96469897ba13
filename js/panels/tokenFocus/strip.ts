// The focus strip: the focus token's distribution in every layer, one canvas row per layer.
import { prepareCanvas } from "../../shared/canvas";
import type { Theme } from "../../shared/colors";
import { el, setText } from "../../shared/dom";
import { hatchPattern, paintValues, Raster, rgb, weightTable } from "../../shared/raster";
import type { View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { focusStrip } from "./distribution";
import type { TokenFocusDom } from "./dom";
import type { FocusTarget } from "./target";

const STRIP_GUTTER = 26;
const STRIP_MAX_HEIGHT = 180;

export interface FocusStrip {
  /** Redraw when anything it shows changed; `measured` is the strip box's width as last observed (0: not yet). */
  draw(state: Readonly<ViewState>, view: View, target: FocusTarget, heads: number[], theme: Theme, measured: number): void;
  /** The layer of the row under a pointer event, or null. */
  layerAt(event: MouseEvent): number | null;
}

export function createFocusStrip(dom: TokenFocusDom): FocusStrip {
  const { stripBox, stripTitle, strip, stripLabels } = dom;
  let stripKey = "";
  let stripLayers = 0;
  let stripRowHeight = 1;
  const raster = new Raster();
  let scratch = new Float32Array(0);
  let labelsKey = "";

  function draw(state: Readonly<ViewState>, view: View, target: FocusTarget, heads: number[], theme: Theme, measured: number): void {
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
    placeLabels(nLayers, rowHeight, current);
    if (current >= 0 && current < nLayers) {
      ctx.strokeStyle = theme.accent;
      ctx.lineWidth = 2;
      ctx.strokeRect(STRIP_GUTTER + 1, current * rowHeight + 1, plotWidth - 2, rowHeight - 2);
    }
  }

  /** Every few layers' number (all that fit) and the current layer's, in bold, beside their rows. */
  function placeLabels(nLayers: number, rowHeight: number, current: number): void {
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
    draw,
    layerAt(event) {
      const rect = strip.getBoundingClientRect();
      const layer = Math.floor((event.clientY - rect.top) / stripRowHeight);
      return layer >= 0 && layer < stripLayers ? layer : null;
    },
  };
}
