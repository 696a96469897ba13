// The head view panel: composes dom, layout (which rows the scroll shows), labels (the token
// columns), lines and long (which lines), draw (the canvas) and events.
import type { StackData } from "../../data/attention";
import { prepareCanvas } from "../../shared/canvas";
import { missingLayerText, withAnalysisCaption } from "../../shared/format";
import type { Panel, PanelContext } from "../../shared/panel";
import { createRepaint } from "../../shared/repaint";
import { watchSize } from "../../shared/resize";
import type { LayerView, View } from "../../state/view";
import type { Hover, ViewState } from "../../state/viewState";
import { createHeadViewDom } from "./dom";
import { drawLines } from "./draw";
import { wireHeadViewEvents } from "./events";
import { labelWidth, renderLabels } from "./labels";
import { headViewLayout, ROW_HEIGHT, type HeadViewLayout } from "./layout";
import { headViewLines } from "./lines";

/**
 * BertViz's head view: the tokens twice, a line from each left token to each right token it
 * attends to. A draw is a pipeline: the layer (state) → `layoutOf` (sizes and scroll) → the
 * labels and caption → the lines, redrawn only when what they depend on changed.
 */
export function createHeadView(context: PanelContext): Panel {
  const dom = createHeadViewDom();
  const repaint = createRepaint(paint);
  // Sizes and scroll position as the observers and the scroll event last saw them: reading
  // clientHeight or scrollTop in a draw forces a layout of the notebook after the other panels'
  // writes (5 ms a hover in JupyterLab's Chrome trace). Zero until first seen, then measured once.
  const viewport = watchSize(dom.scroller, "height", repaint.schedule);
  const middleWidth = watchSize(dom.middle, "width", repaint.schedule);
  let scrollTop = 0;
  /** What the canvas shows: the layer (a new view object for new data, tokens or filters) and the rest of its inputs. */
  const drawnLines: { layer: LayerView | null; key: string } = { layer: null, key: "" };
  const cleanups = wireHeadViewEvents(
    dom,
    {
      hover: () => repaint.last?.state.hover ?? null,
      scrolled(top) {
        scrollTop = top;
        repaint.schedule();
      },
    },
    context.actions,
  );

  function paint(state: Readonly<ViewState>, view: View): void {
    const layer = view.current;
    if (!layer || !view.stack) {
      dom.caption.textContent = "No attention to show.";
      dom.left.replaceChildren();
      dom.right.replaceChildren();
      return;
    }
    const stack = view.stack;
    const layout = layoutOf(layer, stack);
    const focusAxis = state.direction === "attends_to" ? "row" : "col";
    const marked = (axis: "row" | "col", index: number) =>
      state.hover?.axis === axis && state.hover.index === index ? "is-hover" : state.focus === index && focusAxis === axis ? "is-focus" : "";
    renderLabels(dom.left, layer.rows, stack.rows, stack.rowSpecial, "row", layout.labelWindow, marked);
    renderLabels(dom.right, layer.cols, stack.cols, stack.colSpecial, "col", layout.labelWindow, marked);

    const heads = state.heads.filter((head) => head < stack.nHeads);
    dom.caption.textContent = withAnalysisCaption(captionText(state, stack.nHeads, heads.length, layer.ready), state.data, stack.name, layer.layer);
    drawCanvas(state, view, layer, heads, layout);
  }

  /** Layout: the body sized for the tokens, then the viewport and the canvas's width. */
  function layoutOf(layer: LayerView, stack: StackData): HeadViewLayout {
    const count = Math.max(layer.rows.length, layer.cols.length);
    dom.body.style.height = `${count * ROW_HEIGHT}px`;
    dom.body.style.gridTemplateColumns = `${labelWidth(layer.rows, stack.rows)}px minmax(60px, 1fr) ${labelWidth(layer.cols, stack.cols)}px`;
    const viewportHeight = viewport.size || dom.scroller.clientHeight || Math.min(count * ROW_HEIGHT, 480);
    const top = viewport.size ? scrollTop : dom.scroller.scrollTop;
    return headViewLayout(middleWidth.size || dom.middle.clientWidth || 120, viewportHeight, top);
  }

  function drawCanvas(state: Readonly<ViewState>, view: View, layer: LayerView, heads: number[], layout: HeadViewLayout): void {
    const { width, viewportHeight } = layout;
    const hover = hoverPosition(state.hover, view);
    // The lines depend on these only: a pending run, a focus click or a busy kernel leaves the canvas as it is.
    const linesKey = [width, viewportHeight, layout.scrollTop, layer.ready, heads.join(","), state.threshold, hover?.axis, hover?.position, globalThis.devicePixelRatio].join("|");
    if (layer === drawnLines.layer && linesKey === drawnLines.key) return;
    drawnLines.layer = layer;
    drawnLines.key = linesKey;
    const ctx = prepareCanvas(dom.canvas, width, viewportHeight);
    if (!ctx || !layer.ready) return;
    const lines = headViewLines(layer, heads, state.threshold, layout.lineWindow, layout.lineWindow, hover);
    drawLines(ctx, lines, width, layout.scrollTop, view.stack!.nHeads);
  }

  return {
    element: dom.element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      viewport.disconnect();
      middleWidth.disconnect();
      repaint.destroy();
    },
  };
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
