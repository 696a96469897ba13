import { prepareCanvas } from "../shared/canvas";
import { headColor, type Theme } from "../shared/colors";
import { createRepaint } from "../shared/repaint";
import { el, on, setText } from "../shared/dom";
import { withAnalysisCaption } from "../shared/format";
import { applyMask, binOf, hatchPattern, paintValues, Raster, rgb, weightTable } from "../shared/raster";
import { createTooltip } from "../shared/tooltip";
import type { LayerView, View } from "../state/view";
import type { ViewState } from "../state/viewState";
import { headPatterns, PATTERN_BADGES } from "../shared/patterns";
import { causalMaskStart } from "./heatmap";
import type { Panel, PanelContext } from "../shared/panel";
import { panelTitle } from "../shared/snapshot";
import { longThumbnailValues } from "./longPanels";

const MIN_THUMB = 28;
const MAX_THUMB = 56;
const GAP = 4;
const HEADER = 30;
/**
 * Milliseconds of thumbnail work per slice at most. An idle period can last 50 ms, and input
 * that arrives meanwhile waits for the slice to end: a slice stays short whatever the deadline.
 */
const FRAME_BUDGET = 8;
/** An idle slice stops with this much of the browser's idle time left, so the next frame starts on time. */
const IDLE_MARGIN = 1;
/** Thumbnails wait at most this long for idle time when the page never rests. */
const IDLE_TIMEOUT = 500;

let rowMaxima = new Uint8Array(0);
let colBins = new Int32Array(0);

/**
 * One head's visible matrix max-pooled to outRows × outCols, straight from the
 * 8-bit codes: within a row every code shares one factor, so the row's max code
 * per bin times the factor is the max weight, and a thin diagonal survives.
 * Cells whose sources are all causally masked are NaN. Null until the layer arrives.
 */
export function thumbnailValues(
  layer: LayerView,
  head: number,
  outRows: number,
  outCols: number,
  mask: Int32Array | null = null,
): Float32Array | null {
  if (layer.stack.long) return longThumbnailValues(layer, head, outRows, outCols, mask);
  const codes = layer.stack.codes(layer.layer);
  if (!codes) return null;
  const { rows, cols } = layer;
  const { nRows, nCols } = layer.stack;
  const R = rows.length;
  const C = cols.length;
  const out = new Float32Array(outRows * outCols);
  if (R === 0 || C === 0) return out;
  if (rowMaxima.length < outCols) rowMaxima = new Uint8Array(outCols);
  if (colBins.length < C) colBins = new Int32Array(C);
  for (let c = 0; c < C; c++) colBins[c] = binOf(c, C, outCols);
  const contiguous = C === nCols;
  for (let r = 0; r < R; r++) {
    const factor = layer.rowFactor(head, r);
    if (factor === 0) continue;
    rowMaxima.fill(0, 0, outCols);
    const base = (head * nRows + rows[r]!) * nCols;
    if (contiguous) {
      for (let c = 0; c < C; c++) {
        const code = codes[base + c]!;
        const j = colBins[c]!;
        if (code > rowMaxima[j]!) rowMaxima[j] = code;
      }
    } else {
      for (let c = 0; c < C; c++) {
        const code = codes[base + cols[c]!]!;
        const j = colBins[c]!;
        if (code > rowMaxima[j]!) rowMaxima[j] = code;
      }
    }
    const target = binOf(r, R, outRows) * outCols;
    for (let j = 0; j < outCols; j++) {
      const value = rowMaxima[j]! * factor;
      if (value > out[target + j]!) out[target + j] = value;
    }
  }
  if (mask) applyMask(out, { r0: 0, c0: 0, rows: R, cols: C }, outRows, outCols, mask);
  return out;
}

/** Badge each thumbnail with its head's pattern from head_stats() (issue #10); none for "other" or unknown. */
function markPatterns(buttons: HTMLButtonElement[][], patterns: Map<string, string>): void {
  buttons.forEach((row, layer) =>
    row.forEach((button, head) => {
      const pattern = patterns.get(`${layer}:${head}`) ?? "";
      if ((button.dataset.pattern ?? "") === pattern) return;
      button.dataset.pattern = pattern;
      setText(button, PATTERN_BADGES[pattern] ?? "");
    }),
  );
}

/** The thumbnail size in CSS pixels for a panel `width` wide showing `heads` columns. */
export function thumbnailSize(width: number, heads: number): number {
  const available = width - HEADER - GAP * Math.max(1, heads);
  return Math.max(MIN_THUMB, Math.min(MAX_THUMB, Math.floor(available / Math.max(1, heads))));
}

interface Thumb {
  values: Float32Array;
  max: number;
}

/**
 * BertViz's model view: every head of every layer as a small heatmap. Each
 * thumbnail is a button over a per-layer canvas; thumbnails are computed once
 * per (data, stack, filter, layer, head, size), a few per frame, and layers
 * still loading show a placeholder until they arrive.
 */
export function createModelView(context: PanelContext): Panel {
  const { actions } = context;
  const caption = el("div", { className: "aw-panel-caption", testid: "model-view-caption" });
  const grid = el("div", { className: "aw-mv-grid", attrs: { role: "group", "aria-label": "Layers and heads" } });
  const scroller = el("div", { className: "aw-mv-scroll" }, [grid]);
  const element = el("section", { className: "aw-panel aw-model-view", testid: "model-view" }, [
    panelTitle("Model view"),
    caption,
    scroller,
  ]);
  const tooltip = createTooltip(element, "model-view-tooltip");

  const repaint = createRepaint(paint);
  let cacheKey = "";
  let cache = new Map<string, Thumb>();
  let mask: Int32Array | null = null;
  let gridKey = "";
  let canvases: HTMLCanvasElement[] = [];
  let buttons: HTMLButtonElement[][] = [];
  let layerHeaders: HTMLElement[] = [];
  let headHeaders: HTMLElement[] = [];
  const rowKeys: string[] = [];
  let size = MAX_THUMB;
  /** Everything the last paint depended on; a hover changes none of it. */
  let paintKey = "";
  /** Thumbnails computed since the last paint, whose rows are not drawn yet. */
  let fresh = false;
  /** What the thumbnails still missing are computed for: the last paint's view and sizes. */
  let job: { view: View; selectedLayer: number; outRows: number; outCols: number } | null = null;
  const background = createBackgroundTask(computeThumbnails);
  const raster = new Raster();

  const schedule = repaint.schedule;

  const thumbFrom = (event: Event) => (event.target as HTMLElement).closest<HTMLButtonElement>("[data-testid=thumbnail]");
  const showTip = (button: HTMLElement) => {
    const box = button.getBoundingClientRect();
    const host = element.getBoundingClientRect();
    const pattern = button.dataset.pattern ? ` · ${button.dataset.pattern}` : "";
    tooltip.show([`layer ${button.dataset.layer} · head ${button.dataset.head}${pattern}`], box.left - host.left + box.width / 2 - 14, box.bottom - host.top - 14);
  };
  const cleanups = [
    on(grid, "click", (event) => {
      const button = thumbFrom(event);
      if (!button) return;
      actions.update({ layer: Number(button.dataset.layer), heads: [Number(button.dataset.head)] });
    }),
    on(grid, "mouseover", (event) => {
      const button = thumbFrom(event);
      if (button) showTip(button);
      else tooltip.hide();
    }),
    on(grid, "mouseleave", () => tooltip.hide()),
    on(grid, "focusin", (event) => {
      const button = thumbFrom(event);
      if (button) showTip(button);
    }),
    on(grid, "focusout", () => tooltip.hide()),
    on(scroller, "scroll", () => tooltip.hide(), { passive: true }),
  ];
  // The width comes from the observer, so a draw does not force a layout to measure it.
  let measured = 0;
  const resizeObserver =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          const width = entries[entries.length - 1]?.contentRect.width ?? 0;
          if (width <= 0 || Math.abs(width - measured) < 1) return;
          measured = width;
          schedule();
        })
      : null;
  resizeObserver?.observe(scroller);

  function paint(state: Readonly<ViewState>, view: View): void {
    const stack = view.stack;
    const current = view.current;
    if (!stack || !current || !state.data) {
      caption.textContent = "No attention to show.";
      scroller.hidden = true;
      return;
    }
    scroller.hidden = false;
    const theme = context.theme();
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    size = thumbnailSize(measured || scroller.clientWidth || element.clientWidth || 720, stack.nHeads);
    const key = `${state.data.version}|${stack.name}|${state.hideSpecial}|${state.pairFilter}`;
    if (key !== cacheKey || cache.size > 4 * stack.nLayers * stack.nHeads) {
      cacheKey = key;
      cache = new Map();
      mask = causalMaskStart(current);
      rowKeys.length = 0;
    }
    const R = current.rows.length;
    const C = current.cols.length;
    const outRows = Math.max(1, Math.min(R, Math.round(size * dpr)));
    const outCols = Math.max(1, Math.min(C, Math.round(size * dpr)));

    const shape = `${stack.nLayers}x${stack.nHeads}@${size}`;
    if (shape !== gridKey) {
      gridKey = shape;
      buildGrid(stack.nLayers, stack.nHeads);
      rowKeys.length = 0;
    }

    const stats = state.headStats ? `${state.headStats.version}:${state.headStats.stack}` : ""; // pattern badges arrive later
    const inputs = [cacheKey, gridKey, current.layer, state.heads.join(","), outRows, outCols, state.dataRevision, theme.dark, theme.background, theme.muted, stats].join("|");
    if (inputs === paintKey && !fresh) return;
    paintKey = inputs;
    fresh = false;
    const heads = new Set(state.heads);
    const selectedLayer = current.layer;
    const kind = state.data.stacks.size > 1 ? `${stack.name} attention · ` : "";
    setText(caption, withAnalysisCaption(`${kind}${stack.nLayers} layers × ${stack.nHeads} heads over ${R} × ${C} ${state.data.granularity === "words" ? "words" : "tokens"}, each scaled to its own largest weight · click one to show it above`, state.data, stack.name, null));
    layerHeaders.forEach((header, layer) => header.classList.toggle("is-current", layer === selectedLayer));
    markPatterns(buttons, headPatterns(state.headStats, stack.name));
    headHeaders.forEach((header, head) => header.classList.toggle("is-selected", heads.has(head)));
    buttons.forEach((row, layer) =>
      row.forEach((button, head) => {
        const selected = layer === selectedLayer && heads.has(head);
        button.classList.toggle("is-selected", selected);
        button.classList.toggle("in-layer", layer === selectedLayer);
        button.setAttribute("aria-pressed", String(selected));
      }),
    );

    job = { view, selectedLayer, outRows, outCols };
    background.request();

    for (let layer = 0; layer < stack.nLayers; layer++) {
      const ready = stack.hasLayer(layer);
      let done = 0;
      for (let head = 0; head < stack.nHeads; head++) if (cache.has(`${layer}:${head}:${outRows}x${outCols}`)) done++;
      const rowKey = [cacheKey, ready, done, size, dpr, outRows, outCols, theme.dark, theme.background, theme.muted].join("|");
      if (rowKeys[layer] === rowKey) continue;
      rowKeys[layer] = rowKey;
      drawRow(layer, stack.nHeads, outRows, outCols, theme);
    }
  }

  /**
   * Missing thumbnails, the selected layer first, while the browser is idle: never inside a
   * draw, so a hover or layer change does not wait behind them (72 thumbnails of 512 tokens
   * take about half a second). Each slice that finds some schedules a repaint of their rows.
   * True while some are still missing.
   */
  function computeThumbnails(timeLeft: () => boolean): boolean {
    if (!job) return false;
    const { view, selectedLayer, outRows, outCols } = job;
    const nLayers = view.stack?.nLayers ?? 0;
    const nHeads = view.stack?.nHeads ?? 0;
    const order = [selectedLayer, ...Array.from({ length: nLayers }, (_, layer) => layer).filter((layer) => layer !== selectedLayer)];
    let missing = false;
    for (const layer of order) {
      const layerView = view.layer(layer);
      if (!layerView?.ready) continue;
      for (let head = 0; head < nHeads && !missing; head++) {
        const id = `${layer}:${head}:${outRows}x${outCols}`;
        if (cache.has(id)) continue;
        if (!timeLeft()) {
          missing = true;
          break;
        }
        const values = thumbnailValues(layerView, head, outRows, outCols, mask);
        if (!values) continue;
        let max = 0;
        for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
        cache.set(id, { values, max });
        fresh = true;
      }
      if (missing) break;
    }
    if (fresh) schedule();
    return missing;
  }

  function buildGrid(nLayers: number, nHeads: number): void {
    grid.style.gridTemplateColumns = `${HEADER}px repeat(${nHeads}, ${size}px)`;
    grid.style.gap = `${GAP}px`;
    const corner = el("div", { className: "aw-mv-corner", text: "L \\ H", title: "Rows are layers, columns are heads" });
    headHeaders = Array.from({ length: nHeads }, (_, head) => {
      const header = el("div", { className: "aw-mv-head", text: String(head), title: `Head ${head}` });
      header.style.setProperty("--aw-head-color", headColor(head, nHeads));
      return header;
    });
    const children: HTMLElement[] = [corner, ...headHeaders];
    layerHeaders = [];
    canvases = [];
    buttons = [];
    for (let layer = 0; layer < nLayers; layer++) {
      const header = el("div", { className: "aw-mv-layer", text: String(layer), title: `Layer ${layer}` });
      header.style.gridRow = String(layer + 2);
      layerHeaders.push(header);
      const canvas = el("canvas", { className: "aw-mv-canvas", attrs: { "aria-hidden": "true" } });
      canvas.style.gridRow = String(layer + 2);
      canvas.style.gridColumn = "2 / -1";
      canvases.push(canvas);
      const row = Array.from({ length: nHeads }, (_, head) => {
        const button = el("button", {
          className: "aw-mv-thumb",
          testid: "thumbnail",
          attrs: { type: "button", "aria-label": `Layer ${layer}, head ${head}`, "aria-pressed": "false" },
        });
        button.dataset.layer = String(layer);
        button.dataset.head = String(head);
        button.style.gridRow = String(layer + 2);
        button.style.gridColumn = String(head + 2);
        button.style.height = `${size}px`;
        return button;
      });
      buttons.push(row);
      children.push(header, canvas, ...row);
    }
    grid.replaceChildren(...children);
  }

  function drawRow(layer: number, nHeads: number, outRows: number, outCols: number, theme: Theme): void {
    const canvas = canvases[layer];
    if (!canvas) return;
    const width = nHeads * size + (nHeads - 1) * GAP;
    const ctx = prepareCanvas(canvas, width, size);
    if (!ctx) return;
    const table = weightTable(theme);
    const empty = rgb(theme.background);
    let hatch: CanvasPattern | string | null = null;
    for (let head = 0; head < nHeads; head++) {
      const x = head * (size + GAP);
      const thumb = cache.get(`${layer}:${head}:${outRows}x${outCols}`);
      const pixels = thumb ? raster.pixels(outCols, outRows) : null;
      if (thumb && pixels) {
        paintValues(thumb.values, outRows * outCols, thumb.max, table, empty, pixels);
        raster.drawTo(ctx, x, 0, size, size);
      } else {
        hatch ??= hatchPattern(ctx, theme.muted);
        ctx.fillStyle = theme.background;
        ctx.fillRect(x, 0, size, size);
        ctx.fillStyle = hatch;
        ctx.fillRect(x, 0, size, size);
      }
    }
  }

  return {
    element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      resizeObserver?.disconnect();
      background.cancel();
      repaint.destroy();
    },
  };
}

interface BackgroundTask {
  /** Run the work in the browser's next idle time, unless it is already waiting. */
  request(): void;
  cancel(): void;
}

/**
 * Work done in short slices when the browser is idle (`requestIdleCallback`; a 0 ms timeout
 * where there is none), each within FRAME_BUDGET. `work(timeLeft)` returns true while unfinished.
 */
function createBackgroundTask(work: (timeLeft: () => boolean) => boolean): BackgroundTask {
  let handle: number | null = null;
  const idle = typeof requestIdleCallback === "function";
  const run = (deadline?: IdleDeadline) => {
    handle = null;
    const started = performance.now();
    const inBudget = () => performance.now() - started < FRAME_BUDGET;
    const timeLeft = deadline && !deadline.didTimeout ? () => inBudget() && deadline.timeRemaining() > IDLE_MARGIN : inBudget;
    if (work(timeLeft)) request();
  };
  const request = () => {
    if (handle !== null) return;
    handle = idle ? requestIdleCallback(run, { timeout: IDLE_TIMEOUT }) : (setTimeout(run, 0) as unknown as number);
  };
  return {
    request,
    cancel() {
      if (handle === null) return;
      if (idle) cancelIdleCallback(handle);
      else clearTimeout(handle);
      handle = null;
    },
  };
}
