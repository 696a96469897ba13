import { prepareCanvas } from "../shared/canvas";
import { headColor } from "../shared/colors";
import { el, on } from "../shared/dom";
import { missingLayerText, tokenLabel, withAnalysisCaption } from "../shared/format";
import { createRepaint } from "../shared/repaint";
import type { LayerView, View } from "../state/view";
import type { Hover, ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "../shared/panel";
import { panelTitle } from "../shared/snapshot";
import { longHeadViewLines } from "./longPanels";

export const ROW_HEIGHT = 20;
/** Token labels are 12 px monospace: about this wide per character, plus padding. */
const CHAR_WIDTH = 7.3;
const LABEL_PADDING = 12;
const MAX_LABEL_WIDTH = 140;
/** Rows beyond the viewport whose lines are still drawn, so attention just off-screen shows. */
const LINE_OVERSCAN_SCREENS = 1;
const LABEL_OVERSCAN_ROWS = 10;
/** Lines are grouped into this many opacity steps, one canvas path each. */
const OPACITY_STEPS = 16;
/**
 * Up to this many lines (a hovered token's) are drawn 1.5 px wide; more are drawn one device
 * pixel wide, which Skia rasterises as hairlines: in Chromium's software raster, 1,500 lines
 * 1.5 px wide took 55-95 ms inside the compositor's Commit (the canvas is rasterised there),
 * one device pixel wide 7-15 ms.
 */
const WIDE_LINES = 200;

export interface Line {
  head: number;
  /** Visible row and column positions. */
  r: number;
  c: number;
  weight: number;
}

/** Lines fainter than this are invisible at their opacity; drawing them only costs time. */
export const LINE_FLOOR = 0.01;
/** Per head and row, at most this many lines: the strongest, which carry nearly all of a row's weight. */
export const LINES_PER_ROW = 8;

/**
 * The lines the head view draws: for every selected head and row in the window,
 * its strongest weights at or above the threshold (and the visible floor), or
 * only the hovered token's. Pure, so the drawing logic is tested without a canvas.
 */
export function headViewLines(
  layer: LayerView,
  heads: readonly number[],
  threshold: number,
  rowWindow: [number, number],
  colWindow: [number, number],
  hover: { axis: "row" | "col"; position: number } | null,
): Line[] {
  const lines: Line[] = [];
  if (!layer.ready) return lines;
  const [r0, r1] = hover?.axis === "row" ? [hover.position, hover.position + 1] : rowWindow;
  const [c0, c1] = hover?.axis === "col" ? [hover.position, hover.position + 1] : colWindow;
  const floor = Math.max(threshold, LINE_FLOOR);
  if (layer.stack.long) return longHeadViewLines(layer, heads, floor, LINES_PER_ROW, rowWindow, colWindow, hover);
  const strongest = new TopLines(LINES_PER_ROW);
  for (const head of heads) {
    for (let r = Math.max(0, r0); r < Math.min(r1, layer.rows.length); r++) {
      strongest.clear();
      for (let c = Math.max(0, c0); c < Math.min(c1, layer.cols.length); c++) {
        const weight = layer.weight(head, r, c);
        if (weight >= floor) strongest.offer(c, weight);
      }
      strongest.forEach((c, weight) => lines.push({ head, r, c, weight }));
    }
  }
  return lines;
}

/** The k largest (column, weight) pairs offered, kept without sorting the whole row. */
class TopLines {
  private readonly cols: Int32Array;
  private readonly weights: Float32Array;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.cols = new Int32Array(capacity);
    this.weights = new Float32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  offer(col: number, weight: number): void {
    if (this.size < this.capacity) {
      this.cols[this.size] = col;
      this.weights[this.size++] = weight;
      return;
    }
    let weakest = 0;
    for (let i = 1; i < this.size; i++) if (this.weights[i]! < this.weights[weakest]!) weakest = i;
    if (weight > this.weights[weakest]!) {
      this.cols[weakest] = col;
      this.weights[weakest] = weight;
    }
  }

  forEach(callback: (col: number, weight: number) => void): void {
    for (let i = 0; i < this.size; i++) callback(this.cols[i]!, this.weights[i]!);
  }
}

/** BertViz's head view: the tokens twice, a line from each left token to each right token it attends to. */
export function createHeadView(context: PanelContext): Panel {
  const canvas = el("canvas", { className: "aw-hv-canvas" });
  const left = el("div", { className: "aw-hv-tokens aw-hv-left" });
  const right = el("div", { className: "aw-hv-tokens aw-hv-right" });
  const middle = el("div", { className: "aw-hv-middle" }, [canvas]);
  const body = el("div", { className: "aw-hv-body" }, [left, middle, right]);
  const scroller = el("div", { className: "aw-hv-scroll" }, [body]);
  const caption = el("div", { className: "aw-panel-caption" });
  const element = el("section", { className: "aw-panel aw-head-view", testid: "head-view" }, [
    panelTitle("Head view"),
    caption,
    scroller,
  ]);

  const repaint = createRepaint(paint);
  // Sizes and scroll position as the observer and the scroll event last saw them: reading
  // clientHeight or scrollTop in a draw forces a layout of the notebook after the other panels'
  // writes (5 ms a hover in JupyterLab's Chrome trace). Zero until first seen, then measured once.
  const measured = { height: 0, width: 0, scrollTop: 0 };
  /** What the canvas shows: the layer (a new view object for new data, tokens or filters) and the rest of its inputs. */
  const drawnLines: { layer: LayerView | null; key: string } = { layer: null, key: "" };
  const onScroll = () => {
    measured.scrollTop = scroller.scrollTop;
    repaint.schedule();
  };

  const hoverFrom = (event: Event): Hover | null => {
    const target = (event.target as HTMLElement).closest<HTMLElement>("[data-testid=token]");
    if (!target) return null;
    return { axis: target.dataset.axis === "col" ? "col" : "row", index: Number(target.dataset.index) };
  };
  const cleanups = [
    on(scroller, "scroll", onScroll, { passive: true }),
    on(body, "mouseover", (event) => {
      const hover = hoverFrom(event);
      const current = repaint.last?.state.hover;
      if (hover && (hover.axis !== current?.axis || hover.index !== current.index)) context.actions.update({ hover });
    }),
    on(body, "mouseleave", () => context.actions.update({ hover: null })),
    on(body, "click", (event) => {
      const hover = hoverFrom(event);
      if (!hover) return;
      context.actions.update({ focus: hover.index, direction: hover.axis === "row" ? "attends_to" : "attended_by" });
    }),
  ];
  const resizeObserver =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          for (const entry of entries) {
            if (entry.target === scroller) measured.height = entry.contentRect.height;
            else measured.width = entry.contentRect.width;
          }
          repaint.schedule();
        })
      : null;
  resizeObserver?.observe(scroller);
  resizeObserver?.observe(middle);

  function paint(state: Readonly<ViewState>, view: View): void {
    const layer = view.current;
    if (!layer || !view.stack) {
      caption.textContent = "No attention to show.";
      left.replaceChildren();
      right.replaceChildren();
      return;
    }
    const stack = view.stack;
    const count = Math.max(layer.rows.length, layer.cols.length);
    body.style.height = `${count * ROW_HEIGHT}px`;
    body.style.gridTemplateColumns = `${labelWidth(layer.rows, stack.rows)}px minmax(60px, 1fr) ${labelWidth(layer.cols, stack.cols)}px`;
    const viewportHeight = measured.height || scroller.clientHeight || Math.min(count * ROW_HEIGHT, 480);
    const scrollTop = measured.height ? measured.scrollTop : scroller.scrollTop;
    const firstRow = Math.floor(scrollTop / ROW_HEIGHT);
    const visibleRows = Math.ceil(viewportHeight / ROW_HEIGHT) + 1;

    const labelWindow: [number, number] = [firstRow - LABEL_OVERSCAN_ROWS, firstRow + visibleRows + LABEL_OVERSCAN_ROWS];
    const focusAxis = state.direction === "attends_to" ? "row" : "col";
    const marked = (axis: "row" | "col", index: number) =>
      state.hover?.axis === axis && state.hover.index === index ? "is-hover" : state.focus === index && focusAxis === axis ? "is-focus" : "";
    renderLabels(left, layer.rows, stack.rows, stack.rowSpecial, "row", labelWindow, marked);
    renderLabels(right, layer.cols, stack.cols, stack.colSpecial, "col", labelWindow, marked);

    const heads = state.heads.filter((head) => head < stack.nHeads);
    caption.textContent = withAnalysisCaption(captionText(state, stack.nHeads, heads.length, layer.ready), state.data, stack.name, layer.layer);
    const width = measured.width || middle.clientWidth || 120;
    const hover = hoverPosition(state.hover, view);
    // The lines depend on these only: a pending run, a focus click or a busy kernel leaves the canvas as it is.
    const linesKey = [width, viewportHeight, scrollTop, layer.ready, heads.join(","), state.threshold, hover?.axis, hover?.position, globalThis.devicePixelRatio].join("|");
    if (layer === drawnLines.layer && linesKey === drawnLines.key) return;
    drawnLines.layer = layer;
    drawnLines.key = linesKey;
    const ctx = prepareCanvas(canvas, width, viewportHeight);
    if (!ctx || !layer.ready) return;

    const overscan = visibleRows * LINE_OVERSCAN_SCREENS;
    const window: [number, number] = [firstRow - overscan, firstRow + visibleRows + overscan];
    const lines = headViewLines(layer, heads, state.threshold, window, window, hover);
    drawLines(ctx, lines, width, scrollTop, stack.nHeads);
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

/** Wide enough for the longest label shown, so labels are not clipped (long ones end in "…"). */
function labelWidth(indices: Int32Array, labels: readonly string[]): number {
  let longest = 1;
  for (const index of indices) longest = Math.max(longest, tokenLabel(labels[index] ?? "").length);
  return Math.min(MAX_LABEL_WIDTH, Math.ceil(longest * CHAR_WIDTH + LABEL_PADDING));
}

function hoverPosition(hover: Hover | null, view: View): { axis: "row" | "col"; position: number } | null {
  if (!hover) return null;
  const position = hover.axis === "row" ? view.visibleRow(hover.index) : view.visibleCol(hover.index);
  return position < 0 ? null : { axis: hover.axis, position };
}

function captionText(state: Readonly<ViewState>, nHeads: number, selected: number, ready: boolean): string {
  if (!ready) return missingLayerText(state.layer, state.layersUnanswered);
  if (selected === 0) return "No head selected: pick one in the head chips.";
  const heads = selected === nHeads ? "all heads" : `${selected} of ${nHeads} heads`;
  return `Layer ${state.layer}, ${heads}. Hover a token to see only its lines.`;
}

/**
 * Keep only the labels in the window in the DOM, so long inputs stay light, and
 * reuse the ones already there: a hover must not replace the element under the pointer.
 */
function renderLabels(
  column: HTMLElement,
  indices: Int32Array,
  labels: readonly string[],
  special: readonly boolean[],
  axis: "row" | "col",
  [from, to]: [number, number],
  marked: (axis: "row" | "col", index: number) => string,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(column.children) as HTMLElement[]) existing.set(`${child.dataset.index}@${child.style.top}`, child);
  const wanted: HTMLElement[] = [];
  for (let position = Math.max(0, from); position < Math.min(to, indices.length); position++) {
    const index = indices[position]!;
    const top = `${position * ROW_HEIGHT}px`;
    const key = `${index}@${top}`;
    let label = existing.get(key);
    const text = labels[index] ?? "";
    if (!label || label.title !== text) {
      label = el("span", { testid: "token", text: tokenLabel(text), title: text });
      label.dataset.axis = axis;
      label.dataset.index = String(index);
      label.style.top = top;
    }
    const classes = ["aw-token", special[index] ? "is-special" : "", marked(axis, index)].filter(Boolean).join(" ");
    if (label.className !== classes) label.className = classes;
    wanted.push(label);
  }
  const keep = new Set(wanted);
  for (const child of Array.from(column.children)) if (!keep.has(child as HTMLElement)) child.remove();
  for (const label of wanted) if (label.parentElement !== column) column.append(label);
}

function drawLines(ctx: CanvasRenderingContext2D, lines: Line[], width: number, scrollTop: number, nHeads: number): void {
  // One path per (head, opacity step): thousands of lines cost a few dozen strokes.
  const paths = new Map<number, Path2D>();
  for (const line of lines) {
    const step = Math.min(OPACITY_STEPS - 1, Math.floor(line.weight * OPACITY_STEPS));
    const key = line.head * OPACITY_STEPS + step;
    let path = paths.get(key);
    if (!path) paths.set(key, (path = new Path2D()));
    path.moveTo(0, line.r * ROW_HEIGHT + ROW_HEIGHT / 2 - scrollTop);
    path.lineTo(width, line.c * ROW_HEIGHT + ROW_HEIGHT / 2 - scrollTop);
  }
  ctx.lineWidth = lines.length <= WIDE_LINES ? 1.5 : 1 / Math.max(1, globalThis.devicePixelRatio || 1);
  for (const [key, path] of paths) {
    const head = Math.floor(key / OPACITY_STEPS);
    ctx.strokeStyle = headColor(head, nHeads);
    ctx.globalAlpha = Math.min(1, ((key % OPACITY_STEPS) + 0.5) / OPACITY_STEPS);
    ctx.stroke(path);
  }
  ctx.globalAlpha = 1;
}
