// The model view panel: composes layout (thumbnail size), cache and thumbnails (and long) (the
// values), background (when they are computed), grid (the elements), draw (the canvases) and events.
import { setText } from "../../shared/dom";
import { withAnalysisCaption } from "../../shared/format";
import type { Panel, PanelContext } from "../../shared/panel";
import { headPatterns } from "../../shared/patterns";
import { Raster } from "../../shared/raster";
import { createRepaint } from "../../shared/repaint";
import { watchSize } from "../../shared/resize";
import type { View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { createBackgroundTask } from "./background";
import { ThumbnailCache, type ThumbnailJob } from "./cache";
import { createModelViewDom } from "./dom";
import { drawRow } from "./draw";
import { wireModelViewEvents } from "./events";
import { buildGrid, emptyGrid, markSelection } from "./grid";
import { MAX_THUMB, thumbnailSize } from "./layout";

/**
 * BertViz's model view: every head of every layer as a small heatmap. Each
 * thumbnail is a button over a per-layer canvas; thumbnails are computed once
 * per (data, stack, filter, layer, head, size), a few per frame, and layers
 * still loading show a placeholder until they arrive. A draw is a pipeline: the
 * cache and sizes (state, layout) → the grid, when its shape changed → the marks
 * and caption → the rows whose thumbnails changed.
 */
export function createModelView(context: PanelContext): Panel {
  const dom = createModelViewDom();
  const repaint = createRepaint(paint);
  const cache = new ThumbnailCache();
  let gridKey = "";
  let grid = emptyGrid;
  const rowKeys: string[] = [];
  let size = MAX_THUMB;
  /** Everything the last paint depended on; a hover changes none of it. */
  let paintKey = "";
  let job: ThumbnailJob | null = null;
  /**
   * Missing thumbnails, the selected layer first, while the browser is idle: never inside a
   * draw, so a hover or layer change does not wait behind them. Each slice that finds some
   * schedules a repaint of their rows.
   */
  const background = createBackgroundTask((timeLeft) => {
    if (!job) return false;
    const missing = cache.compute(job, timeLeft);
    if (cache.fresh) repaint.schedule();
    return missing;
  });
  const raster = new Raster();
  const cleanups = wireModelViewEvents(dom, context.actions);
  const width = watchSize(dom.scroller, "width", repaint.schedule);

  function paint(state: Readonly<ViewState>, view: View): void {
    const stack = view.stack;
    const current = view.current;
    if (!stack || !current || !state.data) {
      dom.caption.textContent = "No attention to show.";
      dom.scroller.hidden = true;
      return;
    }
    dom.scroller.hidden = false;
    const theme = context.theme();
    const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
    size = thumbnailSize(width.size || dom.scroller.clientWidth || dom.element.clientWidth || 720, stack.nHeads);
    const key = `${state.data.version}|${stack.name}|${state.hideSpecial}|${state.pairFilter}`;
    if (cache.reset(key, current, 4 * stack.nLayers * stack.nHeads)) rowKeys.length = 0;
    const R = current.rows.length;
    const C = current.cols.length;
    const outRows = Math.max(1, Math.min(R, Math.round(size * dpr)));
    const outCols = Math.max(1, Math.min(C, Math.round(size * dpr)));

    const shape = `${stack.nLayers}x${stack.nHeads}@${size}`;
    if (shape !== gridKey) {
      gridKey = shape;
      grid = buildGrid(dom.grid, stack.nLayers, stack.nHeads, size);
      rowKeys.length = 0;
    }

    const stats = state.headStats ? `${state.headStats.version}:${state.headStats.stack}` : ""; // pattern badges arrive later
    const inputs = [cache.key, gridKey, current.layer, state.heads.join(","), outRows, outCols, state.dataRevision, theme.dark, theme.background, theme.muted, stats].join("|");
    if (inputs === paintKey && !cache.fresh) return;
    paintKey = inputs;
    cache.fresh = false;
    const selectedLayer = current.layer;
    const kind = state.data.stacks.size > 1 ? `${stack.name} attention · ` : "";
    setText(dom.caption, withAnalysisCaption(`${kind}${stack.nLayers} layers × ${stack.nHeads} heads over ${R} × ${C} ${state.data.granularity === "words" ? "words" : "tokens"}, each scaled to its own largest weight · click one to show it above`, state.data, stack.name, null));
    markSelection(grid, selectedLayer, new Set(state.heads), headPatterns(state.headStats, stack.name));

    job = { view, selectedLayer, outRows, outCols };
    background.request();

    for (let layer = 0; layer < stack.nLayers; layer++) {
      const ready = stack.hasLayer(layer);
      let done = 0;
      for (let head = 0; head < stack.nHeads; head++) if (cache.has(layer, head, outRows, outCols)) done++;
      const rowKey = [cache.key, ready, done, size, dpr, outRows, outCols, theme.dark, theme.background, theme.muted].join("|");
      if (rowKeys[layer] === rowKey) continue;
      rowKeys[layer] = rowKey;
      const canvas = grid.canvases[layer];
      if (canvas) drawRow(canvas, layer, stack.nHeads, size, outRows, outCols, cache, raster, theme);
    }
  }

  return {
    element: dom.element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      width.disconnect();
      background.cancel();
      repaint.destroy();
    },
  };
}
